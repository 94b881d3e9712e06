/**
 * The network as data: a JSON-serialisable graph of ops over named tensors, shape inference,
 * parameter shapes, and counts (parameters, MACs). Parameter tensors are named `<node>.weight` and
 * `<node>.bias`. Nodes are listed in execution order: a node reads only graph inputs and outputs of
 * earlier nodes.
 */
import { InputError } from './errors.ts';
import { type Real, type TensorShape, sameShape, shapeString } from './tensor.ts';

/** Activation fused after the bias: leaky has slope LEAKY_SLOPE for negatives. */
export type Activation = 'none' | 'relu' | 'leaky';

/** Every activation, in the order of their WGSL codes (`activationCode`). */
export const ACTIVATIONS: readonly Activation[] = ['none', 'relu', 'leaky'];

/** Slope of the leaky activation for negative inputs. */
export const LEAKY_SLOPE = 0.1;

/** Largest grid index of a symmetric `bits`-bit grid: 2^(bits−1) − 1 (127 for INT8). */
export function quantMax(bits: number): number {
  return 2 ** (bits - 1) - 1;
}

/** Ops with weights and bias. */
export type WeightedOp = 'conv3x3' | 'conv1x1' | 'down2x2' | 'up2x2';
/**
 * Every op of the contract. `fakequant` rounds a tensor onto the symmetric grid k·scale,
 * |k| ≤ 2^(bits−1) − 1, as an INT8 kernel would read it (quantization-aware training and INT8
 * simulation; src/nn/quantize.ts inserts it).
 */
export type OpKind = WeightedOp | 'add' | 'concat' | 'fakequant';

const WEIGHTED_OPS: readonly OpKind[] = ['conv3x3', 'conv1x1', 'down2x2', 'up2x2'];
const OPS: readonly OpKind[] = [...WEIGHTED_OPS, 'add', 'concat', 'fakequant'];

/** Bits a fake-quantized grid may have. */
export const QUANT_BITS = { min: 2, max: 16 } as const;

/** True for a whole number of bits in QUANT_BITS. */
export function isQuantBits(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= QUANT_BITS.min && (v as number) <= QUANT_BITS.max;
}

/** One op applied to named tensors. */
export interface GraphNode {
  readonly op: OpKind;
  /** Unique node name; its parameters are `<name>.weight` and `<name>.bias`. */
  readonly name: string;
  /** Tensor names read (one for weighted ops, two for add, one or more for concat). */
  readonly inputs: readonly string[];
  /** Tensor name written. */
  readonly output: string;
  /** Output channels (weighted ops only). */
  readonly outChannels?: number;
  /** Fused after the bias (or the sum / concatenation); default 'none'. */
  readonly activation?: Activation;
  /**
   * Weighted ops: the weight is used rounded onto its symmetric per-tensor grid of this many bits
   * (scale max|w| / (2^(bits−1) − 1), recomputed from the stored weight). Absent: f32 weights.
   */
  readonly weightBits?: number;
  /** fakequant only: the grid step (> 0). */
  readonly scale?: number;
  /** fakequant only: the grid's bits. */
  readonly bits?: number;
}

/** A network description (serialised as JSON into weight files). */
export interface GraphDescription {
  readonly name: string;
  readonly version: number;
  readonly inputs: readonly { readonly name: string; readonly channels: number }[];
  readonly outputs: readonly string[];
  readonly nodes: readonly GraphNode[];
  /**
   * The neural frame's history guard for this model, in box ranges (HISTORY_GUARD_RANGES,
   * src/core/neural-frame.ts): the blend clamps history that lies farther outside the
   * rectification box, whatever the network's β. Absent or 0: no guard (models trained before
   * it, which run as they were trained).
   */
  readonly historyGuard?: number;
  /**
   * The neural frame's coverage blend for this model, the power k (COVERAGE_SIGMA,
   * src/core/neural-frame.ts): the current frame's share of the blend is weighted by how well
   * this frame's samples cover the pixel, as TAAU weighs its samples. Absent or 0: none (the
   * blend as models before it were trained with).
   */
  readonly coverageBlend?: number;
}

