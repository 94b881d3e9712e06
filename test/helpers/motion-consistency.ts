/**
 * Motion-vector consistency of rendered frames: frame t − 1 reprojected onto frame t with the
 * stored motion of frame t (the CPU reference reprojection, src/reference/reproject.ts) should
 * match frame t where things move. Frames are compared at render resolution (render them at ratio
 * 1 without jitter, so that a pixel of t − 1 and one of t sample the same grid), in the tonemapped
 * domain, on the pixels whose motion is at least `minMotion` render pixels long. The same pixels
 * reprojected with zero motion (what a missing or camera-only vector gives for object motion) are
 * the baseline the stored vectors must beat.
 */
import type { Image } from '../../src/core/image.ts';
import { createImage, luma } from '../../src/core/image.ts';
import { tonemapImage } from '../../src/core/tonemap.ts';
import { reprojectCpu } from '../../src/reference/reproject.ts';

export interface MotionConsistency {
  /** Pixels whose motion is at least minMotion render pixels (and that reproject on screen). */
  moving: number;
  /** Their share of the frame. */
  movingShare: number;
  /** Median and mean |luma error| with the stored motion, tonemapped. */
  median: number;
  mean: number;
  /** The same with zero motion. */
  medianZero: number;
  meanZero: number;
  /** Share of moving pixels whose error with the stored motion is under 0.05. */
  within: number;
  /**
   * Moving pixels whose content changed (error with zero motion over 0.02): where the vectors
   * matter. `fixed`: the share of them whose error the stored motion at least halves;
   * `meanInformative` / `meanZeroInformative`: their mean errors with stored and zero motion.
   */
  informative: number;
  fixed: number;
  meanInformative: number;
  meanZeroInformative: number;
  /** |luma error| per pixel with the stored motion (NaN where not moving), for pictures. */
  errorImage: Image;
  /** The reprojected previous frame (rgb, tonemapped). */
  reprojected: Image;
}

const median = (values: number[]) => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / Math.max(1, values.length);

/** Reprojects `previous` (color of t − 1) onto `current` (color of t) with `motion` (of t). */
export function motionConsistency(
  previous: Image,
  current: Image,
  motion: Image,
  minMotion = 0.5,
): MotionConsistency {
  const { width, height } = current;
  const prev = tonemapImage(previous);
  const curr = tonemapImage(current);
  const prevRgba = createImage(width, height, 4);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) prevRgba.data[i * 4 + c] = prev.data[i * 3 + c]!;
    prevRgba.data[i * 4 + 3] = 1;
  }
  const zeroState = createImage(width, height, 4);
  const { history } = reprojectCpu(motion, prevRgba, zeroState, false);
  const errors: number[] = [];
  const zeroErrors: number[] = [];
  const errorImage = createImage(width, height, 1);
  errorImage.data.fill(Number.NaN);
  const reprojected = createImage(width, height, 3);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) reprojected.data[i * 3 + c] = history.data[i * 4 + c]!;
    const mx = motion.data[i * 2]! * width;
    const my = motion.data[i * 2 + 1]! * height;
    if (Math.hypot(mx, my) < minMotion || history.data[i * 4 + 3] !== 1) continue;
    const l = luma(curr.data[i * 3]!, curr.data[i * 3 + 1]!, curr.data[i * 3 + 2]!);
    const e = Math.abs(
      luma(history.data[i * 4]!, history.data[i * 4 + 1]!, history.data[i * 4 + 2]!) - l,
    );
    const z = Math.abs(luma(prev.data[i * 3]!, prev.data[i * 3 + 1]!, prev.data[i * 3 + 2]!) - l);
    errors.push(e);
    zeroErrors.push(z);
    errorImage.data[i] = e;
  }
  const changed = zeroErrors.map((z, k) => ({ z, e: errors[k]! })).filter(({ z }) => z > 0.02);
  return {
    informative: changed.length,
    fixed: changed.filter(({ z, e }) => e < z / 2).length / Math.max(1, changed.length),
    meanInformative: mean(changed.map(({ e }) => e)),
    meanZeroInformative: mean(changed.map(({ z }) => z)),
    moving: errors.length,
    movingShare: errors.length / (width * height),
    median: median(errors),
    mean: mean(errors),
    medianZero: median(zeroErrors),
    meanZero: mean(zeroErrors),
    within: errors.filter((e) => e < 0.05).length / Math.max(1, errors.length),
    errorImage,
    reprojected,
  };
}
