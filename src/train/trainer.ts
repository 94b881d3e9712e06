/**
 * A training run with everything around the steps: checkpoints every N steps and at the end (also
 * when the time limit is near, so a 10-minute GPU call stops cleanly), exact resume, a JSONL run
 * log with the loss curve, progress callbacks. How a run starts is run-start.ts, what a step does
 * is tasks.ts, the files a run writes (out/checkpoint.ckpt, log.jsonl, …) are run-directory.ts.
 */
import { existsSync } from 'node:fs';
import { InputError } from '../core/errors.ts';
import { mkdir } from 'node:fs/promises';
import { learningRateAt, type ScheduleConfig } from './adam-cpu.ts';
import {
  bestInDirectory,
  readBest,
  readLog,
  runPaths,
  saveRun,
  writeConfig,
  type BestCheckpoint,
  type LogEntry,
} from './run-directory.ts';
import { startRun, type RunStart } from './run-start.ts';
import { createTask, type TrainingTask } from './tasks.ts';
import { forkGradientWorkers, type GradientWorker, type WorkerCommand } from './data-parallel.ts';
import type { TrainConfig } from './config.ts';
import { scheduleOf } from './schedule.ts';
import type { GraphDescription } from '../core/graph.ts';

export interface TrainOptions {
  /** Output directory (created). */
  readonly out: string;
  /** Continue from out/checkpoint.ckpt; without it an existing checkpoint is an error. */
  readonly resume?: boolean;
  /** Stop (with a checkpoint) before this many seconds have passed. */
  readonly timeLimitSeconds?: number;
  /** Called once the start step is known (0, or the checkpoint's). */
  readonly onStart?: (
    step: number,
    totalSteps: number,
    initMatched?: RunStart['initMatched'],
  ) => void;
  /** Called after every logged chunk of steps. */
  readonly onLog?: (entry: LogEntry, totalSteps: number) => void;
  /** Called after a validation point, with the log entry it completed. */
  readonly onValidation?: (entry: LogEntry, totalSteps: number) => void;
  /** Stop (with a checkpoint) once this many steps are done in total, e.g. to split a run. */
  readonly stopAtStep?: number;
  /** Adapter name, recorded in the weights' metadata. */
  readonly deviceName?: string;
  /** A `.uplift` file to start from instead of random weights (fine-tuning; ignored on resume). */
  readonly initWeights?: string;
  /** Take only the parameters of `initWeights` that match by name and shape (RunStartOptions). */
  readonly initMatching?: boolean;
  /**
   * Steps submitted before the previous one's loss is read back (task `frames` on the GPU frame
   * path; default STEPS_IN_FLIGHT, 1 is one step after the other). Same results for any value.
   */
  readonly stepsInFlight?: number;
  /**
   * Data-parallel processes (task `frames`, frame `gpu`; default 1): this one and workers − 1
   * started with `workerCommand` (`uplift train-worker`), each taking clipsPerStep clips of a
   * step (data-parallel.ts). The run's results depend on the count.
   */
  readonly workers?: number;
  readonly workerCommand?: WorkerCommand;
}

export interface TrainResult {
  /** Steps completed in total (including before a resume). */
  readonly step: number;
  /** True when every configured step is done; false when the time limit stopped the run. */
  readonly finished: boolean;
  readonly log: readonly LogEntry[];
  /** The best validation point so far (paths joined to the output directory), if any. */
  readonly best?: BestCheckpoint;
}

/** Seconds kept in reserve under the time limit for the final checkpoint (plus validation). */
const CHECKPOINT_RESERVE_SECONDS = 5;

/**
 * Runs (or resumes) training. `overrides` are merged over the defaults, or over the checkpoint's
 * config on resume (so e.g. `steps` can be raised to train longer).
 */
