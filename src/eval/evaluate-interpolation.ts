/**
 * Evaluates frame generation against a sequence rendered at the higher rate (its reference frames
 * are the truth of every stream frame): every method generates the instants between the same
 * displayed frames, and each method's stream (displayed and generated frames in order) is
 * measured in the display domain. Generated frames get PSNR, SSIM and ꟻLIP, summarized within
 * shots (PSNR: the mean of MSEs, then dB) with the frames whose pair spans a cut apart; tPSNR and
 * flicker run over the whole stream, since popping between generated and displayed frames is what
 * a viewer sees. Warm-up counts input frames from the start and from each cut (the upscaler's
 * history): the stream frames from a warm-up frame up to the next displayed one are reported
 * apart. One generated frame is kept for crops: where the first method is worst within shots.
 */
import { InputError } from '../core/errors.ts';
import type { Image } from '../core/image.ts';
import type { FrameSource } from '../core/frame.ts';
import {
  createSequenceMetrics,
  displayFlip,
  displayMse,
  meanPsnr,
  toDisplayPair,
  type FrameMetrics,
  type SequenceMetrics,
} from '../metrics/index.ts';
import {
  createInterpolationMethod,
  type InterpolationMethod,
  type InterpolationMethodSpec,
} from './interpolation-methods.ts';
import { interpolateSequence, type InterpolateSequenceOptions } from './interpolate-sequence.ts';

export interface EvaluateInterpolationOptions extends InterpolateSequenceOptions {
  /** Input frames at the start and after each cut reported apart. Default 0. */
  warmupFrames?: number;
  /** Whether to compute ꟻLIP on generated frames. Default true. */
  flip?: boolean;
  /** Called once per input frame (progress). */
  onProgress?(frame: number): void;
}

/** Metrics of one frame of a method's higher-rate stream. */
export interface StreamFrameMetrics extends FrameMetrics {
  /** Generated (else displayed). */
  generated: boolean;
  /** Time of a generated frame between its displayed frames. */
  t?: number;
  /** A generated frame whose pair spans a camera cut. */
  cut?: boolean;
}

/** Means over a group of generated frames. */
export interface GeneratedSummary {
  frames: number;
  /** meanPsnr of the frames' MSEs (NaN for no frames). */
  psnr: number;
  ssim: number;
  /** Absent when ꟻLIP is switched off. */
  flip?: number;
}

/** Means over the steady generated frames of one instant t (3× and 4× make several per pair). */
export interface InstantSummary extends GeneratedSummary {
  t: number;
}

export interface InterpolationMethodResult {
  method: string;
  /**
   * Generated frames within shots after the warm-up; in the warm-up; across cuts; and the first
   * group split by t (ascending).
   */
  summary: {
    steady: GeneratedSummary;
    warmup: GeneratedSummary;
    cuts: GeneratedSummary;
    steadyByT: InstantSummary[];
  };
  /** tPSNR (mean of MSEs, then dB) and flicker over the stream frames after the warm-up. */
  stream: { tpsnr?: number; flicker?: number };
  frames: StreamFrameMetrics[];
  /** The showcase frame of this method (linear RGB). */
  showcase: Image;
}

export interface InterpolationSequenceResult {
  sequence: string;
  higherRate: string;
  renderSize: readonly [number, number];
  displaySize: readonly [number, number];
  factor: number;
  upscale: string;
  /** Input frames. */
  frameCount: number;
  warmupFrames: number;
  /** The displayed frames' PSNR against the truth (mean of MSEs, dB; the same for every method). */
  displayedPsnr: number;
  /** Stream number of the generated frame kept for crops. */
  showcaseFrame: number;
  /** Its truth (linear RGB). */
  reference: Image;
  methods: InterpolationMethodResult[];
}

/** Per method while the stream runs. */
interface MethodRun {
  method: InterpolationMethod;
  metrics: SequenceMetrics;
  frames: StreamFrameMetrics[];
  /** MSE of each generated frame, by stream number. */
  mse: Map<number, number>;
  showcase?: Image;
}