/** Shape of one parameter tensor, e.g. [Cout, Cin, 3, 3]. */
export interface ParameterSpec {
  readonly name: string;
  readonly shape: readonly number[];
  /** Product of `shape`. */
  readonly length: number;
}

/** Channels and resolution level (0 = input size, k = input / 2^k) of a tensor. */
interface TensorInfo {
  readonly channels: number;
  readonly level: number;
}

/** True for ops with weights and bias. */
export function isWeighted(op: OpKind): op is WeightedOp {
  return WEIGHTED_OPS.includes(op);
}

function fail(graph: GraphDescription, message: string): never {
  throw new InputError(`network "${String(graph?.name)}": ${message}`);
}

/**
 * Checks the graph and infers channels and resolution level of every tensor (map name → info, in
 * definition order). Throws InputError naming the first problem.
 */
function analyse(graph: GraphDescription): Map<string, TensorInfo> {
  if (typeof graph !== 'object' || graph === null) throw new InputError('network: not an object');
  if (typeof graph.name !== 'string') fail(graph, 'name must be a string');
  if (!Number.isInteger(graph.version)) fail(graph, 'version must be an integer');
  if (!Array.isArray(graph.inputs as unknown) || graph.inputs.length === 0)
    fail(graph, 'no inputs');
  if (!Array.isArray(graph.nodes as unknown)) fail(graph, 'nodes must be an array');
  if (!Array.isArray(graph.outputs as unknown) || graph.outputs.length === 0)
    fail(graph, 'no outputs');
  const guard = graph.historyGuard as unknown;
  if (guard !== undefined && !(typeof guard === 'number' && Number.isFinite(guard) && guard >= 0))
    fail(graph, `historyGuard must be a finite number ≥ 0, got ${String(guard)}`);
  const coverage = graph.coverageBlend as unknown;
  if (
    coverage !== undefined &&
    !(typeof coverage === 'number' && Number.isFinite(coverage) && coverage >= 0 && coverage <= 4)
  )
    fail(graph, `coverageBlend must be a number in [0, 4], got ${String(coverage)}`);
  const tensors = new Map<string, TensorInfo>();
  for (const input of graph.inputs) {
    if (
      typeof input?.name !== 'string' ||
      !Number.isInteger(input.channels) ||
      input.channels < 1
    ) {
      fail(graph, `bad input ${JSON.stringify(input)}`);
    }
    if (tensors.has(input.name)) fail(graph, `tensor "${input.name}" defined twice`);
    tensors.set(input.name, { channels: input.channels, level: 0 });
  }
  const nodeNames = new Set<string>();
  for (const node of graph.nodes) {
    const where = `node "${String(node?.name)}"`;
    if (typeof node?.name !== 'string' || nodeNames.has(node.name)) {
      fail(graph, `${where}: name missing or used twice`);
    }
    nodeNames.add(node.name);
    if (!OPS.includes(node.op)) fail(graph, `${where}: unknown op "${String(node.op)}"`);
    if (node.activation !== undefined && !ACTIVATIONS.includes(node.activation)) {
      fail(graph, `${where}: unknown activation "${String(node.activation)}"`);
    }
    if (!Array.isArray(node.inputs as unknown) || node.inputs.length === 0)
      fail(graph, `${where}: no inputs`);
    const ins = node.inputs.map((name) => {
      const info = tensors.get(name);
      if (!info) fail(graph, `${where}: input "${name}" is not defined before it`);
      return info;
    });
    if (typeof node.output !== 'string' || tensors.has(node.output)) {
      fail(graph, `${where}: output name missing or already defined`);
    }
    const first = ins[0]!;
    const bitRange = `an integer from ${QUANT_BITS.min} to ${QUANT_BITS.max}`;
    if (node.weightBits !== undefined && (!isWeighted(node.op) || !isQuantBits(node.weightBits))) {
      fail(graph, `${where}: weightBits must be ${bitRange}, on a weighted op`);
    }
    if (node.op !== 'fakequant' && (node.scale !== undefined || node.bits !== undefined)) {
      fail(graph, `${where}: only fakequant takes scale and bits`);
    }
    let info: TensorInfo;
    if (node.op === 'fakequant') {
      if (ins.length !== 1) fail(graph, `${where}: fakequant takes one input`);
      if ((node.activation ?? 'none') !== 'none')
        fail(graph, `${where}: fakequant has no activation`);
      if (typeof node.scale !== 'number' || !Number.isFinite(node.scale) || node.scale <= 0) {
        fail(graph, `${where}: scale must be a positive number, got ${String(node.scale)}`);
      }
      if (!isQuantBits(node.bits)) fail(graph, `${where}: bits must be ${bitRange}`);
      info = first;
    } else if (isWeighted(node.op)) {
      if (ins.length !== 1) fail(graph, `${where}: ${node.op} takes one input`);
      const outChannels = node.outChannels;
      if (!Number.isInteger(outChannels) || outChannels! < 1) {
        fail(graph, `${where}: outChannels must be a positive integer`);
      }
      const level =
        node.op === 'down2x2'
          ? first.level + 1
          : node.op === 'up2x2'
            ? first.level - 1
            : first.level;
      if (level < 0) fail(graph, `${where}: upsamples above the input resolution`);
      info = { channels: outChannels!, level };
    } else if (node.op === 'add') {
      if (ins.length !== 2) fail(graph, `${where}: add takes two inputs`);
      const second = ins[1]!;
      if (first.channels !== second.channels || first.level !== second.level) {
        fail(graph, `${where}: add inputs differ in shape`);
      }
      info = first;
    } else {
      if (ins.some((t) => t.level !== first.level)) fail(graph, `${where}: concat sizes differ`);
      info = { channels: ins.reduce((s, t) => s + t.channels, 0), level: first.level };
    }
    tensors.set(node.output, info);
  }
  for (const name of graph.outputs) {
    if (!tensors.has(name)) fail(graph, `output "${name}" is not produced`);
  }
  return tensors;
}

