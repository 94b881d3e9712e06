/**
 * Depth estimates. Orientation: a perspective device depth with near = 0 puts almost every pixel
 * beyond twice the near plane (d > ~0.5), so the share of pixels that would sit closer than 2·near
 * under the header's convention, and under the flipped one, says which end is near. Disocclusions
 * give a second, independent vote: where the prepare pass's disocclusion cue fires under the right
 * orientation, frame t − 1 really held something else (the warp error is high); under the wrong
 * one it fires on edges of foreground that moved with its vectors.
 */
import { DEPTH8_GRID, code8 } from '../core/engine-inputs.ts';
import type { FrameImages, FrameParams, SequenceHeader } from '../core/frame.ts';
import { createImage, type Image } from '../core/image.ts';
import { prepareFrameCpu, viewDepth } from '../reference/prepare.ts';
import { downscale, interiorMean, warpErrors, warpPrevious, type WarpPair } from './warp.ts';

export const HISTOGRAM_BINS = 64;
/** Share of pixels closer than 2·near above which a depth convention is implausible. */
export const IMPLAUSIBLE_NEAR = 0.5;

export interface DepthStats {
  /** Pixel counts of device depth in 64 bins over [0, 1]. */
  readonly histogram: number[];
  readonly min: number;
  readonly max: number;
  readonly nonFinite: number;
  /** Values outside [0, 1]. */
  readonly outOfRange: number;
  readonly pixels: number;
  /** Every value is k / 255 (an 8-bit depth target), and how many codes are used. */
  readonly eightBit: boolean;
  readonly codes: number;
  /** Share of pixels closer than 2·near under the header's convention, and flipped. */
  readonly nearShare: number;
  readonly nearShareFlipped: number;
}

/** Histogram, range and orientation statistics of the loaded frames' depth. */
export function depthStats(
  header: SequenceHeader,
  params: readonly FrameParams[],
  images: ReadonlyMap<number, FrameImages>,
): DepthStats {
  const histogram = new Array<number>(HISTOGRAM_BINS).fill(0);
  let [min, max, nonFinite, outOfRange, pixels, near, nearFlipped] = [
    Infinity,
    -Infinity,
    0,
    0,
    0,
    0,
    0,
  ];
  let eightBit = true;
  const codes = new Set<number>();
  for (const [index, frame] of images) {
    const p = params[index]!;
    for (const d of frame.depth.data) {
      pixels++;
      if (!Number.isFinite(d)) {
        nonFinite++;
        continue;
      }
      min = Math.min(min, d);
      max = Math.max(max, d);
      if (d < 0 || d > 1) outOfRange++;
      histogram[Math.min(HISTOGRAM_BINS - 1, Math.max(0, Math.floor(d * HISTOGRAM_BINS)))]!++;
      const code = code8(DEPTH8_GRID, d);
      if (eightBit && DEPTH8_GRID.levels[code] !== d) eightBit = false;
      if (codes.size <= 256) codes.add(code);
      const camera = { ...p, exposure: 1 };
      if (viewDepth(d, { ...camera, depthInverted: header.depthInverted }) < 2 * p.cameraNear)
        near++;
      if (viewDepth(d, { ...camera, depthInverted: !header.depthInverted }) < 2 * p.cameraNear)
        nearFlipped++;
    }
  }
  const finite = Math.max(1, pixels - nonFinite);
  return {
    histogram,
    min,
    max,
    nonFinite,
    outOfRange,
    pixels,
    eightBit,
    codes: eightBit ? codes.size : 0,
    nearShare: near / finite,
    nearShareFlipped: nearFlipped / finite,
  };
}

export interface DisocclusionVote {
  /** Share of pixels the cue flags (> 0.5), under the header's orientation and flipped. */
  readonly share: number;
  readonly shareFlipped: number;
  /** Mean warp error on flagged pixels over the mean on all pixels (the cue's "lift"). */
  readonly lift: number;
  readonly liftFlipped: number;
}

