import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  halton,
  jitterOffset,
  jitterPhaseCount,
  mipBias,
  parseQuality,
  parseSize,
  renderSizeFor,
  QUALITY_RATIOS,
} from '../src/core/index.ts';
import {
  inverseTonemapPixel,
  tonemapPixel,
  srgbToLinear,
  linearToSrgb,
} from '../src/core/tonemap.ts';

test('halton matches hand-computed values', () => {
  assert.equal(halton(1, 2), 0.5);
  assert.equal(halton(2, 2), 0.25);
  assert.equal(halton(3, 2), 0.75);
  assert.ok(Math.abs(halton(1, 3) - 1 / 3) < 1e-15);
  assert.ok(Math.abs(halton(5, 3) - (2 / 3 + 1 / 9)) < 1e-15);
});

test('jitter phase count as FSR 2 counts it: 18 / 23 / 32 / 72', () => {
  for (const [ratio, expected] of [
    [1.5, 18],
    [1.7, 23],
    [2.0, 32],
    [3.0, 72],
    [1.0, 8],
  ] as const) {
    const [rw] = renderSizeFor([3840, 2160], ratio);
    assert.equal(jitterPhaseCount(rw, 3840), expected, `ratio ${ratio}`);
  }
});

test('jitter offsets are Halton(2,3) at (i mod N) + 1 minus 0.5, in [-0.5, 0.5)', () => {
  assert.deepEqual(jitterOffset(0, 32), [0, 1 / 3 - 0.5]);
  assert.deepEqual(jitterOffset(32, 32), jitterOffset(0, 32));
  const seen = new Set<string>();
  for (let i = 0; i < 32; i++) {
    const [x, y] = jitterOffset(i, 32);
    assert.ok(x >= -0.5 && x < 0.5 && y >= -0.5 && y < 0.5);
    seen.add(`${x},${y}`);
  }
  assert.equal(seen.size, 32, 'phases are distinct');
});

test('quality modes, render size and mip bias', () => {
  assert.equal(parseQuality('performance'), 2);
  assert.equal(parseQuality('1.7'), 1.7);
  assert.throws(() => parseQuality('huge'), /quality must be one of/);
  assert.throws(() => parseQuality(3.5), /ratio in \[1, 3\]/);
  assert.deepEqual(renderSizeFor([1920, 1080], QUALITY_RATIOS.quality), [1280, 720]);
  assert.deepEqual(renderSizeFor([1920, 1080], QUALITY_RATIOS.balanced), [1129, 635]);
  assert.equal(mipBias([960, 540], [1920, 1080]), -2);
  assert.deepEqual(parseSize('64x32'), [64, 32]);
  assert.throws(() => parseSize('64*32', '--display'), /--display must look like/);
});

test('tonemap is reversible and sRGB round-trips', () => {
  for (const c of [
    [0, 0, 0],
    [0.2, 0.5, 0.9],
    [10, 3, 0.1],
  ] as const) {
    const t = tonemapPixel(c[0], c[1], c[2]);
    assert.ok(Math.max(...t) < 1);
    const back = inverseTonemapPixel(t[0], t[1], t[2]);
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(back[i]! - c[i]!) < 1e-9 * (1 + c[i]!));
  }
  for (const v of [0, 0.001, 0.2, 0.5, 1])
    assert.ok(Math.abs(srgbToLinear(linearToSrgb(v)) - v) < 1e-12);
});
