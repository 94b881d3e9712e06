/**
 * A frame-generation training run (`uplift train-framegen`): samples rendered once (samples.ts),
 * their features made once on the GPU, then steps of `batch` samples — network forward, blend,
 * L1 against the tonemapped truth, the blend's backward, the network's backward — and an Adam
 * step, all on the GPU. Checkpoints every N steps and at the end (also when a time limit is near),
 * exact resume (sample order and weights are pure in seed and step), a JSONL log, and at each
 * checkpoint the PSNR of the dev clips beside the heuristic, the blend and repeating.
 *
 *   out/checkpoint.ckpt  resume state (src/train/checkpoint.ts, this run's config inside)
 *   out/weights.uplift   the latest weights, loadable by createFrameGenerator
 *   out/samples.bin      the rendered samples (reused by a resumed run with the same data config)
 *   out/log.jsonl        step, loss, learning rate, gradient norm, seconds; dev PSNRs at checkpoints
 *   out/loss.svg         the loss curve
 *   out/config.json      the resolved configuration
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../../core/errors.ts';
import { type Image } from '../../core/image.ts';
import type { Size } from '../../core/quality.ts';
import type { Tensor } from '../../core/tensor.ts';
import { mulberry32 } from '../../core/random.ts';
import { displayMse, meanPsnr, toDisplayPair } from '../../metrics/index.ts';
import { generateFrameCpu } from '../../reference/frame-generation.ts';
import { framegenOutputCpu } from '../../reference/frame-generation-neural.ts';
import { encodeFramegenBlend } from '../../gpu/passes/framegen-blend.ts';
import { encodeFramegenBlendBackward } from '../../nn/backward/framegen-blend.ts';
import { FRAMEGEN_FEATURE_CHANNELS, FRAMEGEN_RAW_CHANNELS } from '../../core/framegen-neural.ts';
import { createGpuTensor } from '../../nn/tensor.ts';
import { initWeights } from '../../nn/weights.ts';
import { readBuffer } from '../../gpu/resources.ts';
import { linePlotSvg } from '../../report/line-plot.ts';
import { learningRateAt } from '../adam-cpu.ts';
import { continuedSchedule, scheduleOf } from '../schedule.ts';
import { encodeCheckpoint, loadCheckpoint, writeFileAtomic } from '../checkpoint.ts';
import { createTensorL1 } from '../losses/tensor-l1.ts';
import { captureCheckpoint, restoreTrainable } from '../session.ts';
import { createTrainableNetwork, type TrainableNetwork } from '../trainable.ts';
import { FRAMEGEN_NETWORKS, resolveFramegenConfig, type FramegenTrainConfig } from './config.ts';
import { sampleParams, uploadSample, type GpuSample } from './gpu-samples.ts';
import { loadOrRenderSamples, type FramegenSample } from './samples.ts';

/** One line of log.jsonl. */
export interface FramegenLogEntry {
  readonly step: number;
  /** Mean L1 (tonemapped) over the steps since the previous entry. */
  readonly loss: number;
  readonly learningRate: number;
  readonly gradNorm: number;
  /** Wall seconds of this process so far. */
  readonly seconds: number;
  readonly stepsPerSecond: number;
  /** At checkpoints: PSNR (dB, mean of the dev samples' MSEs) of the network and the baselines. */
  readonly dev?: DevScores;
}

export interface DevScores {
  readonly neural: number;
  readonly heuristic: number;
  readonly blend: number;
  readonly repeat: number;
}

export interface FramegenTrainOptions {
  readonly out: string;
  /** Continue from out/checkpoint.ckpt; without it an existing checkpoint is an error. */
  readonly resume?: boolean;
  /** Stop (with a checkpoint) before this many seconds have passed. */
  readonly timeLimitSeconds?: number;
  /** Stop (with a checkpoint) once this many steps are done in total. */
  readonly stopAtStep?: number;
  /** Adapter name, recorded in the weights' metadata. */
  readonly deviceName?: string;
  readonly onSamples?: (done: number, total: number, clip: string) => void;
  readonly onStart?: (step: number, totalSteps: number, samples: number) => void;
  readonly onLog?: (entry: FramegenLogEntry) => void;
}

