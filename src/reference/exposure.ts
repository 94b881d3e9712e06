/**
 * CPU reference of the exposure pass (src/gpu/passes/exposure.ts): per frame, the scale the color
 * is exposed by (exposure / preExposure; the output divides by it again) and the factor the
 * reprojected history is rescaled by when the exposure changed (FSR's pre-exposure handling:
 * history lives in exposed units, so a step from 1 to 4 would otherwise take many frames to fade).
 */

/** What the exposure pass writes for one frame. */
export interface ExposureStep {
  /** exposure / preExposure: prepare multiplies the color by it, output divides by it. */
  readonly scale: number;
  /** exposure / the previous frame's exposure; 1 after a reset or on the first frame. */
  readonly historyScale: number;
  /** The exposure used (the next frame's "previous"). */
  readonly exposure: number;
}

/**
 * One frame's exposure step. A non-finite or non-positive `exposure` (a bad 1×1 exposure
 * texture) keeps the last good exposure (1 at the start), so one bad value never reaches history.
 */
export function exposureStepCpu(
  previous: number | undefined,
  exposure: number,
  preExposure: number,
  reset: boolean,
): ExposureStep {
  const f = Math.fround;
  const hasPrevious = previous !== undefined && previous > 0;
  const e = Number.isFinite(exposure) && exposure > 0 ? f(exposure) : hasPrevious ? previous : 1;
  return {
    scale: f(e / f(preExposure)),
    historyScale: reset || !hasPrevious ? 1 : f(e / previous),
    exposure: e,
  };
}

/**
 * Rescales a tonemapped color c/(1 + max c) as if its linear value were multiplied by `s`. Its
 * backward is `rescaleTonemappedBackward`.
 */
export function rescaleTonemapped(rgb: readonly number[], s: number, maxColor: number): number[] {
  const linear = rgb.map((c) => c / (1 - Math.max(...rgb)));
  const scaled = linear.map((c) => Math.min(c * s, maxColor));
  const m = Math.max(...scaled);
  return scaled.map((c) => c / (1 + m));
}

/**
 * Backward of `rescaleTonemapped`: dLoss/d(rgb) from dLoss/d(its result) `g`. The maximum is the
 * first channel holding it (r, then g, then b), as in the GPU twin; a channel clamped to
 * `maxColor` passes no gradient.
 */
export function rescaleTonemappedBackward(
  rgb: readonly number[],
  s: number,
  maxColor: number,
  g: readonly number[],
): number[] {
  const k = rgb[0]! >= rgb[1]! && rgb[0]! >= rgb[2]! ? 0 : rgb[1]! >= rgb[2]! ? 1 : 2;
  const inverse = 1 / (1 - rgb[k]!);
  const linear = rgb.map((c) => c * inverse);
  const open = linear.map((c) => c * s < maxColor);
  const scaled = linear.map((c, i) => (open[i] ? c * s : maxColor));
  // out_c = scaled_c / (1 + scaled_k): the maximum of the scaled color is the same channel.
  const denominator = 1 + scaled[k]!;
  const dScaled = g.map((v) => v / denominator);
  dScaled[k]! -= g.reduce((sum, v, i) => sum + v * scaled[i]!, 0) / (denominator * denominator);
  const dLinear = dScaled.map((v, i) => (open[i] ? v * s : 0));
  // linear_c = rgb_c / (1 − rgb_k).
  const dRgb = dLinear.map((v) => v * inverse);
  dRgb[k]! += dLinear.reduce((sum, v, i) => sum + v * linear[i]!, 0) * inverse;
  return dRgb;
}
