/**
 * Post-training fake quantization of the weights: each `.weight` tensor is rounded onto a
 * symmetric per-tensor integer grid (s = max|w| / qmax, qmax = 2^(bits-1) − 1) and stored back as
 * f32 values on that grid, so the f32 inference path measures what INT8 weights would lose.
 * Biases stay f32: INT8 kernels keep an int32/f32 bias.
 *
 * Activations (CPU only, a measurement tool): `calibrateActivationScales` takes per-tensor
 * symmetric scales of every tensor a weighted op reads, and `runNetworkCpuFakeQuant` runs the CPU
 * forward with those inputs rounded onto their grids, as INT8 kernels would read them.
 */
import { inferShapes, isWeighted, type GraphDescription } from './graph.ts';
import {
  checkParameters,
  runNetworkCpu,
  runNodeCpu,
  type CpuNetworkRun,
  type Parameters,
} from './network.ts';
import { sameShape, shapeString, type Real, type Tensor } from './tensor.ts';

function checkBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < 2 || bits > 16) {
    throw new RangeError(`bits must be an integer from 2 to 16, got ${bits}`);
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
  const qmax = 2 ** (bits - 1) - 1;
  const out = new Map<string, Float32Array>();
  const scales = new Map<string, number>();
  for (const [name, values] of parameters) {
    if (!name.endsWith('.weight')) {
      out.set(name, Float32Array.from(values));
      continue;
    }
    let maxAbs = 0;
    for (const v of values) maxAbs = Math.max(maxAbs, Math.abs(v));
    const s = maxAbs / qmax;
    scales.set(name, s);
    // An all-zero tensor has scale 0: dividing would give NaN, and zeros are on any grid.
    if (s === 0) {
      out.set(name, Float32Array.from(values));
      continue;
    }
    const q = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      q[i] = Math.min(qmax, Math.max(-qmax, Math.round(values[i]! / s))) * s;
    }
    out.set(name, q);
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
  const qmax = 2 ** (bits - 1) - 1;
  return new Map(names.map((name) => [name, maxAbs.get(name)! / qmax]));
}

/** A copy of `tensor` rounded onto the grid k·s, |k| ≤ qmax (values beyond clamp); s 0: a copy. */
export function fakeQuantizeTensor<T extends Real>(
  tensor: Tensor<T>,
  s: number,
  bits = 8,
): Tensor<T> {
  checkBits(bits);
  const qmax = 2 ** (bits - 1) - 1;
  const data = tensor.data.slice() as T;
  if (s > 0) {
    for (let i = 0; i < data.length; i++) {
      data[i] = Math.min(qmax, Math.max(-qmax, Math.round(data[i]! / s))) * s;
    }
  }
  return { ...tensor, data };
}

/**
 * The CPU forward (`runNetworkCpu`, same checks and result) with every weighted op reading its
 * input fake-quantized with `scales` (from `calibrateActivationScales` at the same `bits`). Only
 * the weighted ops see the rounded copy: adds, concats and the kept tensors stay unrounded, as
 * when INT8 conv kernels quantize their input on load.
 */
export function runNetworkCpuFakeQuant<T extends Real>(
  graph: GraphDescription,
  parameters: Parameters<Real>,
  input: NetworkInput<T>,
  scales: ReadonlyMap<string, number>,
  bits = 8,
): CpuNetworkRun<T> {
  checkBits(bits);
  checkParameters(graph, parameters);
  for (const name of weightedInputs(graph)) {
    const s = scales.get(name);
    if (s === undefined || !(s >= 0) || !Number.isFinite(s)) {
      throw new RangeError(`activation scale of ${name} is ${s}: calibrate it first`);
    }
  }
  const tensors = new Map<string, Tensor<T>>();
  if (input instanceof Map) {
    for (const [name, t] of input as ReadonlyMap<string, Tensor<T>>) tensors.set(name, t);
  } else if (graph.inputs.length === 1) {
    tensors.set(graph.inputs[0]!.name, input as Tensor<T>);
  } else {
    throw new RangeError(`network "${graph.name}" has ${graph.inputs.length} inputs: pass a map`);
  }
  const first = tensors.get(graph.inputs[0]!.name);
  if (!first)
    throw new RangeError(`network "${graph.name}": input ${graph.inputs[0]!.name} missing`);
  const shapes = inferShapes(graph, first.height, first.width);
  for (const { name } of graph.inputs) {
    const given = tensors.get(name);
    if (!given || !sameShape(given, shapes.get(name)!)) {
      throw new RangeError(
        `network "${graph.name}": input ${name} is ${given ? shapeString(given) : 'missing'}, want ${shapeString(shapes.get(name)!)}`,
      );
    }
  }
  for (const node of graph.nodes) {
    const inputs = node.inputs.map((name) => tensors.get(name)!);
    if (isWeighted(node.op)) {
      inputs[0] = fakeQuantizeTensor(inputs[0]!, scales.get(node.inputs[0]!)!, bits);
    }
    tensors.set(node.output, runNodeCpu(node, inputs, parameters));
  }
  return { output: tensors.get(graph.outputs[0]!)!, tensors };
}
