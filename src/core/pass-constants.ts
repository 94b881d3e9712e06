/**
 * Values shared by a pass's CPU reference (src/reference/) and its WGSL twin (src/gpu/passes/),
 * defined once here so the two cannot drift apart.
 */

// Prepare (src/reference/prepare.ts)

/** Per-frame values prepare needs besides the images. */
export interface PrepareParams {
  exposure: number;
  motionScale: readonly [number, number];
  depthInverted: boolean;
  cameraNear: number;
  /** Far plane; Infinity (or 0) for an infinite far plane. */
  cameraFar: number;
}

/** Largest color value kept (half-float max); larger values and +Inf clamp to it. */
export const MAX_COLOR = 65504;
/** Largest motion magnitude per axis kept, in UV. */
export const MAX_MOTION = 2;
/**
 * How much of the transparency-and-composition mask becomes reactive: where an engine composited
 * alpha-blended or otherwise motion-less content over the surface the vectors describe, history is
 * trusted less, but not dropped as the reactive mask's 1 does (FSR 2 uses its mask to weaken
 * locks and history, not to replace them).
 */
export const TRANSPARENCY_WEIGHT = 0.5;
/** Relative depth separation where the disocclusion cue starts, and where it reaches 1. */
export const DISOCCLUSION_START = 0.1;
export const DISOCCLUSION_FULL = 0.25;

// TAAU resolve (src/reference/taau-resolve.ts)

/** A sample is inside a display pixel when |offset| < this, per axis (display pixels). */
export const INSIDE = 0.501;

// Output (src/reference/output.ts)

/** Largest tonemapped channel value: the tonemap of MAX_COLOR (65504). */
export const MAX_TONEMAPPED = 65504 / 65505;

/** RCAS lobe scale for a sharpness in 0..1. */
export function rcasScale(sharpness: number): number {
  return Math.pow(2, 2 * sharpness - 2);
}
