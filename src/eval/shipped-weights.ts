/**
 * The trained network weights that ship with Uplift (weights/, with their model card beside
 * them). One file serves Performance (2×) and Quality (1.5×): it was trained on both ratios.
 * Node only (the browser fetches the file itself and hands the bytes to createUpscaler).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Path of the shipped weights file. */
export const SHIPPED_WEIGHTS = fileURLToPath(
  new URL('../../weights/uplift-v2.uplift', import.meta.url),
);

/** The shipped weights file, or undefined where it is absent (e.g. a bundle without weights/). */
export function shippedWeights(): string | undefined {
  return existsSync(SHIPPED_WEIGHTS) ? SHIPPED_WEIGHTS : undefined;
}
