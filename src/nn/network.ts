/**
 * Runs a network graph: on the GPU (`createNetwork`, one dispatch per node, dispatches prepared
 * once per size and input buffers; for training every intermediate kept in its own buffer so
 * backward passes can read it, for inference buffers recycled and concats read in place). Its CPU
 * oracle is `runNetworkCpu` in src/reference/nn/network.ts.
 */
import {
  checkParameters,
  inferShapes,
  isWeighted,
  parameterSpecs,
  validateGraph,
  type GraphDescription,
  type Activation,
  type GraphNode,
  type Parameters,
  namedInputs,
  shapesFor,
} from '../core/graph.ts';
import { prepareAdd } from './ops/add.ts';
import type { WeightedOpArgs } from './ops/common.ts';
import type { PreparedDispatch } from '../gpu/kernel.ts';
import { prepareConcat } from './ops/concat.ts';
import { prepareConv1x1 } from './ops/conv1x1.ts';
import { prepareConv3x3 } from './ops/conv3x3.ts';
import { prepareDown2x2 } from './ops/down2x2.ts';
import { prepareFakeQuant } from './ops/fakequant.ts';
import { prepareQuantizeWeight } from './ops/quantize-weight.ts';
import { prepareUp2x2 } from './ops/up2x2.ts';
import { createStorageBuffer } from '../gpu/resources.ts';
import type { GpuTimer } from '../gpu/profiler.ts';
import {
  createGpuTensor,
  dtypeOf,
  gpuTensorBytes,
  type GpuTensor,
  type TensorDtype,
} from './tensor.ts';
import { pickShape, type Real, type TensorShape } from '../core/tensor.ts';

/** Result of a GPU run; the buffers stay valid until the next run at another size or destroy(). */
export interface GpuNetworkRun {
  /** The first graph output. */
  readonly output: GpuTensor;
  /** Every graph output by name. */
  readonly outputs: ReadonlyMap<string, GpuTensor>;
  /**
   * Every tensor by name: the inputs given and each node's output (what backward passes read);
   * only inputs and outputs when the network was created without keepActivations.
   */
  readonly activations: ReadonlyMap<string, GpuTensor>;
}

/** Options of `Network.run`. */
export interface NetworkRunOptions {
  /**
   * Time every dispatch in its own compute pass, labelled with its node name (fused nodes joined
   * with '+'; profiling only).
   */
  readonly timer?: GpuTimer;
}

/** One GPU dispatch of a network: a graph node, possibly with a concat and an add fused in. */
interface Step {
  /** The names of the nodes it runs, joined with '+' (timer labels). */
  readonly label: string;
  /** The node whose op and parameters it runs. */
  readonly node: GraphNode;
  /** Tensors read: the node's inputs, or for a weighted op the two parts of a fused concat. */
  readonly inputs: readonly string[];
  /** A fused add's other operand, added after the node's activation. */
  readonly residual?: string;
  readonly residualActivation?: Activation;
  /** Tensor written (a fused add's output). */
  readonly output: string;
}

/**
 * The dispatches that run `graph`. With `fuse` (inference), a concat of two tensors without
 * activation read only by weighted ops is not run (they read its parts), and an add whose operand
 * is read only there and made by a weighted op is folded into that op (it adds the other operand,
 * which must exist by then). Without, one step per node.
 */
