/**
 * A training run with everything around the steps: output directory, checkpoints every N steps
 * and at the end (also when the time limit is near, so a 10-minute GPU call stops cleanly),
 * exact resume, a JSONL run log and the loss curve as SVG, progress callbacks.
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
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../core/errors.ts';
import { linePlotSvg } from '../report/line-plot.ts';
import { createNetwork } from '../nn/network.ts';
import type { Parameters, GraphDescription } from '../core/graph.ts';
import { createGpuTensor, writeGpuTensor } from '../nn/tensor.ts';
import { tensorLength, type Real } from '../core/tensor.ts';
import { initWeights, loadWeights, sameGraph } from '../nn/weights.ts';
import {
  baseGraph,
  graphQuantization,
  quantizeGraph,
  scalesFromMaxAbs,
  weightedInputs,
} from '../nn/quantize.ts';
import { createAbsMaxTracker } from './calibrate.ts';
import { mulberry32 } from '../core/random.ts';
import { learningRateAt, type ScheduleConfig } from './adam-cpu.ts';
import { encodeCheckpoint, loadCheckpoint, writeFileAtomic } from './checkpoint.ts';
import { NETWORKS, resolveTrainConfig, type QatConfig, type TrainConfig } from './config.ts';
import { trainFixedBatch } from './fixed-batch.ts';
import { clipGradientGpu, clipLossGpu, type ClipGradientOptions } from './bptt.ts';
import { createGpuClipTrainer, type TrainerClip } from './bptt-gpu.ts';
import { type ClipFrameCpu, prepareClipCpu } from './bptt-cpu.ts';
import {
  createClipSampler,
  readClipFrames,
  type ClipSourceSpec,
  type TrainingClip,
} from './data/clips.ts';
import { TRAIN_LAYOUT_SEEDS, VALIDATION } from './splits.ts';
import { PROCEDURAL_SCENES } from '../scene/procedural/scenes.ts';
import { captureCheckpoint, restoreTrainable } from './session.ts';
import { createTrainableNetwork, type TrainableNetwork } from './trainable.ts';
import { clipFrameSource, meanDb, methodPsnr, neuralSpec, TAAU_SPEC } from './validate-psnr.ts';

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

/** out/best.json: the checkpoint of the highest validation PSNR of the run. */
export interface BestCheckpoint {
  readonly step: number;
  readonly validationPsnr: number;
  readonly taauPsnr: number;
  /** Paths of best.ckpt and best.uplift (in best.json: relative to the output directory). */
  readonly checkpoint: string;
  readonly weights: string;
}

