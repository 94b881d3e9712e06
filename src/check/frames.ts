/**
 * What `uplift check` reads of a sequence: every frame's parameters (cheap), and the images of a
 * few frame triplets (t − 1, t, t + 1) spread over the sequence, so that a long capture costs
 * what a short one does. A fix (`CheckFix`) is applied to a source in memory, so the check can be
 * re-run on the corrected capture without writing anything.
 */
import { InputError } from '../core/errors.ts';
import type { FrameImages, FrameParams, FrameSource, SequenceHeader } from '../core/frame.ts';
import { createImage, type Image } from '../core/image.ts';
import { linearToSrgb, srgbToLinear } from '../core/tonemap.ts';

/**
 * Settings the check can suggest, as an engine developer would change them. Each is relative to
 * what the sequence says now: `motionScale` multiplies every frame's motionScale, `jitterScale`
 * every stored jitter (−1 flips the sign), `fovYScale` every fovY, `cameraFarScale` every far
 * plane (Infinity: an infinite far plane), `depthInverted` and `colorSpace` replace the header's.
 */
export interface CheckFix {
  motionScale?: [number, number];
  jitterScale?: [number, number];
  fovYScale?: number;
  cameraFarScale?: number;
  depthInverted?: boolean;
  colorSpace?: 'linear' | 'srgb';
}

/** JSON.stringify's replacer for the check's output: an infinite value is spelled "Infinity". */
export function checkJsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value) && !Number.isNaN(value))
    return value > 0 ? 'Infinity' : '-Infinity';
  return value;
}

/** A fix as JSON (an infinite far plane scale reads "Infinity"). */
export function fixJson(fix: CheckFix): string {
  return JSON.stringify(fix, checkJsonReplacer);
}

/** The loaded part of a sequence. */
export interface CheckFrames {
  readonly name: string;
  readonly header: SequenceHeader;
  readonly params: readonly FrameParams[];
  /** Frame index → images (only the frames of the chosen triplets). */
  readonly images: ReadonlyMap<number, FrameImages>;
  /** Frames t whose previous frame is loaded and not separated by a reset (t − 1 → t pairs). */
  readonly pairs: readonly number[];
}

/** Frames t with a usable t − 1 (no reset at t), at most `maxPairs`, spread evenly. */
function choosePairs(params: readonly FrameParams[], maxPairs: number): number[] {
  const usable = params.flatMap((p, t) => (t > 0 && !p.reset ? [t] : []));
  if (usable.length <= maxPairs) return usable;
  return Array.from(
    { length: maxPairs },
    (_, k) => usable[Math.round((k * (usable.length - 1)) / Math.max(1, maxPairs - 1))]!,
  );
}

/** Reads the frames the check needs: for each chosen pair t, frames t − 1, t and t + 1. */
export async function loadCheckFrames(source: FrameSource, maxPairs = 6): Promise<CheckFrames> {
  if (source.frameCount < 1) throw new InputError(`${source.name}: the sequence has no frames`);
  const params = Array.from({ length: source.frameCount }, (_, i) => source.frameParams(i));
  const pairs = choosePairs(params, maxPairs);
  const wanted = new Set<number>(pairs.length === 0 ? [0] : []);
  for (const t of pairs) {
    wanted.add(t - 1).add(t);
    if (t + 1 < source.frameCount && !params[t + 1]!.reset) wanted.add(t + 1);
  }
  const images = new Map<number, FrameImages>();
  for (const i of [...wanted].sort((a, b) => a - b)) images.set(i, await source.readFrame(i));
  return { name: source.name, header: source.header, params, images, pairs };
}

/** RGB of an image re-encoded (linear → sRGB code values) or decoded (sRGB → linear). */
function mapColor(image: Image, f: (v: number) => number): Image {
  const out = createImage(image.width, image.height, image.channels);
  const c = image.channels;
  for (let i = 0; i < image.data.length; i++) {
    out.data[i] = i % c < 3 ? f(image.data[i]!) : image.data[i]!;
  }
  return out;
}

/** The frames as they would be with `fix` applied (the images are shared where unchanged). */
export function applyFix(frames: CheckFrames, fix: CheckFix): CheckFrames {
  const m = fix.motionScale ?? [1, 1];
  const j = fix.jitterScale ?? [1, 1];
  const params = frames.params.map((p) => ({
    ...p,
    motionScale: [p.motionScale[0] * m[0], p.motionScale[1] * m[1]] as [number, number],
    jitter: [p.jitter[0] * j[0], p.jitter[1] * j[1]] as [number, number],
    fovY: p.fovY * (fix.fovYScale ?? 1),
    cameraFar: p.cameraFar * (fix.cameraFarScale ?? 1),
  }));
  const header = { ...frames.header };
  if (fix.depthInverted !== undefined) header.depthInverted = fix.depthInverted;
  let images = frames.images;
  if (fix.colorSpace !== undefined && fix.colorSpace !== frames.header.colorSpace) {
    // The reader already decoded per the old colorSpace: undo that, then apply the new one.
    const f = fix.colorSpace === 'srgb' ? srgbToLinear : linearToSrgb;
    header.colorSpace = fix.colorSpace;
    images = new Map(
      [...frames.images].map(([i, im]) => [i, { ...im, color: mapColor(im.color, f) }]),
    );
  }
  return { ...frames, header, params, images };
}
