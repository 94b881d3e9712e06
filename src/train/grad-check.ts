/**
 * Finite-difference gradient checks in float64 on CPU reference functions: every backward
 * (op, loss, frame) is compared against central differences of its forward here.
 */
import { mulberry32 } from '../core/random.ts';

/** Float arrays the CPU references accept (float64 for gradient checks). */
export type Real = Float32Array | Float64Array;

export interface GradCheckOptions {
  /** Central-difference step (default 1e-6, right for float64 and O(1) inputs). */
  readonly step?: number;
  /** Check at most this many coordinates, chosen at random (default: all). */
  readonly maxChecks?: number;
  /** Seed of the random choice of coordinates. */
  readonly seed?: number;
  /** Relative errors are taken against max(|analytic|, |numeric|, floor) (default 1e-6). */
  readonly floor?: number;
}

export interface GradCheckResult {
  /** Largest |analytic − numeric| / max(|analytic|, |numeric|, floor) over the checked coordinates. */
  readonly maxRelativeError: number;
  /** Largest |analytic − numeric|. */
  readonly maxAbsoluteError: number;
  /** Coordinate of the largest relative error (-1 if none checked). */
  readonly worstIndex: number;
  readonly analyticAtWorst: number;
  readonly numericAtWorst: number;
  /** Number of coordinates compared. */
  readonly checked: number;
}

/** Central difference of the scalar function `f` along coordinate `i` of `x` (x is restored). */
export function numericPartial(
  f: (x: Float64Array) => number,
  x: Float64Array,
  i: number,
  step = 1e-6,
): number {
  const saved = x[i]!;
  x[i] = saved + step;
  const plus = f(x);
  x[i] = saved - step;
  const minus = f(x);
  x[i] = saved;
  return (plus - minus) / (2 * step);
}

/**
 * Compares `analytic` (the claimed gradient of `f` at `x`) with central differences, coordinate by
 * coordinate. `f` is evaluated twice per checked coordinate; `x` is left unchanged.
 */
export function checkGradient(
  f: (x: Float64Array) => number,
  x: Float64Array,
  analytic: ArrayLike<number>,
  options: GradCheckOptions = {},
): GradCheckResult {
  if (analytic.length !== x.length) {
    throw new RangeError(`analytic gradient has ${analytic.length} values, x has ${x.length}`);
  }
  const step = options.step ?? 1e-6;
  const floor = options.floor ?? 1e-6;
  const indices = chooseIndices(x.length, options.maxChecks, options.seed ?? 1);
  let maxRelativeError = 0;
  let maxAbsoluteError = 0;
  let worstIndex = -1;
  let analyticAtWorst = 0;
  let numericAtWorst = 0;
  for (const i of indices) {
    const numeric = numericPartial(f, x, i, step);
    const a = analytic[i]!;
    const abs = Math.abs(a - numeric);
    const rel = abs / Math.max(Math.abs(a), Math.abs(numeric), floor);
    maxAbsoluteError = Math.max(maxAbsoluteError, abs);
    // `!(rel <= max)` also catches NaN, which must surface as the worst error.
    if (!(rel <= maxRelativeError) || worstIndex < 0) {
      maxRelativeError = Number.isNaN(rel) ? Infinity : rel;
      worstIndex = i;
      analyticAtWorst = a;
      numericAtWorst = numeric;
    }
  }
  return {
    maxRelativeError,
    maxAbsoluteError,
    worstIndex,
    analyticAtWorst,
    numericAtWorst,
    checked: indices.length,
  };
}

/** Σ a·b: turns a tensor-valued function into the scalar `f` that `checkGradient` needs. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`dot of lengths ${a.length} and ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Float64 array of `n` uniform values in [lo, hi) from a seeded generator. */
export function randomReal(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  const random = mulberry32(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * random();
  return out;
}

/** A one-line description of a result, for assertion messages. */
export function describeGradCheck(what: string, r: GradCheckResult): string {
  return (
    `${what}: max relative error ${r.maxRelativeError.toExponential(2)} at ${r.worstIndex} ` +
    `(analytic ${r.analyticAtWorst}, numeric ${r.numericAtWorst}) over ${r.checked} coordinates`
  );
}

function chooseIndices(n: number, maxChecks: number | undefined, seed: number): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  if (maxChecks === undefined || maxChecks >= n) return all;
  // Partial Fisher–Yates: a deterministic random subset.
  const random = mulberry32(seed);
  for (let i = 0; i < maxChecks; i++) {
    const j = i + Math.floor(random() * (n - i));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, maxChecks).sort((a, b) => a - b);
}
