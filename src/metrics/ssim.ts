/**
 * SSIM (Wang, Bovik, Sheikh, Simoncelli 2004) on the luma (Rec. 709) of the tonemapped display
 * domain (see display.ts): Gaussian window 11×11 with σ = 1.5 (normalized to sum 1), K1 = 0.01,
 * K2 = 0.03, dynamic range L = 1.
 *
 * Borders: only windows that lie wholly inside the image count ("valid" region), so the map is
 * (width − 10) × (height − 10), its pixel (x, y) being the window centred on image pixel
 * (x + 5, y + 5); images need to be at least 11×11. The mean SSIM is the mean of that map.
 */
import { createImage, type Image } from '../core/image.ts';
import { lumaPlane, toDisplayPair, type DisplayPair } from './display.ts';
import { gaussianKernel } from './filter.ts';

/** Window radius (11×11 window). */
export const SSIM_RADIUS = 5;
/** Window Gaussian standard deviation in pixels. */
export const SSIM_SIGMA = 1.5;
const C1 = (0.01 * 1) ** 2;
const C2 = (0.03 * 1) ** 2;

/** Mean SSIM and the per-window SSIM map (one channel, valid region only). */
export interface SsimResult {
  mean: number;
  map: Image;
}

/** SSIM of two luma planes in [0, 1] (valid region); `withMap` false skips building the map. */
export function ssimOfLuma(
  x: Float32Array,
  y: Float32Array,
  width: number,
  height: number,
  withMap = true,
): { mean: number; map?: Image } {
  const r = SSIM_RADIUS;
  if (width < 2 * r + 1 || height < 2 * r + 1) {
    throw new RangeError(`ssim: image is ${width}x${height}, needs at least 11x11`);
  }
  const k = gaussianKernel(SSIM_SIGMA, r);
  const taps = k.length;
  const mw = width - 2 * r;
  const mh = height - 2 * r;
  // Horizontal pass: the five Gaussian moments (x, y, x², y², xy) of every row, valid columns only.
  // Float64: E[x²] − μ² in float32 leaves variance noise of ~1e-8, visible next to C2.
  const hx = new Float64Array(mw * height);
  const hy = new Float64Array(mw * height);
  const hxx = new Float64Array(mw * height);
  const hyy = new Float64Array(mw * height);
  const hxy = new Float64Array(mw * height);
  for (let row = 0; row < height; row++) {
    for (let i = 0; i < mw; i++) {
      let sx = 0;
      let sy = 0;
      let sxx = 0;
      let syy = 0;
      let sxy = 0;
      const base = row * width + i;
      for (let t = 0; t < taps; t++) {
        const w = k[t]!;
        const a = x[base + t]!;
        const b = y[base + t]!;
        sx += w * a;
        sy += w * b;
        sxx += w * a * a;
        syy += w * b * b;
        sxy += w * (a * b); // a * b, not (w * a) * b: keeps SSIM exactly symmetric
      }
      const o = row * mw + i;
      hx[o] = sx;
      hy[o] = sy;
      hxx[o] = sxx;
      hyy[o] = syy;
      hxy[o] = sxy;
    }
  }
  // Vertical pass and the SSIM formula per valid window.
  const map = withMap ? createImage(mw, mh, 1) : undefined;
  let sum = 0;
  for (let j = 0; j < mh; j++) {
    for (let i = 0; i < mw; i++) {
      let ux = 0;
      let uy = 0;
      let exx = 0;
      let eyy = 0;
      let exy = 0;
      for (let t = 0, o = j * mw + i; t < taps; t++, o += mw) {
        const w = k[t]!;
        ux += w * hx[o]!;
        uy += w * hy[o]!;
        exx += w * hxx[o]!;
        eyy += w * hyy[o]!;
        exy += w * hxy[o]!;
      }
      const vx = exx - ux * ux;
      const vy = eyy - uy * uy;
      const cxy = exy - ux * uy;
      const s = ((ux * uy * 2 + C1) * (2 * cxy + C2)) / ((ux * ux + uy * uy + C1) * (vx + vy + C2));
      sum += s;
      if (map) map.data[j * mw + i] = s;
    }
  }
  const mean = sum / (mw * mh);
  return map ? { mean, map } : { mean };
}

/** SSIM of a display pair (luma of the tonemapped RGB). */
export function displaySsim(pair: DisplayPair, withMap = true): { mean: number; map?: Image } {
  return ssimOfLuma(lumaPlane(pair.test), lumaPlane(pair.ref), pair.width, pair.height, withMap);
}

/** Mean SSIM of test against ref in the tonemapped display domain (luma). Symmetric. */
export function ssim(test: Image, ref: Image): number {
  return displaySsim(toDisplayPair(test, ref, 'ssim'), false).mean;
}

/** Mean SSIM and the SSIM map ((width − 10) × (height − 10), valid windows only). */
export function ssimWithMap(test: Image, ref: Image): SsimResult {
  const { mean, map } = displaySsim(toDisplayPair(test, ref, 'ssim'), true);
  return { mean, map: map! };
}