export interface TrainOptions {
  /** Output directory (created). */
  readonly out: string;
  /** Continue from out/checkpoint.ckpt; without it an existing checkpoint is an error. */
  readonly resume?: boolean;
  /** Stop (with a checkpoint) before this many seconds have passed. */
  readonly timeLimitSeconds?: number;
  /** Called once the start step is known (0, or the checkpoint's). */
  readonly onStart?: (step: number, totalSteps: number) => void;
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

/** Runs optimizer steps of one task; returns the loss of each step. */
interface TrainingTask {
  runSteps(startStep: number, steps: number, schedule: ScheduleConfig): Promise<number[]>;
  /** Loss and PSNR on the held-out data, if the task has any. */
  validate(): Promise<Validation | undefined>;
  /**
   * Max |x| of the named network tensors over every frame of the first `clips` training clips
   * (activation calibration; task `frames` on the GPU frame path only).
   */
  calibrate?(names: readonly string[], clips: number): Promise<Map<string, number>>;
  destroy(): void;
}

/** The teacher task: a fixed batch (features and target) derived from the seed only. */
function teacherTask(
  device: GPUDevice,
  config: TrainConfig,
  trainable: TrainableNetwork,
): TrainingTask {
  const graph = NETWORKS[config.network]!;
  const [width, height] = config.size;
  const channels = graph.inputs[0]!.channels;
  const random = mulberry32(config.seed ^ 0x5eed);
  const data = new Float32Array(channels * width * height).map(() => random());
  const input = createGpuTensor(device, { channels, height, width }, 'teacher features');
  writeGpuTensor(device, input, { channels, height, width, data });
  const teacher = createNetwork(device, graph, initWeights(graph, config.seed + 1));
  const encoder = device.createCommandEncoder();
  const output = teacher.run(encoder, input).output;
  const target = device.createBuffer({
    label: 'teacher target',
    size: tensorLength(output) * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  encoder.copyBufferToBuffer(output.buffer, 0, target, 0, target.size);
  device.queue.submit([encoder.finish()]);
  teacher.destroy();
  return {
    runSteps: (startStep, steps, schedule) =>
      trainFixedBatch(device, trainable, input, target, {
        startStep,
        steps,
        schedule,
        readEvery: steps,
      }),
    validate: async () => undefined,
    destroy() {
      input.buffer.destroy();
      target.destroy();
    },
  };
}

/**
 * Clips of a run from the clip sampler (`clip(index)` is pure in (seed, index), so resumed runs see
 * the same data), in the CPU form both BPTT paths take. Training scene clips draw their layout
 * seed from TRAIN_LAYOUT_SEEDS (many layouts, all below the validation seeds). Validation draws
 * from the VALIDATION split's procedural entries (other layouts and held-out scene/path pairs; glTF
 * entries need ../shared/assets, which the GPU machine lacks) or, for the other sources, another
 * seed.
 */
function clipSource(device: GPUDevice, config: TrainConfig, split: 'train' | 'validation') {
  const { data } = config;
  const sources: ClipSourceSpec[] =
    data.source === 'sequences'
      ? [{ kind: 'sequences', weight: 1, dirs: data.paths }]
      : data.source === 'analytic'
        ? [{ kind: 'analytic', weight: 1 }]
        : split === 'train'
          ? [{ kind: 'scenes', weight: 1, layoutSeeds: TRAIN_LAYOUT_SEEDS }]
          : [
              {
                kind: 'scenes',
                weight: 1,
                entries: VALIDATION.filter((e) => e.scene in PROCEDURAL_SCENES),
              },
            ];
  const sampler = createClipSampler(device, {
    displaySize: [config.size[0], config.size[1]],
    ratio: data.ratio,
    clipLength: data.clipFrames,
    samples: data.referenceSamples,
    seed: split === 'train' ? config.seed : config.seed + 1_000_003,
    sources,
  });
  return {
    /**
     * Runs `use` on clip `index` in the form the frame path takes (and as sampled, for the frame
     * API), then frees the clip.
     */
    async with<T>(
      index: number,
      use: (clip: TrainerClip, sampled: TrainingClip) => Promise<T>,
    ): Promise<T> {
      const clip = await sampler.clip(index);
      try {
        if (config.frame === 'gpu') return await use(clip, clip);
        return await use(prepareClipCpu(clip.header, await readClipFrames(device, clip)), clip);
      } finally {
        clip.destroy();
      }
    },
    destroy: () => sampler.destroy(),
  };
}

/** What a validation point measures (task `frames`; see LogEntry). */
interface Validation {
  readonly validationLoss: number;
  readonly validationPsnr: number;
  readonly taauPsnr: number;
  readonly validationPsnrClips: readonly number[];
  readonly taauPsnrClips: readonly number[];
}

/**
 * The frames task: `clipsPerStep` clips per step (loss weights divided by that count, so the
 * gradient is the mean), BPTT through the neural frame, then Adam. Validation on
 * `validationClips` held-out clips (a sampler with another seed: other layouts and motion): the
 * clip loss, and the PSNR of the current weights and of the heuristic TAAU through the frame API
 * (validate-psnr.ts). TAAU's numbers depend on the clips only: computed once per process.
 */
function framesTask(
  device: GPUDevice,
  config: TrainConfig,
  trainable: TrainableNetwork,
): TrainingTask {
  const sampler = clipSource(device, config, 'train');
  const heldOut = clipSource(device, config, 'validation');
  const k = config.clipsPerStep;
  const onGpu = config.frame === 'gpu' ? createGpuClipTrainer(device, trainable) : undefined;
  // The CPU frame path receives CPU clips (clipSource converts them), the GPU path either form.
  const gradient = (clip: TrainerClip, options: ClipGradientOptions) =>
    onGpu
      ? onGpu.gradient(clip, options)
      : clipGradientGpu(device, trainable, clip as ClipFrameCpu[], options);
  const clipLoss = (clip: TrainerClip, options: ClipGradientOptions) =>
    onGpu
      ? onGpu.loss(clip, options)
      : clipLossGpu(device, trainable, clip as ClipFrameCpu[], options);
  const weights = {
    l1: config.loss.l1 / k,
    gradient: config.loss.gradient / k,
    temporal: config.loss.temporal / k,
  };
  const taauPsnr = new Map<number, number>();
  return {
    async runSteps(startStep, steps, schedule) {
      const losses: number[] = [];
      for (let step = startStep; step < startStep + steps; step++) {
        let loss = 0;
        for (let c = 0; c < k; c++) {
          const options = { warmup: config.warmup, weights, accumulate: c > 0 };
          loss += (await sampler.with(step * k + c, (clip) => gradient(clip, options))).loss;
        }
        const encoder = device.createCommandEncoder();
        const pass = encoder.beginComputePass({ label: 'Adam' });
        trainable.adam.encodeStep(pass, step + 1, learningRateAt(step, schedule));
        pass.end();
        device.queue.submit([encoder.finish()]);
        losses.push(loss);
      }
      return losses;
    },
    async validate() {
      if (config.validationClips === 0) return undefined;
      const model = { graph: trainable.graph, parameters: await trainable.readParams() };
      let sum = 0;
      const neural: number[] = [];
      const taau: number[] = [];
      for (let i = 0; i < config.validationClips; i++) {
        const options = { warmup: config.warmup, weights: config.loss };
        sum += await heldOut.with(i, async (clip, sampled) => {
          const { loss } = await clipLoss(clip, options);
          const source = await clipFrameSource(device, sampled, `validation clip ${i}`);
          const spec = await neuralSpec(device, model);
          neural.push(await methodPsnr(device, source, spec, config.warmup));
          if (!taauPsnr.has(i))
            taauPsnr.set(i, await methodPsnr(device, source, TAAU_SPEC, config.warmup));
          taau.push(taauPsnr.get(i)!);
          return loss;
        });
      }
      const round = (db: number) => Number(db.toFixed(4));
      return {
        validationLoss: sum / config.validationClips,
        validationPsnr: round(meanDb(neural)),
        taauPsnr: round(meanDb(taau)),
        validationPsnrClips: neural.map(round),
        taauPsnrClips: taau.map(round),
      };
    },
    async calibrate(names, clips) {
      if (!onGpu) throw new InputError('activation calibration needs frame "gpu"');
      const tracker = createAbsMaxTracker(device, names);
      try {
        const options = { warmup: config.warmup, weights: config.loss };
        for (let i = 0; i < clips; i++) {
          await sampler.with(i, (clip) =>
            onGpu.loss(clip, options, (encoder, run) => tracker.encode(encoder, run.activations)),
          );
        }
        return await tracker.read();
      } finally {
        tracker.destroy();
      }
    },
    destroy() {
      sampler.destroy();
      heldOut.destroy();
      onGpu?.destroy();
    },
  };
}

async function readLog(path: string, upToStep: number): Promise<LogEntry[]> {
  if (!existsSync(path)) return [];
  const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l.trim());
  // Entries after the checkpoint belong to steps that will be redone.
  return lines.map((l) => JSON.parse(l) as LogEntry).filter((e) => e.step <= upToStep);
}

/** best.json of a run resumed at `upToStep` (a best of a later step belongs to redone steps). */
async function readBest(path: string, upToStep: number): Promise<BestCheckpoint | undefined> {
  if (!existsSync(path)) return undefined;
  const best = JSON.parse(await readFile(path, 'utf8')) as BestCheckpoint;
  return best.step <= upToStep ? best : undefined;
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

/** Throws InputError unless `graph` is `base` quantized as `qat` says. */
function checkQuantized(graph: GraphDescription, base: GraphDescription, qat: QatConfig): void {
  const q = graphQuantization(graph);
  if (
    !sameGraph(baseGraph(graph), base) ||
    q?.weightBits !== qat.weightBits ||
    q.activationBits !== qat.activationBits
  ) {
    throw new InputError(
      `network "${graph.name}" is not the ${base.name} network quantized to ${qat.weightBits}-bit weights and ${qat.activationBits}-bit activations (qat in the config)`,
    );
  }
}

/**
 * Max |x| of every tensor a weighted op of `graph` reads, over every frame of the first
 * `clips` training clips of `config` (the frames task on the GPU, the network in f32 with
 * `parameters`): the activation calibration of QAT and of post-training quantization.
 */
export async function calibrateActivations(
  device: GPUDevice,
  config: TrainConfig,
  graph: GraphDescription,
  parameters: Parameters<Real>,
  clips: number,
): Promise<Map<string, number>> {
  const trainable = createTrainableNetwork(device, graph, parameters, config.adam);
  const task = framesTask(device, config, trainable);
  try {
    return await task.calibrate!(weightedInputs(graph), clips);
  } finally {
    task.destroy();
    trainable.destroy();
  }
}

/**
 * The QAT network of a fresh run: activation scales calibrated with the f32 graph `graph`
 * (calibrateActivations over qat.calibrationClips clips), then a trainable network of the
 * quantized graph holding `parameters`.
 */
async function quantizeTrainable(
  device: GPUDevice,
  config: TrainConfig,
  graph: GraphDescription,
  parameters: Parameters<Real>,
): Promise<TrainableNetwork> {
  const qat = config.qat!;
  const maxAbs = await calibrateActivations(
    device,
    config,
    graph,
    parameters,
    qat.calibrationClips,
  );
  const quantized = quantizeGraph(graph, {
    weightBits: qat.weightBits,
    activationBits: qat.activationBits,
    activationScales: scalesFromMaxAbs(maxAbs, qat.activationBits),
  });
  return createTrainableNetwork(device, quantized, parameters, config.adam);
}

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
  const paths = {
    checkpoint: join(options.out, 'checkpoint.ckpt'),
    weights: join(options.out, 'weights.uplift'),
    log: join(options.out, 'log.jsonl'),
    plot: join(options.out, 'loss.svg'),
    psnrPlot: join(options.out, 'psnr.svg'),
    config: join(options.out, 'config.json'),
    best: join(options.out, 'best.json'),
  };
  const bestFiles = { checkpoint: 'best.ckpt', weights: 'best.uplift' };
  let config: TrainConfig;
  let trainable: TrainableNetwork;
  let step = 0;
  if (options.resume) {
    const checkpoint = await loadCheckpoint(paths.checkpoint);
    config = resolveTrainConfig(overrides, resolveTrainConfig(checkpoint.config));
    // A QAT checkpoint holds its quantized graph (with the calibrated scales): check its base.
    trainable = restoreTrainable(
      device,
      checkpoint,
      config.adam,
      config.qat ? undefined : NETWORKS[config.network],
    );
    step = checkpoint.step;
    if (config.qat) checkQuantized(trainable.graph, NETWORKS[config.network]!, config.qat);
  } else {
    if (existsSync(paths.checkpoint)) {
      throw new InputError(
        `${paths.checkpoint} exists: pass --resume to continue it, or choose another --out`,
      );
    }
    config = resolveTrainConfig(overrides);
    const graph = NETWORKS[config.network]!;
    // Fine-tuning starts from given weights (same architecture), fresh Adam moments.
    const init = options.initWeights
      ? await loadWeights(options.initWeights, config.qat ? {} : { graph })
      : { graph, parameters: initWeights(graph, config.seed) };
    if (config.qat && graphQuantization(init.graph)) {
      // Continuing QAT from quantized weights: keep their calibrated scales.
      checkQuantized(init.graph, graph, config.qat);
      trainable = createTrainableNetwork(device, init.graph, init.parameters, config.adam);
    } else {
      if (!sameGraph(init.graph, graph)) {
        throw new InputError(
          `${options.initWeights}: its network is not the ${config.network} network being trained`,
        );
      }
      trainable = config.qat
        ? await quantizeTrainable(device, config, graph, init.parameters)
        : createTrainableNetwork(device, graph, init.parameters, config.adam);
    }
  }
  await writeFile(paths.config, JSON.stringify(config, null, 2) + '\n');
  const log = await readLog(paths.log, step);
  let best = await readBest(paths.best, step);
  const schedule: ScheduleConfig = {
    peak: config.learningRate,
    warmupSteps: config.warmupSteps,
    totalSteps: config.steps,
    finalRatio: config.finalRatio,
  };
  const task = (config.task === 'teacher' ? teacherTask : framesTask)(device, config, trainable);
  let validationSeconds = 0;
  const save = async () => {
    const last = log.at(-1);
    if (last?.step === step && last.validationLoss === undefined) {
      const start = elapsed();
      const validation = await task.validate();
      validationSeconds = elapsed() - start;
      if (validation) {
        log[log.length - 1] = { ...last, ...validation };
        options.onValidation?.(log[log.length - 1]!, config.steps);
      }
    }
    const checkpoint = await captureCheckpoint(trainable, {
      step,
      seed: config.seed,
      config,
      ...(config.task === 'frames' && typeof config.data.ratio === 'number'
        ? { qualityRatio: config.data.ratio }
        : {}),
      metadata: {
        task: config.task,
        steps: step,
        device: options.deviceName ?? 'unknown',
        ...(config.task === 'frames'
          ? { data: config.data, warmup: config.warmup, loss: config.loss }
          : {}),
      },
    });
    const bytes = encodeCheckpoint(checkpoint);
    await writeFileAtomic(paths.checkpoint, bytes);
    await writeFileAtomic(paths.weights, checkpoint.weights);
    const validated = log.at(-1);
    const psnr = validated?.step === step ? validated.validationPsnr : undefined;
    if (psnr !== undefined && Number.isFinite(psnr) && !(best && best.validationPsnr >= psnr)) {
      best = { step, validationPsnr: psnr, taauPsnr: validated!.taauPsnr!, ...bestFiles };
      log[log.length - 1] = { ...validated!, best: true };
      await writeFileAtomic(join(options.out, bestFiles.checkpoint), bytes);
      await writeFileAtomic(join(options.out, bestFiles.weights), checkpoint.weights);
      await writeFileAtomic(paths.best, new TextEncoder().encode(JSON.stringify(best) + '\n'));
    }
    await writeFileAtomic(
      paths.log,
      new TextEncoder().encode(log.map((e) => JSON.stringify(e) + '\n').join('')),
    );
    await writeFile(paths.plot, lossPlot(log, config));
    if (log.some((e) => e.validationPsnr !== undefined))
      await writeFile(paths.psnrPlot, psnrPlot(log, config));
  };
  let lastSaved = step;
  let chunkSeconds = 0;
  try {
    const stopAt = Math.min(config.steps, options.stopAtStep ?? Infinity);
    options.onStart?.(step, config.steps);
    while (step < stopAt) {
      const limit = options.timeLimitSeconds;
      const reserve = CHECKPOINT_RESERVE_SECONDS + validationSeconds;
      if (limit !== undefined && elapsed() + chunkSeconds + reserve > limit) break;
      const chunkStart = elapsed();
      const steps = Math.min(config.logEvery - (step % config.logEvery), stopAt - step);
      // A WebGPU error inside a step leaves the weights untouched and the losses zero: stop
      // loudly, before a checkpoint could record such steps as done.
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
  }
  const bestPaths = best && {
    ...best,
    checkpoint: join(options.out, best.checkpoint),
    weights: join(options.out, best.weights),
  };
  return { step, finished: step >= config.steps, log, ...(bestPaths ? { best: bestPaths } : {}) };
}
