/**
 * The CPU neural frame as a `CpuResolver` of the reference upscaler: the twin of the GPU neural
 * resolver (src/nn/resolve/neural-resolver.ts).
 */
import { DEFAULT_HISTORY_FORMAT, type Image, type ImageFormat } from '../../core/image.ts';
import type { NeuralModel } from '../../core/neural-frame.ts';
import { storedHistory, type CpuResolver } from '../upscaler.ts';
import { neuralFrameCpu, type NetworkForward, type Vec4Image } from './frame.ts';

function toImage(image: Vec4Image): Image {
  return {
    width: image.width,
    height: image.height,
    channels: 4,
    data: Float32Array.from(image.data),
  };
}

/**
 * The neural resolve as a `CpuResolver` for the reference upscaler (the GPU resolver's twin, with
 * its history format, default DEFAULT_HISTORY_FORMAT); `runNetwork` replaces the model's plain CPU forward
 * (bench/int8-activations.ts).
 */
export function neuralCpuResolver(
  model: NeuralModel,
  runNetwork?: NetworkForward,
  historyFormat: ImageFormat = DEFAULT_HISTORY_FORMAT,
): CpuResolver {
  return {
    historyFormat,
    resolve(inputs) {
      const frame = neuralFrameCpu(
        model,
        {
          color: inputs.prepared.color,
          motion: inputs.prepared.motion,
          history: inputs.reprojected.history,
          state: inputs.reprojected.state,
        },
        inputs,
        runNetwork,
      );
      const images = { history: toImage(frame.history), state: toImage(frame.filter.state) };
      return storedHistory(images, historyFormat);
    },
  };
}
