import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../src/core/random.ts';
import { convolveColumns, convolveRows, gaussianKernel } from '../src/metrics/filter.ts';

/** Plain 1D clamp-to-edge correlation along x or y, in float64. */
function bruteForce(src: Float32Array, w: number, h: number, k: Float64Array, alongX: boolean) {
  const r = (k.length - 1) >> 1;
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let sum = 0;
      for (let t = -r; t <= r; t++) {
        const sx = alongX ? Math.min(w - 1, Math.max(0, x + t)) : x;
        const sy = alongX ? y : Math.min(h - 1, Math.max(0, y + t));
        sum += k[t + r]! * src[sy * w + sx]!;
      }
      out[y * w + x] = sum;
    }
  }
  return out;
}

test('row and column convolutions match a plain loop (symmetric, antisymmetric, general kernels)', () => {
  const rand = mulberry32(9);
  // Sizes smaller than the kernel too, so every tap can fall off the edge.
  for (const [w, h] of [
    [13, 9],
    [4, 3],
  ] as const) {
    const src = Float32Array.from({ length: w * h }, () => rand() * 2 - 1);
    const general = Float64Array.from({ length: 7 }, () => rand() - 0.3);
    const anti = Float64Array.from([-0.5, -1, 0, 1, 0.5]);
    for (const k of [gaussianKernel(1.5, 4), anti, general]) {
      for (const alongX of [true, false]) {
        const got = (alongX ? convolveRows : convolveColumns)(
          src,
          w,
          h,
          k,
          new Float32Array(w * h),
        );
        const want = bruteForce(src, w, h, k, alongX);
        for (let i = 0; i < w * h; i++) {
          assert.ok(
            Math.abs(got[i]! - want[i]!) < 1e-6,
            `${w}x${h} k=${k.length} x=${alongX} @${i}`,
          );
        }
      }
    }
  }
});

test('gaussianKernel sums to 1 and is symmetric', () => {
  const k = gaussianKernel(2.75, 9);
  assert.equal(k.length, 19);
  assert.ok(Math.abs(k.reduce((s, v) => s + v, 0) - 1) < 1e-12);
  for (let t = 0; t < 9; t++) assert.equal(k[t], k[18 - t]);
});