function executionSteps(graph: GraphDescription, fuse: boolean): Step[] {
  const plain = (node: GraphNode): Step => ({
    label: node.name,
    node,
    inputs: node.inputs,
    output: node.output,
  });
  if (!fuse) return graph.nodes.map(plain);
  const outputs = new Set(graph.outputs);
  const readers = (name: string) => graph.nodes.flatMap((n) => n.inputs.filter((i) => i === name));
  const producer = new Map(graph.nodes.map((n, i) => [n.output, i]));
  const concatParts = new Map<string, readonly string[]>();
  for (const node of graph.nodes) {
    if (node.op !== 'concat' || node.inputs.length !== 2 || outputs.has(node.output)) continue;
    if ((node.activation ?? 'none') !== 'none') continue;
    const users = graph.nodes.filter((n) => n.inputs.includes(node.output));
    if (users.every((n) => isWeighted(n.op))) concatParts.set(node.output, node.inputs);
  }
  // Weighted node index → the add folded into it and the add's other operand.
  const folded = new Map<number, { add: GraphNode; other: string }>();
  for (const add of graph.nodes) {
    if (add.op !== 'add') continue;
    for (const [operand, other] of [add.inputs, [...add.inputs].reverse()] as const) {
      const at = producer.get(operand!);
      if (at === undefined || folded.has(at) || !isWeighted(graph.nodes[at]!.op)) continue;
      if (outputs.has(operand!) || readers(operand!).length !== 1) continue;
      if ((producer.get(other!) ?? -1) >= at || concatParts.has(other!)) continue;
      folded.set(at, { add, other: other! });
      break;
    }
  }
  const foldedAdds = new Set([...folded.values()].map((f) => f.add));
  const steps: Step[] = [];
  graph.nodes.forEach((node, i) => {
    if (concatParts.has(node.output) || foldedAdds.has(node)) return;
    const step = plain(node);
    const parts = isWeighted(node.op) ? concatParts.get(node.inputs[0]!) : undefined;
    const fold = folded.get(i);
    steps.push({
      ...step,
      ...(parts ? { inputs: parts } : {}),
      ...(fold
        ? {
            label: `${node.name}+${fold.add.name}`,
            residual: fold.other,
            residualActivation: fold.add.activation ?? 'none',
            output: fold.add.output,
          }
        : {}),
    });
  });
  return steps;
}

/** Most input-buffer sets whose prepared dispatches a network keeps per size. */
const MAX_CACHED_PLANS = 8;

/** True when `b` binds the same buffer with the same element type as `a`. */
function sameBinding(a: GpuTensor | undefined, b: GpuTensor): boolean {
  return a !== undefined && a.buffer === b.buffer && dtypeOf(a) === dtypeOf(b);
}

/** Options of `createNetwork`. */
export interface NetworkOptions {
  /**
   * Element type of the intermediate tensors (graph inputs and outputs stay as given / f32):
   * 'f16' halves their memory traffic and needs the adapter feature `shader-f16`. Weights and
   * arithmetic stay f32. Default 'f32'.
   */
  readonly precision?: TensorDtype;
  /**
   * Keep every intermediate in its own buffer, readable after the run (training's backward needs
   * them). false (inference): intermediates share buffers once their last reader has run, concats
   * read only by weighted ops are skipped (they read the two parts) and adds are folded into the
   * weighted op before them (see executionSteps): network v2 then runs 6 dispatches fewer and
   * needs 62 instead of 107 full-resolution channel planes (test/nn-network.test.ts);
   * `activations` then holds only the inputs and outputs. Default true.
   */
  readonly keepActivations?: boolean;
}

/** A network on a GPU device. */
export interface Network {
  readonly graph: GraphDescription;
  /** Element type of the intermediate tensors. */
  readonly precision: TensorDtype;
  /** Parameter buffers (array<f32>) by name; training updates them in place. */
  readonly parameters: ReadonlyMap<string, GPUBuffer>;
  /**
   * The parameter buffers the ops read: `parameters`, except the weights of nodes with
   * `weightBits`, which are their fake-quantized copies (backward passes must read these).
   */
  readonly runParameters: ReadonlyMap<string, GPUBuffer>;
  /** Tensor shapes for an input of height × width (throws unless multiples of inputMultiple). */
  shapes(height: number, width: number): Map<string, TensorShape>;
  /**
   * Records the forward into one compute pass of `encoder`. The input size picks the
   * intermediate buffers (allocated once per size; a new size frees the old ones); dispatches are
   * prepared once per size and input buffers, so a steady frame only encodes.
   */
  run(
    encoder: GPUCommandEncoder,
    input: GpuTensor | ReadonlyMap<string, GpuTensor>,
    options?: NetworkRunOptions,
  ): GpuNetworkRun;
  /** Bytes of the intermediate and output buffers allocated for the current size (0 before a run). */
  intermediateBytes(): number;
  /** Overwrites the parameter buffers from CPU values (checked against the graph). */
  writeParameters(parameters: Parameters<Real>): void;
  /** Frees the parameter and intermediate buffers. */
  destroy(): void;
}

const PREPARE_WEIGHTED = {
  conv3x3: prepareConv3x3,
  conv1x1: prepareConv1x1,
  down2x2: prepareDown2x2,
  up2x2: prepareUp2x2,
} as const;