/** The prepare pass's disocclusion cue at analysis resolution (0..1 per pixel). */
export function disocclusionCue(
  current: FrameImages,
  previousDepth: Image,
  params: FrameParams,
  depthInverted: boolean,
  motionScale: readonly [number, number],
  factor: number,
): Float32Array {
  const color = downscale(current.color, factor, true);
  const prepared = prepareFrameCpu(
    {
      color,
      depth: downscale(current.depth, factor, false),
      motion: downscale(current.motion, factor, false),
    },
    downscale(previousDepth, factor, false),
    { ...params, motionScale, depthInverted },
  );
  const out = new Float32Array(color.width * color.height);
  for (let i = 0; i < out.length; i++) out[i] = prepared.motion.data[i * 4 + 2]!;
  return out;
}

/** Where the cue fires under each orientation, against the warp error there. */
export function disocclusionVote(
  pairs: readonly WarpPair[],
  header: SequenceHeader,
  params: readonly FrameParams[],
  images: ReadonlyMap<number, FrameImages>,
  fit: { scale: readonly [number, number]; jitter: readonly [number, number] },
  factor: number,
): DisocclusionVote {
  const sums = [0, 0].map(() => ({ flagged: 0, pixels: 0, errFlagged: 0, err: 0 }));
  for (const pair of pairs) {
    const p = params[pair.frame]!;
    const warped = warpPrevious(pair, fit.scale, [
      pair.jitterDelta[0] * fit.jitter[0],
      pair.jitterDelta[1] * fit.jitter[1],
    ]);
    const errors = warpErrors(pair, warped);
    const scale: [number, number] = [
      p.motionScale[0] * fit.scale[0],
      p.motionScale[1] * fit.scale[1],
    ];
    [header.depthInverted, !header.depthInverted].forEach((inverted, k) => {
      const cue = disocclusionCue(
        images.get(pair.frame)!,
        images.get(pair.frame - 1)!.depth,
        p,
        inverted,
        scale,
        factor,
      );
      const flags = cue.map((c) => (c > 0.5 ? 1 : 0));
      const s = sums[k]!;
      s.flagged += interiorMean(pair, flags);
      s.pixels += 1;
      s.errFlagged += interiorMean(
        pair,
        errors.map((e, i) => e * flags[i]!),
      );
      s.err += interiorMean(pair, errors);
    });
  }
  const [a, b] = sums as [(typeof sums)[0], (typeof sums)[0]];
  const lift = (s: typeof a) =>
    s.flagged > 0 ? s.errFlagged / s.flagged / Math.max(1e-9, s.err / s.pixels) : 0;
  return {
    share: a.flagged / Math.max(1, a.pixels),
    shareFlipped: b.flagged / Math.max(1, b.pixels),
    lift: lift(a),
    liftFlipped: lift(b),
  };
}

/** depthInverted as the depth range supports it: the header's, unless only the other fits. */
export function plausibleInversion(stats: DepthStats, header: SequenceHeader): boolean {
  const flip = stats.nearShare >= IMPLAUSIBLE_NEAR && stats.nearShareFlipped < IMPLAUSIBLE_NEAR;
  return flip ? !header.depthInverted : header.depthInverted;
}

/** A depth image as gray for pictures: near bright, far dark, in the header's convention. */
export function depthPicture(depth: Image, inverted: boolean): Image {
  const out = createImage(depth.width, depth.height, 3);
  let [lo, hi] = [Infinity, -Infinity];
  for (const d of depth.data) {
    if (!Number.isFinite(d)) continue;
    lo = Math.min(lo, inverted ? d : 1 - d);
    hi = Math.max(hi, inverted ? d : 1 - d);
  }
  for (let i = 0; i < depth.width * depth.height; i++) {
    const d = depth.data[i]!;
    const v = Number.isFinite(d) ? ((inverted ? d : 1 - d) - lo) / Math.max(1e-9, hi - lo) : 0;
    out.data.fill(Math.sqrt(Math.min(1, Math.max(0, v))), i * 3, i * 3 + 3);
  }
  return out;
}