/** Throws InputError if the graph is malformed (unknown ops, undefined tensors, shape errors). */
export function validateGraph(graph: GraphDescription): void {
  analyse(graph);
}

/** Input height and width must be multiples of this (2^number of nested downsamplings). */
export function inputMultiple(graph: GraphDescription): number {
  let deepest = 0;
  for (const info of analyse(graph).values()) deepest = Math.max(deepest, info.level);
  return 2 ** deepest;
}

/**
 * Shapes of every tensor (graph inputs, then node outputs in order) for an input of
 * height × width. Throws RangeError if the size is not a multiple of `inputMultiple(graph)`.
 */
export function inferShapes(
  graph: GraphDescription,
  height: number,
  width: number,
): Map<string, TensorShape> {
  const tensors = analyse(graph);
  let multiple = 1;
  for (const info of tensors.values()) multiple = Math.max(multiple, 2 ** info.level);
  if (
    !Number.isInteger(height) ||
    !Number.isInteger(width) ||
    height <= 0 ||
    width <= 0 ||
    height % multiple !== 0 ||
    width % multiple !== 0
  ) {
    throw new RangeError(
      `network "${graph.name}": input size ${width}x${height} must be positive multiples of ${multiple}`,
    );
  }
  const shapes = new Map<string, TensorShape>();
  for (const [name, info] of tensors) {
    const scale = 2 ** info.level;
    shapes.set(name, { channels: info.channels, height: height / scale, width: width / scale });
  }
  return shapes;
}

/** Parameter tensors in file / execution order: for each weighted node, weight then bias. */
export function parameterSpecs(graph: GraphDescription): ParameterSpec[] {
  const tensors = analyse(graph);
  const specs: ParameterSpec[] = [];
  for (const node of graph.nodes) {
    if (!isWeighted(node.op)) continue;
    const cin = tensors.get(node.inputs[0]!)!.channels;
    const cout = node.outChannels!;
    const k = node.op === 'conv3x3' ? 3 : node.op === 'conv1x1' ? 1 : 2;
    const shape = node.op === 'up2x2' ? [cin, cout, k, k] : [cout, cin, k, k];
    specs.push({ name: `${node.name}.weight`, shape, length: cin * cout * k * k });
    specs.push({ name: `${node.name}.bias`, shape: [cout], length: cout });
  }
  return specs;
}

