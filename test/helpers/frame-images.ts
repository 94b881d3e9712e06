/**
 * Random vec4 images of the neural frame's tests: any image, prepared color as the prepare pass
 * writes it (a = luma) and reprojected history (a = validity), with the non-finite values that
 * must never leave the blend.
 */
import { createImage, luma, type Image } from '../../src/core/image.ts';
import type { Size } from '../../src/core/quality.ts';
import { rng } from './gpu.ts';

/** Random vec4 image; `fill(random, channel)` gives each value. */
export function randomImage(
  [width, height]: Size,
  seed: number,
  fill: (random: () => number, c: number) => number,
): Image {
  const random = rng(seed);
  const image = createImage(width, height, 4);
  for (let i = 0; i < image.data.length; i++) image.data[i] = fill(random, i % 4);
  return image;
}

/** Prepared color: rgb in [0, 1), a = their luma. */
export function randomPreparedColor(size: Size, seed: number): Image {
  const color = randomImage(size, seed, (r) => r());
  for (let i = 0; i < color.data.length; i += 4) {
    color.data[i + 3] = luma(color.data[i]!, color.data[i + 1]!, color.data[i + 2]!);
  }
  return color;
}

/** Reprojected history: rgb in [0, 1), a = 1 (valid) for about 70 % of the pixels, else 0. */
export const historyFill = (r: () => number, c: number) => (c < 3 ? r() : r() < 0.7 ? 1 : 0);

/** Puts NaN in a color and in a validity and Infinity in a color of pixels 5 to 7; returns `image`. */
export function withNonFinite(image: Image): Image {
  image.data[4 * 5 + 1] = NaN;
  image.data[4 * 6 + 3] = NaN;
  image.data[4 * 7] = Infinity;
  return image;
}
