/**
 * Training run configuration: JSON file + CLI flags over the defaults, validated (bad values →
 * InputError naming the key). Stored in checkpoints so a resumed run trains the same thing.
 */
import { InputError } from '../core/errors.ts';
import { configChecks } from './config-checks.ts';
import { isRecord, parseJsonDocument, showValue } from '../core/strict-json.ts';
import { type GraphDescription, QUANT_BITS, inputMultiple, isQuantBits } from '../core/graph.ts';
import { ARCHITECTURES } from '../nn/networks.ts';
import { DEFAULT_ADAM, type AdamConfig, type ScheduleRestart } from './adam-cpu.ts';
import { checkScheduleRestart } from './schedule.ts';
import { NO_ENGINE_INPUTS, type EngineInputRates } from './data/engine-augment.ts';
import {
  checkExposureChangeRates,
  NO_EXPOSURE_CHANGES,
  type ExposureChangeRates,
} from './data/exposure-changes.ts';
import { TINY_NETWORK } from './tiny-network.ts';
import { TRAIN } from './splits.ts';

import { DEFAULT_LOSS_CONFIG, LOSS_TERMS, type LossConfig } from './losses/frame-loss-cpu.ts';
import { NO_ZOOM, checkZoomRates, type ZoomRates } from './data/zoom-windows.ts';

/** Networks a run can train, by name. */
export const NETWORKS: Record<string, GraphDescription> = { ...ARCHITECTURES, tiny: TINY_NETWORK };

/**
 * What a run trains on. `frames`: the neural frame end to end by BPTT over clips from the data
 * engine (the real task). `teacher`: the network alone imitates a fixed random teacher network of
 * the same architecture on one fixed random batch (L1) — an overfit / smoke / throughput check
 * that needs no frame pipeline.
 */
export type TrainTask = 'frames' | 'teacher';

/** Where training clips come from (the clip sampler, src/train/data/clips.ts). */
export interface ClipDataConfig {
  /**
   * `scenes`: the data engine on the TRAIN split (validation: the VALIDATION split's procedural
   * entries); `sequences`: crops of the directories in `paths`; `analytic`: the CPU test sequence.
   */
  readonly source: 'scenes' | 'sequences' | 'analytic';
  /** Sequence directories (source `sequences`). */
  readonly paths: readonly string[];
  /** Display / render ratio, or a list drawn from per clip (one model serving several modes). */
  readonly ratio: number | readonly number[];
  /** Frames per clip, warm-up included. */
  readonly clipFrames: number;
  /**
   * Frames per validation clip, or null for `clipFrames`: training on longer clips (a ghost
   * needs many frames to build up) can keep the validation earlier runs were scored on.
   */
  readonly validationClipFrames: number | null;
  /** Ground-truth samples per display pixel. */
  readonly referenceSamples: number;
  /** Engine-like inputs on the training clips (default: none). */
  readonly engineInputs: EngineInputsConfig;
  /**
   * Exposure changes within clips (src/train/data/exposure-changes.ts): the probability per clip
   * of a step or ramp of the exposure between values drawn log-uniformly from `range`. Validation
   * clips get them only with `engineInputs.validation`, as the engine-like inputs.
   */
  readonly exposure: ExposureChangeRates;
  /**
   * Probability per group of scene clips that the scene gets HDR highlights (emissive sparkles and
   * polished beads, src/scene/procedural/highlights.ts). Validation: as `exposure`.
   */
  readonly highlights: number;
  /**
   * Source `scenes`: training clips as windows of a display larger by a scale up to `maxScale`,
   * with `probability` per clip (src/train/data/zoom-windows.ts): the scenes at the pixel density
   * of the displays the network serves. Validation clips never. Default { probability: 0,
   * maxScale: 4 }.
   */
  readonly zoom: ZoomRates;
  /**
   * Source `scenes`: shares of the training clips (in groups of clips sharing a renderer) drawn
   * from one procedural scene alone, to show a class more often (e.g. `{ "herd": 0.15,
   * "runners": 0.15 }`: the skinned characters); each share in (0, 1), their sum below 1; the
   * other clips draw from every scene. Default {}: every clip from every scene. Validation clips
   * are not affected.
   */
  readonly sceneShares: Readonly<Record<string, number>>;
  /**
   * Source `scenes`: the same by camera path (e.g. `{ "fast-turn": 0.15 }`: the fast turns, which
   * network v3 trailed v2 on, docs/QUALITY.md §4). Scene and path shares together sum below 1.
   * Default {}.
   */
  readonly pathShares: Readonly<Record<string, number>>;
  /**
   * Data echoing (src/train/data/echo.ts): each rendered training clip is used this many times on
   * average (1, the default: every clip once), in slots drawn from the `echoWindow` most recent
   * fresh clips: fewer clips rendered per step (measured on an H100 for v3a: 1.52 steps/s at echo
   * 1, 1.78 at 2, 2.70 at 4; docs/PERFORMANCE.md), less varied clips per step. Validation clips
   * are not echoed.
   */
  readonly echo: number;
  readonly echoWindow: number;
}

