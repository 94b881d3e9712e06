/**
 * The loop `uplift interpolate` and `uplift eval --higher-rate` share: the input frames upscaled
 * (taau, neural, or the sequence's own reference frames so that only generation is judged), and
 * between displayed frames k − 1 and k the instants t = j / factor, in the order of the
 * higher-rate stream: output frame k·factor is input frame k, frame (k − 1)·factor + j the j-th
 * generated one. Also the checks that a sequence rendered at the higher rate can be the truth.
 */
import { InputError } from '../core/errors.ts';
import type { Image } from '../core/image.ts';
import type { FrameImages, FrameSource } from '../core/frame.ts';
import type { FrameGenerationParams } from '../core/frame-generation.ts';
import { parseMethod, runMethod } from './run-method.ts';

/** How the displayed frames are made. */
export type DisplayedFrames = 'taau' | 'neural' | 'reference';

export const DISPLAYED_FRAMES: readonly DisplayedFrames[] = ['taau', 'neural', 'reference'];

export interface InterpolateSequenceOptions {
  /** Output frames per input frame: 2, 3 or 4. */
  factor: number;
  upscale: DisplayedFrames;
  /** Weights file of `upscale: 'neural'` (default: the shipped upscaling weights). */
  model?: string;
}

/** One instant between two displayed frames. */
export interface GeneratedInstant {
  /** Its number in the higher-rate stream. */
  frame: number;
  /** The input frame after it (the current displayed frame). */
  k: number;
  t: number;
  /** The pair spans a camera cut (the current frame resets). */
  cut: boolean;
  /** What the frame generator is dispatched with. */
  params: FrameGenerationParams;
}

export interface InterpolateSequenceCallbacks {
  /** Each instant between displayed frames k − 1 and k, before frame k is displayed. */
  onInstant(
    instant: GeneratedInstant,
    previous: Image,
    current: Image,
    inputs: FrameImages,
  ): Promise<void>;
  /** Input frame k, displayed as stream frame k·factor. */
  onDisplayed(k: number, frame: number, displayed: Image, inputs: FrameImages): Promise<void>;
}

/** Runs the stream of `source` at `factor` times its rate, in order (see the file comment). */
export async function interpolateSequence(
  device: GPUDevice,
  source: FrameSource,
  options: InterpolateSequenceOptions,
  callbacks: InterpolateSequenceCallbacks,
): Promise<void> {
  const { factor } = options;
  let previous: Image | undefined;
  await displayedFrames(device, source, options, async (k, current, inputs) => {
    if (previous) {
      const params = source.frameParams(k);
      for (let j = 1; j < factor; j++) {
        const t = j / factor;
        const instant = {
          frame: (k - 1) * factor + j,
          k,
          t,
          cut: params.reset,
          params: { ...params, depthInverted: source.header.depthInverted, t },
        };
        await callbacks.onInstant(instant, previous, current, inputs);
      }
    }
    await callbacks.onDisplayed(k, k * factor, current, inputs);
    previous = current;
  });
}

/** Calls `onFrame` with every input frame as displayed (upscaled by `upscale`), in order. */
async function displayedFrames(
  device: GPUDevice,
  source: FrameSource,
  options: InterpolateSequenceOptions,
  onFrame: (k: number, displayed: Image, inputs: FrameImages) => Promise<void>,
): Promise<void> {
  if (options.upscale !== 'reference') {
    const spec = parseMethod(options.upscale, options.model);
    await runMethod(device, source, spec, { onFrame });
    return;
  }
  for (let k = 0; k < source.frameCount; k++) {
    const inputs = await source.readFrame(k);
    if (!inputs.reference) {
      throw new InputError(
        `--upscale reference: frame ${source.frameNumber(k)} of the sequence has no reference`,
      );
    }
    await onFrame(k, inputs.reference, inputs);
  }
}

/**
 * Checks that `reference` (opened from `path`, named by `flag` in errors) can be the truth of
 * `source` at `factor` times its rate: display size, enough frames, and where both say them, fps
 * (factor × the source's), scene, path and seed; and that it has reference frames.
 */
export async function checkHigherRate(
  reference: FrameSource,
  path: string,
  source: FrameSource,
  factor: number,
  flag: string,
): Promise<void> {
  const [w, h] = source.header.displaySize;
  const [rw, rh] = reference.header.displaySize;
  if (rw !== w || rh !== h) {
    throw new InputError(`${flag} ${path} is ${rw}x${rh}, the sequence displays ${w}x${h}`);
  }
  const needed = (source.frameCount - 1) * factor + 1;
  if (reference.frameCount < needed) {
    throw new InputError(
      `${flag} ${path} has ${reference.frameCount} frames; ×${factor} of ${source.frameCount} frames needs ${needed}`,
    );
  }
  const a = source.header.source ?? {};
  const b = reference.header.source ?? {};
  if (typeof a.fps === 'number' && typeof b.fps === 'number' && b.fps !== a.fps * factor) {
    throw new InputError(`${flag} ${path} was rendered at ${b.fps} fps, not ${factor} × ${a.fps}`);
  }
  for (const key of ['scene', 'path', 'seed'] as const) {
    if (a[key] !== undefined && b[key] !== undefined && a[key] !== b[key]) {
      throw new InputError(
        `${flag} ${path} has ${key} ${String(b[key])}, the sequence ${String(a[key])}`,
      );
    }
  }
  if ((await reference.readFrame(0)).reference === undefined) {
    throw new InputError(`${flag} ${path} has no reference frames`);
  }
}
