/**
 * `uplift demo`: the main job on a built-in default, no files needed. Generates the analytic
 * sequences, runs every method on them and writes the report.
 */
import type { Command } from 'commander';
import { parseMethods } from '../eval/run-method.ts';
import { shippedWeights } from '../eval/shipped-weights.ts';
import { evaluateSource } from '../eval/evaluate.ts';
import { writeReport } from '../report/write-report.ts';
import { parseSize } from '../core/quality.ts';
import { openSequenceArg } from './sequence-arg.ts';
import { cliGpu } from './gpu-arg.ts';
import { createProgress } from './progress.ts';
import { printSummaryTable } from './summary-table.ts';

interface DemoOptions {
  report: string;
  display: string;
  quality: string;
  frames: string;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'upscale the built-in analytic sequences with every method (the network with its shipped weights) and write a report',
    )
    .option('--report <dir>', 'report directory', 'out/demo')
    .option('--display <WxH>', 'display size', '192x128')
    .option('--quality <mode>', 'quality mode or ratio', 'performance')
    .option('--frames <n>', 'frames per sequence', '32')
    .option('-q, --quiet', 'no progress output')
    .action(async (opts: DemoOptions) => {
      const builtin = {
        displaySize: parseSize(opts.display, '--display'),
        quality: opts.quality,
        frames: Number(opts.frames),
      };
      const sources = [
        await openSequenceArg('builtin:analytic:1', builtin),
        await openSequenceArg('builtin:analytic:2', builtin),
      ];
      // The trained network joins when its shipped weights are there (they are in the repository).
      const methods = parseMethods(
        shippedWeights()
          ? 'bilinear,lanczos,taau,taau-rcas,neural'
          : 'bilinear,lanczos,taau,taau-rcas',
      );
      const gpu = await cliGpu(opts.quiet);
      const progress = createProgress(
        'demo',
        sources.reduce((n, s) => n + s.frameCount * methods.length, 0),
        opts.quiet,
      );
      const results = [];
      for (const source of sources) {
        results.push(
          await evaluateSource(gpu.device, source, methods, {
            // The default 8 frames of warm-up, fewer for a shorter --frames (a steady frame left).
            warmupFrames: Math.min(8, source.frameCount - 1),
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