/**
 * Engine-like inputs (docs/DECISIONS.md): the probability per training clip of no jitter, depth
 * from an 8-bit target, color from an 8-bit sRGB target, one object's motion missing or off by up
 * to a pixel, reversed Z and an infinite far plane (scene clips). The held-out validation clips
 * stay as rendered unless `validation` is true.
 */
export interface EngineInputsConfig extends EngineInputRates {
  readonly validation: boolean;
}

export const DEFAULT_ENGINE_INPUTS: EngineInputsConfig = { ...NO_ENGINE_INPUTS, validation: false };

/**
 * Quantization-aware training: the network trains as `quantizeGraph` makes it (weights and the
 * inputs of weighted ops on symmetric per-tensor grids, gradients straight through the rounding),
 * so the weights learn to live on the grids INT8 kernels use. Activation scales are calibrated
 * once at the start (max |x| over the first `calibrationClips` training clips, f32 forward) and
 * then fixed; weight scales follow the weights (max |w| each forward).
 */
export interface QatConfig {
  readonly weightBits: number;
  readonly activationBits: number;
  readonly calibrationClips: number;
}

export const DEFAULT_QAT: QatConfig = { weightBits: 8, activationBits: 8, calibrationClips: 8 };

export interface TrainConfig {
  readonly network: string;
  readonly task: TrainTask;
  /** Seeds the initial weights and the data. */
  readonly seed: number;
  /** Total optimizer steps (the schedule spans them). */
  readonly steps: number;
  /** Network input size [width, height] (multiples of the network's input multiple). */
  readonly size: readonly [number, number];
  readonly learningRate: number;
  readonly warmupSteps: number;
  /** Final learning rate / peak. */
  readonly finalRatio: number;
  readonly adam: AdamConfig;
  /** Clips (task `frames`). */
  readonly data: ClipDataConfig;
  /**
   * Where the neural frame around the network runs in training (task `frames`): `gpu` (all on the
   * GPU, one read-back per clip) or `cpu` (the CPU references of the passes and the neural frame, network on the GPU).
   */
  readonly frame: 'gpu' | 'cpu';
  /** Clips per optimizer step, gradients averaged (task `frames`). */
  readonly clipsPerStep: number;
  /** Held-out clips (other layout / motion seeds) evaluated at every checkpoint; 0 disables. */
  readonly validationClips: number;
  /**
   * Which held-out scene entries the validation clips show (task frames, scenes source):
   * 'grouped', 4 consecutive clips of one randomly drawn procedural entry (16 clips: 4 entries;
   * the runs until 2026-12-05), or 'each', clip i from entry i mod n of all the split's 39
   * entries, glTF files too, so that the best checkpoint is chosen on every class (thin poles,
   * skinned motion, signs…).
   */
  readonly validationEntries: 'grouped' | 'each';
  /**
   * How the best checkpoint is chosen (task frames): 'mean', the highest validation PSNR; or
   * 'worst', the one whose worst validation clip is least below (or most above) TAAU's PSNR on
   * that clip, ties by the mean. With validationEntries 'each', 'worst' is the "no
   * sequence below TAAU" (a mean can rise while one class collapses: QUALITY §4, 2026-12-05).
   */
  readonly bestBy: 'mean' | 'worst';
  /** Frames at the start of each clip without loss (task `frames`). */
  readonly warmup: number;
  /** Loss term weights (task `frames`). */
  readonly loss: LossConfig;
  /** Steps between log lines (and loss read-backs). */
  readonly logEvery: number;
  /** Steps between checkpoints (one is always written at the end). */
  readonly checkpointEvery: number;
  /** Quantization-aware training (task `frames`, frame `gpu`); null: f32 training. */
  readonly qat: QatConfig | null;
  /**
   * Set by a resume that changed `steps` (never needed by hand): from this step the learning rate
   * decays from the rate the run had there to the floor at the new `steps` (adam-cpu.ts).
   */
  readonly scheduleRestart: ScheduleRestart | null;
  /**
   * The coverage blend the network trains with (GraphDescription.coverageBlend, the power k in
   * [0, 4]; 0: off); null: that of the weights the run starts from (--init), else none
   * (trainingGraph). Kept in the weights the run writes.
   */
  readonly coverageBlend: number | null;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  network: 'v2',
  task: 'frames',
  seed: 1,
  steps: 1000,
  size: [64, 64],
  learningRate: 2e-3,
  warmupSteps: 50,
  finalRatio: 0.05,
  adam: DEFAULT_ADAM,
  data: {
    source: 'scenes',
    paths: [],
    ratio: 2,
    clipFrames: 6,
    validationClipFrames: null,
    referenceSamples: 16,
    engineInputs: DEFAULT_ENGINE_INPUTS,
    exposure: NO_EXPOSURE_CHANGES,
    highlights: 0,
    zoom: NO_ZOOM,
    sceneShares: {},
    pathShares: {},
    echo: 1,
    echoWindow: 16,
  },
  frame: 'gpu',
  clipsPerStep: 2,
  validationClips: 8,
  validationEntries: 'grouped',
  bestBy: 'mean',
  warmup: 2,
  loss: DEFAULT_LOSS_CONFIG,
  logEvery: 10,
  checkpointEvery: 200,
  qat: null,
  scheduleRestart: null,
  coverageBlend: null,
};

