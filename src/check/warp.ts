/**
 * Warping frame t − 1 onto frame t with a capture's motion vectors, the measurement every motion
 * and jitter estimate of the check is built on. The warp itself is the reproject pass's CPU
 * reference (Catmull-Rom, off-screen → invalid); this file only builds its inputs.
 *
 * Where frame t − 1 is read (DESIGN §4): render pixel x of frame t shows the scene at
 * x + 0.5 + j_t; that surface was at (x + 0.5 + j_t)/w + m in frame t − 1's unjittered UV, which
 * frame t − 1 holds at pixel position x + m·w + (j_t − j_{t−1}). So the warp's UV offset is
 * s·m + o / w, with s the motion scale under test and o = j_t − j_{t−1} (render pixels) the jitter
 * difference under test.
 */
import { createImage, luma, type Image } from '../core/image.ts';
import type { Size } from '../core/quality.ts';
import { tonemapImage } from '../core/tonemap.ts';
import { reprojectCpu } from '../reference/reproject.ts';
import { convolveSeparable, gaussianKernel } from '../metrics/filter.ts';

/** Error (tonemapped luma) given to a pixel the warp cannot predict, and the cap of any error. */
export const ERROR_CAP = 0.2;

/** One frame pair at analysis resolution. */
export interface WarpPair {
  /** Frame t (the second of the pair). */
  readonly frame: number;
  /** Tonemapped RGBA of frame t − 1 (the image warped) and luma of frame t. */
  readonly previous: Image;
  readonly currentLuma: Float32Array;
  /** Frame t's motion in UV with the sequence's motionScale applied, 2 channels. */
  readonly motion: Image;
  /** Stored j_t − j_{t−1}, render pixels. */
  readonly jitterDelta: readonly [number, number];
  /** The full render size (pixel offsets are in its pixels). */
  readonly renderSize: Size;
  readonly zeros: Image;
  /**
   * Pixels this close to the edge (analysis pixels) are left out of residuals: whether their
   * source is on screen depends on the scale under test, which would otherwise favour small ones.
   */
  readonly border: number;
}

/** Integer downscale factor that brings the render width to at most `maxWidth`. */
export function analysisFactor(renderSize: Size, maxWidth: number): number {
  return Math.max(1, Math.ceil(renderSize[0] / maxWidth));
}

/** Box-filtered (`box`) or centre-sampled downscale by an integer factor. */
export function downscale(image: Image, factor: number, box: boolean): Image {
  if (factor === 1) return image;
  const w = Math.max(1, Math.floor(image.width / factor));
  const h = Math.max(1, Math.floor(image.height / factor));
  const c = image.channels;
  const out = createImage(w, h, c);
  const mid = factor >> 1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        let v = 0;
        if (box) {
          for (let dy = 0; dy < factor; dy++)
            for (let dx = 0; dx < factor; dx++)
              v += image.data[((y * factor + dy) * image.width + x * factor + dx) * c + k]!;
          v /= factor * factor;
        } else {
          v = image.data[((y * factor + mid) * image.width + x * factor + mid) * c + k]!;
        }
        out.data[(y * w + x) * c + k] = v;
      }
    }
  }
  return out;
}

/** Tonemapped RGBA (alpha 1) of a linear color image; NaN and Inf become 0. */
export function tonemapRgba(color: Image): Image {
  const rgb = tonemapImage(color);
  const out = createImage(rgb.width, rgb.height, 4);
  for (let i = 0; i < rgb.width * rgb.height; i++) {
    out.data.set(rgb.data.subarray(i * 3, i * 3 + 3), i * 4);
    out.data[i * 4 + 3] = 1;
  }
  return out;
}

/**
 * A Gaussian low-pass (σ = 1 pixel) of every channel. Warps compare low-passed frames: texture
 * finer than about 3 pixels aliases in jittered frames and its apparent motion is not the
 * surface's (the analytic sequence's fine stripes fooled the unfiltered fit into forward vectors).
 */
export function lowPass(image: Image): Image {
  const k = gaussianKernel(1, 2);
  const { width, height, channels } = image;
  const out = createImage(width, height, channels);
  const plane = new Float32Array(width * height);
  const filtered = new Float32Array(width * height);
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < plane.length; i++) plane[i] = image.data[i * channels + c]!;
    convolveSeparable(plane, width, height, k, k, filtered);
    for (let i = 0; i < plane.length; i++) out.data[i * channels + c] = filtered[i]!;
  }
  return out;
}

/** Luma of each pixel of an RGB(A) image. */
export function lumaOf(image: Image): Float32Array {
  const out = new Float32Array(image.width * image.height);
  const c = image.channels;
  for (let i = 0; i < out.length; i++)
    out[i] = luma(image.data[i * c]!, image.data[i * c + 1]!, image.data[i * c + 2]!);
  return out;
}

