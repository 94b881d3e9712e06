/**
 * CPU reference of the history staleness that weighs the loss's `stale` term (frame-loss-cpu.ts):
 * per display pixel, how far this frame's reference lies outside what the previous frame's
 * reference held where the motion says the pixel came from. Zero where a perfect history exists
 * (static or correctly moved surfaces), one where no history can be right: disocclusions, motion
 * vectors that miss a (skinned) object's real motion, lighting that changed, a cut. Those are the
 * pixels where a network that keeps history leaves a ghost; the term weighs their error more.
 *
 * Display pixel (x, y) takes the prepared (dilated) motion m of the render pixel holding its
 * centre, as the reproject pass does (src/reference/reproject.ts), and looks at prevUV = uv + m in
 * the previous reference: the box [lo, hi] per channel of the four texels around it (clamp to
 * edge). The box rather than an interpolated value, so that resampling a sharp edge at a
 * sub-pixel offset is not counted as change. With r the current reference:
 *
 *   d = max over RGB of max(0, lo − r, r − hi),   staleness = min(1, d / STALENESS_RANGE).
 *
 * `reset` → 1; prevUV outside [0, 1]² → `offscreen` (default 1: no history, as a disocclusion;
 * 0 leaves the strips a moving camera brings in to the other terms, since there no history exists
 * for the network to misuse: the reprojection marks it invalid, alpha 0). Both references are
 * tonemapped (the loss's domain), so STALENESS_RANGE is in display units. When the exposure
 * changed, the four texels are first rescaled by `historyScale` as the reprojection rescales the
 * history (src/reference/exposure.ts). The staleness depends on data only, not on the network: it
 * carries no gradient.
 */
import type { Image } from '../../core/image.ts';
import type { Real } from '../../core/tensor.ts';
import { forEachReprojectedPixel } from '../../reference/common.ts';
import { rescaleTonemapped } from '../../reference/exposure.ts';
import { MAX_COLOR } from '../../core/pass-constants.ts';

/** A change of the reference by this much (tonemapped, outside the previous box) is fully stale. */
export const STALENESS_RANGE = 0.05;

/**
 * Staleness per display pixel (width·height values in [0, 1]) of `reference` against
 * `previousReference` (both display size, vec4 layout, RGB counted) moved by `motion` (the
 * prepared motion, render size, xy = motion in UV), the previous reference's exposure rescaled by
 * `historyScale` (this frame's exposure / the previous frame's); `offscreen` is the staleness of
 * pixels whose previous position lies off screen.
 */
export function historyStalenessCpu(
  width: number,
  height: number,
  motion: Image,
  reference: Real,
  previousReference: Real,
  reset: boolean,
  historyScale = 1,
  offscreen = 1,
): Float64Array {
  const n = width * height * 4;
  for (const [name, a] of [
    ['reference', reference],
    ['previous reference', previousReference],
  ] as const) {
    if (a.length !== n) throw new RangeError(`staleness ${name} has ${a.length} values, want ${n}`);
  }
  const staleness = new Float64Array(width * height).fill(reset ? 1 : offscreen);
  if (reset) return staleness;
  const at = (x: number, y: number) =>
    (Math.min(Math.max(y, 0), height - 1) * width + Math.min(Math.max(x, 0), width - 1)) * 4;
  // Off-screen pixels keep `offscreen`.
  forEachReprojectedPixel(motion, width, height, (x, y, x0, y0) => {
    const taps = [at(x0, y0), at(x0 + 1, y0), at(x0, y0 + 1), at(x0 + 1, y0 + 1)].map((t) => {
      const rgb = [0, 1, 2].map((c) => previousReference[t + c]!);
      return historyScale === 1 ? rgb : rescaleTonemapped(rgb, historyScale, MAX_COLOR);
    });
    const p = (y * width + x) * 4;
    let d = 0;
    for (let c = 0; c < 3; c++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const rgb of taps) {
        lo = Math.min(lo, rgb[c]!);
        hi = Math.max(hi, rgb[c]!);
      }
      const r = reference[p + c]!;
      d = Math.max(d, lo - r, r - hi);
    }
    staleness[y * width + x] = Math.min(1, d / STALENESS_RANGE);
  });
  return staleness;
}
