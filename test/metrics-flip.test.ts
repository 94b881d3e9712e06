import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createImage } from '../src/core/image.ts';
import { FLIP_DEFAULT_PPD, displayFlipParts, flip, pixelsPerDegree } from '../src/metrics/flip.ts';
import { toDisplayPair } from '../src/metrics/display.ts';
import {
  addNoise,
  analyticReferences,
  blockImage,
  blurImage,
  flatImage,
  isStrictlyMonotone,
} from './helpers/metrics-images.ts';

test('flip: default viewing condition is 0.7 m, 0.7 m wide, 3840 px: about 67 px/deg', () => {
  assert.ok(Math.abs(FLIP_DEFAULT_PPD - 67.0206) < 1e-4);
  assert.equal(pixelsPerDegree(0.7, 0.7, 3840), FLIP_DEFAULT_PPD);
});

test('flip: identity is 0 everywhere', () => {
  const [ref] = analyticReferences();
  const { mean, map } = flip(ref!, ref!);
  assert.equal(mean, 0);
  assert.equal(map.width, 64);
  assert.equal(map.height, 48);
  assert.ok(map.data.every((v) => v === 0));
});

test('flip: matches NVIDIA reference implementation values', () => {
  // Means computed with NVIDIA's published LDR-FLIP (github.com/NVlabs/flip, python/flip_api.py,
  // compute_ldrflip) on the same images, sRGB-encoded after our tonemap. The remaining difference
  // (< 2e-6 in the mean, < 6e-5 per pixel) comes from rounded RGB→XYZ constants and float32.
  const ref = blockImage(40, 32, 5, 11);
  const cases: [string, ReturnType<typeof blockImage>, number, number][] = [
    ['noise', addNoise(ref, 0.05, 5), FLIP_DEFAULT_PPD, 0.0569672],
    ['noise', addNoise(ref, 0.05, 5), 30, 0.1055371],
    ['blur', blurImage(ref, 1), FLIP_DEFAULT_PPD, 0.1586994],
    ['blur', blurImage(ref, 1), 30, 0.2563916],
  ];
  for (const [name, t, ppd, expected] of cases) {
    const got = flip(t, ref, { pixelsPerDegree: ppd }).mean;
    assert.ok(Math.abs(got - expected) < 1e-5, `${name} at ${ppd} ppd: ${got} vs ${expected}`);
  }
});

test('flip: symmetric in its inputs (LDR-FLIP treats both alike)', () => {
  const [ref] = analyticReferences();
  const noisy = addNoise(ref!, 0.2);
  const a = flip(noisy, ref!);
  const b = flip(ref!, noisy);
  assert.ok(Math.abs(a.mean - b.mean) < 1e-6, `${a.mean} vs ${b.mean}`);
  let max = 0;
  for (let i = 0; i < a.map.data.length; i++) {
    max = Math.max(max, Math.abs(a.map.data[i]! - b.map.data[i]!));
  }
  assert.ok(max < 1e-4, `map differs by ${max}`);
});

test('flip: black against white is near its maximum of 1', () => {
  const black = flatImage(24, 24, [0, 0, 0]);
  // Linear 1e6 tonemaps to white (≈ 1).
  const white = flatImage(24, 24, [1e6, 1e6, 1e6]);
  const grey = flatImage(24, 24, [0.25, 0.25, 0.25]);
  const bw = flip(black, white);
  assert.ok(bw.mean > 0.95 && bw.mean <= 1, `${bw.mean}`);
  assert.ok(bw.map.data.every((v) => v > 0.95 && v <= 1));
  assert.ok(flip(grey, white).mean < bw.mean);
  assert.ok(flip(black, grey).mean < bw.mean);
});

test('flip: rises strictly with blur and with noise on the analytic reference', () => {
  const [ref] = analyticReferences();
  const blur = [0.5, 1, 1.5, 2, 3].map((s) => flip(blurImage(ref!, s), ref!).mean);
  const noise = [0.01, 0.03, 0.1, 0.3, 1].map((s) => flip(addNoise(ref!, s), ref!).mean);
  assert.ok(isStrictlyMonotone(blur, false), `blur ${blur.join(', ')}`);
  assert.ok(isStrictlyMonotone(noise, false), `noise ${noise.join(', ')}`);
});

