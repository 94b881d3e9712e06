/**
 * Backpropagation through time over a clip, on the CPU: the reference the GPU trainer is checked
 * against, and the definition of the clip loss. Per frame t: prepare → reproject the previous
 * output and recurrent state with the motion → features → network → filter → blend = output
 * (tonemapped). Exposure changes within a clip are handled as the upscaler handles them (color
 * and reference scaled by the frame's exposure, history rescaled on a change). Frames t < warmup
 * carry no loss; the others add the frame loss (L1 + gradient + temporal against frame t − 1).
 * The clip loss is the mean over loss frames. Gradients flow back
 * through the blend, filter, network and features into the reprojected history and state, and
 * through the reprojection into frame t − 1 — to the start of the clip (warm-up frames included).
 */
import { createImage, type Image } from '../core/image.ts';
import type { FrameImages, FrameParams, SequenceHeader } from '../core/frame.ts';
import { tonemapReferenceCpu } from './losses/tonemap-reference.ts';
import { prepareFrameCpu, type PreparedFrameCpu } from '../reference/prepare.ts';
import { reprojectCpu } from '../reference/reproject.ts';
import { exposureStepCpu, type ExposureStep } from '../reference/exposure.ts';
import { neuralFrameCpu, type FeatureInputs, type NeuralFrameCpu } from '../reference/nn/frame.ts';
import { neuralFrameBackwardCpu, reprojectBackwardCpu } from '../reference/nn/frame-backward.ts';
import type { NeuralFrameParams, NeuralModel } from '../core/neural-frame.ts';
import { frameLossCpu, type LossValues, type LossWeights } from './losses/frame-loss-cpu.ts';
import { historyStalenessCpu } from './losses/staleness-cpu.ts';

/** One frame of a clip, ready for the neural frame. */
export interface ClipFrameCpu {
  readonly prepared: PreparedFrameCpu;
  readonly params: NeuralFrameParams;
  /** Display size. */
  readonly width: number;
  readonly height: number;
  /** Tonemapped reference, display size, vec4 layout (a = 1). */
  readonly reference: Float32Array;
  /** The reprojection's rescale of the history: this frame's exposure / the previous frame's. */
  readonly historyScale: number;
}

/**
 * The exposure steps of a clip's frames, by the upscaler's rules (src/reference/exposure.ts, no
 * pre-exposure): each frame's color and reference scale and its history rescale; frame 0 resets.
 */
export function clipExposureSteps(frames: readonly { params: FrameParams }[]): ExposureStep[] {
  let previous: number | undefined;
  return frames.map(({ params }, t) => {
    const step = exposureStepCpu(previous, params.exposure, 1, params.reset || t === 0);
    previous = step.exposure;
    return step;
  });
}

/** Prepares the frames of a clip (each needs its reference). */
export function prepareClipCpu(
  header: Pick<SequenceHeader, 'depthInverted'>,
  frames: readonly { params: FrameParams; images: FrameImages }[],
): ClipFrameCpu[] {
  const exposures = clipExposureSteps(frames);
  return frames.map(({ params, images }, t) => {
    if (!images.reference) throw new RangeError(`clip frame ${t} has no reference`);
    const { scale, historyScale } = exposures[t]!;
    const prepared = prepareFrameCpu(images, t > 0 ? frames[t - 1]!.images.depth : undefined, {
      exposure: scale,
      motionScale: params.motionScale,
      depthInverted: header.depthInverted,
      cameraNear: params.cameraNear,
      cameraFar: params.cameraFar,
    });
    return {
      prepared,
      params: { jitter: params.jitter, reset: params.reset || t === 0 },
      width: images.reference.width,
      height: images.reference.height,
      reference: tonemapReferenceCpu(images.reference, scale),
      historyScale,
    };
  });
}

export interface ClipOptions {
  /** Frames at the start of the clip without loss. */
  readonly warmup: number;
  readonly weights: LossWeights;
  /** The stale term's staleness of pixels whose history lies off screen (default 1). */
  readonly staleOffscreen?: number;
  /**
   * Carry gradients to earlier frames (default true). False stops them at each frame's reprojected
   * inputs (the loss's temporal term still reaches the previous output): an ablation, and the
   * check that the time links matter.
   */
  readonly throughTime?: boolean;
}

/** The forward of every frame, kept for the backward. */
interface ClipForward {
  readonly inputs: FeatureInputs[];
  readonly frames: NeuralFrameCpu<Float32Array>[];
  /** Loss of each frame (undefined for warm-up frames). */
  readonly losses: (LossValues | undefined)[];
  readonly loss: number;
  /** dLoss/d(output) of each frame from the loss terms alone (vec4). */
  readonly lossGrads: Float64Array[];
}

function asImage(v: { width: number; height: number; data: Float32Array }): Image {
  return { width: v.width, height: v.height, channels: 4, data: v.data };
}

