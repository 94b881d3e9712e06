/**
 * A network set up for training on the GPU: the network runner (src/nn/network.ts) for the forward (it keeps every
 * activation), gradient buffers, the whole-network backward (its buffers allocated per input
 * size, like the runner's) and the Adam state over the runner's parameter buffers.
 */
import {
  parameterSpecs,
  type GraphDescription,
  type ParameterSpec,
  type Parameters,
} from '../core/graph.ts';
import { createNetwork, type GpuNetworkRun, type Network } from '../nn/network.ts';
import type { GpuTensor } from '../nn/tensor.ts';
import type { Real } from '../core/tensor.ts';
import { createNetworkBackward, type NetworkBackward } from '../nn/backward/network.ts';
import { readBuffer } from '../gpu/resources.ts';
import { createGpuAdam, type GpuAdam } from './adam.ts';
import { createWeightAverage, type WeightAverage } from './weight-average.ts';
import type { AdamConfig } from './adam-cpu.ts';

export interface TrainableNetwork {
  readonly graph: GraphDescription;
  /** Parameter tensors in file order. */
  readonly specs: readonly ParameterSpec[];
  readonly network: Network;
  /** dLoss/d(parameter), array<f32> per parameter. */
  readonly grads: ReadonlyMap<string, GPUBuffer>;
  readonly adam: GpuAdam;
  /**
   * The weights' moving average (with `adam.averageDecay` > 0; it starts at the initial
   * parameters), updated by every `encodeOptimizerStep`.
   */
  readonly average?: WeightAverage;
  /** Records an Adam step (`step` 1-based) and, with a weight average, its update. */
  encodeOptimizerStep(pass: GPUComputePassEncoder, step: number, learningRate: number): void;
  /** Records the forward (its own compute pass); the run keeps every activation. */
  forward(
    encoder: GPUCommandEncoder,
    input: GpuTensor | ReadonlyMap<string, GpuTensor>,
  ): GpuNetworkRun;
  /**
   * Records the backward of `run` from dLoss/d(output) per graph output; parameter gradients are
   * overwritten, or added to with `accumulate` (BPTT frames). Returns dLoss/d(input) per input.
   */
  encodeBackward(
    pass: GPUComputePassEncoder,
    run: GpuNetworkRun,
    outputGrads: ReadonlyMap<string, GPUBuffer>,
    accumulate: boolean,
  ): ReadonlyMap<string, GpuTensor>;
  readParams(): Promise<Map<string, Float32Array>>;
  writeParams(values: Parameters<Real>): void;
  destroy(): void;
}

/**
 * Clip shapes (frames, render and display size) a clip trainer keeps buffers for at once:
 * training alternates one render size per ratio, validation may add others.
 */
export const TRAINER_KEPT_SHAPES = 4;

/** Uploads `initial` parameters and allocates gradients and Adam moments. */
export function createTrainableNetwork(
  device: GPUDevice,
  graph: GraphDescription,
  initial: Parameters<Real>,
  adamConfig: AdamConfig,
): TrainableNetwork {
  // A clip trainer binds a features tensor per frame slot and clip shape (TRAINER_KEPT_SHAPES).
  const network = createNetwork(device, graph, initial, {
    keptSizes: TRAINER_KEPT_SHAPES,
    keptPlans: 32 * TRAINER_KEPT_SHAPES, // up to 32-frame clips
  });
  const specs = parameterSpecs(graph);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const grads = new Map(
    specs.map((s) => [
      s.name,
      device.createBuffer({ label: `d ${s.name}`, size: s.length * 4, usage }),
    ]),
  );
  const adam = createGpuAdam(
    device,
    specs.map((s) => ({
      name: s.name,
      size: s.length,
      param: network.parameters.get(s.name)!,
      grad: grads.get(s.name)!,
    })),
    adamConfig,
  );
  const average =
    adamConfig.averageDecay > 0 ? createWeightAverage(device, adam.tensors, adamConfig) : undefined;
  let backward: NetworkBackward | undefined;
  return {
    graph,
    specs,
    network,
    grads,
    adam,
    ...(average ? { average } : {}),
    encodeOptimizerStep(pass, step, learningRate) {
      adam.encodeStep(pass, step, learningRate);
      average?.encodeUpdate(pass, step);
    },
    forward: (encoder, input) => network.run(encoder, input),
    encodeBackward(pass, run, outputGrads, accumulate) {
      const input = run.activations.get(graph.inputs[0]!.name)!;
      if (!backward || backward.height !== input.height || backward.width !== input.width) {
        backward?.destroy();
        backward = createNetworkBackward(device, graph, input.height, input.width);
      }
      backward.encode(pass, {
        activations: run.activations,
        params: network.runParameters,
        outputGrads,
        paramGrads: grads,
        accumulateParams: accumulate,
      });
      return backward.inputGrads;
    },
    async readParams() {
      const out = new Map<string, Float32Array>();
      for (const s of specs) {
        out.set(s.name, await readBuffer(device, network.parameters.get(s.name)!, s.length * 4));
      }
      return out;
    },
    writeParams: (values) => network.writeParameters(values),
    destroy() {
      for (const b of grads.values()) b.destroy();
      backward?.destroy();
      average?.destroy();
      adam.destroy();
      network.destroy();
    },
  };
}
