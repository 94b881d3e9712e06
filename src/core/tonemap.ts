/**
 * The reversible tonemap of DESIGN §4: c / (1 + max(r, g, b)). Networks and metrics work in this
 * domain; it maps [0, ∞) to [0, 1) and keeps hue.
 */
import { createImage, type Image } from './image.ts';

export function tonemapPixel(r: number, g: number, b: number): [number, number, number] {
  const s = 1 / (1 + Math.max(r, g, b, 0));
  return [r * s, g * s, b * s];
}

export function inverseTonemapPixel(r: number, g: number, b: number): [number, number, number] {
  const s = 1 / Math.max(1 - Math.max(r, g, b, 0), 1e-6);
  return [r * s, g * s, b * s];
}

/** Tonemaps the RGB of an image (3 or 4 channels; alpha dropped). Non-finite values become 0. */
export function tonemapImage(image: Image): Image {
  if (image.channels < 3) throw new RangeError(`tonemap needs RGB, got ${image.channels} channels`);
  const out = createImage(image.width, image.height, 3);
  const n = image.width * image.height;
  for (let i = 0; i < n; i++) {
    const k = i * image.channels;
    const fin = (v: number) => (Number.isFinite(v) ? Math.max(v, 0) : 0);
    const [r, g, b] = tonemapPixel(
      fin(image.data[k]!),
      fin(image.data[k + 1]!),
      fin(image.data[k + 2]!),
    );
    out.data[i * 3] = r;
    out.data[i * 3 + 1] = g;
    out.data[i * 3 + 2] = b;
  }
  return out;
}

/** sRGB transfer function of a linear value in [0, 1]. */
export function linearToSrgb(v: number): number {
  const c = Math.min(Math.max(v, 0), 1);
  return c <= 0.0031308 ? 12.92 * c : 1.055 * Math.pow(c, 1 / 2.4) - 0.055;
}

/**
 * `Math.round(clamp(linearToSrgb(v), 0, 1) · 255)`, the 8-bit sRGB code of a linear value, found
 * among the 255 smallest values that reach each code (8 comparisons instead of a `Math.pow`):
 * equal to the direct form for every number (NaN gives 0, as a Uint8Array stores it). Building the
 * training scenes' textures spent a twentieth of a step's CPU time in that power.
 */
export function srgbByte(v: number): number {
  const t = srgbByteThresholds();
  let lo = 0;
  let hi = 255;
  // Invariant: t[k] <= v for k < lo, v < t[k] for k >= hi (t[255] is +Infinity).
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (t[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

let thresholds: Float64Array | undefined;

/** t[k − 1]: the smallest double whose sRGB code is at least k (k = 1 … 255); t[255] = ∞. */
function srgbByteThresholds(): Float64Array {
  if (thresholds) return thresholds;
  const code = (v: number) => Math.round(Math.min(1, Math.max(0, linearToSrgb(v))) * 255);
  const t = new Float64Array(256);
  for (let k = 1; k <= 255; k++) {
    // Bisection to adjacent doubles: code(lo) < k <= code(hi); the code is monotone in v.
    let lo = 0;
    let hi = 1;
    for (;;) {
      const mid = lo + (hi - lo) / 2;
      if (mid <= lo || mid >= hi) break;
      if (code(mid) >= k) hi = mid;
      else lo = mid;
    }
    t[k - 1] = hi;
  }
  t[255] = Infinity;
  return (thresholds = t);
}

/** Inverse sRGB transfer function. */
export function srgbToLinear(v: number): number {
  return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
}