/** Motion in UV with a per-axis scale applied (2 channels); non-finite vectors become 0. */
export function scaledMotion(motion: Image, scale: readonly [number, number]): Image {
  const out = createImage(motion.width, motion.height, 2);
  const c = motion.channels;
  for (let i = 0; i < motion.width * motion.height; i++) {
    for (let k = 0; k < 2; k++) {
      const v = motion.data[i * c + k]! * scale[k]!;
      out.data[i * 2 + k] = Number.isFinite(v) ? v : 0;
    }
  }
  return out;
}

/**
 * Frame t − 1 warped onto frame t with motion scale `scale` and jitter difference `offset`
 * (render pixels): tonemapped RGBA, a = 0 where the warp leaves the image.
 */
export function warpPrevious(
  pair: WarpPair,
  scale: readonly [number, number],
  offset: readonly [number, number],
): Image {
  const { motion } = pair;
  const uv = createImage(motion.width, motion.height, 2);
  const ox = offset[0] / pair.renderSize[0];
  const oy = offset[1] / pair.renderSize[1];
  for (let i = 0; i < motion.width * motion.height; i++) {
    uv.data[i * 2] = motion.data[i * 2]! * scale[0] + ox;
    uv.data[i * 2 + 1] = motion.data[i * 2 + 1]! * scale[1] + oy;
  }
  return reprojectCpu(uv, pair.previous, pair.zeros, false).history;
}

/** Per-pixel warp error: |Δ luma| capped at ERROR_CAP, ERROR_CAP where the warp left the image. */
export function warpErrors(pair: WarpPair, warped: Image): Float32Array {
  const out = new Float32Array(pair.currentLuma.length);
  for (let i = 0; i < out.length; i++) {
    const d = warped.data;
    if (d[i * 4 + 3]! === 0) {
      out[i] = ERROR_CAP;
      continue;
    }
    const l = luma(d[i * 4]!, d[i * 4 + 1]!, d[i * 4 + 2]!);
    out[i] = Math.min(Math.abs(l - pair.currentLuma[i]!), ERROR_CAP);
  }
  return out;
}

/** Mean of per-pixel values over the pair's interior (its border left out). */
export function interiorMean(pair: WarpPair, values: Float32Array): number {
  const { width, height } = pair.previous;
  const b = Math.min(pair.border, Math.floor((Math.min(width, height) - 1) / 2));
  let sum = 0;
  for (let y = b; y < height - b; y++)
    for (let x = b; x < width - b; x++) sum += values[y * width + x]!;
  return sum / ((width - 2 * b) * (height - 2 * b));
}

/** Mean warp error over pairs for one motion scale and one rule for the jitter difference. */
export function warpResidual(
  pairs: readonly WarpPair[],
  scale: readonly [number, number],
  offsetOf: (pair: WarpPair) => readonly [number, number] = (p) => p.jitterDelta,
): number {
  let sum = 0;
  for (const pair of pairs)
    sum += interiorMean(pair, warpErrors(pair, warpPrevious(pair, scale, offsetOf(pair))));
  return sum / Math.max(1, pairs.length);
}

/**
 * The warp pairs of the loaded frames at analysis resolution (`factor`): frame t − 1 onto t
 * (`backward`, the convention), or frame t + 1 onto t with frame t's vectors (`forward`, to test
 * vectors that point to the next frame).
 */
export function buildPairs(
  frames: {
    header: { renderSize: Size };
    params: ReadonlyArray<{
      jitter: readonly [number, number];
      motionScale: readonly [number, number];
    }>;
    images: ReadonlyMap<number, { color: Image; motion: Image }>;
    pairs: readonly number[];
  },
  factor: number,
  direction: 'backward' | 'forward' = 'backward',
): WarpPair[] {
  const step = direction === 'backward' ? -1 : 1;
  return frames.pairs.flatMap((t) => {
    const current = frames.images.get(t)!;
    const other = frames.images.get(t + step);
    if (!other) return [];
    const previous = lowPass(tonemapRgba(downscale(other.color, factor, true)));
    const p = frames.params[t]!;
    const q = frames.params[t + step]!;
    return [
      {
        frame: t,
        previous,
        currentLuma: lumaOf(lowPass(tonemapImage(downscale(current.color, factor, true)))),
        motion: scaledMotion(downscale(current.motion, factor, false), p.motionScale),
        jitterDelta: [p.jitter[0] - q.jitter[0], p.jitter[1] - q.jitter[1]] as const,
        renderSize: frames.header.renderSize,
        zeros: createImage(previous.width, previous.height, 4),
        border: Math.max(2, Math.round(0.1 * Math.min(previous.width, previous.height))),
      },
    ];
  });
}
