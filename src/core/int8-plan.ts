/**
 * The lowering of a quantized network (src/nn/quantize.ts: 8-bit weights, a fakequant node on
 * every tensor a weighted op reads) to INT8 steps that the CPU reference and the GPU runner
 * execute alike. The int8 tensors are the fakequant outputs, with their scales; no f32 tensor is
 * written between layers:
 *
 * - a weighted op whose output only a fakequant reads writes that int8 tensor (requantized);
 * - one whose output is added to another tensor (`add`, then only a fakequant) fuses the add: the
 *   other tensor is read as its int8 twin (the fakequant of it), in accumulator units;
 * - one whose output is part of a `concat` (then only a fakequant) writes its channel range of
 *   that int8 tensor, as does the quantization of a graph input that is part of it;
 * - one whose output is the graph output writes f32 (the network's raw output);
 * - a graph input read by a fakequant is quantized into that tensor.
 * Anything else (an f32 tensor that would have to be stored, a concat part at a channel offset
 * that is not a multiple of 4, bits other than 8) is refused with the node's name.
 */
import {
  inferShapes,
  isWeighted,
  validateGraph,
  type GraphDescription,
  type GraphNode,
  type Parameters,
  type WeightedOp,
} from './graph.ts';
import {
  int8WeightGrid,
  quantizeBias,
  requantMultiplier,
  residualMultiplier,
  type Int8OpParams,
} from './int8.ts';
import type { Real } from './tensor.ts';

/** A graph input quantized (f32 → int8) into channels [offset, offset + C) of an int8 tensor. */
export interface Int8QuantizeStep {
  readonly input: string;
  readonly output: string;
  readonly outChannelOffset: number;
  readonly scale: number;
}

/** A weighted op on int8 tensors. */
export interface Int8OpStep {
  /** The graph node it runs. */
  readonly node: string;
  readonly op: WeightedOp;
  readonly input: string;
  readonly inChannels: number;
  /** An int8 tensor, or the graph output (f32) when `realOutput`. */
  readonly output: string;
  readonly realOutput: boolean;
  readonly outChannelOffset: number;
  /** An int8 tensor added in the epilogue. */
  readonly residual?: string;
  readonly params: Int8OpParams;
}

/** An int8 tensor of a plan. */
export interface Int8PlanTensor {
  readonly channels: number;
  readonly scale: number;
  /** 1, 2, 4, …: the tensor's height and width are the input's divided by this. */
  readonly divisor: number;
}

/** A network lowered to INT8 steps. */
export interface Int8Plan {
  readonly name: string;
  /** The f32 graph input and output. */
  readonly input: string;
  readonly output: string;
  /** Every int8 tensor: channels, scale, and size as the input's divided by `divisor`. */
  readonly tensors: ReadonlyMap<string, Int8PlanTensor>;
  /** Channels of the f32 input and output (the output at the input's size). */
  readonly inputChannels: number;
  readonly outputChannels: number;
  readonly quantizes: readonly Int8QuantizeStep[];
  readonly steps: readonly Int8OpStep[];
}

function fail(graph: GraphDescription, where: string, message: string): never {
  throw new RangeError(`int8 plan of "${graph.name}": ${where}: ${message}`);
}

