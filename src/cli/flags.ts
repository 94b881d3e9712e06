/** Parsing of numeric command-line flags, with errors that name the flag and the text given. */
import { InputError } from '../core/errors.ts';

/** `text` as an integer ≥ `min`, or an InputError naming `flag`. */
export function parseInteger(text: string, flag: string, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    throw new InputError(`${flag} must be an integer ≥ ${min}, got "${text}"`);
  }
  return value;
}

/** `text` as a finite number > 0, or an InputError naming `flag`. */
export function parsePositiveNumber(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new InputError(`${flag} must be a positive number, got "${text}"`);
  }
  return value;
}