export interface FramegenTrainResult {
  readonly step: number;
  readonly finished: boolean;
  readonly log: readonly FramegenLogEntry[];
  readonly weights: string;
}

/** Seconds kept under the time limit for the final checkpoint and dev scores. */
const RESERVE_SECONDS = 10;

/** Index into the training samples of the j-th sample drawn: a fresh permutation per epoch. */
function sampleOrder(seed: number, count: number): (j: number) => number {
  let epoch = -1;
  let order: number[] = [];
  return (j) => {
    const e = Math.floor(j / count);
    if (e !== epoch) {
      epoch = e;
      const random = mulberry32((seed ^ Math.imul(e + 1, 0x9e3779b1)) >>> 0);
      order = Array.from({ length: count }, (_, i) => i);
      for (let i = count - 1; i > 0; i--) {
        const k = Math.floor(random() * (i + 1));
        [order[i], order[k]] = [order[k]!, order[i]!];
      }
    }
    return order[j % count]!;
  };
}

/** Config and network of a run: fresh, or the checkpoint's on resume. */
async function startFramegenRun(
  device: GPUDevice,
  overrides: unknown,
  checkpointPath: string,
  resume: boolean,
): Promise<{ config: FramegenTrainConfig; trainable: TrainableNetwork; step: number }> {
  if (resume) {
    const checkpoint = await loadCheckpoint(checkpointPath, (c) => resolveFramegenConfig(c));
    const before = resolveFramegenConfig(checkpoint.config);
    const config = continuedSchedule(
      before,
      resolveFramegenConfig(overrides, before),
      checkpoint.step,
    );
    if (checkpoint.step > config.steps) {
      throw new InputError(
        `${checkpointPath} is at step ${checkpoint.step}, past the ${config.steps} steps asked for: raise --steps to continue it`,
      );
    }
    const graph = FRAMEGEN_NETWORKS[config.network]!;
    const trainable = restoreTrainable(device, checkpoint, config.adam, graph);
    return { config, trainable, step: checkpoint.step };
  }
  if (existsSync(checkpointPath)) {
    throw new InputError(
      `${checkpointPath} exists: pass --resume to continue it, or choose another --out`,
    );
  }
  const config = resolveFramegenConfig(overrides);
  const graph = FRAMEGEN_NETWORKS[config.network]!;
  const trainable = createTrainableNetwork(
    device,
    graph,
    initWeights(graph, config.seed),
    config.adam,
  );
  return { config, trainable, step: 0 };
}

/** PSNR (mean of MSEs, display domain) of the baselines on the dev samples (CPU reference). */
function baselineScores(samples: readonly FramegenSample[]): Omit<DevScores, 'neural'> {
  const mses = { heuristic: [] as number[], blend: [] as number[], repeat: [] as number[] };
  for (const s of samples) {
    const mse = (image: Image) => displayMse(toDisplayPair(image, s.truth, 'dev'));
    const images = { ...s, reactive: s.reactive };
    mses.heuristic.push(mse(generateFrameCpu(images, sampleParams(s))));
    const blend = {
      ...s.previous,
      data: s.previous.data.map((v, i) => (1 - s.t) * v + s.t * s.current.data[i]!),
    };
    mses.blend.push(mse(blend));
    mses.repeat.push(mse(s.previous));
  }
  return {
    heuristic: meanPsnr(mses.heuristic),
    blend: meanPsnr(mses.blend),
    repeat: meanPsnr(mses.repeat),
  };
}

/** The GPU work on one sample: forward, blend and, in training, the loss and the backward. */
interface SampleRunner {
  /**
   * Records the forward and blend of `sample`; with `backward`, also the L1 loss (into loss slot
   * `slot`) and the backward, parameter gradients added to (`accumulate`) or overwritten.
   */
  record(sample: GpuSample, backward?: { slot: number; accumulate: boolean }): void;
  /** The latest blend: tonemapped, planar RGB (waits for the queue). */
  readBlended(): Promise<Tensor>;
  /** The first `count` loss slots (waits for the queue). */
  readLosses(count: number): Promise<Float32Array>;
  destroy(): void;
}

