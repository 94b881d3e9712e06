/**
 * Quantization, simulated in f32 ("fake quantization"): values rounded onto symmetric per-tensor
 * integer grids k·s, |k| ≤ qmax = 2^(bits−1) − 1, so the f32 kernels compute what INT8 kernels
 * would.
 *
 * - `quantizeGraph` makes a quantized network from an f32 one: weighted ops get `weightBits`
 *   (their weights are used rounded, scale max|w| / qmax) and every tensor a weighted op reads
 *   gets a `fakequant` node with a fixed, calibrated scale. CPU, GPU, the upscaler and training
 *   all run such graphs; training through them (quantization-aware training) passes gradients
 *   straight through the rounding. `baseGraph` undoes it.
 * - `calibrateActivationScales`: per-tensor activation scales from the f32 forward (CPU).
 * - `fakeQuantizeWeights`: post-training rounding of the stored weights themselves.
 * Biases stay f32: INT8 kernels keep an int32/f32 bias.
 */
import {
  QUANT_BITS,
  isQuantBits,
  isWeighted,
  validateGraph,
  type GraphDescription,
  type GraphNode,
  checkParameters,
  type Parameters,
  quantMax,
} from '../core/graph.ts';
import { runNetworkCpu, type CpuNetworkRun } from '../reference/nn/network.ts';
import { fakeQuantCpu, quantizeWeightCpu } from '../reference/nn/ops.ts';
import type { Real, Tensor } from '../core/tensor.ts';
import type { NetworkWeights } from './weights.ts';

function checkBits(bits: number): void {
  if (!isQuantBits(bits)) {
    throw new RangeError(
      `bits must be an integer from ${QUANT_BITS.min} to ${QUANT_BITS.max}, got ${bits}`,
    );
  }
}

/** Fake-quantized parameters and the scale of each quantized tensor. */
export interface FakeQuantized {
  readonly parameters: Map<string, Float32Array>;
  /** Per `.weight` tensor: its scale s (0 for an all-zero tensor). */
  readonly scales: Map<string, number>;
}

/** Rounds every `.weight` tensor onto its symmetric `bits`-bit grid (2…16 bits). */
export function fakeQuantizeWeights(parameters: Parameters, bits = 8): FakeQuantized {
  checkBits(bits);
  const out = new Map<string, Float32Array>();
  const scales = new Map<string, number>();
  for (const [name, values] of parameters) {
    if (!name.endsWith('.weight')) {
      out.set(name, Float32Array.from(values));
      continue;
    }
    const q = quantizeWeightCpu(values, bits);
    scales.set(name, q.scale);
    out.set(name, q.values);
  }
  return { parameters: out, scales };
}

/** The tensors some weighted op (conv3x3, conv1x1, down2x2, up2x2) reads, in graph order. */
export function weightedInputs(graph: GraphDescription): string[] {
  const names = graph.nodes.filter((n) => isWeighted(n.op)).map((n) => n.inputs[0]!);
  return [...new Set(names)];
}

/** A graph input given as one tensor (single-input graphs) or a map name → tensor. */
type NetworkInput<T extends Real> = Tensor<T> | ReadonlyMap<string, Tensor<T>>;

/**
 * Per-tensor symmetric activation scales: for every tensor a weighted op reads, s = max|x| over
 * the f32 forward of all calibration `inputs`, divided by qmax = 2^(bits−1) − 1 (0 when the tensor
 * is zero on every input).
 */
export function calibrateActivationScales<T extends Real>(
  graph: GraphDescription,
  parameters: Parameters<Real>,
  inputs: readonly NetworkInput<T>[],
  bits = 8,
): Map<string, number> {
  checkBits(bits);
  if (inputs.length === 0) throw new RangeError('calibration needs at least one input');
  const names = weightedInputs(graph);
  const maxAbs = new Map(names.map((name) => [name, 0]));
  for (const input of inputs) {
    const { tensors } = runNetworkCpu(graph, parameters, input);
    for (const name of names) {
      let m = maxAbs.get(name)!;
      for (const v of tensors.get(name)!.data) m = Math.max(m, Math.abs(v));
      maxAbs.set(name, m);
    }
  }
  return scalesFromMaxAbs(maxAbs, bits);
}

/** Per-tensor scales max|x| / qmax of a `bits`-bit grid (0 stays 0: a tensor never non-zero). */
export function scalesFromMaxAbs(
  maxAbs: ReadonlyMap<string, number>,
  bits: number,
): Map<string, number> {
  const qmax = quantMax(bits);
  return new Map([...maxAbs].map(([name, m]) => [name, m / qmax]));
}

/** A copy of `tensor` rounded onto the grid k·s, |k| ≤ qmax (values beyond clamp); s 0: a copy. */
export function fakeQuantizeTensor<T extends Real>(
  tensor: Tensor<T>,
  s: number,
  bits = 8,
): Tensor<T> {
  checkBits(bits);
  if (s === 0) return { ...tensor, data: tensor.data.slice() as T };
  return fakeQuantCpu(tensor, s, bits);
}

/**
 * The CPU forward (`runNetworkCpu`, same checks and output) with every weighted op reading its
 * input fake-quantized with `scales` (from `calibrateActivationScales` at the same `bits`): the
 * forward of `quantizeGraph(graph, { activationBits: bits, activationScales: scales })`. Only
 * the weighted ops see the rounded copies: adds, concats and the graph outputs stay unrounded, as
 * when INT8 conv kernels quantize their input on load.
 */
