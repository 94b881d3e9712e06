/** `uplift eval <seq>… --methods … --report <dir>`: metrics, curves and crops per method. */
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

interface EvalOptions {
  methods: string;
  report: string;
  model?: string;
  warmup: string;
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
      'comma-separated: bilinear,lanczos,taau,taau-rcas,neural, and neural:<file.uplift> for other weights; a neural method may end in @f32, @f16 or @int8 (network precision; int8 needs INT8-ready weights) and in @zero-state (ablation: the network recurrent state zeroed every frame)',
      'bilinear,lanczos,taau',
    )
    .requiredOption('--report <dir>', 'where report.md, report.json and pictures go')
    .option(
      '--model <file>',
      'weights file for the neural method (default: the shipped weights/uplift-v2.uplift)',
    )
    .option('--warmup <n>', 'frames after start/reset reported apart', '8')
    .option('--no-flip', 'skip ꟻLIP (the slowest metric, computed on the CPU); reported as absent')
    .option('-q, --quiet', 'no progress output')
    .addHelpText(
      'after',
      '\nExamples:\n  uplift eval captures/a captures/b --methods lanczos,taau --report out/report\n' +
        '  uplift eval builtin:analytic builtin:analytic:2 --report out/analytic\n' +
        '  uplift eval captures/a --methods taau,neural --no-flip --report out/quick\n' +
        '  uplift eval captures/a --methods neural,neural:weights/uplift-v2-int8.uplift --report out/int8\n' +
        '  uplift eval captures/a --methods neural:weights/uplift-v2-int8.uplift,neural:weights/uplift-v2-int8.uplift@int8 --no-flip',
    )
    .action(async (sequences: string[], opts: EvalOptions) => {
      const methods = parseMethods(opts.methods, opts.model);
      const warmupFrames = Number(opts.warmup);
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