function createSampleRunner(
  device: GPUDevice,
  trainable: TrainableNetwork,
  config: FramegenTrainConfig,
): SampleRunner {
  const [width, height] = config.data.size;
  const input = createGpuTensor(
    device,
    { channels: FRAMEGEN_FEATURE_CHANNELS, height, width },
    'framegen training features',
  );
  const count = 3 * width * height;
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC;
  const blended = device.createBuffer({ label: 'blended', size: count * 4, usage });
  const dBlended = device.createBuffer({ label: 'd blended', size: count * 4, usage });
  const logitsBytes = FRAMEGEN_RAW_CHANNELS * width * height * 4;
  const dLogits = device.createBuffer({ label: 'd logits', size: logitsBytes, usage });
  const losses = device.createBuffer({
    label: 'losses',
    size: config.logEvery * config.batch * 4,
    usage,
  });
  const l1 = createTensorL1(device, count);
  const size: Size = [width, height];
  const blendInputs = (logits: GPUBuffer) => ({
    features: input.buffer,
    logits,
    size,
    padded: size,
  });
  return {
    record(sample, backward) {
      const encoder = device.createCommandEncoder();
      encoder.copyBufferToBuffer(sample.features, 0, input.buffer, 0, input.buffer.size);
      const forward = trainable.forward(encoder, input);
      const pass = encoder.beginComputePass({ label: 'framegen blend, loss, backward' });
      const inputs = blendInputs(forward.output.buffer);
      encodeFramegenBlend(device, pass, inputs, { tensor: blended });
      if (backward) {
        l1.encode(pass, blended, sample.truth, dBlended, losses, backward.slot);
        encodeFramegenBlendBackward(device, pass, inputs, dBlended, dLogits);
        const grads = new Map([[trainable.graph.outputs[0]!, dLogits]]);
        trainable.encodeBackward(pass, forward, grads, backward.accumulate);
      }
      pass.end();
      device.queue.submit([encoder.finish()]);
    },
    async readBlended() {
      return { channels: 3, height, width, data: await readBuffer(device, blended, count * 4) };
    },
    readLosses: (n) => readBuffer(device, losses, n * 4),
    destroy() {
      for (const b of [input.buffer, blended, dBlended, dLogits, losses]) b.destroy();
      l1.destroy();
    },
  };
}

