/** `uplift upscale <seq> -o <dir>`: display-resolution frames of one method, same numbering. */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../core/errors.ts';
import { checkPrecision } from '../core/upscaler-options.ts';
import { writeOutputFrame, writePng } from '../io/index.ts';
import { parseMethod, runMethod, type MethodSpec } from '../eval/run-method.ts';
import { openSequenceArg } from './sequence-arg.ts';
import { cliGpu } from './gpu-arg.ts';
import { prepareOutputDirectory } from './output-dir.ts';
import { writeFileAtomic } from '../train/checkpoint.ts';
import type { FrameSource } from '../core/frame.ts';
import { frameFileName } from '../io/sequence.ts';
import { createNeuralResolver } from '../nn/resolve/neural-resolver.ts';
import { readDebugViews } from '../nn/resolve/debug-views.ts';
import { createProgress } from './progress.ts';

/** The file `upscale` writes after its last frame, saying the run completed. */
export const UPSCALE_MARKER = 'upscale.json';

interface UpscaleOptions {
  output: string;
  method: string;
  model?: string;
  sharpness?: string;
  format: string;
  overwrite?: boolean;
  debugViews?: string;
  precision?: string;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('upscale')
    .description('upscale a sequence to display resolution with one method')
    .argument('<sequence>', 'sequence directory (DESIGN §4) or builtin:analytic')
    .requiredOption('-o, --output <dir>', 'output directory (NNNN.exr or NNNN.png per frame)')
    .option(
      '-m, --method <name>',
      'bilinear | lanczos | taau | taau-rcas | neural, or neural@int8 (INT8 network, needs INT8-ready weights such as the default)',
      'taau',
    )
    .option(
      '--model <file>',
      'weights file for --method neural (default: the shipped weights/uplift-v3-int8.uplift; weights/uplift-v2.uplift is the previous network)',
    )
    .option(
      '--precision <p>',
      'network arithmetic of --method neural: auto (default: int8 for INT8-ready weights on an adapter that passes the INT8 self-check, else f32) | f32 | f16 | int8',
    )
    .option('--sharpness <s>', 'RCAS sharpening 0..1 (taau, neural)')
    .option('--format <fmt>', 'exr (linear, half float) | png (8-bit sRGB)', 'exr')
    .option(
      '--overwrite',
      'replace the frames already in the output directory (all of them: none is left stale)',
    )
    .option(
      '--debug-views <dir>',
      'neural: also write per-frame PNGs of the predicted kernels, blend factor α, recurrent state and disocclusion cue',
    )
    .option('-q, --quiet', 'no progress output')
    .addHelpText(
      'after',
      '\nExamples:\n  uplift upscale captures/corridor -o out/corridor-taau\n' +
        '  uplift upscale builtin:analytic -o out/analytic --format png --method lanczos\n' +
        '  uplift upscale captures/corridor -o out/corridor-nn --method neural   # v3, INT8 where exact (auto)\n' +
        '  uplift upscale captures/corridor -o out/corridor-sim --method neural --precision f32   # its f32 simulation\n' +
        '  uplift upscale captures/corridor -o out/corridor-v2 --method neural --model weights/uplift-v2.uplift',
    )
    .action(async (sequence: string, opts: UpscaleOptions) => {
      if (opts.format !== 'exr' && opts.format !== 'png') {
        throw new InputError(`--format must be exr or png, got "${opts.format}"`);
      }
      const spec = parseMethod(opts.method, opts.model);
      if (opts.precision !== undefined) {
        if (spec.method !== 'neural') {
          throw new InputError(
            '--precision is the network arithmetic: use it with --method neural',
          );
        }
        let precision;
        try {
          precision = checkPrecision(opts.precision);
        } catch (error) {
          throw new InputError(`--precision: ${(error as Error).message}`);
        }
        if (spec.precision !== undefined && spec.precision !== precision) {
          throw new InputError(
            `--method ${opts.method} and --precision ${opts.precision} disagree: give one of them`,
          );
        }
        spec.precision = precision;
      }
      if (opts.sharpness !== undefined) {
        const s = Number(opts.sharpness);
        if (!(s >= 0 && s <= 1))
          throw new InputError(`--sharpness must be in 0..1, got "${opts.sharpness}"`);
        spec.sharpness = s;
      }
      const source = await openSequenceArg(sequence);
      prepareOutputDirectory(opts.output, {
        inputs: [sequence],
        overwrite: opts.overwrite ?? false,
      });
      if (opts.debugViews) {
        // Per-view folders of NNNN.png below it: checked like the output, made once here.
        prepareOutputDirectory(opts.debugViews, {
          inputs: [sequence],
          overwrite: false,
          frames: false,
          flag: '--debug-views',
        });
      }
      // A previous run's marker must not vouch for this one until it completes.
      rmSync(join(opts.output, UPSCALE_MARKER), { force: true });
      const { device } = await cliGpu(opts.quiet);
      const debug = opts.debugViews
        ? await neuralDebugViews(device, spec, source, opts)
        : undefined;
      const progress = createProgress(`upscale ${spec.name}`, source.frameCount, opts.quiet);
      await runMethod(device, source, spec, {
        onFrame: async (i, output) => {
          const format = opts.format as 'exr' | 'png';
          writeOutputFrame(opts.output, source.frameNumber(i), output, format);
          await debug?.(source.frameNumber(i));
        },
        onProgress: (i) => progress.tick(`frame ${source.frameNumber(i)}`),
      });
      progress.stop();
      // Written last: a directory without it holds an interrupted or failed run.
      const marker = {
        complete: true,
        input: sequence,
        method: spec.name,
        ...(spec.precision ? { precision: spec.precision } : {}),
        format: opts.format,
        frames: source.frameCount,
        displaySize: source.header.displaySize,
      };
      await writeFileAtomic(
        join(opts.output, UPSCALE_MARKER),
        new TextEncoder().encode(JSON.stringify(marker, null, 1) + '\n'),
      );
      if (!opts.quiet) console.error(`uplift: wrote ${source.frameCount} frames to ${opts.output}`);
    });
}

/**
 * Gives `spec` a neural resolver of its own and returns a function writing that resolver's debug
 * views of the latest frame as `<dir>/<view>/NNNN.png`.
 */
async function neuralDebugViews(
  device: GPUDevice,
  spec: MethodSpec,
  source: FrameSource,
  opts: UpscaleOptions,
): Promise<(frameNumber: number) => Promise<void>> {
  if (spec.method !== 'neural') {
    throw new InputError(
      '--debug-views shows what the network predicts: use it with --method neural',
    );
  }
  const resolver = await createNeuralResolver(device, {
    model: spec.model,
    precision: spec.precision,
    debugViews: true,
    renderSize: source.header.renderSize,
    displaySize: source.header.displaySize,
  });
  spec.resolver = resolver;
  const dir = opts.debugViews!;
  return async (frameNumber) => {
    const views = await readDebugViews(device, resolver);
    for (const [name, image] of Object.entries(views)) {
      mkdirSync(join(dir, name), { recursive: true });
      writePng(join(dir, name, frameFileName(frameNumber, 'png')), image, { bits: 8 });
    }
  };
}