/** Most optimizer steps a run may have (a corrupt or mistyped count would never finish). */
export const MAX_STEPS = 1e9;
/** Largest seed: seeds are used as 32-bit unsigned integers (mulberry32). */
export const MAX_SEED = 2 ** 32 - 1;

/**
 * A training config file's contents: JSON nested at most MAX_JSON_DEPTH deep (the checks below
 * print values; a deeper one would overflow the stack), an object. Errors name `source`.
 */
export function parseTrainConfigText(text: string, source: string): Record<string, unknown> {
  const value = parseJsonDocument(text, source);
  if (!isRecord(value)) {
    throw new InputError(
      `${source}: a training config must be a JSON object, got ${showValue(value)}`,
    );
  }
  return value;
}

/**
 * Largest values the trainer accepts: beyond them a run cannot fit in memory or in any time
 * limit (a crop of 100000² or 1e9 clips a step), and would fail late with a raw error.
 */
const LIMITS: Readonly<Record<string, number>> = {
  steps: MAX_STEPS,
  size: 4096,
  clipsPerStep: 1024,
  'data.clipFrames': 256,
  'data.validationClipFrames': 256,
  'data.referenceSamples': 4096,
  'data.echo': 64,
  'data.echoWindow': 4096,
  'qat.calibrationClips': 4096,
};

const { positiveInt, nonNegative, checkKeys } = configChecks('training config', LIMITS);

/** data.engineInputs of `override` over `base`'s, validated. */
function engineInputsConfig(base: EngineInputsConfig, override: unknown): EngineInputsConfig {
  if (override === undefined) return base;
  if (!isRecord(override)) {
    throw new InputError(
      `training config: data.engineInputs must be an object, got ${showValue(override)}`,
    );
  }
  checkKeys(override, DEFAULT_ENGINE_INPUTS, 'data.engineInputs.');
  const merged = { ...base, ...override };
  for (const [key, v] of Object.entries(merged)) {
    if (key === 'validation') {
      if (typeof v !== 'boolean')
        throw new InputError(
          `training config: data.engineInputs.validation must be true or false, got ${showValue(v)}`,
        );
    } else if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      throw new InputError(
        `training config: data.engineInputs.${key} must be a probability in [0, 1], got ${showValue(v)}`,
      );
    }
  }
  return merged as EngineInputsConfig;
}

