/**
 * Engine-like training clips: per clip, with the configured probabilities, the inputs lose their
 * jitter, depth goes through an 8-bit depth target, color through an 8-bit sRGB target, and the
 * motion of one object is missing or slightly wrong (motion-error.ts). The reference is never
 * touched. Decisions are a pure function of (sampler seed, clip index) on their own random stream,
 * so probability 0 leaves every clip bit for bit as it was, and resumed runs see the same clips.
 *
 * Jitter is decided before a clip is made (the scenes and analytic sources render without it;
 * sequence directories keep theirs: their jitter is baked into their pixels), and so are reversed
 * Z and an infinite far plane (scene clips only: the data engine renders them so); the rest is
 * applied to the clip's GPU images after, whatever the source, so the GPU and CPU frame paths both
 * see it.
 */
import { encodeEngineQuantize } from '../../scene/engine-inputs.ts';
import {
  randomFor,
  STREAM_ENGINE,
  type ClipContent,
  type ClipEngineInputs,
} from './clip-source.ts';
import { drawMotionError, encodeMotionError } from './motion-error.ts';

/**
 * Probability per clip of each engine-like degradation, each in [0, 1]. `depthInverted` (reversed
 * Z) and `infiniteFar` (an infinite far plane) are how many engines project; they apply to scene
 * clips, which the data engine renders that way.
 */
export interface EngineInputRates {
  readonly noJitter: number;
  readonly depth8: number;
  readonly srgb8: number;
  readonly motionError: number;
  readonly depthInverted: number;
  readonly infiniteFar: number;
}

export const NO_ENGINE_INPUTS: EngineInputRates = {
  noJitter: 0,
  depth8: 0,
  srgb8: 0,
  motionError: 0,
  depthInverted: 0,
  infiniteFar: 0,
};

/**
 * The degradations of clip `index`. Every decision draws its numbers
 * whether it fires or not, so changing one probability does not reshuffle the others.
 */
export function clipEngineInputs(
  rates: EngineInputRates,
  seed: number,
  index: number,
): ClipEngineInputs {
  const random = randomFor(seed, STREAM_ENGINE, index);
  const noJitter = random() < rates.noJitter;
  const depth8 = random() < rates.depth8;
  const srgb8 = random() < rates.srgb8;
  const withError = random() < rates.motionError;
  const error = drawMotionError(random);
  // Drawn after the others, so that clips without them keep their earlier draws.
  const depthInverted = random() < rates.depthInverted;
  const infiniteFar = random() < rates.infiniteFar;
  return {
    noJitter,
    depth8,
    srgb8,
    motionError: withError ? error : null,
    depthInverted,
    infiniteFar,
  };
}

/** True when `inputs` changes anything. */
export function degrades(inputs: ClipEngineInputs): boolean {
  return (
    inputs.noJitter ||
    inputs.depth8 ||
    inputs.srgb8 ||
    inputs.motionError !== null ||
    inputs.depthInverted ||
    inputs.infiniteFar
  );
}

/**
 * Applies the image degradations of `inputs` to every frame of `clip` in place (motion error
 * first: it finds objects by their full-precision depth, as an engine's object ids would).
 */
export function degradeClipImages(
  device: GPUDevice,
  clip: ClipContent,
  inputs: ClipEngineInputs,
): void {
  const { motionError } = inputs;
  if (!motionError && !inputs.depth8 && !inputs.srgb8) return;
  const encoder = device.createCommandEncoder({ label: 'engine-like clip' });
  for (const { gpu } of clip.frames) {
    if (motionError)
      encodeMotionError(device, encoder, gpu, motionError, clip.header.depthInverted);
    encodeEngineQuantize(device, encoder, gpu, inputs);
  }
  device.queue.submit([encoder.finish()]);
}
