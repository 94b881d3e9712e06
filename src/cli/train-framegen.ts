/**
 * `uplift train-framegen`: trains the learned frame-generation network (src/train/framegen/) on
 * clips the data engine renders at 30 fps and at 2, 3 or 4 times that, with a progress bar, a time limit that stops
 * cleanly with a checkpoint (continue with --resume), and a JSON summary on stdout.
 */
import type { Command } from 'commander';
import { resolveFramegenConfig } from '../train/framegen/config.ts';
import { trainFramegen, type FramegenLogEntry } from '../train/framegen/trainer.ts';
import { cliGpu } from './gpu-arg.ts';
import { parseInteger, parsePositiveNumber } from './flags.ts';
import { readTrainConfigFile } from './config-file.ts';
import { prepareOutputDirectory } from './output-dir.ts';
import { createProgress, type Progress } from './progress.ts';

interface Flags {
  config?: string;
  out: string;
  resume?: boolean;
  steps?: string;
  stopAt?: string;
  timeLimit?: string;
  seed?: string;
  quiet?: boolean;
}

/** The config file's contents overlaid with the flags that set config keys. */
async function overridesOf(flags: Flags): Promise<Record<string, unknown>> {
  const base = flags.config ? await readTrainConfigFile(flags.config) : {};
  return {
    ...base,
    ...(flags.steps !== undefined ? { steps: parseInteger(flags.steps, '--steps', 1) } : {}),
    ...(flags.seed !== undefined ? { seed: parseInteger(flags.seed, '--seed', 0) } : {}),
  };
}

const db = (v: number) => v.toFixed(2);

export function register(program: Command): void {
  program
    .command('train-framegen')
    .description(
      'train the frame-generation network on 30/60 fps data-engine clips (checkpoints, exact resume)',
    )
    .option(
      '--config <file>',
      'config JSON (keys of FramegenTrainConfig, src/train/framegen/config.ts)',
    )
    .option(
      '--out <dir>',
      'output directory: checkpoint, weights.uplift, samples.bin, log.jsonl, loss.svg',
      'out/framegen',
    )
    .option('--resume', 'continue from <out>/checkpoint.ckpt (rendered samples are reused)')
    .option('--steps <n>', 'total optimizer steps (raise it on --resume to train longer)')
    .option('--stop-at <n>', 'stop with a checkpoint once this many steps are done')
    .option('--time-limit <seconds>', 'stop with a checkpoint before this much wall time')
    .option('--seed <n>', 'seed of the initial weights, the clips and the sample order')
    .option('-q, --quiet', 'no progress output')
    .addHelpText(
      'after',
      '\nThe clips: training-split scenes, paths and layout seeds (never a validation entry),\n' +
        'each rendered at data.fps and at f times it; the truth at t = j/f between frames k-1 and k\n' +
        'is frame (k-1)*f+j of the faster render. Each pair gets one t, drawn from the instants of\n' +
        'data.factors (default [2]: t = 0.5, frame 2k-1; [2, 3, 4]: t = 1/4, 1/3, 1/2, 2/3, 3/4).\n' +
        'Dev clips (other seeds) are scored at every checkpoint beside the heuristic, the blend\n' +
        '(1-t)*previous + t*current and repeating the previous frame.\n\n' +
        'Examples:\n' +
        '  uplift train-framegen --out out/framegen --time-limit 540\n' +
        '  uplift train-framegen --out out/framegen --resume --time-limit 540\n' +
        '  uplift train-framegen --config weights/framegen-v1.train.json --out out/fg-v1\n' +
        '  uplift interpolate seq30 -o out/fg --method neural --weights out/fg-v1/weights.uplift',
    )
    .action(async (flags: Flags) => {
      const overrides = await overridesOf(flags);
      // A bad config is refused before --out exists (a resume merges it with the checkpoint's).
      if (!flags.resume) resolveFramegenConfig(overrides);
      prepareOutputDirectory(flags.out, {
        inputs: [],
        overwrite: false,
        frames: false,
        flag: '--out',
      });
      const timeLimit =
        flags.timeLimit === undefined
          ? undefined
          : parsePositiveNumber(flags.timeLimit, '--time-limit');
      const gpu = await cliGpu(flags.quiet);
      let rendering: Progress | undefined;
      let progress: Progress | undefined;
      let lastStep = 0;
      let devStatus = '';
      const result = await trainFramegen(gpu.device, overrides, {
        out: flags.out,
        resume: !!flags.resume,
        ...(timeLimit !== undefined ? { timeLimitSeconds: timeLimit } : {}),
        ...(flags.stopAt !== undefined
          ? { stopAtStep: parseInteger(flags.stopAt, '--stop-at', 1) }
          : {}),
        deviceName: gpu.adapterName,
        onSamples(done, total, clip) {
          rendering ??= createProgress('render clips', total, flags.quiet);
          rendering.tick(clip);
          if (done === total) rendering.stop();
        },
        onStart(step, total) {
          progress = createProgress('train-framegen', total - step, flags.quiet);
          lastStep = step;
        },
        onLog(entry: FramegenLogEntry) {
          if (entry.dev) {
            const d = entry.dev;
            devStatus = ` | dev ${db(d.neural)} dB (heuristic ${db(d.heuristic)}, blend ${db(d.blend)}) @${entry.step}`;
          }
          const status = `loss ${entry.loss.toPrecision(4)}${devStatus}`;
          for (; lastStep < entry.step; lastStep++) progress?.tick(status);
        },
      });
      progress?.stop();
      const last = result.log.at(-1);
      const dev = [...result.log].reverse().find((e) => e.dev)?.dev ?? null;
      console.log(
        JSON.stringify(
          {
            out: flags.out,
            weights: result.weights,
            step: result.step,
            finished: result.finished,
            loss: last?.loss ?? null,
            dev,
            stepsPerSecond: last?.stepsPerSecond ?? null,
            seconds: last?.seconds ?? 0,
          },
          null,
          2,
        ),
      );
    });
}
