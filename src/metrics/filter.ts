/**
 * 1D convolutions along rows or columns of single-channel float32 planes, clamp-to-edge borders,
 * and their separable 2D composition; used by ꟻLIP and the tests' blur. Kernels are odd-length
 * arrays centred on their middle tap, applied as correlation: out[x] = Σ k[t] · src[x + t − r].
 * Symmetric and antisymmetric kernels (Gaussians and their derivatives) are folded so each pair
 * of taps costs one multiply.
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

/** +1 if k[r + t] = k[r − t] for all t, −1 if k[r + t] = −k[r − t], else 0. */
function kernelSymmetry(k: Float64Array): number {
  const r = (k.length - 1) >> 1;
  let sym = true;
  let anti = true;
  for (let t = 0; t <= r; t++) {
    if (k[r + t] !== k[r - t]) sym = false;
    if (k[r + t] !== -k[r - t]!) anti = false;
  }
  return sym ? 1 : anti ? -1 : 0;
}

/** Convolves every row of a width×height plane with k (clamp-to-edge) into `out`; returns it. */
export function convolveRows(
  src: Float32Array,
  width: number,
  height: number,
  k: Float64Array,
  out: Float32Array,
): Float32Array {
  const r = (k.length - 1) >> 1;
  const sym = kernelSymmetry(k);
  // Each row is copied into a buffer padded with its edge values: no border cases in the loop.
  const padded = new Float64Array(width + 2 * r);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < r; x++) {
      padded[x] = src[row]!;
      padded[width + r + x] = src[row + width - 1]!;
    }
    for (let x = 0; x < width; x++) padded[x + r] = src[row + x]!;
    if (sym !== 0) {
      // Folded: one multiply per pair of taps at ±t (sym = −1 for antisymmetric kernels).
      const centre = k[r]!;
      for (let x = 0; x < width; x++) {
        const c = x + r;
        let sum = centre * padded[c]!;
        for (let t = 1; t <= r; t++) sum += k[r + t]! * (padded[c + t]! + sym * padded[c - t]!);
        out[row + x] = sum;
      }
    } else {
      for (let x = 0; x < width; x++) {
        let sum = 0;
        for (let t = 0; t < k.length; t++) sum += k[t]! * padded[x + t]!;
        out[row + x] = sum;
      }
    }
  }
  return out;
}

/**
 * Convolves every column of a width×height plane with k (clamp-to-edge) into `out` (which must
 * not be `src`); returns it. Accumulates whole rows so memory is read in order.
 */
export function convolveColumns(
  src: Float32Array,
  width: number,
  height: number,
  k: Float64Array,
  out: Float32Array,
): Float32Array {
  const r = (k.length - 1) >> 1;
  const sym = kernelSymmetry(k);
  const row = new Float64Array(width);
  const clampRow = (y: number) => Math.min(height - 1, Math.max(0, y)) * width;
  for (let y = 0; y < height; y++) {
    const c = y * width;
    if (sym !== 0) {
      const w0 = k[r]!;
      for (let x = 0; x < width; x++) row[x] = w0 * src[c + x]!;
      for (let t = 1; t <= r; t++) {
        const w = k[r + t]!;
        const a = clampRow(y + t);
        const b = clampRow(y - t);
        for (let x = 0; x < width; x++) row[x]! += w * (src[a + x]! + sym * src[b + x]!);
      }
    } else {
      row.fill(0);
      for (let t = 0; t < k.length; t++) {
        const w = k[t]!;
        const a = clampRow(y + t - r);
        for (let x = 0; x < width; x++) row[x]! += w * src[a + x]!;
      }
    }
    for (let x = 0; x < width; x++) out[c + x] = row[x]!;
  }
  return out;
}

/**
 * Convolves a width×height plane with kx along x then ky along y (clamp-to-edge) into `out` and
 * returns it. `scratch` (width*height) may be passed to avoid an allocation.
 */
export function convolveSeparable(
  src: Float32Array,
  width: number,
  height: number,
  kx: Float64Array,
  ky: Float64Array,
  out: Float32Array,
  scratch: Float32Array = new Float32Array(width * height),
): Float32Array {
  convolveRows(src, width, height, kx, scratch);
  return convolveColumns(scratch, width, height, ky, out);
}
