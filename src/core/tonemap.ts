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

/** Inverse sRGB transfer function. */
export function srgbToLinear(v: number): number {
  return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
}
