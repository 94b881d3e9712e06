/**
 * A training run's output directory: what each file holds, reading the log and best checkpoint
 * back on resume, and writing the state of a step (checkpoint, weights, best checkpoint, log,
 * plots).
 *
 *   out/checkpoint.ckpt   resume state (src/train/checkpoint.ts)
 *   out/weights.uplift    the latest weights, loadable as a model
 *   out/best.ckpt         the checkpoint of the best validation PSNR so far (task `frames`)
 *   out/best.uplift       its weights
 *   out/best.json         its step, validation PSNR and TAAU's PSNR (BestCheckpoint)
 *   out/log.jsonl         one line per logged step: step, loss, lr, gradNorm, seconds; at
 *                         validation points also validationLoss, validationPsnr, taauPsnr
 *   out/loss.svg          the loss curve
 *   out/psnr.svg          held-out PSNR of the network and of TAAU at each validation point
 *   out/config.json       the resolved configuration
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { linePlotSvg } from '../report/line-plot.ts';
import { encodeCheckpoint, writeFileAtomic, type Checkpoint } from './checkpoint.ts';
import type { TrainConfig } from './config.ts';
import { captureCheckpoint } from './session.ts';
import type { TrainableNetwork } from './trainable.ts';
import { VALIDATION } from './splits.ts';

/** One line of log.jsonl. */
export interface LogEntry {
  readonly step: number;
  /** Mean loss over the steps since the previous entry. */
  readonly loss: number;
  readonly learningRate: number;
  /** Global gradient norm of the last step (before clipping). */
  readonly gradNorm: number;
  /** Wall seconds of this run so far (resets on resume). */
  readonly seconds: number;
  /** Training throughput over this entry's steps (frames/s = this · clipsPerStep · clipFrames). */
  readonly stepsPerSecond: number;
  /** Mean loss on held-out clips, at checkpoints (task `frames`). */
  readonly validationLoss?: number;
  /** Wall seconds the validation at this checkpoint took (not in `stepsPerSecond`). */
  readonly validationSeconds?: number;
  /**
   * Held-out PSNR (dB, tonemapped display domain, frames after `warmup`) of the current weights
   * through the frame API, mean over the validation clips (task `frames`, at checkpoints).
   */
  readonly validationPsnr?: number;
  /** The heuristic TAAU's PSNR on the same clips (fixed for a run's clip set). */
  readonly taauPsnr?: number;
  /** Per validation clip, in clip order. */
  readonly validationPsnrClips?: readonly number[];
  readonly taauPsnrClips?: readonly number[];
  /** True where this validation PSNR was the best so far (best.ckpt holds this step). */
  readonly best?: boolean;
}

/** out/best.json: the run's best checkpoint (TrainConfig.bestBy). */
export interface BestCheckpoint {
  readonly step: number;
  readonly validationPsnr: number;
  readonly taauPsnr: number;
  /** The worst validation clip's PSNR less TAAU's on it, dB (where per-clip PSNRs were logged). */
  readonly worstClipMargin?: number;
  /** Paths of best.ckpt and best.uplift (in best.json: relative to the output directory). */
  readonly checkpoint: string;
  readonly weights: string;
}

/** Paths of the files a run keeps in its output directory. */
export interface RunPaths {
  readonly out: string;
  readonly checkpoint: string;
  readonly weights: string;
  readonly log: string;
  readonly plot: string;
  readonly psnrPlot: string;
  readonly config: string;
  readonly best: string;
}

/** The best checkpoint's files, relative to the output directory (as best.json records them). */
const BEST_FILES = { checkpoint: 'best.ckpt', weights: 'best.uplift' };

export function runPaths(out: string): RunPaths {
  return {
    out,
    checkpoint: join(out, 'checkpoint.ckpt'),
    weights: join(out, 'weights.uplift'),
    log: join(out, 'log.jsonl'),
    plot: join(out, 'loss.svg'),
    psnrPlot: join(out, 'psnr.svg'),
    config: join(out, 'config.json'),
    best: join(out, 'best.json'),
  };
}