/** Runs `methods` over `source` at `factor` × its rate and measures them against `higherRate`. */
export async function evaluateInterpolation(
  device: GPUDevice,
  source: FrameSource,
  higherRate: FrameSource,
  specs: readonly InterpolationMethodSpec[],
  options: EvaluateInterpolationOptions,
): Promise<InterpolationSequenceResult> {
  const { factor } = options;
  const warmupFrames = options.warmupFrames ?? 0;
  if (warmupFrames >= source.frameCount) {
    throw new InputError(
      `${source.name}: a warm-up of ${warmupFrames} frames leaves none of its ${source.frameCount} steady; lower the warm-up (--warmup)`,
    );
  }
  const runs: MethodRun[] = [];
  try {
    for (const spec of specs) {
      runs.push({
        method: await createInterpolationMethod(device, spec, source.header.displaySize),
        // The stream's warm-up: `warmupFrames` displayed frames and the frames generated after them.
        metrics: createSequenceMetrics({ warmupFrames: warmupFrames * factor, flip: false }),
        frames: [],
        mse: new Map(),
      });
    }
    const displayedMse: number[] = [];
    let worst = { frame: -1, mse: -1, truth: undefined as Image | undefined };
    const truthOf = async (frame: number) => {
      if (frame > 0 && higherRate.frameParams(frame).reset) for (const r of runs) r.metrics.reset();
      const truth = (await higherRate.readFrame(frame)).reference;
      if (!truth) {
        throw new InputError(
          `${higherRate.name}: frame ${higherRate.frameNumber(frame)} has no reference image; the higher-rate sequence needs reference/ frames`,
        );
      }
      return truth;
    };
    await interpolateSequence(device, source, options, {
      async onInstant({ frame, t, cut, params }, previous, current, inputs) {
        const truth = await truthOf(frame);
        for (const run of runs) {
          const image = await run.method.generate(previous, current, inputs, params);
          const pair = toDisplayPair(image, truth, `${run.method.name} frame ${frame}`);
          const metrics: StreamFrameMetrics = {
            ...run.metrics.addFrame(image, truth),
            frame,
            generated: true,
            t,
            cut,
          };
          if (options.flip !== false) metrics.flip = displayFlip(pair).mean;
          run.frames.push(metrics);
          run.mse.set(frame, displayMse(pair));
          if (run === runs[0] && !cut && run.mse.get(frame)! > worst.mse) {
            worst = { frame, mse: run.mse.get(frame)!, truth };
            for (const r of runs) r.showcase = undefined;
          }
          if (worst.frame === frame) run.showcase = image;
        }
      },
      async onDisplayed(k, frame, displayed) {
        const truth = await truthOf(frame);
        displayedMse.push(displayMse(toDisplayPair(displayed, truth, `frame ${frame}`)));
        for (const run of runs) {
          run.frames.push({ ...run.metrics.addFrame(displayed, truth), frame, generated: false });
        }
        options.onProgress?.(k);
      },
    });
    if (worst.frame < 0) {
      throw new InputError(
        `${source.name}: no generated frame within a shot to show (every pair spans a cut)`,
      );
    }
    return {
      sequence: source.name,
      higherRate: higherRate.name,
      renderSize: source.header.renderSize,
      displaySize: source.header.displaySize,
      factor,
      upscale: options.upscale,
      frameCount: source.frameCount,
      warmupFrames,
      displayedPsnr: meanPsnr(displayedMse),
      showcaseFrame: worst.frame,
      reference: worst.truth!,
      methods: runs.map((run) => summarizeRun(run, options.flip !== false)),
    };
  } finally {
    for (const run of runs) run.method.destroy();
  }
}

function summarizeRun(run: MethodRun, withFlip: boolean): InterpolationMethodResult {
  const generated = run.frames.filter((f) => f.generated);
  const group = (frames: readonly StreamFrameMetrics[]): GeneratedSummary => {
    const summary: GeneratedSummary = {
      frames: frames.length,
      psnr: meanPsnr(frames.map((f) => run.mse.get(f.frame)!)),
      ssim: mean(frames.map((f) => f.ssim)),
    };
    if (withFlip) summary.flip = mean(frames.map((f) => f.flip!));
    return summary;
  };
  const { steady } = run.metrics.summary();
  const steadyFrames = generated.filter((f) => !f.cut && !f.warmup);
  return {
    method: run.method.name,
    summary: {
      steady: group(steadyFrames),
      warmup: group(generated.filter((f) => !f.cut && f.warmup)),
      cuts: group(generated.filter((f) => f.cut)),
      steadyByT: byInstant(steadyFrames).map(([t, frames]) => ({ t, ...group(frames) })),
    },
    stream: {
      ...(steady.tpsnr !== undefined ? { tpsnr: steady.tpsnr } : {}),
      ...(steady.flicker !== undefined ? { flicker: steady.flicker } : {}),
    },
    frames: run.frames,
    showcase: run.showcase!,
  };
}

/** Frames grouped by their t, ascending (t of one instant is the same j / factor everywhere). */
export function byInstant(frames: readonly StreamFrameMetrics[]): [number, StreamFrameMetrics[]][] {
  const groups = new Map<number, StreamFrameMetrics[]>();
  for (const f of frames) {
    if (f.t === undefined) continue;
    if (!groups.has(f.t)) groups.set(f.t, []);
    groups.get(f.t)!.push(f);
  }
  return [...groups.entries()].sort(([a], [b]) => a - b);
}

const mean = (values: readonly number[]) => values.reduce((s, v) => s + v, 0) / values.length;
