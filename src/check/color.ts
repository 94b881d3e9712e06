/**
 * Color estimates: NaN/Inf and negative values (which the prepare pass zeroes, so they show as
 * black holes), the range (HDR or clipped at 1), 8-bit grids (an sRGB target decoded to linear is
 * fine; values on the linear k/255 grid are often sRGB-encoded values read as linear), and the
 * brightness from frame to frame (an exposure that jumps without a reset).
 */
import { code8, DEPTH8_GRID, SRGB8_GRID, type Grid8 } from '../core/engine-inputs.ts';
import type { FrameImages, FrameParams } from '../core/frame.ts';
import { luma } from '../core/image.ts';

/**
 * `v` is a level of the grid, up to float rounding (a decode in f64 of an f32 code value lands an
 * ulp or so away from the f32 table; neighbouring levels are at least 3e-4 apart).
 */
function onGrid(grid: Grid8, v: number): boolean {
  return Math.abs(grid.levels[code8(grid, v)]! - v) <= 1e-6 * Math.max(1, v);
}

export interface ColorStats {
  readonly samples: number;
  readonly nonFinite: number;
  readonly negative: number;
  /** Frames (indices) holding non-finite or negative values. */
  readonly badFrames: number[];
  readonly max: number;
  /** Share of RGB values above 1, and exactly 1 (clipped). */
  readonly aboveOne: number;
  readonly atOne: number;
  /** Share of RGB values in (0, 1) on the decoded 8-bit sRGB grid, and on the linear k/255 grid. */
  readonly onSrgbGrid: number;
  readonly onLinearGrid: number;
  /** Mean linear luma (exposure applied) per loaded frame. */
  readonly meanLuma: Array<{ frame: number; luma: number }>;
  /** Largest |log2| brightness ratio between consecutive loaded frames without a reset. */
  readonly largestJump: { frame: number; stops: number };
}

export function colorStats(
  params: readonly FrameParams[],
  images: ReadonlyMap<number, FrameImages>,
): ColorStats {
  let [samples, nonFinite, negative, max, above, atOne, srgb, linear, mid] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0,
  ];
  const badFrames: number[] = [];
  const meanLuma: Array<{ frame: number; luma: number }> = [];
  for (const [index, frame] of images) {
    const { data, channels } = frame.color;
    const exposure = params[index]!.exposure;
    let bad = false;
    let sum = 0;
    const pixels = frame.color.width * frame.color.height;
    for (let i = 0; i < pixels; i++) {
      const rgb = [0, 1, 2].map((c) => data[i * channels + c]!);
      for (const v of rgb) {
        samples++;
        if (!Number.isFinite(v)) {
          nonFinite++;
          bad = true;
          continue;
        }
        if (v < 0) {
          negative++;
          bad = true;
        }
        max = Math.max(max, v);
        if (v > 1) above++;
        if (v === 1) atOne++;
        if (v > 0 && v < 1) {
          // 0 and 1 are on every grid: only values between them tell grids apart.
          mid++;
          if (onGrid(SRGB8_GRID, v)) srgb++;
          if (onGrid(DEPTH8_GRID, v)) linear++;
        }
      }
      const l = luma(
        ...(rgb.map((v) => (Number.isFinite(v) ? Math.max(0, v) : 0)) as [number, number, number]),
      );
      sum += l * exposure;
    }
    if (bad) badFrames.push(index);
    meanLuma.push({ frame: index, luma: sum / pixels });
  }
  let largestJump = { frame: -1, stops: 0 };
  for (let k = 1; k < meanLuma.length; k++) {
    const [a, b] = [meanLuma[k - 1]!, meanLuma[k]!];
    if (b.frame !== a.frame + 1 || params[b.frame]!.reset) continue;
    const stops = Math.abs(Math.log2(Math.max(b.luma, 1e-6) / Math.max(a.luma, 1e-6)));
    if (stops > largestJump.stops) largestJump = { frame: b.frame, stops };
  }
  const n = Math.max(1, samples - nonFinite);
  return {
    samples,
    nonFinite,
    negative,
    badFrames,
    max,
    aboveOne: above / n,
    atOne: atOne / n,
    onSrgbGrid: srgb / Math.max(1, mid),
    onLinearGrid: linear / Math.max(1, mid),
    meanLuma,
    largestJump,
  };
}
