/**
 * Where the vectors disagree with the image: after the motion fit, a pixel whose warp error is
 * high while some plain shift of frame t − 1 (within a few pixels, what a missing vector on a
 * slowly moving object leaves) matches it well. Disoccluded pixels (the prepare pass's cue) and
 * pixels whose source left the image are not counted: nothing in frame t − 1 can match those.
 * Pixels the capture's reactive or transparency mask covers are counted apart: there the upscaler
 * already trusts history less, which is the right answer for an object without vectors.
 */
import { warpErrors, warpPrevious, type WarpPair } from './warp.ts';

/** A 3×3 patch error must exceed this (tonemapped luma) to count as a disagreement… */
export const MISMATCH_ERROR = 0.04;
/** …and be this many times the best shift's. */
export const MISMATCH_RATIO = 2.5;
/** Shifts searched: ±SEARCH analysis pixels in half-pixel steps. */
const SEARCH = 3;

export interface MismatchRegion {
  /** Bounding box in render pixels, and the region's pixel count (analysis pixels). */
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly pixels: number;
}

export interface MismatchResult {
  /** The pair shown (the one with the largest disagreeing share). */
  readonly frame: number;
  /** Share of the image in reported regions in that pair. */
  readonly share: number;
  /** 1 where the vectors disagree (analysis resolution, that pair). */
  readonly mask: Float32Array;
  readonly width: number;
  readonly height: number;
  readonly regions: MismatchRegion[];
  /**
   * Largest share of an image (over the pairs) where the vectors disagree under the reactive or
   * transparency mask (≥ 0.5): objects without vectors that the capture has already flagged.
   */
  readonly masked: number;
}

/** A mask value from this on counts as covering the pixel. */
export const MASK_COVERS = 0.5;

/** Patch radius: 5×5 patches average out the sample-to-sample aliasing of jittered frames. */
const PATCH = 2;
/** A region must cover this share of the image to be reported. */
export const MIN_REGION_SHARE = 0.015;

/** 5×5 box mean of a per-pixel map (clamped at the edges). */
function patchMean(values: Float32Array, width: number, height: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let dy = -PATCH; dy <= PATCH; dy++)
        for (let dx = -PATCH; dx <= PATCH; dx++) {
          const sx = Math.min(width - 1, Math.max(0, x + dx));
          const sy = Math.min(height - 1, Math.max(0, y + dy));
          sum += values[sy * width + sx]!;
        }
      out[y * width + x] = sum / (2 * PATCH + 1) ** 2;
    }
  }
  return out;
}

/**
 * Connected regions (8-neighbour) of a mask, at least `minPixels` and a patch wide both ways,
 * largest first.
 */
function regionsOf(
  mask: Float32Array,
  width: number,
  height: number,
  minPixels: number,
  factor: number,
): MismatchRegion[] {
  const seen = new Uint8Array(mask.length);
  const found: MismatchRegion[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || seen[start]) continue;
    const stack = [start];
    seen[start] = 1;
    let [x0, y0, x1, y1, count] = [width, height, 0, 0, 0];
    while (stack.length) {
      const i = stack.pop()!;
      const [x, y] = [i % width, Math.floor(i / width)];
      [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
      count++;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const [nx, ny] = [x + dx, y + dy];
          const j = ny * width + nx;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height || seen[j] || !mask[j]) continue;
          seen[j] = 1;
          stack.push(j);
        }
    }
    // Objects are blobs; a strip thinner than a patch is an edge the patches straddle.
    if (count >= minPixels && Math.min(x1 - x0, y1 - y0) + 1 >= 2 * PATCH + 1) {
      found.push({
        x: x0 * factor,
        y: y0 * factor,
        width: (x1 - x0 + 1) * factor,
        height: (y1 - y0 + 1) * factor,
        pixels: count,
      });
    }
  }
  return found.sort((a, b) => b.pixels - a.pixels);
}

/**
 * Finds the disagreeing pixels of each pair (`disoccluded` gives the cue per pair) and returns
 * the worst pair's mask and regions.
 */
export function findMismatch(
  pairs: readonly WarpPair[],
  fit: { scale: readonly [number, number]; jitter: readonly [number, number] },
  disoccluded: (pair: WarpPair) => Float32Array,
  factor: number,
  masked: (pair: WarpPair) => Float32Array | undefined = () => undefined,
): MismatchResult | undefined {
  let worst: MismatchResult | undefined;
  let maskedShare = 0;
  for (const pair of pairs) {
    const { width, height } = pair.previous;
    const j: [number, number] = [
      pair.jitterDelta[0] * fit.jitter[0],
      pair.jitterDelta[1] * fit.jitter[1],
    ];
    const warped = warpPrevious(pair, fit.scale, j);
    const withVectors = patchMean(warpErrors(pair, warped), width, height);
    const bestShift = new Float32Array(withVectors.length).fill(Infinity);
    for (let dy = -SEARCH; dy <= SEARCH; dy += 0.5) {
      for (let dx = -SEARCH; dx <= SEARCH; dx += 0.5) {
        const shifted = warpPrevious(pair, [0, 0], [j[0] + dx * factor, j[1] + dy * factor]);
        const e = patchMean(warpErrors(pair, shifted), width, height);
        for (let i = 0; i < e.length; i++) bestShift[i] = Math.min(bestShift[i]!, e[i]!);
      }
    }
    // Disoccluded pixels, grown by the patch radius: a patch that overlaps them cannot match.
    const cue = patchMean(
      disoccluded(pair).map((c) => (c > 0.5 ? 1 : 0)),
      width,
      height,
    );
    const mask = new Float32Array(withVectors.length);
    const covered = masked(pair);
    let coveredPixels = 0;
    const b = pair.border;
    for (let i = 0; i < mask.length; i++) {
      const [x, y] = [i % width, Math.floor(i / width)];
      const inside = x >= b && y >= b && x < width - b && y < height - b;
      const valid = inside && warped.data[i * 4 + 3] === 1 && cue[i]! === 0;
      const e = withVectors[i]!;
      const disagrees = valid && e > MISMATCH_ERROR && e > MISMATCH_RATIO * bestShift[i]!;
      if (disagrees && covered && covered[i]! >= MASK_COVERS) coveredPixels++;
      else mask[i] = disagrees ? 1 : 0;
    }
    maskedShare = Math.max(maskedShare, coveredPixels / (width * height));
    const minPixels = Math.max(6, Math.round(MIN_REGION_SHARE * width * height));
    const regions = regionsOf(mask, width, height, minPixels, factor);
    const share = regions.reduce((s, r) => s + r.pixels, 0) / (width * height);
    if (!worst || share > worst.share)
      worst = { frame: pair.frame, share, mask, width, height, regions, masked: 0 };
  }
  return worst && { ...worst, masked: maskedShare };
}
