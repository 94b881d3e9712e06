/**
 * `uplift eval <seq>… --methods … --report <dir>`: metrics, curves and crops per method; with
 * `--higher-rate <seq>…`, frame generation scored against sequences rendered at the higher rate
 * (eval-interpolation.ts).
 */
import type { Command } from 'commander';
import { InputError } from '../core/errors.ts';
import { parseMethods } from '../eval/run-method.ts';
import { evaluateSource, type SequenceResult } from '../eval/evaluate.ts';
import { writeReport } from '../report/write-report.ts';
import { prepareOutputDirectory } from './output-dir.ts';
import { openSequenceArg } from './sequence-arg.ts';
import { cliGpu } from './gpu-arg.ts';
import { createProgress } from './progress.ts';
import { printSummaryTable } from './summary-table.ts';
import { DEFAULT_INTERPOLATION_METHODS, evalInterpolation } from './eval-interpolation.ts';

/** The upscaling methods eval runs when --methods is not given. */
const DEFAULT_METHODS = 'bilinear,lanczos,taau';

interface EvalOptions {
  methods?: string;
  report: string;
  model?: string;
  warmup?: string;
  higherRate?: string[];
  factor?: string;
  upscale?: string;
  /** False with --no-flip. */
  flip: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('eval')
    .description('run methods on sequences with references; write metrics, curves and crops')
    .argument('<sequences...>', 'sequence directories (with reference/) or builtin:analytic[:seed]')
    .option(
      '--methods <list>',
      `comma-separated: bilinear,lanczos,taau,taau-rcas,neural, and neural:<file.uplift> for other weights; a neural method may end in @f32, @f16 or @int8 (network precision; int8 needs INT8-ready weights) and in @zero-state (ablation: the network recurrent state zeroed every frame); any method may end in @rcas or @rcas=<0..1> (RCAS sharpening after it, 0.5 unless given) (default ${DEFAULT_METHODS}). With --higher-rate, frame generation methods: heuristic, neural, neural:<file.uplift>, blend ((1-t)·previous + t·current), repeat (the previous frame) (default ${DEFAULT_INTERPOLATION_METHODS})`,
    )
    .requiredOption('--report <dir>', 'where report.md, report.json and pictures go')
    .option(
      '--model <file>',
      'weights file for the neural method (default: the shipped weights/uplift-v3-int8.uplift); with --higher-rate, for --upscale neural',
    )
    .option(
      '--warmup <n>',
      'frames after start/reset reported apart (default 8; with --higher-rate 0, in input frames)',
    )
    .option(
      '--higher-rate <sequences...>',
      'score frame generation: per input (same order) the sequence rendered at --factor × its frame rate (same path and seed, with reference/ frames)',
    )
    .option(
      '--factor <n>',
      'with --higher-rate: 2 | 3 | 4 output frames per input frame (default 2)',
    )
    .option(
      '--upscale <method>',
      "with --higher-rate: the displayed frames, taau | neural | reference (the input's own reference frames: judges generation alone; default)",
    )
    .option('--no-flip', 'skip ꟻLIP (the slowest metric, computed on the CPU); reported as absent')
    .option('-q, --quiet', 'no progress output')
    .addHelpText(
      'after',
      '\nExamples:\n  uplift eval captures/a captures/b --methods lanczos,taau --report out/report\n' +
        '  uplift eval builtin:analytic builtin:analytic:2 --report out/analytic\n' +
        '  uplift eval captures/a --methods taau,neural --no-flip --report out/quick\n' +
        '  uplift eval captures/a --methods neural,neural:weights/uplift-v2-int8.uplift --report out/int8\n' +
        '  uplift eval captures/a --methods neural:weights/uplift-v2-int8.uplift,neural:weights/uplift-v2-int8.uplift@int8 --no-flip\n' +
        '\nFrame generation (--higher-rate): the generated frames against the truth rendered at the higher rate\n' +
        '  uplift render --scene fence --path orbit --fps 30 --frames 12 -o seq30\n' +
        '  uplift render --scene fence --path orbit --fps 60 --frames 24 -o seq60\n' +
        '  uplift eval seq30 --higher-rate seq60 --methods heuristic,neural,blend,repeat --report out/fg\n' +
        '  uplift eval a30 b30 --higher-rate a120 b120 --factor 4 --upscale taau --warmup 4 --report out/fg4',
    )
    .action(async (sequences: string[], opts: EvalOptions) => {
      if (opts.higherRate) {
        await evalInterpolation(sequences, { ...opts, higherRate: opts.higherRate });
        return;
      }
      for (const flag of ['factor', 'upscale'] as const) {
        if (opts[flag] !== undefined) {
          throw new InputError(`--${flag} is for frame generation (--higher-rate <sequence>…)`);
        }
      }
      const methods = parseMethods(opts.methods ?? DEFAULT_METHODS, opts.model);
      const warmupFrames = Number(opts.warmup ?? '8');
      if (!Number.isInteger(warmupFrames) || warmupFrames < 0) {
        throw new InputError(`--warmup must be a non-negative integer, got "${opts.warmup}"`);
      }
      const sources = [];
      for (const s of sequences) sources.push(await openSequenceArg(s));
      // Checked before the (long) evaluation: a report directory inside an input, a file, a
      // symlink loop or an uncreatable path is an error now, not after the run.
      prepareOutputDirectory(opts.report, {
        inputs: sequences,
        overwrite: false,
        frames: false,
        flag: '--report',
      });
      const gpu = await cliGpu(opts.quiet);
      const total = sources.reduce((n, s) => n + s.frameCount * methods.length, 0);
      const progress = createProgress('eval', total, opts.quiet);
      const results: SequenceResult[] = [];
      for (const source of sources) {
        results.push(
          await evaluateSource(gpu.device, source, methods, {
            warmupFrames,
            flip: opts.flip,
            onProgress: (m, i) => progress.tick(`${source.name} ${m} ${i}`),
          }),
        );
      }
      progress.stop();
      writeReport(opts.report, results, {
        device: gpu.adapterName,
        command: ['uplift', ...process.argv.slice(2)].join(' '),
      });
      printSummaryTable(results);
      if (!opts.quiet) console.error(`uplift: report in ${opts.report}/report.md`);
    });
}