export async function writeConfig(paths: RunPaths, config: TrainConfig): Promise<void> {
  await writeFile(paths.config, JSON.stringify(config, null, 2) + '\n');
}

/** log.jsonl of a run resumed at `upToStep`. */
export async function readLog(paths: RunPaths, upToStep: number): Promise<LogEntry[]> {
  if (!existsSync(paths.log)) return [];
  const lines = (await readFile(paths.log, 'utf8')).split('\n').filter((l) => l.trim());
  // Entries after the checkpoint belong to steps that will be redone.
  return lines.map((l) => JSON.parse(l) as LogEntry).filter((e) => e.step <= upToStep);
}

/** best.json of a run resumed at `upToStep` (a best of a later step belongs to redone steps). */
export async function readBest(
  paths: RunPaths,
  upToStep: number,
): Promise<BestCheckpoint | undefined> {
  if (!existsSync(paths.best)) return undefined;
  const best = JSON.parse(await readFile(paths.best, 'utf8')) as BestCheckpoint;
  return best.step <= upToStep ? best : undefined;
}

/** `best` with its file paths joined to the output directory. */
export function bestInDirectory(paths: RunPaths, best: BestCheckpoint): BestCheckpoint {
  return {
    ...best,
    checkpoint: join(paths.out, best.checkpoint),
    weights: join(paths.out, best.weights),
  };
}

/** The state of a run at `step`, as saveRun writes it. */
export interface RunState {
  readonly trainable: TrainableNetwork;
  readonly config: TrainConfig;
  readonly step: number;
  /** The log so far; its last entry is marked `best` when it becomes the best checkpoint. */
  readonly log: LogEntry[];
  readonly best: BestCheckpoint | undefined;
  /** Adapter name, recorded in the weights' metadata. */
  readonly deviceName: string | undefined;
}

/**
 * Writes the checkpoint and weights of `state.step`; the best checkpoint too when the log's last
 * entry is a validation point of this step with a higher PSNR than `state.best`; then the log and
 * the plots. Returns the best checkpoint so far.
 */
export async function saveRun(
  paths: RunPaths,
  state: RunState,
): Promise<BestCheckpoint | undefined> {
  const { config, step, log } = state;
  let best = state.best;
  const checkpoint = await runCheckpoint(state);
  const bytes = encodeCheckpoint(checkpoint);
  await writeFileAtomic(paths.checkpoint, bytes);
  // With a weight average the files hold it: what validation scored.
  const weights = checkpoint.averageWeights ?? checkpoint.weights;
  await writeFileAtomic(paths.weights, weights);
  const validated = log.at(-1);
  const psnr = validated?.step === step ? validated.validationPsnr : undefined;
  const candidate =
    psnr !== undefined && Number.isFinite(psnr)
      ? { step, validationPsnr: psnr, taauPsnr: validated!.taauPsnr!, ...BEST_FILES }
      : undefined;
  const margin = validated && worstClipMargin(validated, validationEntryCount(config));
  const scored =
    candidate && (margin === undefined ? candidate : { ...candidate, worstClipMargin: margin });
  if (scored && betterCheckpoint(scored, best, config.bestBy)) {
    best = scored;
    log[log.length - 1] = { ...validated!, best: true };
    await writeFileAtomic(join(paths.out, BEST_FILES.checkpoint), bytes);
    await writeFileAtomic(join(paths.out, BEST_FILES.weights), weights);
    await writeFileAtomic(paths.best, new TextEncoder().encode(JSON.stringify(best) + '\n'));
  }
  await writeFileAtomic(
    paths.log,
    new TextEncoder().encode(log.map((e) => JSON.stringify(e) + '\n').join('')),
  );
  await writeFile(paths.plot, lossPlot(log, config));
  if (log.some((e) => e.validationPsnr !== undefined))
    await writeFile(paths.psnrPlot, psnrPlot(log, config));
  return best;
}

/**
 * Each entry's validation margin over TAAU (network PSNR − TAAU PSNR, dB), or undefined without
 * per-clip PSNRs. With `entries` (validationEntries 'each': clip i shows entry i mod `entries`),
 * an entry's margin is the mean over its clips; without it, every clip is an entry of its own.
 */
