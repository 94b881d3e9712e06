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
import { cameraConsistency, cameraPair, type CameraConsistency } from './camera.ts';
import type { CheckFrames } from './frames.ts';
import { alignJitter, jitterPattern, type JitterAlignment, type JitterPattern } from './jitter.ts';
import {
  bestConvention,
  fitMotionScale,
  medianMotionPixels,
  snapFactor,
  type MotionScaleFit,
} from './motion.ts';
import { findMismatch, type MismatchResult } from './regions.ts';
import { analysisFactor, buildPairs, downscale, warpResidual, type WarpPair } from './warp.ts';

export interface AnalyzeOptions {
  /** Frame pairs searched for regions where the vectors disagree. Default: all. */
  mismatchPairs?: number;
  /** Widest analysis image for the motion fit (frames are box-downscaled to it). Default 256. */
  maxWidth?: number;
  /** Skip the search for regions where the vectors disagree with the image (the slow part). */
  skipMismatch?: boolean;
  /** Skip the fit of depth and lens to the motion of static surfaces. */
  skipCamera?: boolean;
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
  readonly depth: {
    readonly stats: DepthStats;
    readonly vote?: DisocclusionVote;
    /** Depth and lens against the motion of static surfaces (absent when it cannot be judged). */
    readonly camera?: CameraConsistency;
  };
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
            mismatch: findMismatch(
              pairs.slice(0, options.mismatchPairs),
              fit,
              cueOf,
              factor,
              (pair) => maskOf(images.get(pair.frame)!, factor),
            ),
          }),
    },
    jitter: { ...base.jitter, alignment: alignJitter(pairs, fit.scale) },
    depth: {
      ...base.depth,
      vote: disocclusionVote(pairs, header, params, images, fit, factor),
      ...(options.skipCamera ? {} : cameraOf(frames, fit, base.depth.stats, depthInverted)),
    },
  };
}

/** The reactive and transparency masks of a frame at analysis resolution (their maximum). */
function maskOf(frame: FrameImages, factor: number): Float32Array | undefined {
  const masks = [frame.reactive, frame.transparency].filter((m) => m !== undefined);
  if (masks.length === 0) return undefined;
  const small = masks.map((m) => downscale(m, factor, true));
  const out = new Float32Array(small[0]!.width * small[0]!.height);
  for (const m of small)
    for (let i = 0; i < out.length; i++) out[i] = Math.max(out[i]!, m.data[i * m.channels]!);
  return out;
}

/**
 * The camera fit on the pairs, with the vectors and jitter as the motion fit corrected them and
 * the orientation the depth range supports. Not run where depth cannot carry it: values outside
 * [0, 1], or an 8-bit depth target (a handful of levels over the whole scene).
 */
function cameraOf(
  frames: CheckFrames,
  fit: MotionScaleFit,
  stats: DepthStats,
  depthInverted: boolean,
): { camera?: CameraConsistency } {
  if (stats.nonFinite > 0 || stats.outOfRange > 0 || stats.eightBit) return {};
  // The image fit's factor is coarse (±10 %); the camera fit wants the vectors exact, so it takes
  // the named convention the fit points to (a sign, ×0.5, ×2, a unit), else the vectors as given.
  const k = fit.k.map(snapFactor);
  const named = k.every((v) => [1, -1, 0.5, -0.5, 2, -2].includes(v));
  const scale = named ? [fit.unit[0] * k[0]!, fit.unit[1] * k[1]!] : [1, 1];
  const pairs = frames.pairs.map((t) => {
    const p = frames.params[t]!;
    return cameraPair(
      t,
      frames.images.get(t)!,
      p,
      frames.params[t - 1]!,
      [p.motionScale[0] * scale[0]!, p.motionScale[1] * scale[1]!],
      [p.jitter[0] * fit.jitter[0], p.jitter[1] * fit.jitter[1]],
      depthInverted,
    );
  });
  const camera = cameraConsistency(pairs);
  return camera ? { camera } : {};
}
