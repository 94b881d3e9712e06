/** Camera jitter (DESIGN §4): Halton(2,3), phase count as FSR 2 counts it. */

/** Radical inverse of `index` in `base` (the Halton sequence). */
export function halton(index: number, base: number): number {
  let f = 1;
  let r = 0;
  let i = index;
  while (i > 0) {
    f /= base;
    r += f * (i % base);
    i = Math.floor(i / base);
  }
  return r;
}

/**
 * Number of jitter phases for a display/render width ratio: floor(8·r² + 1e-4).
 * 18 / 23 / 32 / 72 at 1.5 / 1.7 / 2.0 / 3.0 (the epsilon keeps 8·1.5² = 18 from rounding to 17).
 */
export function jitterPhaseCount(renderWidth: number, displayWidth: number): number {
  const r = displayWidth / renderWidth;
  return Math.max(1, Math.floor(8 * r * r + 1e-4));
}

/**
 * Jitter of frame `frameIndex` in render pixels, in [−0.5, 0.5): Halton(2,3) at (i mod N) + 1, minus 0.5.
 * Meaning: render pixel (x, y) holds the scene at screen position (x + 0.5 + jx, y + 0.5 + jy).
 */
export function jitterOffset(frameIndex: number, phaseCount: number): [number, number] {
  const i = (((frameIndex % phaseCount) + phaseCount) % phaseCount) + 1;
  return [halton(i, 2) - 0.5, halton(i, 3) - 0.5];
}
