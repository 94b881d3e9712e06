/**
 * The value checks the training configs share (src/train/config.ts, src/train/framegen/config.ts):
 * each throws an InputError that starts with the config's name and names the key and the value.
 */
import { InputError } from '../core/errors.ts';
import { showValue } from '../core/strict-json.ts';

export interface ConfigChecks {
  /**
   * `v` as a positive integer, at most the key's limit (an indexed key, `a[1]`, takes `a`'s) or
   * else Number.MAX_SAFE_INTEGER.
   */
  positiveInt(key: string, v: unknown): number;
  /** `v` as a non-negative finite number. */
  nonNegative(key: string, v: unknown): number;
  /** Throws for the first key of `value` that `known` does not have. */
  checkKeys(value: object, known: object, prefix: string): void;
}

/**
 * The checks of the config called `name` (e.g. "training config"), with the largest values it
 * accepts per key in `limits`: beyond them a run cannot fit in memory or in any time limit, and
 * would fail late with a raw error.
 */
export function configChecks(name: string, limits: Readonly<Record<string, number>>): ConfigChecks {
  return {
    positiveInt(key, v) {
      const limit = limits[key.replace(/\[\d+\]$/, '')];
      const most = limit ?? Number.MAX_SAFE_INTEGER;
      if (!Number.isInteger(v) || (v as number) <= 0 || (v as number) > most) {
        const range = limit === undefined ? '' : ` up to ${limit}`;
        throw new InputError(
          `${name}: ${key} must be a positive integer${range}, got ${showValue(v)}`,
        );
      }
      return v as number;
    },
    nonNegative(key, v) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new InputError(
          `${name}: ${key} must be a non-negative finite number, got ${showValue(v)}`,
        );
      }
      return v;
    },
    checkKeys(value, known, prefix) {
      for (const key of Object.keys(value)) {
        if (!Object.hasOwn(known, key)) {
          throw new InputError(`${name}: unknown key ${showValue(prefix + key)}`);
        }
      }
    },
  };
}
