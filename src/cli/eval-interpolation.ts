/**
 * `uplift eval <seq>… --higher-rate <seq>…`: frame generation scored against sequences rendered
 * at `--factor` times the rate (one per input, same order), every method on the same displayed
 * frames; writes the frame-generation report (src/report/write-interpolation-report.ts).
 */
import { InputError } from '../core/errors.ts';
import type { FrameSource } from '../core/frame.ts';
import { parseInterpolationMethods } from '../eval/interpolation-methods.ts';
import {
  checkHigherRate,
  DISPLAYED_FRAMES,
  type DisplayedFrames,
} from '../eval/interpolate-sequence.ts';
import {
  evaluateInterpolation,
  type InterpolationSequenceResult,
} from '../eval/evaluate-interpolation.ts';
import { writeInterpolationReport } from '../report/write-interpolation-report.ts';
import { prepareOutputDirectory } from './output-dir.ts';
import { openSequenceArg } from './sequence-arg.ts';
import { cliGpu } from './gpu-arg.ts';
import { createProgress } from './progress.ts';
import { printRows } from './summary-table.ts';

export interface EvalInterpolationOptions {
  higherRate: string[];
  methods?: string;
  factor?: string;
  upscale?: string;
  model?: string;
  report: string;
  warmup?: string;
  flip: boolean;
  quiet?: boolean;
}

/** The frame generation methods `eval --higher-rate` runs when --methods is not given. */
export const DEFAULT_INTERPOLATION_METHODS = 'heuristic,neural,blend,repeat';

export async function evalInterpolation(
  sequences: string[],
  opts: EvalInterpolationOptions,
): Promise<void> {
  const methods = parseInterpolationMethods(opts.methods ?? DEFAULT_INTERPOLATION_METHODS);
  const factor = Number(opts.factor ?? '2');
  if (![2, 3, 4].includes(factor)) {
    throw new InputError(`--factor must be 2, 3 or 4, got "${opts.factor}"`);
  }
  const upscale = opts.upscale ?? 'reference';
  if (!(DISPLAYED_FRAMES as readonly string[]).includes(upscale)) {
    throw new InputError(`--upscale must be taau, neural or reference, got "${upscale}"`);
  }
  if (opts.model && upscale !== 'neural') {
    throw new InputError(
      '--model is for --upscale neural (frame generation weights: neural:<file>)',
    );
  }
  const warmupFrames = Number(opts.warmup ?? '0');
  if (!Number.isInteger(warmupFrames) || warmupFrames < 0) {
    throw new InputError(`--warmup must be a non-negative integer, got "${opts.warmup}"`);
  }
  if (opts.higherRate.length !== sequences.length) {
    throw new InputError(
      `--higher-rate names ${opts.higherRate.length} sequence(s) for ${sequences.length} input(s); give one per input, in the same order`,
    );
  }
  const pairs: [FrameSource, FrameSource][] = [];
  for (const [i, s] of sequences.entries()) {
    const source = await openSequenceArg(s);
    const path = opts.higherRate[i]!;
    const higherRate = await openSequenceArg(path);
    await checkHigherRate(higherRate, path, source, factor, '--higher-rate');
    pairs.push([source, higherRate]);
  }
  prepareOutputDirectory(opts.report, {
    inputs: [...sequences, ...opts.higherRate],
    overwrite: false,
    frames: false,
    flag: '--report',
  });
  const gpu = await cliGpu(opts.quiet);
  const total = pairs.reduce((n, [s]) => n + s.frameCount, 0);
  const progress = createProgress(`eval ×${factor}`, total, opts.quiet);
  const results: InterpolationSequenceResult[] = [];
  for (const [source, higherRate] of pairs) {
    results.push(
      await evaluateInterpolation(gpu.device, source, higherRate, methods, {
        factor,
        upscale: upscale as DisplayedFrames,
        model: opts.model,
        warmupFrames,
        flip: opts.flip,
        onProgress: (k) => progress.tick(`${source.name} frame ${k}`),
      }),
    );
  }
  progress.stop();
  writeInterpolationReport(opts.report, results, {
    device: gpu.adapterName,
    command: ['uplift', ...process.argv.slice(2)].join(' '),
  });
  printInterpolationTable(results);
  if (!opts.quiet) console.error(`uplift: report in ${opts.report}/report.md`);
}

/** The summary on stdout: per sequence and method, generated frames and the stream. */
function printInterpolationTable(results: readonly InterpolationSequenceResult[]): void {
  const rows = [['sequence', 'method', 'PSNR', 'SSIM', 'FLIP', 'tPSNR', 'PSNR@cuts']];
  const f = (v: number | undefined, digits: number) =>
    v === undefined || Number.isNaN(v) ? '–' : v.toFixed(digits);
  for (const r of results) {
    for (const m of r.methods) {
      const s = m.summary.steady;
      rows.push([
        r.sequence,
        m.method,
        f(s.psnr, 2),
        f(s.ssim, 4),
        f(s.flip, 4),
        f(m.stream.tpsnr, 2),
        f(m.summary.cuts.psnr, 2),
      ]);
    }
  }
  printRows(rows);
  if (results.every((r) => r.factor === 2)) return;
  // 3× and 4×: the generated frames' PSNR per instant t, since errors grow away from the ends.
  const instants = [
    ...new Set(
      results.flatMap((r) => r.methods.flatMap((m) => m.summary.steadyByT.map((g) => g.t))),
    ),
  ].sort((a, b) => a - b);
  const perT = [['sequence', 'method', ...instants.map((t) => `PSNR t=${Number(t.toFixed(3))}`)]];
  for (const r of results) {
    for (const m of r.methods) {
      const at = (t: number) => m.summary.steadyByT.find((g) => g.t === t)?.psnr;
      perT.push([r.sequence, m.method, ...instants.map((t) => f(at(t), 2))]);
    }
  }
  console.log('');
  printRows(perT);
}
