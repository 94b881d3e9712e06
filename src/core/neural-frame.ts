/**
 * The contract between the neural frame (features in, raw kernel parameters out) and the network
 * it runs, shared by its CPU reference (src/reference/nn/frame.ts, which defines every channel) and
 * its GPU passes (src/nn/resolve/).
 */
import type { GraphDescription, Parameters } from './graph.ts';
import type { Size } from './quality.ts';
import type { Real } from './tensor.ts';

/** Channels of the network input (features) and output (raw). */
export const FEATURE_CHANNELS = 12;

/**
 * The timer label and kernel label prefix of the features pass that reprojects for itself
 * (src/nn/resolve/reproject-features.ts), here so the frame's accounting (src/nn/describe-frame.ts)
 * names it as the kernel does.
 */
export const REPROJECT_FEATURES_LABEL = 'nn reproject + features';
/**
 * Whether the neural resolver reprojects in its features pass unless asked otherwise (one pass
 * less, the reprojected state never written; the same bits). Measured faster at both sizes for
 * both networks: NVIDIA H100, Dawn/Vulkan 580.159.04, loaded GPU, 2026-12-05, frame ms at
 * 1920×1080 / 3840×2160, the reproject pass against the features pass reprojecting: v3a INT8
 * 0.644 / 2.038 against 0.607 / 1.932, v2 INT8 1.290 / 4.454 against 1.274 / 4.413
 * (docs/PERFORMANCE.md).
 */
export const REPROJECT_IN_FEATURES_BY_DEFAULT = true;
export const RAW_CHANNELS = 9;
/** Smallest kernel standard deviation, display pixels. */
export const SIGMA_MIN = 0.3;
/** The network input is padded to multiples of this (three 2× downsamplings). */
export const FEATURE_MULTIPLE = 8;
/**
 * The history guard of the blend (src/reference/nn/frame.ts), for models whose graph sets
 * `historyGuard` K (GraphDescription): the network's share β of the unclamped history is scaled
 * by g = clamp(1 − d / (K · r + HISTORY_GUARD_FLOOR), 0, 1), d the history's largest channel
 * distance outside the rectification box, r the box's largest channel range. History far outside
 * the box (a stale colour a moving object left, which a high β kept frame after frame: Fox,
 * QUALITY §4, 2026-12-05) is clamped as TAAU clamps it, whatever β; history just outside it (a
 * thin feature this frame's samples missed) is kept as the network asks. HISTORY_GUARD_RANGES is
 * the K of the network v3 graphs: one box range (QUALITY §4).
 */
export const HISTORY_GUARD_RANGES = 1;
export const HISTORY_GUARD_FLOOR = 0.02;
/**
 * The coverage blend (src/reference/nn/frame.ts), for models whose graph sets `coverageBlend` k:
 * the current frame's odds (1 − α) / α in the blend are multiplied by ρ = c^k, c this frame's
 * coverage of the pixel over its mean: the sum over the filter window's samples of
 * exp(−½ |d|² / COVERAGE_SIGMA²) (d the sample's offset, display pixels), divided by
 * 2π · COVERAGE_SIGMA² · (render area / display area). A sample near the pixel centre raises the
 * current frame's share, none near it lowers it: TAAU's sample weight (its `sampleSigma`,
 * src/core/taau-settings.ts), which a normalised filter alone cannot express (its temporal
 * average is at best a render pixel's box).
 */
export const COVERAGE_SIGMA = 0.35;
/** Rec. 709 luma weights (as src/core/image.ts luma). */
export const LUMA_WEIGHTS = [0.2126, 0.7152, 0.0722] as const;

/** Per-frame values the neural frame needs besides the images. */
export interface NeuralFrameParams {
  /** Jitter of the current frame, render pixels. */
  readonly jitter: readonly [number, number];
  /** History and state are ignored (first frame, camera cut, resize). */
  readonly reset: boolean;
  /** The model's history guard (GraphDescription.historyGuard); absent or 0: none. */
  readonly historyGuard?: number;
  /** The model's coverage blend power k (GraphDescription.coverageBlend); absent or 0: none. */
  readonly coverageBlend?: number;
}

/** Display size padded up to multiples of 8: the network's input size. */
export function paddedSize([width, height]: Size): Size {
  const up = (v: number) => Math.ceil(v / FEATURE_MULTIPLE) * FEATURE_MULTIPLE;
  return [up(width), up(height)];
}

/** A network's graph and parameters (e.g. a loaded `.uplift` file's). */
export interface NeuralModel {
  readonly graph: GraphDescription;
  readonly parameters: Parameters<Real>;
}