export function entryMargins(entry: LogEntry, entries?: number): number[] | undefined {
  const { validationPsnrClips: neural, taauPsnrClips: taau } = entry;
  if (!neural || !taau || neural.length === 0 || neural.length !== taau.length) return undefined;
  const groups = Math.min(entries ?? neural.length, neural.length);
  const sums = new Array<number>(groups).fill(0);
  const counts = new Array<number>(groups).fill(0);
  neural.forEach((v, i) => {
    sums[i % groups]! += v - taau[i]!;
    counts[i % groups]!++;
  });
  return sums.map((sum, g) => sum / counts[g]!);
}

/**
 * The worst of `entryMargins` (4 decimals), or undefined without per-clip PSNRs: a run validated
 * on several clips an entry is chosen by its worst entry rather than by its unluckiest clip.
 */
export function worstClipMargin(entry: LogEntry, entries?: number): number | undefined {
  const margins = entryMargins(entry, entries);
  return margins && Number(Math.min(...margins).toFixed(4));
}

/** The entries validation cycles through ('each'), or undefined when clips are drawn freely. */
export function validationEntryCount(config: TrainConfig): number | undefined {
  return config.validationEntries === 'each' ? VALIDATION.length : undefined;
}

/**
 * Whether `candidate` replaces `best` under `bestBy`: the higher mean PSNR; or, for 'worst', the
 * higher worst-clip margin over TAAU, then the higher mean (a best without a margin, from before
 * per-clip logs, loses to one with).
 */
export function betterCheckpoint(
  candidate: Pick<BestCheckpoint, 'validationPsnr' | 'worstClipMargin'>,
  best: Pick<BestCheckpoint, 'validationPsnr' | 'worstClipMargin'> | undefined,
  bestBy: 'mean' | 'worst',
): boolean {
  if (!best) return true;
  if (bestBy === 'worst' && candidate.worstClipMargin !== undefined) {
    if (best.worstClipMargin === undefined) return true;
    if (candidate.worstClipMargin !== best.worstClipMargin) {
      return candidate.worstClipMargin > best.worstClipMargin;
    }
  }
  return candidate.validationPsnr > best.validationPsnr;
}

/** The checkpoint of `state.step`, its weights carrying the run's metadata. */
function runCheckpoint({ trainable, config, step, deviceName }: RunState): Promise<Checkpoint> {
  return captureCheckpoint(trainable, {
    step,
    seed: config.seed,
    config,
    ...(config.task === 'frames' && typeof config.data.ratio === 'number'
      ? { qualityRatio: config.data.ratio }
      : {}),
    metadata: {
      task: config.task,
      steps: step,
      device: deviceName ?? 'unknown',
      ...(config.task === 'frames'
        ? { data: config.data, warmup: config.warmup, loss: config.loss }
        : {}),
    },
  });
}

function lossPlot(log: readonly LogEntry[], config: TrainConfig): string {
  // Validation points only: with nulls between them the line would be gaps, not a curve.
  const validated = log.filter((e) => e.validationLoss !== undefined);
  return linePlotSvg(
    [
      { name: 'train loss', values: log.map((e) => e.loss), x: log.map((e) => e.step) },
      {
        name: 'validation loss',
        values: validated.map((e) => e.validationLoss),
        x: validated.map((e) => e.step),
      },
    ],
    {
      title: `Training loss (${config.network}, ${config.task})`,
      xLabel: 'step',
      yLabel: 'loss',
    },
  );
}

/** Held-out PSNR of the network against TAAU over the run (validation points only). */
function psnrPlot(log: readonly LogEntry[], config: TrainConfig): string {
  const validated = log.filter((e) => e.validationPsnr !== undefined);
  const x = validated.map((e) => e.step);
  return linePlotSvg(
    [
      { name: 'neural', values: validated.map((e) => e.validationPsnr), x },
      { name: 'TAAU', values: validated.map((e) => e.taauPsnr), x },
    ],
    {
      title: `Validation PSNR (${config.network}, ${config.validationClips} held-out clips)`,
      xLabel: 'step',
      yLabel: 'PSNR (dB)',
    },
  );
}
