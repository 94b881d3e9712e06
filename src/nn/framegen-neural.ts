/**
 * The learned frame-generation method on the GPU, after the heuristic's splat and resolve: the
 * features pass, the network, the blend of the candidates by its softmax weights, and the output
 * pass (inverse tonemap). Buffers are sized once per display size. CPU reference:
 * generateFrameNeuralCpu in src/reference/frame-generation-neural.ts.
 */
import { framegenPaddedSize, FRAMEGEN_FEATURE_CHANNELS } from '../core/framegen-neural.ts';
import { inputMultiple } from '../core/graph.ts';
import type { Size } from '../core/quality.ts';
import { createGpuImage, type GpuImage } from '../gpu/gpu-image.ts';
import { encodeFramegenBlend } from '../gpu/passes/framegen-blend.ts';
import { encodeFramegenFeatures } from '../gpu/passes/framegen-features.ts';
import { encodeOutput, type OutputTargets } from '../gpu/passes/output.ts';
import { createNetwork } from './network.ts';
import type { FramegenModel } from './framegen-model.ts';

export { loadFramegenModel } from './framegen-model.ts';
import { createGpuTensor } from './tensor.ts';
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
   * features, network and blend).
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

export function createFramegenNeural(
  device: GPUDevice,
  model: FramegenModel,
  displaySize: Size,
): FramegenNeural {
  const padded = framegenPaddedSize(displaySize, inputMultiple(model.graph));
  const features = createGpuTensor(
    device,
    { channels: FRAMEGEN_FEATURE_CHANNELS, height: padded[1], width: padded[0] },
    'framegen features',
  );
  const network = createNetwork(device, model.graph, model.parameters, { keepActivations: false });
  const blended = createGpuImage(device, displaySize[0], displaySize[1], 'framegen blend');
  const parameterBytes = [...network.parameters.values()].reduce((sum, b) => sum + b.size, 0);
  return {
    encode(encoder, frames, t, targets, timer) {
      let pass = encoder.beginComputePass({
        label: 'framegen features',
        timestampWrites: timer?.computePass('features'),
      });
      encodeFramegenFeatures(device, pass, frames, t, padded, features.buffer);
      pass.end();
      const run = () => network.run(encoder, features).output;
      const logits = timer ? timer.span(encoder, 'network', run) : run();
      pass = encoder.beginComputePass({
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
    get memoryBytes() {
      return (
        features.buffer.size + blended.buffer.size + network.intermediateBytes() + parameterBytes
      );
    },
    destroy() {
      features.buffer.destroy();
      blended.buffer.destroy();
      network.destroy();
    },
  };
}