/**
 * data.<key> (an object of rates, e.g. exposure or zoom) of `override` merged key by key over
 * `base`'s, validated by `check`.
 */
function ratesConfig<T extends object>(
  key: string,
  base: T,
  override: unknown,
  check: (rates: T, where: string) => void,
): T {
  if (override === undefined) return base;
  if (!isRecord(override)) {
    throw new InputError(
      `training config: data.${key} must be an object { ${Object.keys(base).join(', ')} }, got ${showValue(override)}`,
    );
  }
  checkKeys(override, base, `data.${key}.`);
  const merged = { ...base, ...override } as T;
  try {
    check(merged, `data.${key}`);
  } catch (error) {
    throw new InputError(`training config: ${(error as Error).message}`);
  }
  return merged;
}

/** Throws an InputError naming the first bad optimizer setting. */
function checkAdam(adam: AdamConfig): void {
  for (const key of [
    'beta1',
    'beta2',
    'epsilon',
    'weightDecay',
    'maxGradNorm',
    'averageDecay',
    'averageWarmup',
  ] as const) {
    nonNegative(`adam.${key}`, adam[key]);
  }
  if (adam.beta1 >= 1 || adam.beta2 >= 1) {
    throw new InputError('training config: adam betas must be below 1');
  }
  if (adam.averageDecay >= 1) {
    throw new InputError(
      `training config: adam.averageDecay must be below 1 (0 disables the weight average), got ${adam.averageDecay}`,
    );
  }
  if (adam.averageWarmup > 0 && adam.averageWarmup <= 1) {
    throw new InputError(
      `training config: adam.averageWarmup must be 0 (a fixed decay) or above 1 (10 is usual), got ${adam.averageWarmup}`,
    );
  }
}

