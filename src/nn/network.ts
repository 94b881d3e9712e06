/**
 * Runs a network graph on the GPU (`createNetwork`, one dispatch per node, dispatches prepared
 * once per size and input buffers; for training every intermediate kept in its own buffer so
 * backward passes can read it, for inference buffers recycled and concats read in place). Its CPU
 * oracle is `runNetworkCpu` in src/reference/nn/network.ts.
 */
import {
  checkParameters,
  inferShapes,
  parameterSpecs,
  validateGraph,
  type GraphDescription,
  type Parameters,
  namedInputs,
} from '../core/graph.ts';
import type { Real, TensorShape } from '../core/tensor.ts';
import type { PreparedDispatch } from '../gpu/kernel.ts';
import type { GpuTimer } from '../gpu/profiler.ts';
import { createStorageBuffer } from '../gpu/resources.ts';
import { createNetworkPlans, type Plan } from './network-plan.ts';
import { executionSteps } from './network-steps.ts';
import { prepareQuantizeWeight } from './ops/quantize-weight.ts';
import type { GpuTensor, TensorDtype } from './tensor.ts';

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
   * weighted op before them (see executionSteps in network-steps.ts): network v2 then runs 6 dispatches fewer and
   * needs 62 instead of 107 full-resolution channel planes (test/nn-network.test.ts);
   * `activations` then holds only the inputs and outputs. Default true.
   */
  readonly keepActivations?: boolean;
  /**
   * Input sizes whose intermediate buffers and prepared dispatches are kept at once (default 1:
   * a new size frees the previous one's, as a resized upscaler wants). Training, which
   * alternates one render size per ratio, keeps several.
   */
  readonly keptSizes?: number;
  /** Input-buffer sets whose dispatches are kept prepared per size (default 8). */
  readonly keptPlans?: number;
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
  const keepActivations = options.keepActivations ?? true;
  const buffers = uploadParameters(device, graph, parameters);
  const { runBuffers, quantizeWeights } = createQuantizedWeights(device, graph, buffers);
  const plans = createNetworkPlans(device, {
    graph,
    steps: executionSteps(graph, !keepActivations),
    precision,
    keepActivations,
    parameters: runBuffers,
    ...(options.keptSizes === undefined ? {} : { keptSizes: options.keptSizes }),
    ...(options.keptPlans === undefined ? {} : { keptPlans: options.keptPlans }),
  });
  return {
    graph,
    precision,
    parameters: buffers,
    runParameters: runBuffers,
    shapes: (height, width) => inferShapes(graph, height, width),
    run(encoder, input, options = {}) {
      const { tensors, dispatches, inputs } = plans.planFor(namedInputs(graph, input));
      encodeForward(encoder, graph.name, quantizeWeights, dispatches, options.timer);
      const outputs = new Map(graph.outputs.map((name) => [name, tensors.get(name)!]));
      const activations = keepActivations ? tensors : new Map([...inputs, ...outputs]);
      return { output: outputs.get(graph.outputs[0]!)!, outputs, activations };
    },
    intermediateBytes: () => plans.intermediateBytes(),
    writeParameters(values) {
      checkParameters(graph, values);
      for (const [name, buffer] of buffers) {
        device.queue.writeBuffer(buffer, 0, float32(values.get(name)!));
      }
    },
    destroy() {
      plans.destroy();
      for (const dispatch of quantizeWeights) dispatch.destroy();
      for (const buffer of new Set([...buffers.values(), ...runBuffers.values()])) buffer.destroy();
    },
  };
}

/** `values` as a Float32Array (itself when it is one). */
function float32(values: Real): Float32Array<ArrayBuffer> {
  return (
    values instanceof Float32Array ? values : Float32Array.from(values)
  ) as Float32Array<ArrayBuffer>;
}

/** A storage buffer (array<f32>) per parameter of the graph, by name. */
function uploadParameters(
  device: GPUDevice,
  graph: GraphDescription,
  parameters: Parameters<Real>,
): Map<string, GPUBuffer> {
  const buffers = new Map<string, GPUBuffer>();
  for (const spec of parameterSpecs(graph)) {
    const values = float32(parameters.get(spec.name)!);
    buffers.set(
      spec.name,
      createStorageBuffer(device, values, undefined, `${graph.name} ${spec.name}`),
    );
  }
  return buffers;
}

/**
 * Fake-quantized weights: a rounded copy per node with weightBits, refreshed at the start of every
 * forward (training updates the stored weights in place; a flag for "changed" would go stale
 * whenever a recorded run is never submitted). One small dispatch per weighted node. `runBuffers`
 * is `buffers` with those weights replaced by their copies.
 */
function createQuantizedWeights(
  device: GPUDevice,
  graph: GraphDescription,
  buffers: ReadonlyMap<string, GPUBuffer>,
): { runBuffers: Map<string, GPUBuffer>; quantizeWeights: PreparedDispatch[] } {
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
  return { runBuffers, quantizeWeights };
}

/**
 * Records a forward: the weight quantization, then the steps in one compute pass labelled
 * `passLabel`, or with a timer each step in a timed pass of its own.
 */
function encodeForward(
  encoder: GPUCommandEncoder,
  passLabel: string,
  quantizeWeights: readonly PreparedDispatch[],
  dispatches: Plan['dispatches'],
  timer: GpuTimer | undefined,
): void {
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
    const pass = encoder.beginComputePass({ label: passLabel });
    for (const { dispatch } of dispatches) dispatch.encode(pass);
    pass.end();
  }
}