/** Runs (or resumes) a frame-generation training run. */
export async function trainFramegen(
  device: GPUDevice,
  overrides: unknown,
  options: FramegenTrainOptions,
): Promise<FramegenTrainResult> {
  const start = performance.now();
  const elapsed = () => (performance.now() - start) / 1000;
  await mkdir(options.out, { recursive: true });
  const paths = {
    checkpoint: join(options.out, 'checkpoint.ckpt'),
    weights: join(options.out, 'weights.uplift'),
    samples: join(options.out, 'samples.bin'),
    log: join(options.out, 'log.jsonl'),
    plot: join(options.out, 'loss.svg'),
    config: join(options.out, 'config.json'),
  };
  const run = await startFramegenRun(device, overrides, paths.checkpoint, !!options.resume);
  const { config, trainable } = run;
  let step = run.step;
  await writeFile(paths.config, JSON.stringify(config, null, 2) + '\n');
  const log: FramegenLogEntry[] = existsSync(paths.log)
    ? (await readFile(paths.log, 'utf8'))
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as FramegenLogEntry)
        .filter((e) => e.step <= step)
    : [];
  const gpuSamples: GpuSample[] = [];
  const runner = createSampleRunner(device, trainable, config);
  try {
    const samples = await loadOrRenderSamples(
      device,
      config.seed,
      config.data,
      paths.samples,
      options.onSamples,
    );
    for (const s of [...samples.train, ...samples.dev])
      gpuSamples.push(await uploadSample(device, s));
    const train = gpuSamples.slice(0, samples.train.length);
    const dev = gpuSamples.slice(samples.train.length);
    const baselines = samples.dev.length > 0 ? baselineScores(samples.dev) : undefined;
    const order = sampleOrder(config.seed, train.length);
    const { record } = runner;

    const devScores = async (): Promise<DevScores | undefined> => {
      if (!baselines) return undefined;
      const mses: number[] = [];
      for (const [i, sample] of dev.entries()) {
        record(sample);
        const image = framegenOutputCpu(await runner.readBlended());
        mses.push(displayMse(toDisplayPair(image, samples.dev[i]!.truth, 'dev')));
      }
      return { neural: meanPsnr(mses), ...baselines };
    };

    const save = async () => {
      const last = log.at(-1);
      if (last?.step === step && !last.dev) {
        const dev = await devScores();
        if (dev) log[log.length - 1] = { ...last, dev };
      }
      const checkpoint = await captureCheckpoint(trainable, {
        step,
        seed: config.seed,
        config,
        metadata: {
          task: 'framegen',
          steps: step,
          device: options.deviceName ?? 'unknown',
          data: config.data,
          batch: config.batch,
          ...(log.at(-1)?.dev ? { dev: log.at(-1)!.dev } : {}),
        },
      });
      await writeFileAtomic(paths.checkpoint, encodeCheckpoint(checkpoint));
      await writeFileAtomic(paths.weights, checkpoint.weights);
      await writeFileAtomic(
        paths.log,
        new TextEncoder().encode(log.map((e) => JSON.stringify(e) + '\n').join('')),
      );
      await writeFile(
        paths.plot,
        linePlotSvg(
          [{ name: 'L1 (tonemapped)', values: log.map((e) => e.loss), x: log.map((e) => e.step) }],
          {
            title: `Frame generation training (${config.network})`,
            xLabel: 'step',
            yLabel: 'loss',
          },
        ),
      );
    };

    const schedule = scheduleOf(config);
    const stopAt = Math.min(config.steps, options.stopAtStep ?? Infinity);
    options.onStart?.(step, config.steps, train.length);
    let lastSaved = step;
    let chunkSeconds = 0;
    while (step < stopAt) {
      const limit = options.timeLimitSeconds;
      if (limit !== undefined && elapsed() + chunkSeconds + RESERVE_SECONDS > limit) break;
      const chunkStart = elapsed();
      const steps = Math.min(config.logEvery - (step % config.logEvery), stopAt - step);
      device.pushErrorScope('validation');
      for (let k = 0; k < steps; k++) {
        for (let b = 0; b < config.batch; b++) {
          const sample = train[order((step + k) * config.batch + b)]!;
          record(sample, { slot: k * config.batch + b, accumulate: b > 0 });
        }
        const encoder = device.createCommandEncoder();
        const pass = encoder.beginComputePass({ label: 'Adam' });
        trainable.encodeOptimizerStep(pass, step + k + 1, learningRateAt(step + k, schedule));
        pass.end();
        device.queue.submit([encoder.finish()]);
      }
      const values = await runner.readLosses(steps * config.batch);
      const error = await device.popErrorScope();
      if (error)
        throw new Error(`WebGPU error during steps ${step + 1}–${step + steps}: ${error.message}`);
      step += steps;
      const entry: FramegenLogEntry = {
        step,
        loss: values.reduce((a, b) => a + b, 0) / values.length,
        learningRate: learningRateAt(step - 1, schedule),
        gradNorm: await trainable.adam.readGradNorm(),
        seconds: Number(elapsed().toFixed(3)),
        stepsPerSecond: Number((steps / (elapsed() - chunkStart)).toPrecision(4)),
      };
      if (!Number.isFinite(entry.loss)) throw new Error(`training diverged at step ${step}`);
      log.push(entry);
      chunkSeconds = elapsed() - chunkStart;
      if (step - lastSaved >= config.checkpointEvery) {
        await save();
        lastSaved = step;
      }
      options.onLog?.(log.at(-1)!);
    }
    if (lastSaved !== step || !existsSync(paths.checkpoint)) {
      await save();
      if (log.at(-1)) options.onLog?.(log.at(-1)!);
    }
    return { step, finished: step >= config.steps, log, weights: paths.weights };
  } finally {
    for (const s of gpuSamples) {
      s.features.destroy();
      s.truth.destroy();
    }
    runner.destroy();
    trainable.destroy();
  }
}
