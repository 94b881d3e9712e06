/**
 * Per-frame and summary metrics over a sequence (DESIGN §9): PSNR, SSIM, ꟻLIP per frame and the
 * temporal tPSNR and flicker against the previous frame (temporal.ts), all in the tonemapped
 * display domain.
 *
 * Warm-up: the first `warmupFrames` frames, counted from the start and again from every reset()
 * (a camera cut clears the upscaler's history), are summarized apart from the steady frames.
 * The first frame after the start or a reset has no previous frame: no tPSNR, no flicker.
 *
 * Means: PSNR and tPSNR average the per-frame MSEs, then convert (meanPsnr, capped at
 * PSNR_CAP_DB); SSIM, ꟻLIP and flicker are arithmetic means. Per-frame PSNR and tPSNR are capped
 * at PSNR_CAP_DB too, so that reports, plots and JSON stay finite for perfect frames.
 */
import type { Image } from '../core/image.ts';
import { toDisplayPair, type DisplayPair } from './display.ts';
import { displayFlip, type FlipOptions } from './flip.ts';
import { displayMse, meanPsnr, psnrFromMse, PSNR_CAP_DB } from './psnr.ts';
import { displaySsim } from './ssim.ts';
import { displayFlicker, displayTemporalMse } from './temporal.ts';

/** Metrics of one frame. */
export interface FrameMetrics {
  /** Index of the frame in the order added (0-based, not reset by reset()). */
  frame: number;
  /** Whether the frame is in a warm-up window. */
  warmup: boolean;
  /** PSNR in dB, capped at PSNR_CAP_DB. */
  psnr: number;
  ssim: number;
  /** Mean ꟻLIP; absent when ꟻLIP is switched off. */
  flip?: number;
  /** tPSNR in dB (capped at PSNR_CAP_DB); absent on the first frame after the start or a reset. */
  tpsnr?: number;
  /** Flicker; absent on the first frame after the start or a reset. */
  flicker?: number;
}

/** Means over a group of frames. */
export interface MetricSummary {
  /** Number of frames in the group. */
  frames: number;
  /** meanPsnr of the frames' MSEs (NaN for no frames). */
  psnr: number;
  ssim: number;
  /** Mean ꟻLIP (NaN for no frames); absent when ꟻLIP is switched off. */
  flip?: number;
  /** meanPsnr of the temporal MSEs; absent if no frame of the group has one. */
  tpsnr?: number;
  /** Mean flicker; absent if no frame of the group has one. */
  flicker?: number;
}

export interface SequenceMetricsOptions {
  /** Frames at the start and after each reset() summarized apart. Default 0. */
  warmupFrames?: number;
  /** ꟻLIP options, or false to skip ꟻLIP (the slowest metric; `flip` is then absent). */
  flip?: FlipOptions | false;
}

export interface SequenceMetrics {
  /** Measures the next frame (linear RGB(A) test and reference) and returns its metrics. */
  addFrame(test: Image, ref: Image): FrameMetrics;
  /** A cut: the next frame starts a new warm-up and has no temporal metrics. */
  reset(): void;
  /** The metrics of every frame added so far. */
  perFrame(): FrameMetrics[];
  /** Means over warm-up and steady frames, and every frame's metrics. */
  summary(): { warmup: MetricSummary; steady: MetricSummary; frames: FrameMetrics[] };
}

interface FrameRecord {
  metrics: FrameMetrics;
  mse: number;
  temporalMse?: number;
}

const mean = (values: readonly number[]) => values.reduce((s, v) => s + v, 0) / values.length;

function summarize(records: readonly FrameRecord[], withFlip: boolean): MetricSummary {
  const temporal = records.filter((r) => r.temporalMse !== undefined);
  const summary: MetricSummary = {
    frames: records.length,
    psnr: meanPsnr(records.map((r) => r.mse)),
    ssim: mean(records.map((r) => r.metrics.ssim)),
  };
  if (withFlip) summary.flip = mean(records.map((r) => r.metrics.flip!));
  if (temporal.length > 0) {
    summary.tpsnr = meanPsnr(temporal.map((r) => r.temporalMse!));
    summary.flicker = mean(temporal.map((r) => r.metrics.flicker!));
  }
  return summary;
}

/**
 * Which frames are steady (not warm-up), as createSequenceMetrics counts them when its caller
 * calls reset() at every cut (as `uplift eval` does): the first `warmupFrames` frames from the
 * start and from every frame whose `resets` entry is true are warm-up. For scripts that score
 * frames themselves, so that their means are the eval's.
 */
export function steadyFrames(resets: readonly boolean[], warmupFrames: number): boolean[] {
  if (!Number.isInteger(warmupFrames) || warmupFrames < 0) {
    throw new RangeError(`warmupFrames must be a non-negative integer, got ${warmupFrames}`);
  }
  let sinceReset = 0;
  return resets.map((reset) => {
    if (reset) sinceReset = 0;
    return sinceReset++ >= warmupFrames;
  });
}

/** steadyFrames of a sequence's frames (a FrameSource, or anything that says where it cuts). */
export function sequenceSteadyFrames(
  source: { readonly frameCount: number; frameParams(index: number): { readonly reset: boolean } },
  warmupFrames: number,
): boolean[] {
  const resets = Array.from({ length: source.frameCount }, (_, i) => source.frameParams(i).reset);
  return steadyFrames(resets, warmupFrames);
}

/** Collects metrics frame by frame (see the file comment for warm-up, resets and means). */
export function createSequenceMetrics(options: SequenceMetricsOptions = {}): SequenceMetrics {
  const warmupFrames = options.warmupFrames ?? 0;
  if (!Number.isInteger(warmupFrames) || warmupFrames < 0) {
    throw new RangeError(`warmupFrames must be a non-negative integer, got ${warmupFrames}`);
  }
  const flipOptions = options.flip;
  const records: FrameRecord[] = [];
  let previous: DisplayPair | undefined;
  let sinceReset = 0;
  return {
    addFrame(test, ref) {
      const pair = toDisplayPair(test, ref, `frame ${records.length}`);
      if (previous && (previous.width !== pair.width || previous.height !== pair.height)) {
        throw new RangeError(
          `frame ${records.length} is ${pair.width}x${pair.height} but the previous frame is ` +
            `${previous.width}x${previous.height}; call reset() between sequences`,
        );
      }
      const mse = displayMse(pair);
      const metrics: FrameMetrics = {
        frame: records.length,
        warmup: sinceReset < warmupFrames,
        psnr: Math.min(PSNR_CAP_DB, psnrFromMse(mse)),
        ssim: displaySsim(pair, false).mean,
      };
      if (flipOptions !== false) metrics.flip = displayFlip(pair, flipOptions).mean;
      const record: FrameRecord = { metrics, mse };
      if (previous) {
        record.temporalMse = displayTemporalMse(previous, pair);
        metrics.tpsnr = Math.min(PSNR_CAP_DB, psnrFromMse(record.temporalMse));
        metrics.flicker = displayFlicker(previous, pair);
      }
      records.push(record);
      previous = pair;
      sinceReset++;
      return { ...metrics };
    },
    reset() {
      previous = undefined;
      sinceReset = 0;
    },
    perFrame() {
      return records.map((r) => ({ ...r.metrics }));
    },
    summary() {
      return {
        warmup: summarize(
          records.filter((r) => r.metrics.warmup),
          flipOptions !== false,
        ),
        steady: summarize(
          records.filter((r) => !r.metrics.warmup),
          flipOptions !== false,
        ),
        frames: records.map((r) => ({ ...r.metrics })),
      };
    },
  };
}
