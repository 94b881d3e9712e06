/**
 * The learned frame-generation method (`method: 'neural'`): what its network reads and writes.
 * The network never makes pixels: per display pixel it predicts the weights of a softmax blend
 * of candidates the heuristic already makes, in the tonemapped domain (DESIGN §4). Shared by the
 * GPU passes (src/gpu/passes/framegen-features.ts, framegen-blend.ts), their CPU reference
 * (src/reference/frame-generation-neural.ts) and training (src/train/framegen/).
 *
 * Candidates (tonemapped RGB), in order:
 *   0. the previous frame warped to time t (read at uv + t·m along the heuristic's time-t motion);
 *   1. the current frame warped back to t (read at uv − (1 − t)·m);
 *   2. the blend in place, (1 − t)·previous + t·current;
 *   3. the previous frame repeated.
 * A warped read that lands off the image is replaced by the blend (and marked unseen).
 *
 * Features (display resolution, padded to the network's input multiple by repeating the last
 * row and column), FRAMEGEN_FEATURE_CHANNELS planar channels:
 *   0–11  the four candidates' RGB (so the blend reads its candidates from the features);
 *   12    whether the previous frame sees the surface (the resolve's visibility, 0 off-image);
 *   13    whether the current frame sees it (likewise);
 *   14    the reactive mask (0 without one);
 *   15    motion length l in display pixels, as l / (l + MOTION_LENGTH_HALF);
 *   16    t;
 *   17    disagreement of the warped reads: max over RGB of |candidate 0 − candidate 1|.
 */
import type { Size } from './quality.ts';

/** Candidates the network blends. */
export const FRAMEGEN_CANDIDATES = 4;

/** Channels of the network's input. */
export const FRAMEGEN_FEATURE_CHANNELS = 18;

/** First feature channel after the candidates' colors. */
export const FRAMEGEN_SEEN_PREVIOUS = 3 * FRAMEGEN_CANDIDATES;

/** Motion length (display pixels) that maps to 0.5 in feature 15: keeps long motions below 1. */
export const MOTION_LENGTH_HALF = 8;

/** Channels of the network's output: one blend logit per candidate. */
export const FRAMEGEN_RAW_CHANNELS = FRAMEGEN_CANDIDATES;

/** The features' size for a display size: each side rounded up to a multiple of `multiple`. */
export function framegenPaddedSize([width, height]: Size, multiple: number): Size {
  const up = (v: number) => Math.ceil(v / multiple) * multiple;
  return [up(width), up(height)];
}
