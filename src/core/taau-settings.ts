/**
 * The tuning of the heuristic TAAU resolve (an upscaler option), read by its CPU reference
 * (src/reference/taau-resolve.ts, which documents each step) and its WGSL twin.
 */

/** Tuning of the heuristic resolve (defaults: DEFAULT_TAAU_SETTINGS). */
export interface TaauSettings {
  /** Cap on the accumulated weight W, in frames of average sample coverage. */
  maxAccumulation: number;
  /** W cap falls as 1 / (1 + motionFalloff · speed in display pixels per frame). */
  motionFalloff: number;
  /** Width (σ) of the Gaussian splat of the samples into the display pixel, in display pixels. */
  sampleSigma: number;
  /**
   * Weight of the wide Lanczos estimate next to the splat's without history (fills pixels no
   * sample is near); it fades out over one frame's worth of accumulated weight.
   */
  wideWeight: number;
  /** Neighbourhood box half-width in standard deviations. */
  clampGamma: number;
  /** W shrinks by saturate(clamp distance in luma / rectifyScale): a changed pixel refreshes fast. */
  rectifyScale: number;
  /** Luma oscillation (tonemapped) that counts as fully unstable. */
  instabilityScale: number;
  /** How much full instability cuts the new-sample weight (0..1). */
  instabilityStrength: number;
  /** Frames a lock lasts without being refreshed. */
  lockFrames: number;
  /** Two lumas are similar when they differ by less than this fraction of the larger (+0.01). */
  lockSimilarity: number;
  /** A thin feature's luma differs from its neighbours' mean by more than this. */
  lockContrast: number;
  /** A lock dies when a sample inside the pixel differs from the locked luma by more than this. */
  lockRelease: number;
}

export const DEFAULT_TAAU_SETTINGS: Readonly<TaauSettings> = {
  maxAccumulation: 10,
  motionFalloff: 4,
  sampleSigma: 0.35,
  wideWeight: 1,
  clampGamma: 1.25,
  rectifyScale: 0.1,
  instabilityScale: 0.05,
  instabilityStrength: 0.4,
  lockFrames: 24,
  lockSimilarity: 0.05,
  lockContrast: 0.02,
  lockRelease: 0.15,
};
