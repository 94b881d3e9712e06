/**
 * The learned frame-generation method on the GPU, after the heuristic's splat and resolve: the
 * features pass, the network, the blend of the candidates by its softmax weights, and the output
 * pass (inverse tonemap); where the graph allows, the network's head, the blend and the output
 * run as one pass (src/nn/framegen-head-blend.ts). Buffers are sized once per display size. CPU
 * reference: generateFrameNeuralCpu in src/reference/frame-generation-neural.ts.
 */
import { framegenPaddedSize, FRAMEGEN_FEATURE_CHANNELS } from '../core/framegen-neural.ts';
import { inputMultiple } from '../core/graph.ts';
import type { Size } from '../core/quality.ts';
import { createGpuImage, type GpuImage } from '../gpu/gpu-image.ts';
import { encodeFramegenBlend } from '../gpu/passes/framegen-blend.ts';
import { encodeFramegenFeatures, type FramegenInt8Copy } from '../gpu/passes/framegen-features.ts';
import { encodeOutput, type OutputTargets } from '../gpu/passes/output.ts';
import { createNetwork } from './network.ts';
import { createInt8Network } from './int8-network.ts';
import { int8RunsExactly } from './int8-self-check.ts';
import { graphQuantization } from './quantize.ts';
import { planInt8 } from '../core/int8-plan.ts';
import type { FramegenModel } from './framegen-model.ts';

export { loadFramegenModel } from './framegen-model.ts';
import { createGpuTensor, type GpuTensor } from './tensor.ts';
import { createStorageBuffer } from '../gpu/resources.ts';
import {
  encodeFramegenHeadBlend,
  splitFramegenHead,
  type FramegenHeadSplit,
} from './framegen-head-blend.ts';
import type { GpuTimer } from '../gpu/profiler.ts';
import type { FrameSource } from '../gpu/frame-source.ts';

/**
 * The frames and the time-t motion field one generated frame is made from (the frames and the
 * mask as the caller has them: textures or images, read in place).
 */
export interface FramegenFrames {
  readonly previous: FrameSource;
  readonly current: FrameSource;
  /** The resolve pass's time-t motion field (render size). */
  readonly field: GpuImage;
  readonly reactive?: FrameSource;
}

export interface FramegenNeural {
  /**
   * Records one generated frame into `encoder` (its own compute passes; with a timer, timed as
   * features, network and blend, or with the head fused: features, network (without its head)
   * and head + blend).
   */
  encode(
    encoder: GPUCommandEncoder,
    frames: FramegenFrames,
    t: number,
    targets: OutputTargets,
    timer?: GpuTimer,
  ): void;
  /** Bytes of GPU memory held (features, network, blend). */
  readonly memoryBytes: number;
  destroy(): void;
}

/** Options of createFramegenNeural. */
export interface FramegenNeuralOptions {
  /**
   * Run the head, the blend and the output in one pass where the graph allows it
   * (splitFramegenHead); false keeps the separate passes (tests compare the two). Default true.
   */
  readonly fuseHead?: boolean;
  /**
   * Run a quantized model (src/nn/quantize.ts) on the INT8 kernels (src/nn/int8-network.ts)
   * instead of simulating its grids in f32; the caller checks that the device runs them exactly
   * (framegenRunsInt8). The head then stays a kernel of the INT8 network. Default false.
   */
  readonly int8?: boolean;
}

/** Whether `model` runs as INT8 on `device`: a quantized graph the INT8 runtime plans, exact kernels. */
export async function framegenRunsInt8(device: GPUDevice, model: FramegenModel): Promise<boolean> {
  if (!graphQuantization(model.graph)) return false;
  try {
    planInt8(model.graph, model.parameters);
  } catch {
    return false;
  }
  return int8RunsExactly(device);
}

export function createFramegenNeural(
  device: GPUDevice,
  model: FramegenModel,
  displaySize: Size,
  options: FramegenNeuralOptions = {},
): FramegenNeural {
  const padded = framegenPaddedSize(displaySize, inputMultiple(model.graph));
  const features = createGpuTensor(
    device,
    { channels: FRAMEGEN_FEATURE_CHANNELS, height: padded[1], width: padded[0] },
    'framegen features',
  );
  const split = options.fuseHead === false ? undefined : splitFramegenHead(model.graph);
  const network = options.int8
    ? createSeparateHead(device, int8Logits(device, model), features, displaySize)
    : split
      ? createFusedHead(device, model, split, features, displaySize)
      : createSeparateHead(device, f32Logits(device, model), features, displaySize);
  return {
    encode(encoder, frames, t, targets, timer) {
      const pass = encoder.beginComputePass({
        label: 'framegen features',
        timestampWrites: timer?.computePass('features'),
      });
      // An INT8 network's input tensors are written by the features pass (not quantized again),
      // and then only the blend reads the f32 planes: the candidates'.
      const copies = network.int8Copies(features);
      const int8 = { copies, writeCues: copies.length === 0 };
      encodeFramegenFeatures(device, pass, frames, t, padded, features.buffer, int8);
      pass.end();
      network.encode(encoder, targets, timer);
    },
    get memoryBytes() {
      return features.buffer.size + network.memoryBytes();
    },
    destroy() {
      features.buffer.destroy();
      network.destroy();
    },
  };
}

