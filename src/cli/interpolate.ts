/**
 * `uplift interpolate <seq> -o <dir>`: the sequence at `--factor` times its frame rate. Each input
 * frame is upscaled (`--upscale`: taau, neural, or the sequence's own reference frames, so that
 * only generation is judged) and written as output frame k·factor; the frames between input
 * frames k − 1 and k are generated at t = j / factor. `--reference <seq>` scores the generated
 * frames against a sequence rendered at the higher rate (its reference frames, numbered as the
 * output), beside the baselines "repeat" (the previous frame) and "blend" ((1 − t)·previous +
 * t·current; 50/50 at 2×). Writes interpolate.json after the last frame (with the scores).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../core/errors.ts';
import type { Image } from '../core/image.ts';
import type { FrameSource } from '../core/frame.ts';
import { checkFrameGeneratorMethod, type FrameGeneratorMethod } from '../core/frame-generation.ts';
import { writeOutputFrame } from '../io/index.ts';
import { displayMse, meanPsnr, toDisplayPair } from '../metrics/index.ts';
import { blendFrames, createInterpolationMethod } from '../eval/interpolation-methods.ts';
import {
  checkHigherRate,
  DISPLAYED_FRAMES,
  interpolateSequence,
  type DisplayedFrames,
} from '../eval/interpolate-sequence.ts';
import { writeFileAtomic } from '../train/checkpoint.ts';
import { openSequenceArg } from './sequence-arg.ts';
import { cliGpu } from './gpu-arg.ts';
import { prepareOutputDirectory } from './output-dir.ts';
import { createProgress } from './progress.ts';

/** The file `interpolate` writes after its last frame, saying the run completed. */
export const INTERPOLATE_MARKER = 'interpolate.json';

interface InterpolateOptions {
  output: string;
  factor: string;
  upscale: string;
  method: string;
  model?: string;
  weights?: string;
  format: string;
  reference?: string;
  overwrite?: boolean;
  quiet?: boolean;
}

/** Frames in a score (the generated ones; input frames are the upscaler's business). */
const SCORED = ['generated', 'repeat', 'blend'] as const;
type Scored = (typeof SCORED)[number];

/** Per generated frame: its output number, t, whether its pair spans a cut, and the MSEs. */
interface FrameScore {
  frame: number;
  t: number;
  cut: boolean;
  mse: Record<Scored, number>;
}

