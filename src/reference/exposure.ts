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

/** Rescales a tonemapped color c/(1 + max c) as if its linear value were multiplied by `s`. */
export function rescaleTonemapped(rgb: readonly number[], s: number, maxColor: number): number[] {
  const linear = rgb.map((c) => c / (1 - Math.max(...rgb)));
  const scaled = linear.map((c) => Math.min(c * s, maxColor));
  const m = Math.max(...scaled);
  return scaled.map((c) => c / (1 + m));
}
