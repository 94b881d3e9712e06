/**
 * Motion-vector estimates: the per-axis scale (sign and size) that best warps frame t − 1 onto
 * frame t, in whatever units the vectors are (UV, render or display pixels), and the direction
 * (vectors to the previous frame, as Uplift wants, or to the next).
 *
 * The fit is a search, not an optimiser: every candidate is one warp of a few frame pairs and its
 * mean error. First the conventions engines use (UV, render pixels, display pixels, a pixel→UV
 * conversion applied the wrong way round), each with the four sign combinations; then, in the
 * best one's unit, a grid of scales k ∈ [−2.5, 2.5] per axis (coordinate descent; a second round
 * within ±0.5), refined to 0.005. The residual curves of the first round go to the report.
 */
import type { Size } from '../core/quality.ts';
import { warpResidual, type WarpPair } from './warp.ts';

/** One axis's residual curve: scale factor k (in the fitted unit) → mean warp error. */
export interface ResidualCurve {
  readonly k: number[];
  readonly residual: number[];
}

export interface MotionScaleFit {
  /** The unit of the vectors, per axis, as a factor to UV: 1 (UV), 1/w (render px), 1/W, w. */
  readonly unit: [number, number];
  readonly unitName: string;
  /** Fitted factor in that unit, per axis (1 = the vectors are right). */
  readonly k: [number, number];
  /** unit · k: the factor to multiply motionScale by. */
  readonly scale: [number, number];
  /**
   * The stored jitter difference's factor that fits the content best, per axis: 1 (as stored),
   * −1 (the content is jittered the other way), 0 (the content is not jittered as stored).
   */
  readonly jitter: [number, number];
  /** Mean warp error: with zero motion, as given (scale 1, jitter as stored), at the fit. */
  readonly residualZero: number;
  readonly residualGiven: number;
  readonly residualBest: number;
  readonly curves: [ResidualCurve, ResidualCurve];
}

/** Scale factors of the grid search (in the fitted unit). */
const GRID = Array.from({ length: 51 }, (_, i) => Math.round((i * 0.1 - 2.5) * 100) / 100);
/** Jitter-difference factors tried per axis. */
const JITTER = [1, -1, 0];

/** The unit conventions tried, per axis, with names for messages. */
function units(renderSize: Size, displaySize: Size): Array<{ name: string; u: [number, number] }> {
  const [w, h] = renderSize;
  const [W, H] = displaySize;
  const list = [
    { name: 'UV', u: [1, 1] as [number, number] },
    { name: 'render pixels', u: [1 / w, 1 / h] as [number, number] },
    { name: 'display pixels', u: [1 / W, 1 / H] as [number, number] },
    { name: 'UV converted as if pixels', u: [w, h] as [number, number] },
  ];
  // At native resolution render and display pixels are the same candidate.
  return W === w && H === h ? list.filter((c) => c.name !== 'display pixels') : list;
}

/** Golden-section search of a 1D function on [a, b]. */
function goldenMin(f: (x: number) => number, a: number, b: number, steps: number): number {
  const g = (Math.sqrt(5) - 1) / 2;
  let [lo, hi] = [a, b];
  let x1 = hi - g * (hi - lo);
  let x2 = lo + g * (hi - lo);
  let [f1, f2] = [f(x1), f(x2)];
  for (let i = 0; i < steps; i++) {
    if (f1 <= f2) {
      hi = x2;
      [x2, f2] = [x1, f1];
      x1 = hi - g * (hi - lo);
      f1 = f(x1);
    } else {
      lo = x1;
      [x1, f1] = [x2, f2];
      x2 = lo + g * (hi - lo);
      f2 = f(x2);
    }
  }
  return (lo + hi) / 2;
}

const argmin = (values: readonly number[]) =>
  values.reduce((best, v, i) => (v < values[best]! - 1e-12 ? i : best), 0);

/**
 * The best of the conventions engines use: each unit, the four sign combinations and the named
 * factors 1, 0.5, 2 (ties go to the earlier: factor 1 first), with the stored jitter.
 */
