/**
 * Evaluates methods on sequences with references: every method runs on identical inputs, metrics
 * are computed per frame in the tonemapped display domain (DESIGN §9), warm-up frames reported
 * apart, and one showcase frame per sequence is kept for crops.
 */
import type { Image } from '../core/image.ts';
import { InputError } from '../core/errors.ts';
import { createSequenceMetrics, type FrameMetrics, type MetricSummary } from '../metrics/index.ts';
import type { FrameSource } from '../core/frame.ts';
import { runMethod, type MethodSpec } from './run-method.ts';

export interface EvaluateOptions {
  /** Frames at the start (and after each reset) reported apart. Default 8. */
  warmupFrames?: number;
  /** Whether to compute ꟻLIP (the slowest metric; absent from the results when false). Default true. */
  flip?: boolean;
  /** Which frame to keep for crops (default: the last). */
  showcaseFrame?: number;
  /** Called once per method-frame (progress). */
  onProgress?(method: string, frame: number): void;
}

export interface MethodResult {
  method: string;
  /** Means over warm-up and over steady-state frames. */
  summary: { warmup: MetricSummary; steady: MetricSummary };
  frames: FrameMetrics[];
  /** The showcase frame's output (linear RGB). */
  showcase: Image;
}

export interface SequenceResult {
  sequence: string;
  renderSize: readonly [number, number];
  displaySize: readonly [number, number];
  frameCount: number;
  warmupFrames: number;
  showcaseFrame: number;
  /** The showcase frame's reference (linear RGB). */
  reference: Image;
  methods: MethodResult[];
}

/** Runs each method over the source and measures it against the source's reference frames. */
export async function evaluateSource(
  device: GPUDevice,
  source: FrameSource,
  methods: readonly MethodSpec[],
  options: EvaluateOptions = {},
): Promise<SequenceResult> {
  const warmupFrames = options.warmupFrames ?? 8;
  if (warmupFrames >= source.frameCount) {
    // Every frame would be warm-up: the steady means would be NaN.
    throw new InputError(
      `${source.name}: a warm-up of ${warmupFrames} frames leaves none of its ${source.frameCount} steady; lower the warm-up (--warmup)`,
    );
  }
  const showcaseFrame = options.showcaseFrame ?? source.frameCount - 1;
  if (showcaseFrame < 0 || showcaseFrame >= source.frameCount) {
    throw new RangeError(`showcase frame ${showcaseFrame} outside 0..${source.frameCount - 1}`);
  }
  const missing = (i: number) =>
    new InputError(
      `${source.name}: frame ${source.frameNumber(i)} has no reference image; eval needs reference/ frames`,
    );
  if (!(await source.readFrame(0)).reference) throw missing(0);
  let reference: Image | undefined;
  const results: MethodResult[] = [];
  for (const spec of methods) {
    const metrics = createSequenceMetrics({
      warmupFrames,
      flip: options.flip === false ? false : undefined,
    });
    let showcase: Image | undefined;
    await runMethod(device, source, spec, {
      onFrame(i, output, inputs) {
        if (!inputs.reference) throw missing(i);
        if (source.frameParams(i).reset && i > 0) metrics.reset();
        metrics.addFrame(output, inputs.reference);
        if (i === showcaseFrame) {
          showcase = output;
          reference = inputs.reference;
        }
      },
      onProgress: (i) => options.onProgress?.(spec.name, i),
    });
    const { warmup, steady } = metrics.summary();
    results.push({
      method: spec.name,
      summary: { warmup, steady },
      frames: metrics.perFrame(),
      showcase: showcase!,
    });
  }
  return {
    sequence: source.name,
    renderSize: source.header.renderSize,
    displaySize: source.header.displaySize,
    frameCount: source.frameCount,
    warmupFrames,
    showcaseFrame,
    reference: reference!,
    methods: results,
  };
}