function runClip(
  model: NeuralModel,
  clip: readonly ClipFrameCpu[],
  options: ClipOptions,
): ClipForward {
  const lossFrames = clip.length - options.warmup;
  if (lossFrames < 1)
    throw new RangeError(
      `clip of ${clip.length} frames has no frame after ${options.warmup} warm-up frames`,
    );
  const inputs: FeatureInputs[] = [];
  const frames: NeuralFrameCpu<Float32Array>[] = [];
  const losses: (LossValues | undefined)[] = [];
  const lossGrads: Float64Array[] = [];
  let loss = 0;
  for (let t = 0; t < clip.length; t++) {
    const { prepared, params, reference, width, height, historyScale } = clip[t]!;
    const previousHistory = t > 0 ? asImage(frames[t - 1]!.history) : createImage(width, height, 4);
    const previousState =
      t > 0 ? asImage(frames[t - 1]!.filter.state) : createImage(width, height, 4);
    const reprojected = reprojectCpu(
      prepared.motion,
      previousHistory,
      previousState,
      params.reset,
      historyScale,
    );
    const frameInputs: FeatureInputs = {
      color: prepared.color,
      motion: prepared.motion,
      history: reprojected.history,
      state: reprojected.state,
    };
    const frame = neuralFrameCpu(model, frameInputs as FeatureInputs<Float32Array>, params);
    inputs.push(frameInputs);
    frames.push(frame);
    if (t < options.warmup) {
      losses.push(undefined);
      lossGrads.push(new Float64Array(width * height * 4));
      continue;
    }
    const previous =
      t > 0
        ? {
            output: frames[t - 1]!.history.data,
            reference: clip[t - 1]!.reference,
            ...staleTerm(clip, t, options),
          }
        : undefined;
    const l = frameLossCpu(width, height, frame.history.data, reference, options.weights, previous);
    losses.push(l);
    loss += l.total / lossFrames;
    lossGrads.push(l.gradOutput.map((g) => g / lossFrames));
    if (l.gradPreviousOutput) {
      const g = lossGrads[t - 1]!;
      for (let i = 0; i < g.length; i++) g[i]! += l.gradPreviousOutput[i]! / lossFrames;
    }
  }
  return { inputs, frames, losses, loss, lossGrads };
}

/** The clip loss (forward only), with each frame's loss terms. */
export function clipLossCpu(
  model: NeuralModel,
  clip: readonly ClipFrameCpu[],
  options: ClipOptions,
): { loss: number; frames: (LossValues | undefined)[] } {
  const forward = runClip(model, clip, options);
  return { loss: forward.loss, frames: forward.losses };
}

/**
 * The clip loss and its gradient w.r.t. every network parameter, by backpropagation through
 * time (reverse frame order; output and state gradients carried to the previous frame).
 */
export function clipBackwardCpu(
  model: NeuralModel,
  clip: readonly ClipFrameCpu[],
  options: ClipOptions,
): { loss: number; grads: Map<string, Float64Array> } {
  const forward = runClip(model, clip, options);
  const grads = new Map<string, Float64Array>();
  // dLoss/d(output t) and d(state t), completed by frame t + 1 before frame t is processed.
  const dOutput = forward.lossGrads;
  let dState: Float64Array = new Float64Array(dOutput.at(-1)!.length);
  for (let t = clip.length - 1; t >= 0; t--) {
    const { params, prepared, historyScale } = clip[t]!;
    const frame = forward.frames[t]!;
    const g = neuralFrameBackwardCpu(model, forward.inputs[t]!, params, frame, dOutput[t]!, dState);
    for (const [name, d] of g.parameters) {
      const sum = grads.get(name);
      if (!sum) grads.set(name, Float64Array.from(d));
      else for (let i = 0; i < d.length; i++) sum[i]! += d[i]!;
    }
    if (t === 0 || options.throughTime === false) {
      dState = new Float64Array(dState.length);
      continue;
    }
    const previous = reprojectBackwardCpu(
      prepared.motion,
      forward.frames[t - 1]!.history,
      params.reset,
      g.reprojected.history,
      g.reprojected.state,
      historyScale,
    );
    const dPrevious = dOutput[t - 1]!;
    for (let i = 0; i < dPrevious.length; i++) dPrevious[i]! += previous.history[i]!;
    dState = previous.state;
  }
  return { loss: forward.loss, grads };
}

/** The history staleness of clip frame t (t ≥ 1) for the stale term, when its weight is not 0. */
export function staleTerm(
  clip: readonly ClipFrameCpu[],
  t: number,
  { weights, staleOffscreen = 1 }: ClipOptions,
): { staleness?: Float64Array } {
  if (weights.stale === 0) return {};
  const { width, height, prepared, reference, params, historyScale } = clip[t]!;
  return {
    staleness: historyStalenessCpu(
      width,
      height,
      prepared.motion,
      reference,
      clip[t - 1]!.reference,
      params.reset,
      historyScale,
      staleOffscreen,
    ),
  };
}