test('flip: shifting an edge by one pixel is worse than a uniform tiny change', () => {
  // A vertical black/grey edge; test A moves it one pixel, test B brightens everything slightly.
  const edge = (at: number, lift: number) => {
    const image = createImage(32, 16, 3);
    for (let y = 0; y < 16; y++) {
      for (let x = 0; x < 32; x++) {
        const v = (x < at ? 0.05 : 0.6) * lift;
        image.data.set([v, v, v], (y * 32 + x) * 3);
      }
    }
    return image;
  };
  const ref = edge(16, 1);
  const shifted = flip(edge(17, 1), ref);
  const lifted = flip(edge(16, 1.02), ref);
  const max = (d: Float32Array) => d.reduce((m, v) => Math.max(m, v), 0);
  // Measured: peaks 0.46 vs 0.032, means 0.052 vs 0.027.
  assert.ok(max(shifted.map.data) > 0.3, `edge shift peak ${max(shifted.map.data)}`);
  assert.ok(max(shifted.map.data) > 5 * max(lifted.map.data));
  assert.ok(max(lifted.map.data) < 0.1, `uniform change peak ${max(lifted.map.data)}`);
  assert.ok(shifted.mean > lifted.mean);
});

test('flip: a one-pixel checkerboard against its mean grey fades with viewing distance', () => {
  // Seen from further away (more pixels per degree) the checkerboard blurs to grey: less error.
  const checker = createImage(32, 32, 3);
  for (let i = 0; i < 32 * 32; i++) {
    const v = ((i % 32) + Math.floor(i / 32)) % 2 ? 1 : 0;
    checker.data.set([v, v, v], i * 3);
  }
  const grey = flatImage(32, 32, [1 / 3, 1 / 3, 1 / 3]); // tonemaps to 0.25, the checker's mean
  const errors = [10, 20, 40, 80].map((ppd) => flip(checker, grey, { pixelsPerDegree: ppd }).mean);
  assert.ok(isStrictlyMonotone(errors, true), errors.join(', '));
});

test('flip: NaN/Inf test pixels score 1; bad input throws', () => {
  const ref = flatImage(12, 12, [0.5, 0.5, 0.5]);
  const t = flatImage(12, 12, [0.5, 0.5, 0.5]);
  t.data[(5 * 12 + 6) * 3] = NaN;
  t.data[(2 * 12 + 3) * 3 + 2] = Infinity;
  const { map } = flip(t, ref);
  assert.equal(map.data[5 * 12 + 6], 1);
  assert.equal(map.data[2 * 12 + 3], 1);
  assert.ok(map.data.every((v) => Number.isFinite(v) && v >= 0 && v <= 1));
  assert.throws(() => flip(t, flatImage(12, 13, [0, 0, 0])), /12x12.*12x13/);
  assert.throws(() => flip(t, ref, { pixelsPerDegree: 0 }), /pixelsPerDegree/);
});

test("flip parts: the mean equals flip's, is at least the colour term, and blur shrinks the features", () => {
  const ref = blockImage(40, 32, 5, 11);
  for (const t of [blurImage(ref, 1), addNoise(ref, 0.05, 5)]) {
    const parts = displayFlipParts(toDisplayPair(t, ref));
    assert.equal(parts.mean, flip(t, ref).mean);
    // ΔE_c^(1 − ΔE_f) ≥ ΔE_c for ΔE_c in [0, 1]: where features differ the error only grows.
    assert.ok(parts.mean > parts.colorMean, `${parts.mean} > ${parts.colorMean}`);
    assert.ok(parts.colorMean > 0);
  }
  const blurred = displayFlipParts(toDisplayPair(blurImage(ref, 2), ref));
  assert.ok(blurred.edge.test < 0.9 * blurred.edge.ref, JSON.stringify(blurred.edge));
  assert.ok(blurred.point.test < 0.9 * blurred.point.ref, JSON.stringify(blurred.point));
  // A uniform shift of a flat image has no features at all: the error is the colour term.
  const flat = flatImage(16, 16, [0.3, 0.3, 0.3]);
  const shifted = flatImage(16, 16, [0.32, 0.3, 0.3]);
  const uniform = displayFlipParts(toDisplayPair(shifted, flat));
  assert.ok(uniform.colorMean > 0);
  assert.ok(Math.abs(uniform.mean - uniform.colorMean) < 1e-6);
  assert.ok(uniform.edge.ref < 1e-12 && uniform.point.ref < 1e-12);
});
