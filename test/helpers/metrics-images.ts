/** Test images for the metric tests: flat colours, degraded copies of the analytic reference. */
import { createImage, type Image } from '../../src/core/image.ts';
import { mulberry32 } from '../../src/core/random.ts';
import { analyticSequence } from '../../src/scene/analytic.ts';
import { convolveSeparable, gaussianKernel } from '../../src/metrics/filter.ts';

/** A width×height RGB image filled with one linear colour. */
export function flatImage(width: number, height: number, rgb: [number, number, number]): Image {
  const image = createImage(width, height, 3);
  for (let i = 0; i < width * height; i++) image.data.set(rgb, i * 3);
  return image;
}

/** Reference frames of the analytic sequence (linear RGB, display size 64×48 unless given). */
export function analyticReferences(frames = 1, displaySize: [number, number] = [64, 48]): Image[] {
  const seq = analyticSequence({ displaySize, frames, referenceSamples: 16 });
  return seq.frames.map((f) => f.images.reference!);
}

/** Gaussian blur of every channel (clamp-to-edge), σ in pixels. */
export function blurImage(image: Image, sigma: number): Image {
  const { width, height, channels } = image;
  const k = gaussianKernel(sigma, Math.ceil(3 * sigma));
  const out = createImage(width, height, channels);
  const plane = new Float32Array(width * height);
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < plane.length; i++) plane[i] = image.data[i * channels + c]!;
    const blurred = convolveSeparable(plane, width, height, k, k, new Float32Array(plane.length));
    for (let i = 0; i < plane.length; i++) out.data[i * channels + c] = blurred[i]!;
  }
  return out;
}

/** Adds zero-mean Gaussian noise of standard deviation σ (linear units), clamped at 0. */
export function addNoise(image: Image, sigma: number, seed = 7): Image {
  const rand = mulberry32(seed);
  const out = createImage(image.width, image.height, image.channels);
  for (let i = 0; i < image.data.length; i++) {
    const g = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    out.data[i] = Math.max(0, image.data[i]! + sigma * g);
  }
  return out;
}

/** True when the values strictly increase (strictly decrease with `decreasing`). */
export function isStrictlyMonotone(values: readonly number[], decreasing: boolean): boolean {
  for (let i = 1; i < values.length; i++) {
    if (decreasing ? !(values[i]! < values[i - 1]!) : !(values[i]! > values[i - 1]!)) return false;
  }
  return true;
}

/** Random-coloured square blocks (linear RGB in [0, 1.5)), a deterministic pattern with edges. */
export function blockImage(width: number, height: number, block: number, seed: number): Image {
  const rand = mulberry32(seed);
  const bw = Math.ceil(width / block);
  const colours = Array.from({ length: bw * Math.ceil(height / block) }, () => [
    1.5 * rand(),
    1.5 * rand(),
    1.5 * rand(),
  ]);
  const image = createImage(width, height, 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      image.data.set(
        colours[Math.floor(y / block) * bw + Math.floor(x / block)]!,
        (y * width + x) * 3,
      );
    }
  }
  return image;
}
