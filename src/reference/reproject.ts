/**
 * CPU reference of the reproject pass (display resolution). The GPU twin is
 * src/gpu/passes/reproject.ts.
 *
 * Display pixel (x, y) takes the dilated motion m of render pixel
 * (floor((x + 0.5) · renderW / displayW), floor((y + 0.5) · renderH / displayH)) — the render
 * pixel containing the display pixel centre — and reads the previous frame at prevUV = uv + m:
 * - history rgb with a 16-tap Catmull-Rom filter, clamped per channel to the min/max of the four
 *   nearest taps (no ringing, and no negative values in the tonemapped domain);
 * - the 4-channel recurrent state with a bilinear filter.
 * Both use clamp-to-edge addressing. prevUV outside [0, 1]² or `reset` → invalid: history
 * (0, 0, 0, 0) and state 0. Valid history has a = 1. The result is linear in the previous
 * history and state (piecewise, through the clamp), so gradients flow through it.
 * `historyScale` ≠ 1 (the exposure changed, src/reference/exposure.ts) then rescales the history
 * as if its linear value were multiplied by it (in training too: clips with exposure changes).
 */
import { createImage, type Image } from '../core/image.ts';
import { catmullRomWeights, forEachReprojectedPixel, texel } from './common.ts';
import { rescaleTonemapped } from './exposure.ts';
import { MAX_COLOR } from '../core/pass-constants.ts';

/** Reprojected history (rgb, a = 1 valid / 0 invalid) and state, at display resolution. */
export interface ReprojectedCpu {
  history: Image;
  state: Image;
}

/**
 * Reprojects the previous history and state (both display size, 4 channels) with the prepared
 * motion (render size, xy = motion in UV).
 */
export function reprojectCpu(
  motion: Image,
  previousHistory: Image,
  previousState: Image,
  reset: boolean,
  historyScale = 1,
): ReprojectedCpu {
  const { width, height } = previousHistory;
  if (previousHistory.channels !== 4) {
    throw new RangeError(`previous history must have 4 channels, got ${previousHistory.channels}`);
  }
  const history = createImage(width, height, 4);
  const state = createImage(width, height, 4);
  if (reset) return { history, state };
  // Per-pixel scratch (no allocation per pixel: this reference also backs `uplift check`'s
  // thousands of warps). Clamp-to-edge offsets of the 4×4 taps are computed once per pixel; the
  // sums run in the order of a per-channel loop over j, then i, so results are those of texel().
  const wx = new Float64Array(4);
  const wy = new Float64Array(4);
  const cols = new Int32Array(4);
  const rows = new Int32Array(4);
  const sums = new Float64Array(3);
  const rgb = [0, 0, 0];
  const h = previousHistory.data;
  forEachReprojectedPixel(motion, width, height, (x, y, x0, y0, fx, fy) => {
    const o = (y * width + x) * 4;
    wx.set(catmullRomWeights(fx));
    wy.set(catmullRomWeights(fy));
    for (let k = 0; k < 4; k++) {
      cols[k] = Math.min(Math.max(x0 - 1 + k, 0), width - 1) * 4;
      rows[k] = Math.min(Math.max(y0 - 1 + k, 0), height - 1) * width * 4;
    }
    sums.fill(0);
    for (let j = 0; j < 4; j++) {
      for (let i = 0; i < 4; i++) {
        const w = wx[i]! * wy[j]!;
        const t = rows[j]! + cols[i]!;
        sums[0]! += w * h[t]!;
        sums[1]! += w * h[t + 1]!;
        sums[2]! += w * h[t + 2]!;
      }
    }
    const [t00, t10, t01, t11] = [
      rows[1]! + cols[1]!,
      rows[1]! + cols[2]!,
      rows[2]! + cols[1]!,
      rows[2]! + cols[2]!,
    ];
    for (let c = 0; c < 3; c++) {
      const [a, b, d, e] = [h[t00 + c]!, h[t10 + c]!, h[t01 + c]!, h[t11 + c]!];
      history.data[o + c] = Math.min(
        Math.max(sums[c]!, Math.min(a, b, d, e)),
        Math.max(a, b, d, e),
      );
    }
    if (historyScale !== 1) {
      for (let c = 0; c < 3; c++) rgb[c] = history.data[o + c]!;
      rescaleTonemapped(rgb, historyScale, MAX_COLOR).forEach((v, c) => (history.data[o + c] = v));
    }
    history.data[o + 3] = 1;
    for (let c = 0; c < 4; c++) {
      const top =
        texel(previousState, x0, y0, c) * (1 - fx) + texel(previousState, x0 + 1, y0, c) * fx;
      const bottom =
        texel(previousState, x0, y0 + 1, c) * (1 - fx) +
        texel(previousState, x0 + 1, y0 + 1, c) * fx;
      state.data[o + c] = top * (1 - fy) + bottom * fy;
    }
  });
  return { history, state };
}
