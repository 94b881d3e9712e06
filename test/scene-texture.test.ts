/**
 * The procedural textures' CPU path: the 8-bit sRGB code found by thresholds equals the direct
 * formula for every value tried (each threshold and its neighbouring doubles included), and the
 * mip chain built with plain loops equals the straightforward construction it replaced.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linearToSrgb, srgbByte, srgbToLinear } from '../src/core/tonemap.ts';
import { textureWithMips } from '../src/scene/texture.ts';

const direct = (v: number) => {
  const code = Math.round(Math.min(1, Math.max(0, linearToSrgb(v))) * 255);
  return Number.isNaN(code) ? 0 : code;
};

/** The double next to `v` towards +∞ (step 1) or −∞ (step −1); v finite and positive. */
function adjacent(v: number, step: 1 | -1): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  view.setBigUint64(0, view.getBigUint64(0) + BigInt(step));
  return view.getFloat64(0);
}

/** A seeded generator of numbers in [0, 1). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

test('srgbByte equals round(clamp(linearToSrgb(v)) · 255) at every code boundary', () => {
  let boundaries = 0;
  for (let k = 1; k <= 255; k++) {
    // The boundary between codes k − 1 and k, found here independently by bisection.
    let lo = 0;
    let hi = 1;
    for (let i = 0; i < 200; i++) {
      const mid = (lo + hi) / 2;
      if (direct(mid) >= k) hi = mid;
      else lo = mid;
    }
    for (const v of [adjacent(hi, -1), hi, adjacent(hi, 1), lo, adjacent(lo, -1)]) {
      assert.equal(srgbByte(v), direct(v), `v = ${v} (boundary of code ${k})`);
    }
    assert.equal(srgbByte(hi), k);
    boundaries++;
  }
  assert.equal(boundaries, 255);
});

test('srgbByte equals the direct form on random values, f32 values and special numbers', () => {
  const next = random(7);
  const f32 = new Float32Array(1);
  for (let i = 0; i < 200_000; i++) {
    const v = next() * 1.3 - 0.1;
    assert.equal(srgbByte(v), direct(v), `v = ${v}`);
    f32[0] = v;
    assert.equal(srgbByte(f32[0]), direct(f32[0]), `f32 v = ${f32[0]}`);
    const small = next() * 0.01; // the linear segment and its join with the power curve
    assert.equal(srgbByte(small), direct(small), `v = ${small}`);
  }
  for (const v of [0, -0, 1, -1, 2, 0.0031308, 1e-300, NaN, Infinity, -Infinity]) {
    assert.equal(srgbByte(v), direct(v), `v = ${v}`);
  }
});

/** The mip chain as it was built before the plain loops (mapping callbacks), for comparison. */
function referenceMips(width: number, height: number, level0: Uint8Array, srgb: boolean) {
  const lut = Float32Array.from({ length: 256 }, (_, v) =>
    srgb ? srgbToLinear(v / 255) : v / 255,
  );
  const toLinear = (v: number, c: number) => (c < 3 ? lut[v]! : v / 255);
  const toByte = (v: number, c: number) =>
    Math.round(Math.min(1, Math.max(0, srgb && c < 3 ? linearToSrgb(v) : v)) * 255);
  const levels = [level0];
  let [w, h] = [width, height];
  let current = Float32Array.from(level0, (v, i) => toLinear(v, i % 4));
  while (w > 1 || h > 1) {
    const nw = Math.max(1, w >> 1);
    const nh = Math.max(1, h >> 1);
    // Each texel from its 2×2 block (edges clamped), summed in the block's reading order.
    const at = (x: number, y: number, c: number) =>
      current[(Math.min(h - 1, y) * w + Math.min(w - 1, x)) * 4 + c]!;
    const next = Float32Array.from({ length: nw * nh * 4 }, (_, i) => {
      const [c, x, y] = [i % 4, Math.floor(i / 4) % nw, Math.floor(i / 4 / nw)];
      const [x0, y0] = [2 * x, 2 * y];
      return (at(x0, y0, c) + at(x0 + 1, y0, c) + at(x0, y0 + 1, c) + at(x0 + 1, y0 + 1, c)) / 4;
    });
    levels.push(Uint8Array.from(next, (v, i) => toByte(v, i % 4)));
    current = next;
    [w, h] = [nw, nh];
  }
  return levels;
}

test('textureWithMips builds the same levels as the construction it replaced', () => {
  const next = random(11);
  for (const [width, height, srgb] of [
    [16, 16, true],
    [13, 6, true],
    [8, 1, false],
    [32, 8, false],
  ] as const) {
    const level0 = new Uint8Array(width * height * 4);
    for (let i = 0; i < level0.length; i++) level0[i] = Math.floor(next() * 256);
    const built = textureWithMips(width, height, level0, srgb);
    const expected = referenceMips(width, height, level0, srgb);
    assert.equal(built.levels.length, expected.length, `${width}x${height} levels`);
    built.levels.forEach((level, i) => {
      assert.deepEqual(level, expected[i], `${width}x${height} srgb ${srgb}: level ${i}`);
    });
  }
});