/** Lowers a quantized single-input, single-output graph with its parameters. */
export function planInt8(graph: GraphDescription, parameters: Parameters<Real>): Int8Plan {
  const g = analyse(graph);
  const { input, output } = g;
  const quantizes: Int8QuantizeStep[] = [];
  for (const reader of g.readersOf(input)) {
    if (reader.op === 'fakequant') {
      quantizes.push({ input, output: reader.output, outChannelOffset: 0, scale: reader.scale! });
    } else if (reader.op === 'concat') {
      const d = g.concatPart(reader, input);
      quantizes.push({ input, output: d.output, outChannelOffset: d.offset, scale: d.scale });
    } else {
      fail(graph, reader.name, `reads the f32 input ${input} directly`);
    }
  }
  // fakequant and concat nodes are tensors of the plan, adds fused into the ops before them.
  const steps = graph.nodes
    .filter((n) => n.op !== 'fakequant' && n.op !== 'concat' && n.op !== 'add')
    .map((node) => planStep(g, node, parameters));
  const outShape = g.shapes.get(output)!;
  if (outShape.height !== ANALYSIS_SIZE)
    fail(graph, output, 'the output must be at the input size');
  return {
    name: graph.name,
    input,
    output,
    tensors: g.tensors,
    inputChannels: graph.inputs[0]!.channels,
    outputChannels: outShape.channels,
    quantizes,
    steps,
  };
}

/** Input size the graph is analysed at: every level of a U-Net up to 64× down is a whole size. */
const ANALYSIS_SIZE = 64;

/** The graph's tensors, who reads them, and where each result goes, for planning. */
function analyse(graph: GraphDescription) {
  validateGraph(graph);
  if (graph.inputs.length !== 1 || graph.outputs.length !== 1) {
    fail(graph, 'graph', 'needs one input and one output');
  }
  const input = graph.inputs[0]!.name;
  const output = graph.outputs[0]!;
  const shapes = inferShapes(graph, ANALYSIS_SIZE, ANALYSIS_SIZE);
  const readers = new Map<string, GraphNode[]>();
  for (const node of graph.nodes) {
    for (const name of node.inputs) readers.set(name, [...(readers.get(name) ?? []), node]);
  }
  const fakequants = graph.nodes.filter((n) => n.op === 'fakequant');
  if (fakequants.length === 0) {
    fail(
      graph,
      'graph',
      'not quantized (no fakequant nodes); make it INT8-ready with `uplift quantize <in> <out> --activation-bits 8` or use weights/uplift-v2-int8.uplift',
    );
  }
  for (const f of fakequants) {
    if (f.bits !== 8) fail(graph, f.name, `${f.bits}-bit activations (INT8 needs 8)`);
  }
  const tensors = new Map<string, Int8PlanTensor>(
    fakequants.map((f) => {
      const shape = shapes.get(f.output)!;
      const divisor = ANALYSIS_SIZE / shape.height;
      return [f.output, { channels: shape.channels, scale: f.scale!, divisor }];
    }),
  );
  const fusedInput = fusedAddInputs(graph, readers);
  /** Readers of `name`, without the adds that read it as their residual. */
  const readersOf = (name: string) =>
    (readers.get(name) ?? []).filter((n) => n.op !== 'add' || fusedInput.get(n.name) === name);
  /** The one fakequant reading `name`, which a result is stored as. */
  const storedAs = (name: string, where: string): GraphNode => {
    const r = readersOf(name);
    if (r.length !== 1 || r[0]!.op !== 'fakequant') {
      const names = r.map((n) => n.name).join(', ') || 'nothing';
      fail(graph, where, `${name} must be read by one fakequant only, is read by ${names}`);
    }
    return r[0]!;
  };
  /** Where a part of `concat` is written: its channel range of the concat's int8 tensor. */
  const concatPart = (concat: GraphNode, name: string) => {
    if (concat.activation && concat.activation !== 'none') {
      fail(graph, concat.name, 'an activated concat has no int8 form');
    }
    let offset = 0;
    for (const part of concat.inputs) {
      if (part === name) break;
      offset += shapes.get(part)!.channels;
    }
    if (offset % 4 !== 0) {
      fail(graph, concat.name, `part ${name} starts at channel ${offset}, not a multiple of 4`);
    }
    const f = storedAs(concat.output, concat.name);
    return { output: f.output, realOutput: false, offset, scale: f.scale! };
  };
  return {
    graph,
    input,
    output,
    shapes,
    readers,
    tensors,
    readersOf,
    concatPart,
    /** The int8 twin of an f32 tensor: the fakequant that reads it. */
    twin(name: string, where: string): string {
      const f = (readers.get(name) ?? []).find((n) => n.op === 'fakequant');
      if (!f) fail(graph, where, `${name} has no int8 form (no fakequant reads it)`);
      return f.output;
    },
    /** Where an op's result `name` is written. */
    destination(name: string, where: string) {
      if (name === output) return { output, realOutput: true, offset: 0, scale: undefined };
      const r = readersOf(name);
      if (r.length === 1 && r[0]!.op === 'concat') return concatPart(r[0]!, name);
      const f = storedAs(name, where);
      return { output: f.output, realOutput: false, offset: 0, scale: f.scale! };
    },
  };
}

