import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type Image } from '../src/core/image.ts';
import { inverseTonemapPixel } from '../src/core/tonemap.ts';
import { mulberry32 } from '../src/core/random.ts';
import { meanPsnr, mse, psnr, PSNR_CAP_DB } from '../src/metrics/psnr.ts';
import { ssim, ssimWithMap } from '../src/metrics/ssim.ts';
import {
  addNoise,
  analyticReferences,
  blurImage,
  flatImage,
  isStrictlyMonotone,
} from './helpers/metrics-images.ts';

/** A random grey image whose tonemapped values are `tm` (so tests can reason in that domain). */
function greyFromTonemapped(width: number, height: number, tm: (i: number) => number): Image {
  const image = createImage(width, height, 3);
  for (let i = 0; i < width * height; i++) {
    const v = tm(i);
    image.data.set(inverseTonemapPixel(v, v, v), i * 3);
  }
  return image;
}

test('psnr: constant offset 0.1 in the tonemapped domain is 20 dB', () => {
  // Linear 1 tonemaps to 0.5, linear 1.5 to 0.6.
  const ref = flatImage(5, 4, [1, 1, 1]);
  const t = flatImage(5, 4, [1.5, 1.5, 1.5]);
  assert.ok(Math.abs(mse(t, ref) - 0.01) < 1e-7);
  assert.ok(Math.abs(psnr(t, ref) - 20) < 1e-4);
  assert.equal(psnr(t, ref), psnr(ref, t));
});

test('psnr: one channel off by 0.5 in one pixel of four', () => {
  const ref = flatImage(2, 2, [0, 0, 0]);
  const t = flatImage(2, 2, [0, 0, 0]);
  t.data[3 * 3] = 1; // tonemaps to 0.5 in red, the others stay 0
  const expected = (0.5 * 0.5) / 12;
  assert.ok(Math.abs(mse(t, ref) - expected) < 1e-9);
  assert.ok(Math.abs(psnr(t, ref) - -10 * Math.log10(expected)) < 1e-6);
});

test('psnr: identity is +Infinity; meanPsnr averages MSE and caps', () => {
  const [ref] = analyticReferences();
  assert.equal(psnr(ref!, ref!), Infinity);
  assert.equal(meanPsnr([0, 0]), PSNR_CAP_DB);
  // Mean of MSEs 0.01 and 0.03 is 0.02: 16.99 dB, not the mean of 20 and 15.23 dB.
  assert.ok(Math.abs(meanPsnr([0.01, 0.03]) - -10 * Math.log10(0.02)) < 1e-12);
  assert.ok(Number.isNaN(meanPsnr([])));
});

test('psnr: alpha is ignored and negative values clamp to 0', () => {
  const ref = flatImage(3, 3, [0.2, 0.4, 0.8]);
  const rgba = createImage(3, 3, 4);
  for (let i = 0; i < 9; i++) rgba.data.set([0.2, 0.4, 0.8, i], i * 4);
  assert.equal(psnr(rgba, ref), Infinity);
  const negative = flatImage(3, 3, [-5, 0, 0]);
  assert.equal(psnr(negative, flatImage(3, 3, [0, 0, 0])), Infinity);
});

test('NaN/Inf in the test image count as maximal error', () => {
  const ref = flatImage(4, 4, [0, 0, 0]);
  for (const bad of [NaN, Infinity, -Infinity]) {
    const t = flatImage(4, 4, [0, 0, 0]);
    t.data[5 * 3 + 1] = bad;
    // The pixel reads as (1, 1, 1) against black: MSE 3 / 48.
    assert.ok(Math.abs(mse(t, ref) - 1 / 16) < 1e-9, `${bad}`);
    assert.ok(Number.isFinite(psnr(t, ref)));
    const big = flatImage(12, 12, [0, 0, 0]);
    big.data[(6 * 12 + 6) * 3] = bad;
    const s = ssim(big, flatImage(12, 12, [0, 0, 0]));
    assert.ok(Number.isFinite(s) && s < 0.99, `ssim ${s}`);
  }
  const white = flatImage(12, 12, [1e9, 1e9, 1e9]);
  const broken = flatImage(12, 12, [1e9, 1e9, 1e9]);
  broken.data.fill(NaN, 0, 3 * 12);
  assert.ok(ssim(broken, white) < 0.99, 'a NaN row lowers SSIM');
});