/** Merges `overrides` (parsed JSON and flags) over `base` and validates the result. */
export function resolveTrainConfig(
  overrides: unknown,
  base: TrainConfig = DEFAULT_TRAIN_CONFIG,
): TrainConfig {
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    throw new InputError('training config must be a JSON object');
  }
  const o = overrides as Record<string, unknown>;
  checkKeys(o, DEFAULT_TRAIN_CONFIG, '');
  const nested = (key: 'adam' | 'data' | 'loss') => {
    const value = o[key];
    if (value === undefined) return base[key];
    if (!isRecord(value)) {
      throw new InputError(`training config: ${key} must be an object, got ${showValue(value)}`);
    }
    checkKeys(value, DEFAULT_TRAIN_CONFIG[key], `${key}.`);
    return { ...base[key], ...value };
  };
  if (!(o.qat === undefined || typeof o.qat === 'boolean' || o.qat === null || isRecord(o.qat))) {
    throw new InputError(
      `training config: qat must be an object, true, false or null, got ${showValue(o.qat)}`,
    );
  }
  const qat =
    o.qat === undefined
      ? (base.qat ?? null)
      : o.qat === null || o.qat === false
        ? null
        : { ...DEFAULT_QAT, ...(base.qat ?? {}), ...(o.qat === true ? {} : o.qat) };
  const merged = {
    ...base,
    ...o,
    adam: nested('adam'),
    data: {
      ...nested('data'),
      // Merged key by key: a config naming one probability keeps the others.
      engineInputs: engineInputsConfig(
        base.data.engineInputs ?? DEFAULT_ENGINE_INPUTS,
        isRecord(o.data) ? o.data.engineInputs : undefined,
      ),
      exposure: ratesConfig(
        'exposure',
        base.data.exposure ?? NO_EXPOSURE_CHANGES,
        isRecord(o.data) ? o.data.exposure : undefined,
        checkExposureChangeRates,
      ),
      zoom: ratesConfig(
        'zoom',
        base.data.zoom ?? NO_ZOOM,
        isRecord(o.data) ? o.data.zoom : undefined,
        checkZoomRates,
      ),
    },
    loss: nested('loss'),
    qat,
  } as TrainConfig;
  if (typeof merged.network !== 'string' || !Object.hasOwn(NETWORKS, merged.network)) {
    throw new InputError(
      `training config: network must be one of ${Object.keys(NETWORKS).join(', ')}, got ${showValue(merged.network)}`,
    );
  }
  if (merged.task !== 'teacher' && merged.task !== 'frames') {
    throw new InputError(
      `training config: task must be frames or teacher, got ${showValue(merged.task)}`,
    );
  }
  const seed = merged.seed;
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new InputError(
      `training config: seed must be an integer in 0..${MAX_SEED}, got ${showValue(seed)}`,
    );
  }
  positiveInt('steps', merged.steps);
  if (!Array.isArray(merged.size) || merged.size.length !== 2) {
    throw new InputError(`training config: size must be [width, height]`);
  }
  const multiple = inputMultiple(NETWORKS[merged.network]!);
  for (const [i, v] of merged.size.entries()) {
    if (positiveInt(`size[${i}]`, v) % multiple !== 0) {
      throw new InputError(
        `training config: size must be multiples of ${multiple}, got ${merged.size.join('x')}`,
      );
    }
  }
  const coverage = merged.coverageBlend as unknown;
  if (coverage !== null && !(typeof coverage === 'number' && coverage >= 0 && coverage <= 4)) {
    throw new InputError(
      `training config: coverageBlend must be null or a number in [0, 4], got ${showValue(coverage)}`,
    );
  }
  nonNegative('learningRate', merged.learningRate);
  nonNegative('warmupSteps', merged.warmupSteps);
  nonNegative('finalRatio', merged.finalRatio);
  checkScheduleRestart(merged.scheduleRestart, 'training config');
  checkAdam(merged.adam);
  const data = merged.data;
  if (!['analytic', 'scenes', 'sequences'].includes(data.source)) {
    throw new InputError(
      `training config: data.source must be analytic, scenes or sequences, got ${showValue(data.source)}`,
    );
  }
  if (!Array.isArray(data.paths) || data.paths.some((p) => typeof p !== 'string')) {
    throw new InputError('training config: data.paths must be a list of sequence directories');
  }
  if (data.source === 'sequences' && data.paths.length === 0) {
    throw new InputError('training config: data.source "sequences" needs data.paths');
  }
  const ratios = typeof data.ratio === 'number' ? [data.ratio] : data.ratio;
  const isRatio = (r: unknown) => typeof r === 'number' && r >= 1 && r <= 3;
  if (!Array.isArray(ratios) || ratios.length === 0 || !ratios.every(isRatio)) {
    throw new InputError(
      `training config: data.ratio must be a ratio in [1, 3] or a list of them, got ${showValue(data.ratio)}`,
    );
  }
  if (typeof data.highlights !== 'number' || !(data.highlights >= 0 && data.highlights <= 1)) {
    throw new InputError(
      `training config: data.highlights must be a probability in [0, 1], got ${showValue(data.highlights)}`,
    );
  }
  checkShares(data);
  positiveInt('data.clipFrames', data.clipFrames);
  if (data.validationClipFrames !== null) {
    positiveInt('data.validationClipFrames', data.validationClipFrames);
  }
  positiveInt('data.referenceSamples', data.referenceSamples);
  positiveInt('data.echo', data.echo);
  positiveInt('data.echoWindow', data.echoWindow);
  const shortestClip = Math.min(data.clipFrames, validationClipFrames(data));
  if (!Number.isInteger(merged.warmup) || merged.warmup < 0 || merged.warmup >= shortestClip) {
    throw new InputError(
      `training config: warmup must be an integer in [0, ${shortestClip}) (the shorter of data.clipFrames and data.validationClipFrames), got ${showValue(merged.warmup)}`,
    );
  }
  for (const key of LOSS_TERMS) nonNegative(`loss.${key}`, merged.loss[key]);
  const offscreen = merged.loss.staleOffscreen;
  if (typeof offscreen !== 'number' || !(offscreen >= 0 && offscreen <= 1)) {
    throw new InputError(
      `training config: loss.staleOffscreen must be a number in [0, 1], got ${showValue(offscreen)}`,
    );
  }
  if (merged.frame !== 'gpu' && merged.frame !== 'cpu') {
    throw new InputError(
      `training config: frame must be gpu or cpu, got ${showValue(merged.frame)}`,
    );
  }
  positiveInt('clipsPerStep', merged.clipsPerStep);
  const validationClips = merged.validationClips;
  if (!Number.isInteger(validationClips) || validationClips < 0 || validationClips > 4096) {
    throw new InputError(
      `training config: validationClips must be an integer in 0..4096, got ${showValue(validationClips)}`,
    );
  }
  if (merged.qat) {
    checkKeys(merged.qat, DEFAULT_QAT, 'qat.');
    for (const key of ['weightBits', 'activationBits'] as const) {
      const v = merged.qat[key];
      if (!isQuantBits(v)) {
        throw new InputError(
          `training config: qat.${key} must be an integer from ${QUANT_BITS.min} to ${QUANT_BITS.max}, got ${showValue(v)}`,
        );
      }
    }
    positiveInt('qat.calibrationClips', merged.qat.calibrationClips);
    if (merged.task !== 'frames' || merged.frame !== 'gpu') {
      throw new InputError('training config: qat needs task "frames" with frame "gpu"');
    }
  }
  positiveInt('logEvery', merged.logEvery);
  positiveInt('checkpointEvery', merged.checkpointEvery);
  if (merged.validationEntries !== 'grouped' && merged.validationEntries !== 'each') {
    throw new InputError(
      `training config: validationEntries must be grouped or each, got ${showValue(merged.validationEntries)}`,
    );
  }
  if (merged.bestBy !== 'mean' && merged.bestBy !== 'worst') {
    throw new InputError(
      `training config: bestBy must be mean or worst, got ${showValue(merged.bestBy)}`,
    );
  }
  return merged;
}