export function bestConvention(
  pairs: readonly WarpPair[],
  renderSize: Size,
  displaySize: Size,
): { name: string; u: [number, number]; k: [number, number]; r: number } {
  let start = {
    name: 'UV',
    u: [1, 1] as [number, number],
    k: [1, 1] as [number, number],
    r: Infinity,
  };
  for (const magnitude of [1, 0.5, 2]) {
    for (const c of units(renderSize, displaySize)) {
      for (const [sx, sy] of [
        [1, 1],
        [-1, 1],
        [1, -1],
        [-1, -1],
      ] as const) {
        const k: [number, number] = [sx * magnitude, sy * magnitude];
        const r = warpResidual(pairs, [c.u[0] * k[0], c.u[1] * k[1]]);
        if (r < start.r - 1e-12) start = { ...c, k, r };
      }
    }
  }
  return start;
}

/** Fits the per-axis motion scale and the jitter difference's sign over the pairs. */
export function fitMotionScale(
  pairs: readonly WarpPair[],
  renderSize: Size,
  displaySize: Size,
): MotionScaleFit {
  const R = (s: readonly [number, number], j: readonly [number, number]) =>
    warpResidual(pairs, s, (p) => [p.jitterDelta[0] * j[0], p.jitterDelta[1] * j[1]]);
  // 1. The best convention, signs and named factor.
  const start = bestConvention(pairs, renderSize, displaySize);
  const u = start.u;
  const at = (k: readonly number[], j: readonly number[]) =>
    R([u[0] * k[0]!, u[1] * k[1]!], [j[0]!, j[1]!]);
  // 2. Coordinate descent, two rounds: per axis the jitter factor, then the scale on the grid.
  const k = [start.k[0]!, start.k[1]!];
  const j = [1, 1];
  const curves: [ResidualCurve, ResidualCurve] = [
    { k: GRID, residual: [] },
    { k: GRID, residual: [] },
  ];
  // The first round scans the whole grid (the report's curves); the second only ±0.5 around it.
  for (let round = 0; round < 2; round++) {
    for (const axis of [0, 1]) {
      const withJ = (v: number) => (axis === 0 ? [v, j[1]!] : [j[0]!, v]);
      j[axis] = JITTER[argmin(JITTER.map((v) => at(k, withJ(v))))]!;
      const withK = (v: number) => (axis === 0 ? [v, k[1]!] : [k[0]!, v]);
      const grid = round === 0 ? GRID : GRID.filter((g) => Math.abs(g - k[axis]!) <= 0.5);
      const residual = grid.map((g) => at(withK(g), j));
      k[axis] = grid[argmin(residual)]!;
      if (round === 0) curves[axis] = { k: GRID, residual };
    }
  }
  // 3. Refine each axis to about 0.005 around the grid minimum.
  k[0] = goldenMin((x) => at([x, k[1]!], j), k[0]! - 0.1, k[0]! + 0.1, 12);
  k[1] = goldenMin((y) => at([k[0]!, y], j), k[1]! - 0.1, k[1]! + 0.1, 12);
  return {
    unit: u,
    unitName: start.name,
    k: [k[0]!, k[1]!],
    scale: [u[0] * k[0]!, u[1] * k[1]!],
    jitter: [j[0]!, j[1]!],
    residualZero: R([0, 0], [1, 1]),
    residualGiven: R([1, 1], [1, 1]),
    residualBest: at(k, j),
    curves,
  };
}

/**
 * Factors the check names, with how far a fitted k may be from one to be taken as it: ±15 % around
 * ±1 (on a 48×32 capture moving a pixel a frame, single fits scatter by about 10 %), ±10 % around
 * ±0.5 and ±2, so the ranges never overlap.
 */
const NAMED: ReadonlyArray<readonly [number, number]> = [
  [1, 0.15],
  [-1, 0.15],
  [0.5, 0.05],
  [-0.5, 0.05],
  [2, 0.2],
  [-2, 0.2],
];

/** k snapped to a named factor when near one, else rounded to 2 decimals. */
export function snapFactor(k: number): number {
  for (const [n, tolerance] of NAMED) if (Math.abs(k - n) <= tolerance) return n;
  return Math.round(k * 100) / 100;
}

/** Median length of the vectors in render pixels (how much motion there is to fit). */
export function medianMotionPixels(pairs: readonly WarpPair[], renderSize: Size): number {
  const lengths: number[] = [];
  for (const p of pairs) {
    const d = p.motion.data;
    for (let i = 0; i < d.length; i += 2)
      lengths.push(Math.hypot(d[i]! * renderSize[0], d[i + 1]! * renderSize[1]));
  }
  lengths.sort((a, b) => a - b);
  return lengths.length ? lengths[lengths.length >> 1]! : 0;
}
