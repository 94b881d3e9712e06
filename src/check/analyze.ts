/**
 * Runs every estimate of the check on loaded frames (src/check/frames.ts) and keeps what the
 * findings and the report need. No judgement here: src/check/findings.ts turns these numbers into
 * findings and a fix.
 */
import type { FrameImages, FrameParams, SequenceHeader } from '../core/frame.ts';
import type { Size } from '../core/quality.ts';
import { colorStats, type ColorStats } from './color.ts';
import {
  depthStats,
  disocclusionCue,
  disocclusionVote,
  plausibleInversion,
  type DepthStats,
  type DisocclusionVote,
} from './depth.ts';
import type { CheckFrames } from './frames.ts';
import { alignJitter, jitterPattern, type JitterAlignment, type JitterPattern } from './jitter.ts';
import {
  bestConvention,
  fitMotionScale,
  medianMotionPixels,
  type MotionScaleFit,
} from './motion.ts';
import { findMismatch, type MismatchResult } from './regions.ts';
import { analysisFactor, buildPairs, warpResidual, type WarpPair } from './warp.ts';

export interface AnalyzeOptions {
  /** Frame pairs searched for regions where the vectors disagree. Default: all. */
  mismatchPairs?: number;
  /** Widest analysis image for the motion fit (frames are box-downscaled to it). Default 256. */
  maxWidth?: number;
  /** Skip the search for regions where the vectors disagree with the image (the slow part). */
  skipMismatch?: boolean;
}

export interface Analysis {
  readonly name: string;
  readonly header: SequenceHeader;
  readonly params: readonly FrameParams[];
  readonly images: ReadonlyMap<number, FrameImages>;
  readonly factor: number;
  readonly pairs: readonly WarpPair[];
  readonly motion?: {
    readonly fit: MotionScaleFit;
    /** Median vector length in render pixels, as given. */
    readonly medianPixels: number;
    /** Mean warp error with the fit: frame t − 1 onto t, and t + 1 onto t with the fit negated. */
    readonly backward: number;
    readonly forward?: number;
    readonly disocclusionShare: number;
    readonly mismatch?: MismatchResult;
  };
  readonly jitter: { readonly pattern: JitterPattern; readonly alignment?: JitterAlignment };
  readonly depth: { readonly stats: DepthStats; readonly vote?: DisocclusionVote };
  readonly color: ColorStats;
}

export function analyzeFrames(frames: CheckFrames, options: AnalyzeOptions = {}): Analysis {
  const { header, params, images } = frames;
  const renderSize: Size = header.renderSize;
  const factor = analysisFactor(renderSize, options.maxWidth ?? 256);
  const pairs = buildPairs(frames, factor);
  const base = {
    name: frames.name,
    header,
    params,
    images,
    factor,
    pairs,
    jitter: { pattern: jitterPattern(params, renderSize, header.displaySize) },
    depth: { stats: depthStats(header, params, images) },
    color: colorStats(params, images),
  };
  if (pairs.length === 0) return base;
  const fit = fitMotionScale(pairs, renderSize, header.displaySize);
  const jitterOf = (p: WarpPair) =>
    [p.jitterDelta[0] * fit.jitter[0], p.jitterDelta[1] * fit.jitter[1]] as const;
  const forwardPairs = buildPairs(frames, factor, 'forward');
  const negated: [number, number] = [-fit.scale[0], -fit.scale[1]];
  // The cue in the orientation the depth range supports (a reversed depth would flag edges).
  const depthInverted = plausibleInversion(base.depth.stats, header);
  const cueOf = (pair: WarpPair) => {
    const p = params[pair.frame]!;
    return disocclusionCue(
      images.get(pair.frame)!,
      images.get(pair.frame - 1)!.depth,
      p,
      depthInverted,
      [p.motionScale[0] * fit.scale[0], p.motionScale[1] * fit.scale[1]],
      factor,
    );
  };
  const disocclusionShare =
    pairs.reduce(
      (s, pair) => s + cueOf(pair).filter((c) => c > 0.5).length / pair.currentLuma.length,
      0,
    ) / pairs.length;
  return {
    ...base,
    motion: {
      fit,
      medianPixels: medianMotionPixels(pairs, renderSize),
      backward: warpResidual(pairs, fit.scale, jitterOf),
      ...(forwardPairs.length
        ? {
            forward: Math.min(
              warpResidual(forwardPairs, negated, jitterOf),
              bestConvention(forwardPairs, renderSize, header.displaySize).r,
            ),
          }
        : {}),
      disocclusionShare,
      ...(options.skipMismatch
        ? {}
        : {
            mismatch: findMismatch(pairs.slice(0, options.mismatchPairs), fit, cueOf, factor),
          }),
    },
    jitter: { ...base.jitter, alignment: alignJitter(pairs, fit.scale) },
    depth: { ...base.depth, vote: disocclusionVote(pairs, header, params, images, fit, factor) },
  };
}
