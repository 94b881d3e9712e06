/**
 * The display domain every metric works in (DESIGN §4, §9): linear RGB (3 or 4 channels, alpha
 * ignored) → negative channels clamped to 0 → `tonemapPixel` (c / (1 + max(r, g, b))) → [0, 1).
 *
 * Non-finite test pixels count as maximal error: a test pixel with any NaN or ±Inf channel is
 * replaced, channel by channel, by the value in {0, 1} farthest from the reference's tonemapped
 * value, and is flagged in `invalid` so per-pixel maps can mark it as fully wrong. Non-finite
 * reference channels become 0 (the reference is trusted; a broken one is the caller's problem).
 */
import { type Image, luma } from '../core/image.ts';
import { tonemapPixel } from '../core/tonemap.ts';

/** A test image and its reference in the tonemapped display domain, interleaved RGB in [0, 1]. */
export interface DisplayPair {
  readonly width: number;
  readonly height: number;
  /** Tonemapped test RGB, width * height * 3 values, non-finite pixels replaced (see above). */
  readonly test: Float32Array;
  /** Tonemapped reference RGB, width * height * 3 values. */
  readonly ref: Float32Array;
  /** 1 where the test pixel had a non-finite channel, else 0 (width * height values). */
  readonly invalid: Uint8Array;
  /** Number of invalid pixels. */
  readonly invalidCount: number;
}

/** Throws a RangeError unless both images have the same size and RGB(A) channels. */
export function checkPair(test: Image, ref: Image, what = 'metric'): void {
  if (test.width !== ref.width || test.height !== ref.height) {
    throw new RangeError(
      `${what}: test image is ${test.width}x${test.height} but reference is ${ref.width}x${ref.height}`,
    );
  }
  for (const [name, image] of [
    ['test', test],
    ['reference', ref],
  ] as const) {
    if (image.channels < 3) {
      throw new RangeError(`${what}: ${name} image needs 3 or 4 channels, got ${image.channels}`);
    }
  }
}

const finiteOrZero = (v: number) => (Number.isFinite(v) ? Math.max(v, 0) : 0);

/** Tonemaps test and reference into the display domain (see the file comment). */
export function toDisplayPair(test: Image, ref: Image, what = 'metric'): DisplayPair {
  checkPair(test, ref, what);
  const { width, height } = test;
  const n = width * height;
  const t = new Float32Array(n * 3);
  const r = new Float32Array(n * 3);
  const invalid = new Uint8Array(n);
  let invalidCount = 0;
  const tc = test.channels;
  const rc = ref.channels;
  const td = test.data;
  const rd = ref.data;
  for (let i = 0; i < n; i++) {
    const [r0, r1, r2] = tonemapPixel(
      finiteOrZero(rd[i * rc]!),
      finiteOrZero(rd[i * rc + 1]!),
      finiteOrZero(rd[i * rc + 2]!),
    );
    r[i * 3] = r0;
    r[i * 3 + 1] = r1;
    r[i * 3 + 2] = r2;
    const t0 = td[i * tc]!;
    const t1 = td[i * tc + 1]!;
    const t2 = td[i * tc + 2]!;
    if (Number.isFinite(t0) && Number.isFinite(t1) && Number.isFinite(t2)) {
      const [m0, m1, m2] = tonemapPixel(Math.max(t0, 0), Math.max(t1, 0), Math.max(t2, 0));
      t[i * 3] = m0;
      t[i * 3 + 1] = m1;
      t[i * 3 + 2] = m2;
    } else {
      invalid[i] = 1;
      invalidCount++;
      t[i * 3] = r0 < 0.5 ? 1 : 0;
      t[i * 3 + 1] = r1 < 0.5 ? 1 : 0;
      t[i * 3 + 2] = r2 < 0.5 ? 1 : 0;
    }
  }
  return { width, height, test: t, ref: r, invalid, invalidCount };
}

/** Rec. 709 luma of interleaved RGB values, one value per pixel. */
export function lumaPlane(rgb: Float32Array): Float32Array {
  const n = rgb.length / 3;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = luma(rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!);
  return out;
}