export function runNetworkCpuFakeQuant<T extends Real>(
  graph: GraphDescription,
  parameters: Parameters<Real>,
  input: Tensor<T> | ReadonlyMap<string, Tensor<T>>,
  scales: ReadonlyMap<string, number>,
  bits = 8,
): CpuNetworkRun<T> {
  checkBits(bits);
  checkParameters(graph, parameters);
  const quantized = quantizeGraph(graph, { activationBits: bits, activationScales: scales });
  return runNetworkCpu(quantized, parameters, input);
}

/** How `quantizeGraph` quantizes a network. */
export interface GraphQuantization {
  /** Bits of every weight tensor (weighted ops' `weightBits`); absent: weights stay f32. */
  readonly weightBits?: number;
  /** Bits of the activation grids; absent: activations stay f32. */
  readonly activationBits?: number;
  /**
   * Grid step of every tensor a weighted op reads (`calibrateActivationScales`, or from a GPU
   * calibration), needed with activationBits. A scale of 0 (a tensor that was zero on all
   * calibration data) leaves that tensor unquantized.
   */
  readonly activationScales?: ReadonlyMap<string, number>;
}

/** Name of the fake-quantized copy of tensor `name` (and of the node that makes it). */
export function quantizedName(name: string): string {
  return `q(${name})`;
}

/**
 * `weights` as their post-training quantized network (quantizeGraph with weights and activations
 * on grids of these bits): the same parameters, and metadata.quantization saying how (the
 * calibration data and the source file, as the caller describes them).
 */
export function postTrainingQuantized<W extends NetworkWeights>(
  weights: W,
  q: Required<GraphQuantization>,
  provenance: { calibration: Record<string, unknown>; source: string },
): W {
  return {
    ...weights,
    graph: quantizeGraph(weights.graph, q),
    metadata: {
      ...weights.metadata,
      quantization: {
        kind: 'post-training, weights and activations (quantized network)',
        weightBits: q.weightBits,
        activationBits: q.activationBits,
        ...provenance,
      },
    },
  };
}

/**
 * The quantized network of the f32 graph `graph` (which must not be quantized already): weighted
 * ops fake-quantize their weights to `weightBits`, and each tensor they read passes through a
 * `fakequant` node (right after the tensor is made) with its calibrated scale, rounded to f32 so
 * the CPU and GPU grids are the same. Parameter names and shapes do not change: the f32 weights
 * load into the quantized graph as they are.
 */
export function quantizeGraph(graph: GraphDescription, q: GraphQuantization): GraphDescription {
  validateGraph(graph);
  if (graph.nodes.some((n) => n.op === 'fakequant' || n.weightBits !== undefined)) {
    throw new RangeError(`network "${graph.name}" is quantized already`);
  }
  if (q.weightBits !== undefined) checkBits(q.weightBits);
  const quantized = new Map<string, GraphNode>();
  if (q.activationBits !== undefined) {
    checkBits(q.activationBits);
    for (const name of weightedInputs(graph)) {
      const s = q.activationScales?.get(name);
      if (s === undefined || !(s >= 0) || !Number.isFinite(s)) {
        throw new RangeError(`activation scale of ${name} is ${s}: calibrate it first`);
      }
      if (s === 0) continue;
      const node: GraphNode = {
        op: 'fakequant',
        name: quantizedName(name),
        inputs: [name],
        output: quantizedName(name),
        scale: Math.fround(s),
        bits: q.activationBits,
      };
      quantized.set(name, node);
    }
  }
  const nodes: GraphNode[] = [];
  // Graph inputs first, then each node followed by the fakequant of its output.
  for (const { name } of graph.inputs) if (quantized.has(name)) nodes.push(quantized.get(name)!);
  for (const node of graph.nodes) {
    if (isWeighted(node.op)) {
      const input = node.inputs[0]!;
      nodes.push({
        ...node,
        inputs: quantized.has(input) ? [quantizedName(input)] : node.inputs,
        ...(q.weightBits !== undefined ? { weightBits: q.weightBits } : {}),
      });
    } else {
      nodes.push(node);
    }
    if (quantized.has(node.output)) nodes.push(quantized.get(node.output)!);
  }
  const out = { ...graph, nodes };
  validateGraph(out);
  return out;
}

/** The f32 graph a `quantizeGraph` result came from (fakequant nodes and weightBits removed). */
export function baseGraph(graph: GraphDescription): GraphDescription {
  const source = new Map(
    graph.nodes.filter((n) => n.op === 'fakequant').map((n) => [n.output, n.inputs[0]!]),
  );
  const nodes = graph.nodes
    .filter((n) => n.op !== 'fakequant')
    .map((n) => {
      const { weightBits: _bits, ...rest } = n;
      return { ...rest, inputs: n.inputs.map((name) => source.get(name) ?? name) };
    });
  return { ...graph, nodes };
}

/** What `quantizeGraph` did to a graph, read back from it (for reports and model cards). */
export function graphQuantization(graph: GraphDescription): GraphQuantization | undefined {
  const weightBits = graph.nodes.find((n) => n.weightBits !== undefined)?.weightBits;
  const fq = graph.nodes.filter((n) => n.op === 'fakequant');
  if (weightBits === undefined && fq.length === 0) return undefined;
  return {
    ...(weightBits !== undefined ? { weightBits } : {}),
    ...(fq.length > 0
      ? {
          activationBits: fq[0]!.bits!,
          activationScales: new Map(fq.map((n) => [n.inputs[0]!, n.scale!])),
        }
      : {}),
  };
}
