/**
 * Held-out PSNR during training, measured the way `uplift eval` measures it: the method runs
 * through the frame API (src/eval/run-method.ts, the inference path, not the training graph) on a
 * clip's frames, and each frame after the warm-up (counted from frame 0 and from every reset, as
 * eval counts it) adds its tonemapped-display MSE; the clip's PSNR is meanPsnr of those MSEs
 * (eval's steady-state PSNR of one sequence). The heuristic TAAU runs on the same read-back inputs,
 * so the two numbers compare one method against the other on identical frames.
 */
import type { FrameImages, FrameSource } from '../core/frame.ts';
import { runMethod, type MethodSpec } from '../eval/run-method.ts';
import { meanPsnr, mse } from '../metrics/psnr.ts';
import { sequenceSteadyFrames } from '../metrics/sequence.ts';
import { createNeuralResolver } from '../nn/resolve/neural-resolver.ts';
import type { NetworkWeights } from '../nn/weights.ts';
import { readClipFrames } from './data/clips.ts';
import type { TrainingClip } from './data/clip-source.ts';

/** The clip's frames read back once, as a FrameSource every method reads identically. */
export async function clipFrameSource(
  device: GPUDevice,
  clip: TrainingClip,
  name: string,
): Promise<FrameSource> {
  const frames = await readClipFrames(device, clip);
  return {
    name,
    header: clip.header,
    frameCount: frames.length,
    frameParams: (i) => frames[i]!.params,
    readFrame: async (i): Promise<FrameImages> => frames[i]!.images,
    frameNumber: (i) => i,
  };
}

/** Steady-state PSNR (dB) of `spec` on `source`: frames `warmup` or more after a reset count. */
export async function methodPsnr(
  device: GPUDevice,
  source: FrameSource,
  spec: MethodSpec,
  warmup: number,
): Promise<number> {
  const mses: number[] = [];
  const steady = sequenceSteadyFrames(source, warmup);
  await runMethod(device, source, spec, {
    onFrame(i, output, inputs) {
      if (steady[i]) mses.push(mse(output, inputs.reference!));
    },
  });
  return meanPsnr(mses);
}

/** The neural method with the given (in-training) weights. */
export async function neuralSpec(device: GPUDevice, weights: NetworkWeights): Promise<MethodSpec> {
  const resolver = await createNeuralResolver(device, { model: weights });
  return { name: 'neural', method: 'neural', resolver };
}

/** The heuristic TAAU (no sharpening), the baseline the network has to beat. */
export const TAAU_SPEC: MethodSpec = { name: 'taau', method: 'taau' };

/** Mean of per-clip dB values (eval's cross-sequence mean); NaN clips (no steady frame) skipped. */
export function meanDb(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite);
  return finite.length === 0 ? NaN : finite.reduce((a, b) => a + b, 0) / finite.length;
}