/** What runs after the features pass: the network, the blend and the output. */
interface FramegenNetworkStage {
  /** The int8 copies of the features the network reads (none for f32 networks). */
  int8Copies(features: GpuTensor): readonly FramegenInt8Copy[];
  encode(encoder: GPUCommandEncoder, targets: OutputTargets, timer?: GpuTimer): void;
  memoryBytes(): number;
  destroy(): void;
}

const bytesOf = (buffers: Iterable<GPUBuffer>) => [...buffers].reduce((s, b) => s + b.size, 0);

/** A whole network: the logits of the features (f32, padded size). */
interface LogitsNetwork {
  /** Its int8 input tensors, which the features pass writes (INT8 networks). */
  int8Copies(features: GpuTensor): readonly FramegenInt8Copy[];
  /** The logits; an INT8 network reads its int8 copies, written before. */
  run(encoder: GPUCommandEncoder, features: GpuTensor): GpuTensor;
  memoryBytes(): number;
  destroy(): void;
}

/** The model on the f32 kernels (a quantized model's grids simulated in f32). */
function f32Logits(device: GPUDevice, model: FramegenModel): LogitsNetwork {
  const network = createNetwork(device, model.graph, model.parameters, { keepActivations: false });
  return {
    int8Copies: () => [],
    run: (encoder, features) => network.run(encoder, features).output,
    memoryBytes: () => network.intermediateBytes() + bytesOf(network.parameters.values()),
    destroy: () => network.destroy(),
  };
}

/** A quantized model on the INT8 kernels (it quantizes the f32 features itself). */
function int8Logits(device: GPUDevice, model: FramegenModel): LogitsNetwork {
  const network = createInt8Network(device, planInt8(model.graph, model.parameters));
  return {
    int8Copies: (features) => network.inputQuantizations(features.height, features.width),
    run: (encoder, features) => network.run(encoder, features, { inputQuantized: true }),
    memoryBytes: () => network.memoryBytes(),
    destroy: () => network.destroy(),
  };
}

/** The network whole, then the blend pass into an image, then the output pass. */
function createSeparateHead(
  device: GPUDevice,
  network: LogitsNetwork,
  features: GpuTensor,
  displaySize: Size,
): FramegenNetworkStage {
  const padded: Size = [features.width, features.height];
  const blended = createGpuImage(device, displaySize[0], displaySize[1], 'framegen blend');
  return {
    int8Copies: (f) => network.int8Copies(f),
    encode(encoder, targets, timer) {
      const run = () => network.run(encoder, features);
      const logits = timer ? timer.span(encoder, 'network', run) : run();
      const pass = encoder.beginComputePass({
        label: 'framegen blend and output',
        timestampWrites: timer?.computePass('blend'),
      });
      const inputs = {
        features: features.buffer,
        logits: logits.buffer,
        size: displaySize,
        padded,
      };
      encodeFramegenBlend(device, pass, inputs, { image: blended });
      encodeOutput(device, pass, blended, 1, undefined, targets);
      pass.end();
    },
    memoryBytes: () => blended.buffer.size + network.memoryBytes(),
    destroy() {
      blended.buffer.destroy();
      network.destroy();
    },
  };
}

/** The network up to its head, then the head, the blend and the output in one pass. */
function createFusedHead(
  device: GPUDevice,
  model: FramegenModel,
  split: FramegenHeadSplit,
  features: GpuTensor,
  displaySize: Size,
): FramegenNetworkStage {
  const own = (name: string) => name.startsWith(`${split.head.name}.`);
  const trunkParameters = new Map([...model.parameters].filter(([name]) => !own(name)));
  const trunk = createNetwork(device, split.trunk, trunkParameters, { keepActivations: false });
  const upload = (suffix: string) =>
    createStorageBuffer(
      device,
      Float32Array.from(model.parameters.get(`${split.head.name}.${suffix}`)!),
      undefined,
      `framegen head ${suffix}`,
    );
  const weight = upload('weight');
  const bias = upload('bias');
  const inputName = model.graph.inputs[0]!.name;
  return {
    int8Copies: () => [],
    encode(encoder, targets, timer) {
      const run = () => trunk.run(encoder, features).outputs;
      const outputs = timer ? timer.span(encoder, 'network', run) : run();
      const pass = encoder.beginComputePass({
        label: 'framegen head + blend',
        timestampWrites: timer?.computePass('head + blend'),
      });
      const inputs = split.headInputs.map((n) => (n === inputName ? features : outputs.get(n)!));
      const head = {
        inputs: inputs as [GpuTensor] | [GpuTensor, GpuTensor],
        weight,
        bias,
        activation: split.head.activation,
      };
      encodeFramegenHeadBlend(device, pass, head, features, displaySize, targets);
      pass.end();
    },
    memoryBytes: () =>
      trunk.intermediateBytes() + bytesOf(trunk.parameters.values()) + weight.size + bias.size,
    destroy() {
      trunk.destroy();
      weight.destroy();
      bias.destroy();
    },
  };
}
