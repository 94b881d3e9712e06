/**
 * What a training run does per step, by task: `teacher` fits a fixed batch derived from the seed;
 * `frames` trains on clips by BPTT through the neural frame, validates on held-out clips and can
 * calibrate activations for quantization.
 */
import type { FrameSource } from '../core/frame.ts';
import { InputError } from '../core/errors.ts';
import { mulberry32 } from '../core/random.ts';
import { tensorLength } from '../core/tensor.ts';
import { createNetwork } from '../nn/network.ts';
import { createGpuTensor, writeGpuTensor } from '../nn/tensor.ts';
import { initWeights } from '../nn/weights.ts';
import { PROCEDURAL_SCENES } from '../scene/procedural/scenes.ts';
import { learningRateAt, type ScheduleConfig } from './adam-cpu.ts';
import { clipGradientGpu, clipLossGpu, type ClipGradientOptions } from './bptt.ts';
import { type ClipFrameCpu, prepareClipCpu } from './bptt-cpu.ts';
import { createGpuClipTrainer, type GpuClipTrainer, type TrainerClip } from './bptt-gpu.ts';
import { createAbsMaxTracker } from './calibrate.ts';
import { NETWORKS, validationClipFrames, type ClipDataConfig, type TrainConfig } from './config.ts';
import { createClipSampler, readClipFrames, type ClipSourceSpec } from './data/clips.ts';
import type { TrainingClip } from './data/clip-source.ts';
import { createClipCache, type ClipCache } from './data/echo.ts';
import { NO_ENGINE_INPUTS, type EngineInputRates } from './data/engine-augment.ts';
import { NO_EXPOSURE_CHANGES, type ExposureChangeRates } from './data/exposure-changes.ts';
import { trainFixedBatch } from './fixed-batch.ts';
import { runInFlight } from './in-flight.ts';
import {
  addInto,
  clipIndexFor,
  readPacked,
  writePacked,
  type GradientWorker,
} from './data-parallel.ts';
import { TRAIN_LAYOUT_SEEDS, VALIDATION } from './splits.ts';
import type { TrainableNetwork } from './trainable.ts';
import { clipFrameSource, meanDb, methodPsnr, neuralSpec, TAAU_SPEC } from './validate-psnr.ts';
import { scaleLossWeights, type LossWeights } from './losses/frame-loss-cpu.ts';
import { NO_ZOOM } from './data/zoom-windows.ts';

/**
 * Training steps submitted before the previous one's loss is read back (task `frames` on the GPU
 * frame path): the CPU renders and encodes step n + 1 while the GPU runs step n.
 */
export const STEPS_IN_FLIGHT = 2;