/**
 * Each add node → the input it is fused with: the one a weighted op produces and nothing else
 * reads. Its other input is then read as that tensor's int8 twin.
 */
function fusedAddInputs(
  graph: GraphDescription,
  readers: ReadonlyMap<string, GraphNode[]>,
): Map<string, string> {
  const producer = new Map(graph.nodes.map((n) => [n.output, n]));
  const fusedInput = new Map<string, string>();
  for (const add of graph.nodes.filter((n) => n.op === 'add')) {
    const fused = add.inputs.find((i) => {
      const p = producer.get(i);
      return p && isWeighted(p.op) && readers.get(i)!.length === 1;
    });
    if (!fused) {
      fail(graph, add.name, 'an add needs a weighted op producing one of its inputs for itself');
    }
    fusedInput.set(add.name, fused);
  }
  return fusedInput;
}

/** The INT8 step of one weighted node: its integer parameters, its input, output and residual. */
function planStep(
  g: ReturnType<typeof analyse>,
  node: GraphNode,
  parameters: Parameters<Real>,
): Int8OpStep {
  const { graph } = g;
  if (node.weightBits !== 8) fail(graph, node.name, `weightBits ${node.weightBits} (INT8 needs 8)`);
  const inName = node.inputs[0]!;
  const inTensor = g.tensors.get(inName);
  if (!inTensor || node.inputs.length !== 1) {
    fail(graph, node.name, `reads ${node.inputs.join(', ')}, not one int8 tensor`);
  }
  const grid = int8WeightGrid(parameters.get(`${node.name}.weight`)!);
  const weight = grid.q;
  // An all-zero weight: any scale keeps it zero; 1 keeps the bias and multipliers finite.
  const weightScale = grid.scale || 1;
  const bias = Int32Array.from(parameters.get(`${node.name}.bias`)!, (b) =>
    quantizeBias(b, inTensor.scale, weightScale),
  );
  // A following add is fused in: the op's result then goes where the add's goes.
  const r = g.readers.get(node.output) ?? [];
  const add = r.length === 1 && r[0]!.op === 'add' ? r[0]! : undefined;
  if (add && add.output === g.output) fail(graph, add.name, 'a residual add into the f32 output');
  const d = g.destination(add ? add.output : node.output, node.name);
  const residualName = add?.inputs.find((i) => i !== node.output);
  const residual = residualName === undefined ? undefined : g.twin(residualName, add!.name);
  const residualScale = residual === undefined ? undefined : g.tensors.get(residual)!.scale;
  return {
    node: node.name,
    op: node.op as WeightedOp,
    input: inName,
    inChannels: inTensor.channels,
    output: d.output,
    realOutput: d.realOutput,
    outChannelOffset: d.offset,
    ...(residual ? { residual } : {}),
    params: {
      weight,
      bias,
      multiplier: requantMultiplier(
        inTensor.scale,
        weightScale,
        d.realOutput ? undefined : d.scale,
      ),
      activation: node.activation ?? 'none',
      ...(residualScale !== undefined
        ? {
            residualMultiplier: residualMultiplier(residualScale, inTensor.scale, weightScale),
            residualActivation: add!.activation ?? 'none',
          }
        : {}),
    },
  };
}
