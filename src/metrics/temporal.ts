/**
 * Temporal stability metrics in the tonemapped display domain (see display.ts), over two
 * consecutive frames t−1 and t of a test sequence and its reference:
 *
 * - tPSNR: the PSNR (peak 1) of the test's frame-to-frame change against the reference's,
 *   i.e. MSE over pixels and RGB of (test_t − test_{t−1}) − (ref_t − ref_{t−1}). Higher is better;
 *   +Infinity when the test changes exactly as the reference does (sequence means cap it, see
 *   psnr.ts).
 * - flicker: the mean over pixels of |e_t − e_{t−1}|, where e = luma(test) − luma(ref) (Rec. 709,
 *   tonemapped): how much the error itself changes from frame to frame. A constant error (a steady
 *   blur, a steady offset) does not flicker; shimmer, crawling edges and history popping do. Lower
 *   is better; 0 for a static error.
 *
 * Both are computed per frame from frame 1 on, and are skipped for the first frame after a cut.
 */
import { type Image, luma } from '../core/image.ts';
import { toDisplayPair, type DisplayPair } from './display.ts';
import { psnrFromMse } from './psnr.ts';

function checkSameSize(prev: DisplayPair, cur: DisplayPair, what: string): void {
  if (prev.width !== cur.width || prev.height !== cur.height) {
    throw new RangeError(
      `${what}: previous frame is ${prev.width}x${prev.height} but current frame is ${cur.width}x${cur.height}`,
    );
  }
}

/** MSE of the test's frame-to-frame change against the reference's (tPSNR's MSE). */
export function displayTemporalMse(prev: DisplayPair, cur: DisplayPair): number {
  checkSameSize(prev, cur, 'tpsnr');
  let sum = 0;
  for (let i = 0; i < cur.test.length; i++) {
    const d = cur.test[i]! - prev.test[i]! - (cur.ref[i]! - prev.ref[i]!);
    sum += d * d;
  }
  return sum / cur.test.length;
}

/** Mean absolute frame-to-frame change of the luma error (see the file comment). */
export function displayFlicker(prev: DisplayPair, cur: DisplayPair): number {
  checkSameSize(prev, cur, 'flicker');
  const lumaError = (p: DisplayPair, i: number) =>
    luma(p.test[i]!, p.test[i + 1]!, p.test[i + 2]!) -
    luma(p.ref[i]!, p.ref[i + 1]!, p.ref[i + 2]!);
  let sum = 0;
  for (let i = 0; i < cur.test.length; i += 3)
    sum += Math.abs(lumaError(cur, i) - lumaError(prev, i));
  return sum / (cur.width * cur.height);
}

/** tPSNR in dB of a test frame pair against the reference pair; +Infinity for identical changes. */
export function tpsnr(prevTest: Image, test: Image, prevRef: Image, ref: Image): number {
  return psnrFromMse(
    displayTemporalMse(
      toDisplayPair(prevTest, prevRef, 'tpsnr'),
      toDisplayPair(test, ref, 'tpsnr'),
    ),
  );
}

/** Flicker of a test frame pair against the reference pair (see the file comment). */
export function flicker(prevTest: Image, test: Image, prevRef: Image, ref: Image): number {
  return displayFlicker(
    toDisplayPair(prevTest, prevRef, 'flicker'),
    toDisplayPair(test, ref, 'flicker'),
  );
}