export function register(program: Command): void {
  program
    .command('interpolate')
    .description('generate the frames between upscaled frames: the sequence at 2-4x its rate')
    .argument('<sequence>', 'sequence directory (DESIGN §4)')
    .requiredOption('-o, --output <dir>', 'output directory (NNNN.exr or NNNN.png per frame)')
    .option('--factor <n>', '2 | 3 | 4: output frames per input frame', '2')
    .option(
      '--upscale <method>',
      "taau | neural | reference (the sequence's reference frames: judges generation alone)",
      'taau',
    )
    .option('--method <name>', 'frame generation method: heuristic | neural', 'heuristic')
    .option('--model <file>', 'weights file for --upscale neural')
    .option(
      '--weights <file>',
      'weights file for --method neural (default: the shipped weights/framegen-v1.uplift)',
    )
    .option('--format <fmt>', 'exr (linear, half float) | png (8-bit sRGB)', 'exr')
    .option(
      '--reference <sequence>',
      'score generated frames (PSNR) against this sequence rendered at factor × the rate, with the repeat and blend baselines',
    )
    .option('--overwrite', 'replace the frames already in the output directory')
    .option('-q, --quiet', 'no progress output')
    .addHelpText(
      'after',
      '\nOutput frame k·factor is input frame k (upscaled); the frames between are generated.\n\n' +
        'Examples:\n  uplift interpolate captures/corridor -o out/corridor-60 --upscale taau\n' +
        '  uplift render --scene fence --path orbit --fps 30 --frames 12 -o seq30\n' +
        '  uplift render --scene fence --path orbit --fps 60 --frames 24 -o seq60\n' +
        '  uplift interpolate seq30 -o out/fg --upscale reference --reference seq60\n' +
        '  uplift interpolate seq30 -o out/fg-neural --upscale reference --method neural --reference seq60',
    )
    .action(async (sequence: string, opts: InterpolateOptions) => {
      const factor = Number(opts.factor);
      if (![2, 3, 4].includes(factor)) {
        throw new InputError(`--factor must be 2, 3 or 4, got "${opts.factor}"`);
      }
      if (opts.format !== 'exr' && opts.format !== 'png') {
        throw new InputError(`--format must be exr or png, got "${opts.format}"`);
      }
      let method: FrameGeneratorMethod;
      try {
        method = checkFrameGeneratorMethod(opts.method);
      } catch (error) {
        throw new InputError(`--method: ${(error as Error).message}`);
      }
      if (opts.weights && method !== 'neural') {
        throw new InputError('--weights is for --method neural');
      }
      if (!(DISPLAYED_FRAMES as readonly string[]).includes(opts.upscale)) {
        throw new InputError(`--upscale must be taau, neural or reference, got "${opts.upscale}"`);
      }
      const source = await openSequenceArg(sequence);
      const reference = opts.reference
        ? await openReference(opts.reference, source, factor)
        : undefined;
      prepareOutputDirectory(opts.output, {
        inputs: [sequence, ...(opts.reference ? [opts.reference] : [])],
        overwrite: opts.overwrite ?? false,
      });
      // A previous run's marker must not vouch for this one until it completes.
      rmSync(join(opts.output, INTERPOLATE_MARKER), { force: true });
      const { device } = await cliGpu(opts.quiet);
      const generator = await createInterpolationMethod(
        device,
        { name: method, kind: method, ...(opts.weights ? { weights: opts.weights } : {}) },
        source.header.displaySize,
      );
      const progress = createProgress(`interpolate ×${factor}`, source.frameCount, opts.quiet);
      const scores: FrameScore[] = [];
      const format = opts.format as 'exr' | 'png';
      try {
        await interpolateSequence(
          device,
          source,
          { factor, upscale: opts.upscale as DisplayedFrames, model: opts.model },
          {
            async onInstant({ frame, t, cut, params }, previous, current, inputs) {
              const generated = await generator.generate(previous, current, inputs, params);
              writeOutputFrame(opts.output, frame, generated, format);
              if (reference) {
                const truth = (await reference.readFrame(frame)).reference!;
                scores.push(score(frame, t, cut, previous, current, generated, truth));
              }
            },
            async onDisplayed(k, frame, displayed) {
              writeOutputFrame(opts.output, frame, displayed, format);
              progress.tick(`frame ${source.frameNumber(k)}`);
            },
          },
        );
      } finally {
        generator.destroy();
      }
      progress.stop();
      const summary = reference ? summarize(scores) : undefined;
      if (summary && !opts.quiet) printSummary(summary);
      const marker = {
        complete: true,
        input: sequence,
        factor,
        method,
        ...(opts.weights ? { weights: opts.weights } : {}),
        upscale: opts.upscale,
        format: opts.format,
        frames: (source.frameCount - 1) * factor + 1,
        displaySize: source.header.displaySize,
        ...(summary ? { reference: opts.reference, scores: summary, perFrame: scores } : {}),
      };
      await writeFileAtomic(
        join(opts.output, INTERPOLATE_MARKER),
        new TextEncoder().encode(JSON.stringify(marker, null, 1) + '\n'),
      );
      if (!opts.quiet) console.error(`uplift: wrote ${marker.frames} frames to ${opts.output}`);
    });
}

/** Opens the higher-rate reference and checks that it can be one for `source` at `factor`. */
async function openReference(
  path: string,
  source: FrameSource,
  factor: number,
): Promise<FrameSource> {
  const reference = await openSequenceArg(path);
  await checkHigherRate(reference, path, source, factor, '--reference');
  return reference;
}

/** The MSEs (display domain) of a generated frame and of the baselines against the truth. */
function score(
  frame: number,
  t: number,
  cut: boolean,
  previous: Image,
  current: Image,
  generated: Image,
  truth: Image,
): FrameScore {
  const blend = blendFrames(previous, current, t);
  const mse = (image: Image) => displayMse(toDisplayPair(image, truth, 'interpolate'));
  return {
    frame,
    t,
    cut,
    mse: { generated: mse(generated), repeat: mse(previous), blend: mse(blend) },
  };
}

/** PSNR means (MSEs averaged, then dB) of the frames within shots and of those across cuts. */
export interface InterpolationSummary {
  frames: number;
  psnr: Record<Scored, number>;
  cutFrames: number;
  psnrAtCuts?: Record<Scored, number>;
}

function summarize(scores: readonly FrameScore[]): InterpolationSummary {
  const mean = (list: readonly FrameScore[]) =>
    Object.fromEntries(SCORED.map((k) => [k, meanPsnr(list.map((s) => s.mse[k]))])) as Record<
      Scored,
      number
    >;
  const within = scores.filter((s) => !s.cut);
  const cuts = scores.filter((s) => s.cut);
  return {
    frames: within.length,
    psnr: mean(within),
    cutFrames: cuts.length,
    ...(cuts.length > 0 ? { psnrAtCuts: mean(cuts) } : {}),
  };
}

function printSummary(summary: InterpolationSummary): void {
  const row = (name: string, values: Record<Scored, number>, n: number) =>
    `${name.padEnd(18)}${SCORED.map((k) => values[k].toFixed(2).padStart(11)).join('')}   (${n} frames)`;
  console.log(`${''.padEnd(18)}${SCORED.map((k) => k.padStart(11)).join('')}`);
  console.log(row('PSNR dB', summary.psnr, summary.frames));
  if (summary.psnrAtCuts)
    console.log(row('PSNR dB at cuts', summary.psnrAtCuts, summary.cutFrames));
}
