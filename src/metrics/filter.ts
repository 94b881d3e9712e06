/**
 * Separable 2D convolution of single-channel planes with clamp-to-edge borders, shared by SSIM and
 * ꟻLIP. Kernels are odd-length arrays centred on their middle tap.
 */

/** The sampled 1D Gaussian exp(−x² / (2σ²)) for x in −radius..radius, normalized to sum 1. */
export function gaussianKernel(sigma: number, radius: number): Float64Array {
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let x = -radius; x <= radius; x++) {
    const v = Math.exp(-(x * x) / (2 * sigma * sigma));
    k[x + radius] = v;
    sum += v;
  }
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  return k;
}

/** A single-channel image plane, row-major. */
export type Plane = Float32Array | Float64Array;

/**
 * Convolves a width×height plane with kx along x then ky along y (clamp-to-edge), writing into
 * `out` and returning it. `scratch` (width*height) may be passed to avoid an allocation.
 */
export function convolveSeparable<T extends Plane>(
  src: Plane,
  width: number,
  height: number,
  kx: Float64Array,
  ky: Float64Array,
  out: T,
  scratch: Float64Array = new Float64Array(width * height),
): T {
  const rx = (kx.length - 1) >> 1;
  const ry = (ky.length - 1) >> 1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let sum = 0;
      if (x >= rx && x + rx < width) {
        const base = row + x - rx;
        for (let k = 0; k < kx.length; k++) sum += kx[k]! * src[base + k]!;
      } else {
        for (let k = 0; k < kx.length; k++) {
          const sx = Math.min(width - 1, Math.max(0, x + k - rx));
          sum += kx[k]! * src[row + sx]!;
        }
      }
      scratch[row + x] = sum;
    }
  }
  for (let y = 0; y < height; y++) {
    const interior = y >= ry && y + ry < height;
    for (let x = 0; x < width; x++) {
      let sum = 0;
      if (interior) {
        let idx = (y - ry) * width + x;
        for (let k = 0; k < ky.length; k++, idx += width) sum += ky[k]! * scratch[idx]!;
      } else {
        for (let k = 0; k < ky.length; k++) {
          const sy = Math.min(height - 1, Math.max(0, y + k - ry));
          sum += ky[k]! * scratch[sy * width + x]!;
        }
      }
      out[y * width + x] = sum;
    }
  }
  return out;
}