/**
 * data.sceneShares and data.pathShares: training scenes and camera paths with shares in (0, 1),
 * all of them together summing below 1, source `scenes`.
 */
function checkShares(data: ClipDataConfig): void {
  let sum = 0;
  for (const [key, field, kind] of [
    ['sceneShares', 'scene', 'scene'],
    ['pathShares', 'path', 'camera path'],
  ] as const) {
    const shares = data[key];
    if (!isRecord(shares)) {
      throw new InputError(
        `training config: data.${key} must be an object { ${field}: share }, got ${showValue(shares)}`,
      );
    }
    const named = Object.entries(shares);
    if (named.length > 0 && data.source !== 'scenes') {
      throw new InputError(`training config: data.${key} needs data.source "scenes"`);
    }
    const names = [...new Set(TRAIN.map((e) => e[field]))];
    for (const [name, share] of named) {
      if (!names.includes(name)) {
        throw new InputError(
          `training config: data.${key}: "${name}" is not a training ${kind} (${names.join(', ')})`,
        );
      }
      if (typeof share !== 'number' || !(share > 0 && share < 1)) {
        throw new InputError(
          `training config: data.${key}.${name} must be a share in (0, 1), got ${showValue(share)}`,
        );
      }
      sum += share;
    }
  }
  if (sum >= 1) {
    throw new InputError(
      `training config: data.sceneShares and data.pathShares must sum to less than 1 (the rest draws from every scene), got ${sum}`,
    );
  }
}

/** Frames per validation clip: `validationClipFrames`, or `clipFrames` where that is null. */
export function validationClipFrames(data: ClipDataConfig): number {
  return data.validationClipFrames ?? data.clipFrames;
}

/**
 * The graph a run trains: its network's, with the config's coverage blend, or where the config
 * sets none (null) that of the weights the run starts from (`from`): a fine-tune keeps the frame
 * its weights were trained in unless told otherwise (0 turns it off).
 */
export function trainingGraph(config: TrainConfig, from?: GraphDescription): GraphDescription {
  const graph = NETWORKS[config.network]!;
  const coverageBlend = config.coverageBlend ?? from?.coverageBlend;
  return coverageBlend === undefined ? graph : { ...graph, coverageBlend };
}
