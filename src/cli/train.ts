/**
 * `uplift train`: a training run (src/train/trainer.ts) from a config file and flags, with a progress bar (ETA), a
 * time limit that stops cleanly with a checkpoint (one GPU-machine call lasts at most 10
 * minutes: run again with --resume), and a JSON summary on stdout.
 */
import type { Command } from 'commander';
import { InputError } from '../core/errors.ts';
import { parseSize } from '../core/quality.ts';
import { NETWORKS, resolveTrainConfig } from '../train/config.ts';
import { train } from '../train/trainer.ts';
import { STEPS_IN_FLIGHT } from '../train/tasks.ts';
import { runGradientWorker } from '../train/worker-process.ts';
import type { LogEntry } from '../train/run-directory.ts';
import { cliGpu } from './gpu-arg.ts';
import { readTrainConfigFile } from './config-file.ts';
import { parsePositiveNumber } from './flags.ts';
import { prepareOutputDirectory } from './output-dir.ts';
import { createProgress, type Progress } from './progress.ts';

interface TrainFlags {
  config?: string;
  out: string;
  resume?: boolean;
  init?: string;
  initMatching?: boolean;
  steps?: string;
  stopAt?: string;
  timeLimit?: string;
  network?: string;
  task?: string;
  sequences?: string[];
  size?: string;
  seed?: string;
  lr?: string;
  validationEntries?: string;
  bestBy?: string;
  validationClips?: string;
  qat?: string | boolean;
  stepsInFlight?: string;
  workers?: string;
  quiet?: boolean;
}

function integerFlag(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!Number.isInteger(v)) throw new InputError(`--${name} must be an integer, got "${text}"`);
  return v;
}

function positiveIntegerFlag(name: string, text: string | undefined): number | undefined {
  const v = integerFlag(name, text);
  if (v !== undefined && v < 1) throw new InputError(`--${name} must be at least 1, got "${text}"`);
  return v;
}

function numberFlag(name: string, text: string | undefined): number | undefined {
  return text === undefined ? undefined : parsePositiveNumber(text, `--${name}`);
}

/** Config file contents overlaid with the flags that set config keys. */
async function configOverrides(flags: TrainFlags): Promise<Record<string, unknown>> {
  const base = flags.config ? await readTrainConfigFile(flags.config) : {};
  const size = flags.size ? parseSize(flags.size, '--size') : undefined;
  const fromFlags = {
    steps: integerFlag('steps', flags.steps),
    network: flags.network,
    task: flags.task,
    size,
    seed: integerFlag('seed', flags.seed),
    learningRate: numberFlag('lr', flags.lr),
    validationEntries: flags.validationEntries,
    bestBy: flags.bestBy,
    validationClips: integerFlag('validation-clips', flags.validationClips),
  };
  const merged: Record<string, unknown> = {
    ...base,
    ...Object.fromEntries(Object.entries(fromFlags).filter(([, v]) => v !== undefined)),
  };
  if (flags.qat !== undefined) {
    const bits = typeof flags.qat === 'string' ? integerFlag('qat', flags.qat) : 8;
    merged.qat = {
      ...(base.qat as object | undefined),
      weightBits: bits,
      activationBits: bits,
    };
  }
  if (flags.sequences) {
    merged.data = {
      ...(base.data as object | undefined),
      source: 'sequences',
      paths: flags.sequences,
    };
  }
  return merged;
}

const formatDb = (db: number | undefined) => (db === undefined ? '–' : db.toFixed(2));

