/**
 * The shipped weights as files, for the CLI and the evaluation (Node only; the browser fetches
 * the file itself and hands the bytes to createUpscaler). One file serves Performance (2×) and
 * Quality (1.5×): it was trained on both ratios. The search is src/nn/shipped-weights.ts's.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InputError } from '../core/errors.ts';
import {
  locateShippedWeights,
  SHIPPED_MODEL_FILE,
  type ShippedWeightsFile,
} from '../nn/shipped-weights.ts';

/** Path of a shipped weights file (default the upscaler's); InputError naming the places tried. */
export function shippedWeightsPath(file: ShippedWeightsFile = SHIPPED_MODEL_FILE): string {
  const found = locateShippedWeights(file, {
    exists: (place) => existsSync(place),
    workingDirectory: pathToFileURL(`${process.cwd()}/`),
  });
  return fileURLToPath(found);
}

/** The upscaler's shipped weights file, or undefined where it is absent (a bundle elsewhere). */
export function shippedWeights(): string | undefined {
  try {
    return shippedWeightsPath();
  } catch (error) {
    if (error instanceof InputError) return undefined;
    throw error;
  }
}