test('mismatched sizes: RangeError naming both sizes', () => {
  const a = flatImage(4, 3, [0, 0, 0]);
  const b = flatImage(3, 4, [0, 0, 0]);
  assert.throws(
    () => psnr(a, b),
    (e: unknown) => e instanceof RangeError && /4x3.*3x4/.test(e.message),
  );
  assert.throws(
    () => ssim(flatImage(12, 12, [0, 0, 0]), flatImage(12, 13, [0, 0, 0])),
    /12x12.*12x13/,
  );
  assert.throws(() => psnr(createImage(2, 2, 1), createImage(2, 2, 1)), /3 or 4 channels/);
  assert.throws(() => ssim(a, a), /at least 11x11/);
});

test('ssim: identity is 1, symmetric, map is the valid region', () => {
  const [ref] = analyticReferences();
  const blurred = blurImage(ref!, 1);
  const same = ssimWithMap(ref!, ref!);
  assert.equal(same.mean, 1);
  assert.equal(same.map.width, 64 - 10);
  assert.equal(same.map.height, 48 - 10);
  assert.ok(same.map.data.every((v) => v === 1));
  assert.equal(ssim(blurred, ref!), ssim(ref!, blurred));
});

test('ssim: flat images shifted in luma match the formula by hand', () => {
  // Flat windows have σ = 0, so SSIM = (2ab + C1) / (a² + b² + C1) exactly.
  const a = 0.5;
  const b = 0.6;
  const expected = (2 * a * b + 1e-4) / (a * a + b * b + 1e-4); // 0.6001 / 0.6101
  const got = ssimWithMap(flatImage(13, 12, [1.5, 1.5, 1.5]), flatImage(13, 12, [1, 1, 1]));
  assert.ok(Math.abs(got.mean - expected) < 1e-6, `${got.mean} vs ${expected}`);
  assert.ok(got.map.data.every((v) => Math.abs(v - expected) < 1e-6));
});

test('ssim: a luma shift on a textured image leaves only the luminance term', () => {
  // Shifting every value by d keeps σx = σy = σxy, so each window's SSIM is the luminance term
  // (2μ(μ + d) + C1) / (μ² + (μ + d)² + C1) with μ the window's Gaussian mean.
  const rand = mulberry32(3);
  const values = Array.from({ length: 14 * 13 }, () => 0.2 + 0.5 * rand());
  const ref = greyFromTonemapped(14, 13, (i) => values[i]!);
  const shifted = greyFromTonemapped(14, 13, (i) => values[i]! + 0.1);
  const g = Array.from({ length: 11 }, (_, i) => Math.exp(-((i - 5) ** 2) / (2 * 1.5 * 1.5)));
  const gs = g.reduce((s, v) => s + v, 0);
  const got = ssimWithMap(shifted, ref);
  let sum = 0;
  for (let cy = 5; cy < 13 - 5; cy++) {
    for (let cx = 5; cx < 14 - 5; cx++) {
      let mu = 0;
      for (let j = -5; j <= 5; j++) {
        for (let i = -5; i <= 5; i++) {
          // The tonemapped grey value of the reference pixel (up to float32 rounding).
          mu += ((g[i + 5]! * g[j + 5]!) / (gs * gs)) * values[(cy + j) * 14 + cx + i]!;
        }
      }
      const s = (2 * mu * (mu + 0.1) + 1e-4) / (mu * mu + (mu + 0.1) ** 2 + 1e-4);
      const m = got.map.data[(cy - 5) * got.map.width + (cx - 5)]!;
      assert.ok(Math.abs(m - s) < 1e-5, `window (${cx}, ${cy}): ${m} vs ${s}`);
      sum += s;
    }
  }
  assert.ok(Math.abs(got.mean - sum / (4 * 3)) < 1e-5);
});

test('psnr and ssim fall strictly with blur and with noise on the analytic reference', () => {
  const [ref] = analyticReferences();
  const blurs = [0.5, 1, 1.5, 2, 3].map((s) => blurImage(ref!, s));
  const noisy = [0.01, 0.03, 0.1, 0.3, 1].map((s) => addNoise(ref!, s));
  for (const [name, images] of [
    ['blur', blurs],
    ['noise', noisy],
  ] as const) {
    const p = images.map((t) => psnr(t, ref!));
    const s = images.map((t) => ssim(t, ref!));
    assert.ok(isStrictlyMonotone(p, true), `${name} psnr ${p.join(', ')}`);
    assert.ok(isStrictlyMonotone(s, true), `${name} ssim ${s.join(', ')}`);
  }
});