/** Total number of parameters (weights and biases). */
export function countParameters(graph: GraphDescription): number {
  return parameterSpecs(graph).reduce((s, p) => s + p.length, 0);
}

/**
 * Multiply-accumulates of each weighted node per pixel of the (level 0) input size: Cin · Cout ·
 * taps per output pixel (taps = 9, 1, 4, and 1 for up2x2 whose outputs do not overlap), scaled by
 * the node's resolution. add, concat and fakequant count none.
 */
export function macsPerNode(graph: GraphDescription): Map<string, number> {
  const tensors = analyse(graph);
  const macs = new Map<string, number>();
  for (const node of graph.nodes) {
    if (!isWeighted(node.op)) {
      macs.set(node.name, 0);
      continue;
    }
    const cin = tensors.get(node.inputs[0]!)!.channels;
    const out = tensors.get(node.output)!;
    const taps = node.op === 'conv3x3' ? 9 : node.op === 'down2x2' ? 4 : 1;
    macs.set(node.name, (cin * out.channels * taps) / 4 ** out.level);
  }
  return macs;
}

/** Multiply-accumulates of the whole network per output (= input) pixel. */
export function macsPerOutputPixel(graph: GraphDescription): number {
  let total = 0;
  for (const m of macsPerNode(graph).values()) total += m;
  return total;
}

/** Parameter tensors by name (`<node>.weight`, `<node>.bias`), lengths per `parameterSpecs`. */
export type Parameters<T extends Real = Float32Array> = ReadonlyMap<string, T>;

/**
 * Throws InputError unless `parameters` holds exactly the graph's parameter tensors with the right
 * lengths.
 */
export function checkParameters(graph: GraphDescription, parameters: Parameters<Real>): void {
  const specs = parameterSpecs(graph);
  for (const spec of specs) {
    const values = parameters.get(spec.name);
    if (!values) throw new InputError(`network "${graph.name}": parameter ${spec.name} is missing`);
    if (values.length !== spec.length) {
      throw new InputError(
        `network "${graph.name}": parameter ${spec.name} has ${values.length} values, shape [${spec.shape.join(', ')}] needs ${spec.length}`,
      );
    }
  }
  if (parameters.size !== specs.length) {
    const known = new Set(specs.map((s) => s.name));
    const extra = [...parameters.keys()].filter((name) => !known.has(name));
    throw new InputError(`network "${graph.name}": unknown parameters ${extra.join(', ')}`);
  }
}

/** The graph inputs by name, from one tensor (single-input graphs) or a map. */
export function namedInputs<T>(
  graph: GraphDescription,
  input: T | ReadonlyMap<string, T>,
): Map<string, T> {
  if (input instanceof Map) return new Map(input as ReadonlyMap<string, T>);
  if (graph.inputs.length !== 1) {
    throw new RangeError(`network "${graph.name}" has ${graph.inputs.length} inputs: pass a map`);
  }
  return new Map([[graph.inputs[0]!.name, input as T]]);
}

/** Checks that every graph input is given with its shape, and returns the tensor shapes. */
export function shapesFor(
  graph: GraphDescription,
  inputs: ReadonlyMap<string, TensorShape>,
): Map<string, TensorShape> {
  const first = inputs.get(graph.inputs[0]!.name);
  if (!first)
    throw new RangeError(`network "${graph.name}": input ${graph.inputs[0]!.name} missing`);
  const shapes = inferShapes(graph, first.height, first.width);
  for (const { name } of graph.inputs) {
    const given = inputs.get(name);
    const want = shapes.get(name)!;
    if (!given || !sameShape(given, want)) {
      throw new RangeError(
        `network "${graph.name}": input ${name} is ${given ? shapeString(given) : 'missing'}, want ${shapeString(want)}`,
      );
    }
  }
  return shapes;
}
