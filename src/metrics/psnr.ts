/**
 * PSNR in the tonemapped display domain (see display.ts): MSE over all pixels and the three RGB
 * channels of the tonemapped images, peak 1.
 *
 * Identical images give MSE 0 and PSNR = +Infinity (`psnr`). Averages over frames use `meanPsnr`:
 * the mean of the per-frame MSEs converted once, capped at PSNR_CAP_DB so that a perfect frame
 * does not make the mean infinite; this is the number evaluation reports show.
 */
import type { Image } from '../core/image.ts';
import { toDisplayPair, type DisplayPair } from './display.ts';

/** The PSNR reported for (near-)perfect results, in dB: MSE below 1e-10 reads as 100 dB. */
export const PSNR_CAP_DB = 100;

/** Mean squared difference of two equally long arrays. */
export function meanSquaredError(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return sum / a.length;
}

/** PSNR in dB of an MSE with peak 1: −10·log10(mse); +Infinity for mse 0. */
export function psnrFromMse(mse: number): number {
  return -10 * Math.log10(mse);
}

/** MSE of a display pair (tonemapped RGB). */
export function displayMse(pair: DisplayPair): number {
  return meanSquaredError(pair.test, pair.ref);
}

/** MSE of test against ref in the tonemapped display domain (RGB, all channels). */
export function mse(test: Image, ref: Image): number {
  return displayMse(toDisplayPair(test, ref, 'mse'));
}

/** PSNR in dB of test against ref in the tonemapped display domain; +Infinity when identical. */
export function psnr(test: Image, ref: Image): number {
  return psnrFromMse(displayMse(toDisplayPair(test, ref, 'psnr')));
}

/**
 * Mean PSNR over frames, the way reports average it: mean of the per-frame MSEs, converted to dB,
 * capped at PSNR_CAP_DB. NaN for an empty list.
 */
export function meanPsnr(mses: readonly number[]): number {
  if (mses.length === 0) return NaN;
  const mean = mses.reduce((s, v) => s + v, 0) / mses.length;
  return Math.min(PSNR_CAP_DB, psnrFromMse(mean));
}
