/**
 * Comparing a GPU image stored as rgba16float with its CPU reference (`storedImage` of the float64
 * result). Both round to binary16 the same way (bit for bit, test/gpu-image.test.ts), but they
 * round different values: the GPU's f32 arithmetic and the CPU's float64 differ by ~1e-7, so where
 * that difference straddles a rounding boundary (a chance of about 1e-7 / 5e-4 per value) the two
 * halves are one binary16 step apart. The tolerance is therefore the f32 one plus one step.
 */
import assert from 'node:assert/strict';
import type { Image } from '../../src/core/image.ts';

/** One binary16 step (ulp) at |v|: 2^(e − 10) for normal halves, 2^-24 below 2^-14. */
export function halfStep(v: number): number {
  const a = Math.abs(v);
  return a < 2 ** -14 ? 2 ** -24 : 2 ** (Math.floor(Math.log2(a)) - 10);
}

/**
 * Asserts every value of `actual` (the GPU's halves) within `2e-5 + 1e-4·|e|` plus one binary16
 * step of `expected` (the CPU's, already rounded), and returns how many are bit-identical.
 */
export function assertHalvesClose(actual: Image, expected: Image, what: string): number {
  assert.equal(actual.data.length, expected.data.length, what);
  let identical = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i]!;
    const e = expected.data[i]!;
    if (Object.is(a, e)) {
      identical++;
      continue;
    }
    if (!(Math.abs(a - e) <= 2e-5 + 1e-4 * Math.abs(e) + halfStep(e))) {
      const px = Math.floor(i / expected.channels);
      assert.fail(
        `${what}: pixel ${px % expected.width},${Math.floor(px / expected.width)} channel ${i % expected.channels}: GPU ${a}, CPU ${e}`,
      );
    }
  }
  return identical;
}