/** Runs optimizer steps of one task; returns the loss of each step. */
export interface TrainingTask {
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

/** What a validation point measures (task `frames`; see LogEntry in run-directory.ts). */
export interface Validation {
  readonly validationLoss: number;
  readonly validationPsnr: number;
  readonly taauPsnr: number;
  readonly validationPsnrClips: readonly number[];
  readonly taauPsnrClips: readonly number[];
}

/** The task `config.task` names, training `trainable`. */
export function createTask(
  device: GPUDevice,
  config: TrainConfig,
  trainable: TrainableNetwork,
  options: FramesTaskOptions = {},
): TrainingTask {
  return config.task === 'teacher'
    ? teacherTask(device, config, trainable)
    : framesTask(device, config, trainable, options);
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

/** Engine-like degradations of a split's clips: training's always, validation's when asked. */
export function splitEngineInputs(
  data: ClipDataConfig,
  split: 'train' | 'validation',
): EngineInputRates {
  const { validation, ...rates } = data.engineInputs;
  return split === 'train' || validation ? rates : NO_ENGINE_INPUTS;
}

/**
 * Exposure changes and HDR highlights of a split's clips: as the engine-like inputs, training's
 * always, validation's only with data.engineInputs.validation.
 */
export function splitExposureAndHighlights(
  data: ClipDataConfig,
  split: 'train' | 'validation',
): { exposureChanges: ExposureChangeRates; highlights: number } {
  return split === 'train' || data.engineInputs.validation
    ? { exposureChanges: data.exposure, highlights: data.highlights }
    : { exposureChanges: NO_EXPOSURE_CHANGES, highlights: 0 };
}

/** A clip's loss options under a run's config, with `weights` (its loss weights, maybe scaled). */
function lossOptions(config: TrainConfig, weights: LossWeights): ClipGradientOptions {
  return { warmup: config.warmup, weights, staleOffscreen: config.loss.staleOffscreen };
}

/**
 * Clips of a run from the clip sampler (`clip(index)` is pure in (seed, index), so resumed runs see
 * the same data), in the CPU form both BPTT paths take. Training scene clips draw their layout
 * seed from TRAIN_LAYOUT_SEEDS (many layouts, all below the validation seeds). Validation draws
 * from the VALIDATION split: with validationEntries 'grouped', its procedural entries (other
 * layouts and held-out scene/path pairs) in groups of 4 clips of one entry, the glTF files left
 * out as in the runs the shipped weights come from; with 'each', one clip of every entry in turn,
 * the glTF files (Fox's skinned motion among them; held out of training) included. Other sources
 * validate on another seed. Engine-like inputs (data.engineInputs), exposure changes and HDR
 * highlights go to training clips, and to validation clips only when the config asks.
 */
function clipSource(
  device: GPUDevice,
  config: TrainConfig,
  split: 'train' | 'validation',
  cache?: ClipCache<TrainingClip>,
) {
  const { data } = config;
  const sources: ClipSourceSpec[] =
    data.source === 'sequences'
      ? [{ kind: 'sequences', weight: 1, dirs: data.paths }]
      : data.source === 'analytic'
        ? [{ kind: 'analytic', weight: 1 }]
        : split === 'train'
          ? [
              {
                kind: 'scenes',
                weight: 1,
                layoutSeeds: TRAIN_LAYOUT_SEEDS,
                sceneShares: data.sceneShares,
                pathShares: data.pathShares,
              },
            ]
          : [
              config.validationEntries === 'each'
                ? { kind: 'scenes', weight: 1, entries: VALIDATION, spread: true }
                : {
                    kind: 'scenes',
                    weight: 1,
                    entries: VALIDATION.filter((e) => e.scene in PROCEDURAL_SCENES),
                  },
            ];
  const sampler = createClipSampler(device, {
    displaySize: [config.size[0], config.size[1]],
    ratio: data.ratio,
    clipLength: split === 'train' ? data.clipFrames : validationClipFrames(data),
    samples: data.referenceSamples,
    seed: split === 'train' ? config.seed : config.seed + 1_000_003,
    sources,
    engineInputs: splitEngineInputs(data, split),
    ...splitExposureAndHighlights(data, split),
    // Windows of a larger display: training clips only (validation scores the whole views).
    zoom: split === 'train' ? data.zoom : NO_ZOOM,
    // One clip an entry: keep every entry's scene built from one checkpoint's validation to the
    // next instead of loading up to 39 scenes (glTF files among them) every time.
    ...(split === 'validation' && config.validationEntries === 'each'
      ? { rendererCache: Math.max(4, Math.min(config.validationClips, VALIDATION.length)) }
      : {}),
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
      const clip = await (cache ? cache.get(index, sampler.clip) : sampler.clip(index));
      try {
        if (config.frame === 'gpu') return await use(clip, clip);
        return await use(prepareClipCpu(clip.header, await readClipFrames(device, clip)), clip);
      } finally {
        if (!cache) clip.destroy();
      }
    },
    destroy() {
      cache?.destroy();
      sampler.destroy();
    },
  };
}

/** How the frames task runs its steps (defaults: STEPS_IN_FLIGHT, one process). */
export interface FramesTaskOptions {
  readonly stepsInFlight?: number;
  /**
   * Data-parallel workers 1..N−1 (data-parallel.ts): each step adds their clips' gradients to
   * this process's (worker 0) before Adam. Steps then run one after the other.
   */
  readonly workers?: readonly GradientWorker[];
  /**
   * Keep rendered clips for the slots that echo them (data.echo > 1; default true). False renders
   * every use anew: the same results (clips are pure in their index), for the test that says so.
   */
  readonly clipCache?: boolean;
  /**
   * Keep the held-out clips (GPU images and read-back frames) from one validation to the next
   * when they fit VALIDATION_CACHE_BYTES (default true). False renders and reads them back at
   * every validation: the same numbers (clips are pure in their index), for the test that says so.
   */
  readonly validationCache?: boolean;
}

/**
 * Held-out clips are kept across validations only while their GPU images and read-back frames
 * (counted as much again) fit this many bytes together: a v3a run's 42 clips of 8 frames at
 * 256×256 (ratios 2 and 1.5, counted at 1.5) take ~1 GB of each.
 */
export const VALIDATION_CACHE_BYTES = 2 ** 31;

/** Whether a run keeps its held-out clips across validations (they fit VALIDATION_CACHE_BYTES). */
export function keepsValidationClips(config: TrainConfig): boolean {
  const bytes = config.validationClips * clipBytes(config, validationClipFrames(config.data));
  return config.validationClips > 0 && 2 * bytes <= VALIDATION_CACHE_BYTES;
}

/** Bytes of one clip's GPU images: four vec4 f32 images at render size, the reference at display. */
export function clipBytes(config: TrainConfig, frames: number): number {
  const display = config.size[0] * config.size[1];
  const smallestRatio = Math.min(...[config.data.ratio].flat());
  return frames * 16 * (display + (4 * display) / (smallestRatio * smallestRatio));
}

/**
 * The frames task: `clipsPerStep` clips per step and worker (loss weights divided by the total,
 * so the gradient is the mean), BPTT through the neural frame, then Adam. Validation on
 * `validationClips` held-out clips (a sampler with another seed: other layouts and motion): the
 * clip loss, and the PSNR of the current weights and of the heuristic TAAU through the frame API
 * (validate-psnr.ts). TAAU's numbers depend on the clips only: computed once per process.
 */
export function framesTask(
  device: GPUDevice,
  config: TrainConfig,
  trainable: TrainableNetwork,
  options: FramesTaskOptions = {},
): TrainingTask {
  const workers = options.workers ?? [];
  const share = createStepShare(
    device,
    config,
    trainable,
    0,
    workers.length + 1,
    options.clipCache ?? true,
  );
  // Validation clips are the same at every validation: kept when they fit (from the second on,
  // a validation runs the network only, no rendering and no read-back).
  const keepHeldOut = (options.validationCache ?? true) && keepsValidationClips(config);
  const heldOut = clipSource(
    device,
    config,
    'validation',
    keepHeldOut ? createClipCache<TrainingClip>(config.validationClips) : undefined,
  );
  const heldOutFrames = new Map<number, FrameSource>();
  const { onGpu } = share;
  const clipLoss = (clip: TrainerClip, options: ClipGradientOptions) =>
    onGpu
      ? onGpu.loss(clip, options)
      : clipLossGpu(device, trainable, clip as ClipFrameCpu[], options);
  const adamStep = (step: number, schedule: ScheduleConfig) => {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass({ label: 'Adam' });
    trainable.encodeOptimizerStep(pass, step + 1, learningRateAt(step, schedule));
    pass.end();
    device.queue.submit([encoder.finish()]);
  };
  const { specs } = trainable;
  const taauPsnr = new Map<number, number>();
  /** The held-out clips' loss and PSNRs against TAAU, with the network's current parameters. */
  const validateNow = async (): Promise<Validation> => {
    const model = { graph: trainable.graph, parameters: await trainable.readParams() };
    let sum = 0;
    const neural: number[] = [];
    const taau: number[] = [];
    for (let i = 0; i < config.validationClips; i++) {
      const options = lossOptions(config, config.loss);
      sum += await heldOut.with(i, async (clip, sampled) => {
        const { loss } = await clipLoss(clip, options);
        const source =
          heldOutFrames.get(i) ?? (await clipFrameSource(device, sampled, `validation clip ${i}`));
        if (keepHeldOut) heldOutFrames.set(i, source);
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
  };
  return {
    async runSteps(startStep, steps, schedule) {
      if (workers.length === 0) {
        const depth = onGpu ? (options.stepsInFlight ?? STEPS_IN_FLIGHT) : 1;
        return runInFlight(steps, depth, async (i) => {
          const { loss } = await share.submit(startStep + i);
          adamStep(startStep + i, schedule);
          return { result: loss };
        });
      }
      const losses: number[] = [];
      for (let step = startStep; step < startStep + steps; step++) {
        const params = await readPacked(device, specs, trainable.network.parameters);
        const theirs = workers.map((w) => w.compute(step, params));
        for (const p of theirs) p.catch(() => undefined); // awaited below
        let loss = await (await share.submit(step)).loss;
        const grads = await readPacked(device, specs, trainable.grads);
        for (const gradient of await Promise.all(theirs)) {
          addInto(grads, gradient.grads);
          loss += gradient.loss;
        }
        writePacked(device, specs, trainable.grads, grads);
        adamStep(step, schedule);
        losses.push(loss);
      }
      return losses;
    },
    async validate() {
      if (config.validationClips === 0) return undefined;
      // With a weight average, validation scores the average (loss and PSNR alike).
      return trainable.average ? trainable.average.withAverage(validateNow) : validateNow();
    },
    async calibrate(names, clips) {
      if (!onGpu) throw new InputError('activation calibration needs frame "gpu"');
      const tracker = createAbsMaxTracker(device, names);
      try {
        const options = lossOptions(config, config.loss);
        for (let i = 0; i < clips; i++) {
          await share.sampler.with(i, (clip) =>
            onGpu.loss(clip, options, (encoder, run) => tracker.encode(encoder, run.activations)),
          );
        }
        return await tracker.read();
      } finally {
        tracker.destroy();
      }
    },
    destroy() {
      share.destroy();
      heldOut.destroy();
    },
  };
}

/** One worker's share of the steps: its clips' gradient, accumulated in `trainable.grads`. */
export interface StepShare {
  /** The clip trainer of the GPU frame path (undefined on the CPU frame path). */
  readonly onGpu?: GpuClipTrainer;
  /** Submits the share's clips of `step`; `loss` (their sum) is read back later. */
  submit(step: number): Promise<{ loss: Promise<number> }>;
  /** The training clips (calibration reads them). */
  readonly sampler: ReturnType<typeof clipSource>;
  destroy(): void;
}

/**
 * Worker `worker` of `workers`: `clipsPerStep` clips per step (clipIndexFor; with data.echo,
 * rendered clips kept in a cache for the slots that reuse them), loss weights divided by
 * clipsPerStep × workers. The GPU path has submitted all of a clip's work when
 * `gradient` returns (its loss follows), so the clip can be freed at once: its buffers live until
 * the GPU is done. The CPU frame path reads back between its submissions: it finishes first.
 */
export function createStepShare(
  device: GPUDevice,
  config: TrainConfig,
  trainable: TrainableNetwork,
  worker: number,
  workers: number,
  clipCache = true,
): StepShare {
  const k = config.clipsPerStep;
  const echo = { echo: config.data.echo, window: config.data.echoWindow, seed: config.seed };
  // An echoed slot reuses one of the window's most recent fresh clips (data.echo). The slots of
  // the last `window` fresh clips may also use up to `window` older ones: room for both.
  const cache =
    echo.echo > 1 && clipCache ? createClipCache<TrainingClip>(2 * echo.window + k) : undefined;
  const sampler = clipSource(device, config, 'train', cache);
  const onGpu = config.frame === 'gpu' ? createGpuClipTrainer(device, trainable) : undefined;
  // The CPU frame path receives CPU clips (clipSource converts them), the GPU path either form.
  const gradient = (clip: TrainerClip, options: ClipGradientOptions) =>
    onGpu
      ? onGpu.gradient(clip, options)
      : clipGradientGpu(device, trainable, clip as ClipFrameCpu[], options);
  const weights = scaleLossWeights(config.loss, 1 / (k * workers));
  return {
    ...(onGpu ? { onGpu } : {}),
    sampler,
    // The pending loss travels inside an object: an async function would wait for it.
    submit: async (step) => {
      const clipLosses: Promise<number>[] = [];
      for (let c = 0; c < k; c++) {
        const options = { ...lossOptions(config, weights), accumulate: c > 0 };
        const index = clipIndexFor(step, c, k, worker, echo);
        const { loss } = await sampler.with(index, async (clip) => {
          const result = gradient(clip, options).then((r) => r.loss);
          result.catch(() => undefined); // awaited with the step's result
          if (!onGpu) await result;
          return { loss: result };
        });
        clipLosses.push(loss);
      }
      const loss = Promise.all(clipLosses).then((ls) => ls.reduce((a, b) => a + b, 0));
      loss.catch(() => undefined);
      return { loss };
    },
    destroy() {
      sampler.destroy();
      onGpu?.destroy();
    },
  };
}
