/**
 * Jitter estimates. The stored jitter alone tells whether there is any and which pattern it
 * follows (Halton(2,3) and its phase count, DESIGN §4). Against the content, per frame pair, the
 * sub-pixel offset that best aligns frame t − 1 with frame t (after the motion vectors) is the
 * content's jitter difference j_t − j_{t−1}; regressed on the stored difference it gives the
 * factor per axis: 1 when they agree, −1 for a flipped sign, w or w/2 for jitter stored in UV or
 * NDC units, and a spread with nothing stored means the content is jittered but the jitter is not
 * reported.
 */
import { halton, jitterPhaseCount } from '../core/jitter.ts';
import type { FrameParams } from '../core/frame.ts';
import type { Size } from '../core/quality.ts';
import { interiorMean, warpErrors, warpPrevious, type WarpPair } from './warp.ts';

export interface JitterPattern {
  /** Every stored jitter is (0, 0). */
  readonly none: boolean;
  /** Distinct stored offsets, and the share of a 4×4 grid over the pixel they visit. */
  readonly distinct: number;
  readonly coverage: number;
  /** 'halton' (Halton(2,3) − 0.5, index advancing by one), 'negated-halton', or 'other'. */
  readonly kind: 'halton' | 'negated-halton' | 'other' | 'none';
  /** The phase count seen (the index where the sequence wraps), if it wrapped. */
  readonly phaseCount?: number;
  /** FSR 2's count for this ratio (DESIGN §4). */
  readonly expectedPhaseCount: number;
}

/** Halton index 1..limit of an offset (±(halton − 0.5)), or 0. */
function haltonIndex(j: readonly [number, number], sign: number, limit = 1024): number {
  for (let k = 1; k <= limit; k++) {
    if (
      Math.abs(sign * (halton(k, 2) - 0.5) - j[0]) < 1e-5 &&
      Math.abs(sign * (halton(k, 3) - 0.5) - j[1]) < 1e-5
    )
      return k;
  }
  return 0;
}

/** What the stored jitter sequence is. */
export function jitterPattern(
  params: readonly FrameParams[],
  renderSize: Size,
  displaySize: Size,
): JitterPattern {
  const expectedPhaseCount = jitterPhaseCount(renderSize[0], displaySize[0]);
  const jitters = params.map((p) => p.jitter);
  const keys = new Set(jitters.map((j) => `${j[0].toFixed(5)},${j[1].toFixed(5)}`));
  const cells = new Set(
    jitters.map((j) =>
      [0, 1].map((a) => Math.min(3, Math.max(0, Math.floor((j[a]! + 0.5) * 4)))).join(),
    ),
  );
  const base = { distinct: keys.size, coverage: cells.size / 16, expectedPhaseCount };
  if (jitters.every((j) => j[0] === 0 && j[1] === 0)) return { ...base, none: true, kind: 'none' };
  for (const [sign, kind] of [
    [1, 'halton'],
    [-1, 'negated-halton'],
  ] as const) {
    const index = jitters.map((j) => haltonIndex(j, sign));
    if (index.some((k) => k === 0)) continue;
    let phaseCount: number | undefined;
    const advancing = index.every((k, i) => {
      if (i === 0 || k === index[i - 1]! + 1) return true;
      if (k !== 1) return false;
      phaseCount = index[i - 1]!;
      return true;
    });
    if (advancing) return { ...base, none: false, kind, ...(phaseCount ? { phaseCount } : {}) };
  }
  return { ...base, none: false, kind: 'other' };
}

/** Offset (render px, per axis) that best aligns one pair after the motion: a 2D search. */
export function alignOffset(pair: WarpPair, scale: readonly [number, number]): [number, number] {
  const R = (o: readonly [number, number]) =>
    interiorMean(pair, warpErrors(pair, warpPrevious(pair, scale, o)));
  const o: [number, number] = [0, 0];
  // Coarse to fine; the coarse step twice, as the axes interact most there.
  for (const [step, rounds] of [
    [0.2, 2],
    [0.05, 1],
    [0.0125, 1],
  ] as const) {
    for (let round = 0; round < rounds; round++) {
      for (const axis of [0, 1]) {
        let best = o[axis]!;
        let bestR = R(o);
        const centre = o[axis]!;
        for (let i = -4; i <= 4; i++) {
          const t: [number, number] = [o[0], o[1]];
          t[axis] = centre + i * step;
          const r = R(t);
          if (r < bestR - 1e-12) [best, bestR] = [t[axis], r];
        }
        o[axis] = best;
      }
    }
  }
  return o;
}

export interface JitterAlignment {
  /** Per pair: stored difference and measured (content) difference, render pixels. */
  readonly points: Array<{ frame: number; stored: [number, number]; measured: [number, number] }>;
  /** Least-squares factor measured ≈ factor · stored per axis (undefined: nothing stored). */
  readonly factor: [number | undefined, number | undefined];
  /** RMS of the measured differences, per axis (content jitter present when well above 0). */
  readonly measuredRms: [number, number];
}

/** Measures the content's jitter differences and regresses them on the stored ones. */
export function alignJitter(
  pairs: readonly WarpPair[],
  scale: readonly [number, number],
): JitterAlignment {
  const points = pairs.map((p) => ({
    frame: p.frame,
    stored: [p.jitterDelta[0], p.jitterDelta[1]] as [number, number],
    measured: alignOffset(p, scale),
  }));
  const factor = [0, 1].map((a) => {
    const ss = points.reduce((s, p) => s + p.stored[a]! ** 2, 0);
    if (ss < 1e-8) return undefined;
    return points.reduce((s, p) => s + p.stored[a]! * p.measured[a]!, 0) / ss;
  }) as [number | undefined, number | undefined];
  const measuredRms = [0, 1].map((a) =>
    Math.sqrt(points.reduce((s, p) => s + p.measured[a]! ** 2, 0) / Math.max(1, points.length)),
  ) as [number, number];
  return { points, factor, measuredRms };
}