export async function train(
  device: GPUDevice,
  overrides: unknown,
  options: TrainOptions,
): Promise<TrainResult> {
  const start = performance.now();
  const elapsed = () => (performance.now() - start) / 1000;
  await mkdir(options.out, { recursive: true });
  const paths = runPaths(options.out);
  const started = await startRun(device, overrides, {
    checkpoint: paths.checkpoint,
    resume: options.resume,
    initWeights: options.initWeights,
    initMatching: options.initMatching,
  });
  const { config, trainable } = started;
  let step = started.step;
  await writeConfig(paths, config);
  const log = await readLog(paths, step);
  // A best scored on other validation clips does not compare with this run's scores.
  let best = started.validationChanged ? undefined : await readBest(paths, step);
  const schedule = scheduleOf(config);
  const workers = await startWorkers(config, trainable.graph, options).catch((e: unknown) => {
    trainable.destroy();
    throw e;
  });
  const task = createTask(device, config, trainable, {
    ...(options.stepsInFlight !== undefined ? { stepsInFlight: options.stepsInFlight } : {}),
    workers,
  });
  let validationSeconds = 0;
  const save = async () => {
    const last = log.at(-1);
    if (last?.step === step && last.validationLoss === undefined) {
      const start = elapsed();
      const validation = await task.validate();
      validationSeconds = elapsed() - start;
      if (validation) {
        const seconds = Number(validationSeconds.toFixed(3));
        log[log.length - 1] = { ...last, ...validation, validationSeconds: seconds };
        options.onValidation?.(log[log.length - 1]!, config.steps);
      }
    }
    const deviceName = options.deviceName;
    best = await saveRun(paths, { trainable, config, step, log, best, deviceName });
  };
  let lastSaved = step;
  let chunkSeconds = 0;
  try {
    const stopAt = Math.min(config.steps, options.stopAtStep ?? Infinity);
    options.onStart?.(step, config.steps, started.initMatched);
    while (step < stopAt) {
      const limit = options.timeLimitSeconds;
      const reserve = CHECKPOINT_RESERVE_SECONDS + validationSeconds;
      if (limit !== undefined && elapsed() + chunkSeconds + reserve > limit) break;
      const chunkStart = elapsed();
      const steps = Math.min(config.logEvery - (step % config.logEvery), stopAt - step);
      const losses = await runChecked(device, task, step, steps, schedule, lastSaved);
      step += steps;
      const entry: LogEntry = {
        step,
        loss: losses.reduce((a, b) => a + b, 0) / losses.length,
        learningRate: learningRateAt(step - 1, schedule),
        gradNorm: await trainable.adam.readGradNorm(),
        seconds: Number(elapsed().toFixed(3)),
        stepsPerSecond: Number((steps / (elapsed() - chunkStart)).toPrecision(4)),
      };
      if (!Number.isFinite(entry.loss))
        throw new Error(`training diverged at step ${step} (loss ${entry.loss})`);
      log.push(entry);
      options.onLog?.(entry, config.steps);
      chunkSeconds = elapsed() - chunkStart;
      if (step - lastSaved >= config.checkpointEvery) {
        await save();
        lastSaved = step;
      }
    }
    if (lastSaved !== step || !existsSync(paths.checkpoint)) await save();
  } finally {
    task.destroy();
    trainable.destroy();
    for (const w of workers) w.destroy();
  }
  const bestPaths = best && bestInDirectory(paths, best);
  return { step, finished: step >= config.steps, log, ...(bestPaths ? { best: bestPaths } : {}) };
}

/**
 * Runs `steps` steps of `task` from `step`. A WebGPU error inside a step leaves the weights
 * untouched and the losses zero: it throws, before a checkpoint could record such steps as done.
 */
async function runChecked(
  device: GPUDevice,
  task: TrainingTask,
  step: number,
  steps: number,
  schedule: ScheduleConfig,
  lastSaved: number,
): Promise<number[]> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  const losses = await task.runSteps(step, steps, schedule);
  const validationError = await device.popErrorScope();
  const memoryError = await device.popErrorScope();
  const gpuError = validationError ?? memoryError;
  if (gpuError) {
    throw new Error(
      `WebGPU error during training steps ${step + 1}–${step + steps}: ${gpuError.message} ` +
        `(the checkpoint of step ${lastSaved} is intact)`,
    );
  }
  return losses;
}

/** The data-parallel workers 1..workers−1 a run asks for (none for one process). */
async function startWorkers(
  config: TrainConfig,
  graph: GraphDescription,
  options: TrainOptions,
): Promise<GradientWorker[]> {
  const count = options.workers ?? 1;
  if (!Number.isInteger(count) || count < 1)
    throw new InputError(`workers must be an integer ≥ 1, got ${count}`);
  if (count === 1) return [];
  if (config.task !== 'frames' || config.frame !== 'gpu')
    throw new InputError('data-parallel workers need task "frames" with frame "gpu"');
  if (!options.workerCommand) throw new Error('workers > 1 need a workerCommand');
  return forkGradientWorkers(options.workerCommand, { config, graph, workers: count });
}