export function register(program: Command): void {
  // Started by `train --workers N`, never by hand: not listed in --help.
  program
    .command('train-worker', { hidden: true })
    .description('a data-parallel training worker (started by `uplift train --workers`)')
    .action(() => runGradientWorker());
  program
    .command('train')
    .description('train a network on the GPU (checkpoints, exact resume, run log, loss curve)')
    .option('--config <file>', 'training config JSON (keys of TrainConfig, src/train/config.ts)')
    .option(
      '--out <dir>',
      'output directory: checkpoint, weights, log, loss and PSNR curves, best checkpoint',
      'out/train',
    )
    .option('--resume', 'continue from <out>/checkpoint.ckpt')
    .option(
      '--init <weights>',
      'start from these .uplift weights (fine-tuning) instead of random ones',
    )
    .option(
      '--init-matching',
      "with --init of another architecture: take the parameters this network has by name and shape (e.g. v3b's encoder from v3a), initialise the rest as a fresh run; a new linear 1x1 conv reading a taken layer's outputs through a concat starts as the identity on them, and a new linear layer added to a tensor (a residual branch's last) at zero, so the network starts with the source's outputs (v3e or v3f from v3a)",
    )
    .option('--steps <n>', 'total optimizer steps (raise it on --resume to train longer)')
    .option('--stop-at <n>', 'stop with a checkpoint once this many steps are done')
    .option('--time-limit <seconds>', 'stop with a checkpoint before this much wall time')
    .option('--network <name>', `network to train: ${Object.keys(NETWORKS).join(', ')}`)
    .option('--task <name>', 'frames (BPTT through the neural frame) or teacher (network alone)')
    .option('--sequences <dirs...>', 'train on clips cropped from these sequence directories')
    .option('--size <WxH>', 'training input size, multiples of 8')
    .option('--seed <n>', 'seed of initial weights and data')
    .option('--lr <rate>', 'peak learning rate')
    .option(
      '--validation-entries <how>',
      "held-out entries of the validation clips: grouped (4 clips an entry) or each (one clip an entry in turn, every class; more clips than entries give each entry several clips, other start frames and crops); a change on --resume starts the run's best anew",
    )
    .option('--validation-clips <n>', 'held-out clips scored at every checkpoint (0: none)')
    .option(
      '--best-by <how>',
      "how best.uplift is chosen: mean (the highest validation PSNR) or worst (the worst margin over TAAU, then the mean; with --validation-entries each, an entry's margin is the mean over its clips); a change on --resume starts the run's best anew",
    )
    .option(
      '--qat [bits]',
      'quantization-aware training: weights and activations on per-tensor grids of this many bits (default 8), straight-through gradients; use with --init to fine-tune f32 weights',
    )
    .option(
      '--steps-in-flight <n>',
      "steps submitted to the GPU before the previous step's loss is read back (same results for any value; 1: one after the other)",
      String(STEPS_IN_FLIGHT),
    )
    .option(
      '--workers <n>',
      'data-parallel processes on this GPU, each taking clipsPerStep clips of every step (a step is bound by the CPU, not the GPU); results depend on the count',
      '1',
    )
    .option('--quiet', 'no progress output')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  uplift train --network tiny --size 32x32 --steps 20 --out out/smoke\n' +
        '  uplift train --config train.json --out out/v2 --time-limit 540\n' +
        '  uplift train --out out/v2 --resume --time-limit 540\n' +
        '  uplift train --config train.json --out out/v3 --workers 4 --time-limit 540\n' +
        '  uplift train --config train.json --init weights/uplift-v2.uplift --qat 8 --steps 300 --lr 2e-4 --out out/qat\n' +
        '  uplift train --network v3b --init weights/uplift-v3.uplift --init-matching --out out/v3b\n' +
        '  uplift export-weights out/v2/best.ckpt models/v2.uplift\n\n' +
        'Engine-like inputs (as real renderers hand them: no jitter, 8-bit depth and sRGB color,\n' +
        'motion missing or off by up to a pixel on one object, reversed Z, an infinite far plane),\n' +
        'probability per training clip; exposure steps and ramps within a clip (probability, and the\n' +
        'exposures drawn log-uniformly from range); HDR sparkles added to scenes (probability per\n' +
        'group of clips); in the config file (validation clips stay as rendered unless\n' +
        'engineInputs has "validation": true):\n' +
        '  "data": { "engineInputs": { "noJitter": 0.25, "depth8": 0.5, "srgb8": 0.5, "motionError": 0.3,\n' +
        '            "depthInverted": 0.5, "infiniteFar": 0.5 },\n' +
        '            "exposure": { "probability": 0.3, "range": [0.25, 4] }, "highlights": 0.5 }\n' +
        'Longer training clips, the validation clips kept at the length a run was scored on:\n' +
        '  "data": { "clipFrames": 16, "validationClipFrames": 8 }\n' +
        'A class shown more often: shares of the training clips drawn from one scene or one camera\n' +
        'path alone (the rest from every scene; validation unchanged), e.g. the skinned characters\n' +
        'and the fast turns:\n' +
        '  "data": { "sceneShares": { "herd": 0.15, "runners": 0.15 }, "pathShares": { "fast-turn": 0.15 } }\n' +
        'The scenes at the pixel density of a larger display: a share of the training clips\n' +
        'render the window of a display larger by a scale drawn up to maxScale (the same pixels\n' +
        'a clip, so the same cost; validation unchanged):\n' +
        '  "data": { "zoom": { "probability": 0.5, "maxScale": 4 } }\n' +
        'Data echoing (rendering bounds a step): each rendered clip used 2 times on average, in\n' +
        'slots drawn from the 16 most recent fresh clips (defaults echo 1, echoWindow 16):\n' +
        '  "data": { "echo": 2, "echoWindow": 16 }\n' +
        'Loss terms (weights; defaults l1 1, gradient 0.5, temporal 0.5, stale 0, mse 0, srgb 0): stale\n' +
        "weighs the error again where the previous frame's reference, moved by the motion, cannot\n" +
        "give this frame's (disocclusions, objects whose motion vectors miss, a cut), where ghosts\n" +
        'live; staleOffscreen (default 1) is the staleness of history that lies off screen, 0 to\n' +
        'leave the strips a moving camera brings in to the other terms; mse is the squared error\n' +
        'that PSNR averages (a weight near 25 weighs it about as l1 at typical errors); srgb is\n' +
        'the L1 error of the sRGB-encoded values, which weighs errors on dark pixels several\n' +
        'times more, as the eye and ꟻLIP do:\n' +
        '  "loss": { "stale": 30, "staleOffscreen": 0 }, or "loss": { "l1": 0, "mse": 25, "srgb": 1 }\n' +
        'Weight average (default 0, off): validation, best.uplift and weights.uplift use an\n' +
        'exponential moving average of the weights, updated after every step (0.999: about the\n' +
        'last 1,000 steps); checkpoints keep both, so a resumed run continues it exactly:\n' +
        '  "adam": { "averageDecay": 0.999 }\n' +
        'With "averageWarmup": w (default 0) the decay at step t is min(averageDecay,\n' +
        "(1 + t) / (w + t)): a short run's average is then its own weights, not its start's\n" +
        '(10 is usual): "adam": { "averageDecay": 0.999, "averageWarmup": 10 }\n' +
        'The coverage blend (default null: that of the --init weights, else none; 0 turns it off):\n' +
        "the current frame's odds in the blend times its coverage of the pixel to the power k, as\n" +
        'TAAU weighs its samples; kept in the weights the run writes (docs/DECISIONS.md):\n' +
        '  "coverageBlend": 1',
    )
    .action(async (flags: TrainFlags) => {
      const overrides = await configOverrides(flags);
      // A bad config is refused before --out exists (a resume merges it with the checkpoint's).
      if (!flags.resume) resolveTrainConfig(overrides);
      const stepsInFlight = positiveIntegerFlag('steps-in-flight', flags.stepsInFlight);
      const workers = positiveIntegerFlag('workers', flags.workers) ?? 1;
      // A file, a symlink loop or procfs (where a recursive mkdir spins) is refused by name.
      prepareOutputDirectory(flags.out, {
        inputs: flags.sequences ?? [],
        overwrite: false,
        frames: false,
        flag: '--out',
      });
      const gpu = await cliGpu(flags.quiet);
      let progress: Progress | undefined;
      let lastStep = 0;
      let validated = '';
      const result = await train(gpu.device, overrides, {
        out: flags.out,
        resume: !!flags.resume,
        ...(flags.init ? { initWeights: flags.init } : {}),
        ...(flags.initMatching ? { initMatching: true } : {}),
        timeLimitSeconds: numberFlag('time-limit', flags.timeLimit),
        stopAtStep: integerFlag('stop-at', flags.stopAt),
        stepsInFlight,
        workers,
        // Workers run this same program (the CLI, or a bundle of it) as `uplift train-worker`.
        workerCommand: { file: process.argv[1]!, args: ['train-worker'] },
        deviceName: gpu.adapterName,
        onStart(step, total, initMatched) {
          if (initMatched && !flags.quiet) {
            const { copied, fresh, passThrough, zeroed } = initMatched;
            const identity = passThrough.length
              ? `, ${passThrough.length} started as the identity on a taken layer (${passThrough.join(', ')})`
              : '';
            const zero = zeroed.length
              ? `, ${zeroed.length} started at zero as a residual branch's last layer (${zeroed.join(', ')})`
              : '';
            console.error(
              `--init-matching: ${copied.length} parameter tensors taken from ${flags.init}, ${fresh.length} initialised fresh (${fresh.join(', ') || 'none'})${identity}${zero}`,
            );
          }
          progress = createProgress('train', total - step, flags.quiet);
          lastStep = step;
        },
        onLog(entry: LogEntry) {
          const status = `loss ${entry.loss.toPrecision(4)} lr ${entry.learningRate.toExponential(2)}${validated}`;
          for (; lastStep < entry.step; lastStep++) progress?.tick(status);
        },
        onValidation(entry: LogEntry) {
          // Shown with the following progress lines (validation comes after the step's tick).
          validated = ` | val ${formatDb(entry.validationPsnr)} dB (TAAU ${formatDb(entry.taauPsnr)}) @${entry.step}`;
        },
      });
      progress?.stop();
      const last = result.log.at(-1);
      const lastValidation = [...result.log].reverse().find((e) => e.validationLoss !== undefined);
      console.log(
        JSON.stringify(
          {
            out: flags.out,
            step: result.step,
            finished: result.finished,
            loss: last?.loss ?? null,
            validationLoss: lastValidation?.validationLoss ?? null,
            validationPsnr: lastValidation?.validationPsnr ?? null,
            taauPsnr: lastValidation?.taauPsnr ?? null,
            stepsPerSecond: last?.stepsPerSecond ?? null,
            seconds: last?.seconds ?? 0,
            best: result.best ?? null,
          },
          null,
          2,
        ),
      );
      const { best } = result;
      if (best && !flags.quiet) {
        const gain = best.validationPsnr - best.taauPsnr;
        console.error(
          `uplift: best checkpoint ${best.checkpoint} (weights ${best.weights}), step ${best.step}: ` +
            `validation PSNR ${formatDb(best.validationPsnr)} dB vs TAAU ${formatDb(best.taauPsnr)} dB ` +
            `(${gain >= 0 ? '+' : ''}${gain.toFixed(2)} dB)`,
        );
      }
    });
}