/** Uploads the graph's parameters and returns a network that runs on `device`. */
export function createNetwork(
  device: GPUDevice,
  graph: GraphDescription,
  parameters: Parameters<Real>,
  options: NetworkOptions = {},
): Network {
  validateGraph(graph);
  checkParameters(graph, parameters);
  const precision = options.precision ?? 'f32';
  if (precision === 'f16' && !device.features.has('shader-f16')) {
    throw new RangeError('network precision f16 needs the adapter feature shader-f16');
  }
  const graphOutputs = new Set(graph.outputs);
  const keepActivations = options.keepActivations ?? true;
  const steps = executionSteps(graph, !keepActivations);
  const buffers = new Map<string, GPUBuffer>();
  for (const spec of parameterSpecs(graph)) {
    const values = parameters.get(spec.name)!;
    const f32 = values instanceof Float32Array ? values : Float32Array.from(values);
    buffers.set(
      spec.name,
      createStorageBuffer(device, f32, undefined, `${graph.name} ${spec.name}`),
    );
  }
  // Fake-quantized weights: a rounded copy per node with weightBits, refreshed at the start of every
  // forward (training updates the stored weights in place; a flag for "changed" would go stale
  // whenever a recorded run is never submitted). One small dispatch per weighted node.
  const runBuffers = new Map(buffers);
  const quantizeWeights: PreparedDispatch[] = [];
  for (const node of graph.nodes) {
    if (!node.weightBits) continue;
    const name = `${node.name}.weight`;
    const stored = buffers.get(name)!;
    const quantized = device.createBuffer({
      label: `${graph.name} ${name} quantized`,
      size: stored.size,
      usage: GPUBufferUsage.STORAGE,
    });
    runBuffers.set(name, quantized);
    quantizeWeights.push(
      prepareQuantizeWeight(device, stored, quantized, stored.size / 4, node.weightBits),
    );
  }
  /** Buffers and prepared dispatches for one input size and one set of input buffers. */
  interface Plan {
    readonly inputs: ReadonlyMap<string, GpuTensor>;
    readonly tensors: ReadonlyMap<string, GpuTensor>;
    readonly dispatches: readonly { readonly label: string; readonly dispatch: PreparedDispatch }[];
  }
  /** Intermediate buffers of the current size. */
  let sized: { height: number; width: number; tensors: Map<string, GpuTensor> } | undefined;
  /**
   * Plans of the current size by the first input's buffer, least recently used first: callers
   * that rotate a few input buffers (BPTT frame slots, ping-pong) reuse their bind groups.
   */
  const plans = new Map<GPUBuffer, Plan>();

  function prepareStep(step: Step, tensors: ReadonlyMap<string, GpuTensor>): PreparedDispatch {
    const { node } = step;
    const ins = step.inputs.map((name) => tensors.get(name)!);
    const output = tensors.get(step.output)!;
    const activation = node.activation ?? 'none';
    if (node.op === 'add') {
      return prepareAdd(device, { a: ins[0]!, b: ins[1]!, output, activation });
    }
    if (node.op === 'concat') return prepareConcat(device, { inputs: ins, output, activation });
    if (node.op === 'fakequant') {
      return prepareFakeQuant(device, {
        input: ins[0]!,
        output,
        scale: node.scale!,
        bits: node.bits!,
      });
    }
    const args: WeightedOpArgs = {
      input: ins[0]!,
      ...(ins[1] ? { input2: ins[1] } : {}),
      ...(step.residual
        ? { residual: tensors.get(step.residual)!, residualActivation: step.residualActivation }
        : {}),
      weight: runBuffers.get(`${node.name}.weight`)!,
      bias: buffers.get(`${node.name}.bias`)!,
      output,
      activation,
    };
    return PREPARE_WEIGHTED[node.op](device, args);
  }

  function planFor(inputs: Map<string, GpuTensor>): Plan {
    const shapes = shapesFor(graph, inputs);
    const first = inputs.get(graph.inputs[0]!.name)!;
    if (!sized || sized.height !== first.height || sized.width !== first.width) {
      freeIntermediates();
      const tensors = allocateIntermediates(shapes);
      sized = { height: first.height, width: first.width, tensors };
    }
    const cached = plans.get(first.buffer);
    if (cached) plans.delete(first.buffer);
    if (cached && [...inputs].every(([name, t]) => sameBinding(cached.inputs.get(name), t))) {
      plans.set(first.buffer, cached);
      return cached;
    }
    // A plan dropped here may still be recorded in an encoder that is not submitted yet (training
    // records a whole clip, more frames than MAX_CACHED_PLANS, in one command buffer): never
    // destroy its uniform buffers, just drop them and let the implementation free them once unused.
    const tensors = new Map(sized.tensors);
    for (const [name, t] of inputs) tensors.set(name, t);
    const dispatches = steps.map((step) => ({
      label: step.label,
      dispatch: prepareStep(step, tensors),
    }));
    const plan = { inputs, tensors, dispatches };
    plans.set(first.buffer, plan);
    if (plans.size > MAX_CACHED_PLANS) {
      plans.delete(plans.keys().next().value!);
    }
    return plan;
  }

  function destroyPlan(plan: Plan): void {
    for (const { dispatch } of plan.dispatches) dispatch.destroy();
  }

  /** A buffer per step output; without keepActivations, buffers are recycled after last use. */
  function allocateIntermediates(shapes: ReadonlyMap<string, TensorShape>): Map<string, GpuTensor> {
    const reads = (step: Step) => [...step.inputs, ...(step.residual ? [step.residual] : [])];
    const lastUse = new Map<string, number>();
    steps.forEach((step, i) => reads(step).forEach((name) => lastUse.set(name, i)));
    const intermediates = new Set(steps.map((s) => s.output).filter((n) => !graphOutputs.has(n)));
    const free = new Map<number, GPUBuffer[]>();
    const tensors = new Map<string, GpuTensor>();
    steps.forEach((step, i) => {
      const shape = shapes.get(step.output)!;
      const dtype = graphOutputs.has(step.output) ? 'f32' : precision;
      const bytes = Math.ceil(gpuTensorBytes(shape, dtype) / 4) * 4;
      const recycled = intermediates.has(step.output) ? free.get(bytes)?.pop() : undefined;
      tensors.set(
        step.output,
        recycled
          ? { ...pickShape(shape), buffer: recycled, dtype }
          : createGpuTensor(device, shape, step.output, dtype),
      );
      if (keepActivations) return;
      for (const name of new Set(reads(step))) {
        if (lastUse.get(name) !== i || !intermediates.has(name)) continue;
        const t = tensors.get(name)!;
        if (!free.has(t.buffer.size)) free.set(t.buffer.size, []);
        free.get(t.buffer.size)!.push(t.buffer);
      }
    });
    return tensors;
  }

  function freeIntermediates(): void {
    for (const plan of plans.values()) destroyPlan(plan);
    plans.clear();
    for (const t of new Set(sized?.tensors.values())) t.buffer.destroy();
    sized = undefined;
  }

  return {
    graph,
    precision,
    parameters: buffers,
    runParameters: runBuffers,
    shapes: (height, width) => inferShapes(graph, height, width),
    run(encoder, input, options = {}) {
      const { tensors, dispatches, inputs } = planFor(namedInputs(graph, input));
      const { timer } = options;
      if (quantizeWeights.length > 0) {
        const pass = encoder.beginComputePass({
          label: 'quantize weights',
          ...(timer ? { timestampWrites: timer.computePass('quantize weights') } : {}),
        });
        for (const dispatch of quantizeWeights) dispatch.encode(pass);
        pass.end();
      }
      if (timer) {
        for (const { label, dispatch } of dispatches) {
          const pass = encoder.beginComputePass({
            label,
            timestampWrites: timer.computePass(label),
          });
          dispatch.encode(pass);
          pass.end();
        }
      } else {
        const pass = encoder.beginComputePass({ label: graph.name });
        for (const { dispatch } of dispatches) dispatch.encode(pass);
        pass.end();
      }
      const outputs = new Map(graph.outputs.map((name) => [name, tensors.get(name)!]));
      const activations = keepActivations ? tensors : new Map([...inputs, ...outputs]);
      return { output: outputs.get(graph.outputs[0]!)!, outputs, activations };
    },
    intermediateBytes() {
      const buffers = new Set([...(sized?.tensors.values() ?? [])].map((t) => t.buffer));
      let bytes = 0;
      for (const buffer of buffers) bytes += buffer.size;
      return bytes;
    },
    writeParameters(values) {
      checkParameters(graph, values);
      for (const [name, buffer] of buffers) {
        const v = values.get(name)!;
        const f32 = v instanceof Float32Array ? v : Float32Array.from(v);
        device.queue.writeBuffer(buffer, 0, f32 as Float32Array<ArrayBuffer>);
      }
    },
    destroy() {
      freeIntermediates();
      for (const dispatch of quantizeWeights) dispatch.destroy();
      for (const buffer of new Set([...buffers.values(), ...runBuffers.values()])) buffer.destroy();
    },
  };
}
