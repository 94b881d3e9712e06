/**
 * The configuration of a frame-generation training run (`uplift train-framegen`): JSON file and
 * flags over the defaults, validated (bad values → InputError naming the key). Stored in
 * checkpoints so that a resumed run trains the same thing on the same data.
 */
import { InputError } from '../../core/errors.ts';
import { isRecord, showValue } from '../../core/strict-json.ts';
import { inputMultiple, type GraphDescription } from '../../core/graph.ts';
import { FRAMEGEN_NETWORK_V1 } from '../../nn/framegen-network.ts';
import { DEFAULT_ADAM, type AdamConfig, type ScheduleRestart } from '../adam-cpu.ts';
import { checkScheduleRestart } from '../schedule.ts';
import { MAX_SEED, MAX_STEPS } from '../config.ts';
import { configChecks } from '../config-checks.ts';

/** Frame-generation networks a run can train, by name. */
export const FRAMEGEN_NETWORKS: Readonly<Record<string, GraphDescription>> = {
  'framegen-v1': FRAMEGEN_NETWORK_V1,
};

/**
 * Training data: clips the data engine renders on the same path and seed at `fps` and at f times
 * that for each factor f in `factors`, so that frame (k − 1)·f + j of the second is the truth at
 * t = j / f between frames k − 1 and k of the first; each pair gets one t, drawn from the
 * distinct instants j / f (only 0.5 with the default factors [2]). Scene, path and layout seed of each clip are drawn from the training split
 * (src/train/splits.ts: procedural scenes, held-out scene × path pairs excluded, seeds below the
 * validation seeds); the dev clips, drawn the same way with other seeds, only watch the run.
 */
export interface FramegenDataConfig {
  /** Display size [width, height] of the clips (multiples of the network's input multiple). */
  readonly size: readonly [number, number];
  /** Display / render ratio of the motion and depth. */
  readonly ratio: number;
  /** Frame rate of the displayed frames (the truth is rendered at `factors` times it). */
  readonly fps: number;
  /** Training clips. */
  readonly clips: number;
  /** Dev clips (other seeds; never trained on), scored at every checkpoint. */
  readonly devClips: number;
  /** Frames of each clip at `fps` (events of the paths sit at fractions of its length). */
  readonly clipFrames: number;
  /** Frame pairs taken from each clip (pairs across a cut are skipped: the generator repeats). */
  readonly pairsPerClip: number;
  /** Reference samples per display pixel (the displayed frames and the truth). */
  readonly referenceSamples: number;
  /** Add each pair mirrored left-right (motion x negated): twice the samples. */
  readonly mirror: boolean;
  /** Rate factors whose instants t = j / f (0 < j < f) the pairs are drawn at: from 2, 3, 4. */
  readonly factors: readonly number[];
}

/** The distinct instants of `factors`, ascending, each with the smallest factor giving it. */
export function trainingInstants(
  factors: readonly number[],
): { t: number; factor: number; j: number }[] {
  const instants = new Map<number, { t: number; factor: number; j: number }>();
  for (const factor of [...factors].sort((a, b) => a - b)) {
    for (let j = 1; j < factor; j++) {
      const t = j / factor;
      if (!instants.has(t)) instants.set(t, { t, factor, j });
    }
  }
  return [...instants.values()].sort((a, b) => a.t - b.t);
}

export interface FramegenTrainConfig {
  readonly network: string;
  /** Seeds the initial weights, the clips and the sample order. */
  readonly seed: number;
  /** Total optimizer steps. */
  readonly steps: number;
  /** Samples (frame pairs) per optimizer step, gradients summed. */
  readonly batch: number;
  readonly learningRate: number;
  readonly warmupSteps: number;
  /** Final learning rate / peak. */
  readonly finalRatio: number;
  readonly adam: AdamConfig;
  readonly data: FramegenDataConfig;
  /** Steps between log lines (and loss read-backs). */
  readonly logEvery: number;
  /** Steps between checkpoints and dev scores (one is always written at the end). */
  readonly checkpointEvery: number;
  /** Set by a resume that changed `steps` or `learningRate` (src/train/schedule.ts). */
  readonly scheduleRestart: ScheduleRestart | null;
}

export const DEFAULT_FRAMEGEN_CONFIG: FramegenTrainConfig = {
  network: 'framegen-v1',
  seed: 1,
  steps: 800,
  batch: 4,
  learningRate: 3e-3,
  warmupSteps: 30,
  finalRatio: 0.05,
  adam: DEFAULT_ADAM,
  data: {
    size: [96, 64],
    ratio: 2,
    fps: 30,
    clips: 48,
    devClips: 8,
    clipFrames: 12,
    pairsPerClip: 4,
    referenceSamples: 16,
    mirror: true,
    factors: [2],
  },
  logEvery: 10,
  checkpointEvery: 200,
  scheduleRestart: null,
};

/** Largest values accepted: beyond them a run cannot fit in memory or any time limit. */
const LIMITS: Readonly<Record<string, number>> = {
  steps: MAX_STEPS,
  batch: 256,
  'data.size': 4096,
  'data.clips': 100_000,
  'data.devClips': 10_000,
  'data.clipFrames': 1024,
  'data.pairsPerClip': 1024,
  'data.referenceSamples': 4096,
};

const { positiveInt, nonNegative, checkKeys } = configChecks('framegen training config', LIMITS);

/** Merges `overrides` (parsed JSON and flags) over `base` and validates the result. */
export function resolveFramegenConfig(
  overrides: unknown,
  base: FramegenTrainConfig = DEFAULT_FRAMEGEN_CONFIG,
): FramegenTrainConfig {
  if (!isRecord(overrides)) {
    throw new InputError('framegen training config must be a JSON object');
  }
  checkKeys(overrides, DEFAULT_FRAMEGEN_CONFIG, '');
  const nested = (key: 'adam' | 'data') => {
    const value = overrides[key];
    if (value === undefined) return base[key];
    if (!isRecord(value)) {
      throw new InputError(
        `framegen training config: ${key} must be an object, got ${showValue(value)}`,
      );
    }
    checkKeys(value, DEFAULT_FRAMEGEN_CONFIG[key], `${key}.`);
    return { ...base[key], ...value };
  };
  const merged = {
    ...base,
    ...overrides,
    adam: nested('adam'),
    // Checkpoints written before `factors` existed trained at t = 0.5: factors [2].
    data: { factors: [2], ...nested('data') },
  } as FramegenTrainConfig;
  if (typeof merged.network !== 'string' || !Object.hasOwn(FRAMEGEN_NETWORKS, merged.network)) {
    throw new InputError(
      `framegen training config: network must be one of ${Object.keys(FRAMEGEN_NETWORKS).join(', ')}, got ${showValue(merged.network)}`,
    );
  }
  if (!Number.isInteger(merged.seed) || merged.seed < 0 || merged.seed > MAX_SEED) {
    throw new InputError(
      `framegen training config: seed must be an integer in 0..${MAX_SEED}, got ${showValue(merged.seed)}`,
    );
  }
  positiveInt('steps', merged.steps);
  positiveInt('batch', merged.batch);
  nonNegative('learningRate', merged.learningRate);
  nonNegative('warmupSteps', merged.warmupSteps);
  nonNegative('finalRatio', merged.finalRatio);
  for (const key of ['beta1', 'beta2', 'epsilon', 'weightDecay', 'maxGradNorm'] as const) {
    nonNegative(`adam.${key}`, merged.adam[key]);
  }
  if (merged.adam.beta1 >= 1 || merged.adam.beta2 >= 1) {
    throw new InputError('framegen training config: adam betas must be below 1');
  }
  if (merged.adam.averageDecay !== 0) {
    throw new InputError(
      `framegen training config: adam.averageDecay is not supported by frame-generation training (0), got ${showValue(merged.adam.averageDecay)}`,
    );
  }
  const { data } = merged;
  if (!Array.isArray(data.size) || data.size.length !== 2) {
    throw new InputError('framegen training config: data.size must be [width, height]');
  }
  const multiple = inputMultiple(FRAMEGEN_NETWORKS[merged.network]!);
  data.size.forEach((v, i) => {
    if (positiveInt(`data.size[${i}]`, v) % multiple !== 0) {
      throw new InputError(
        `framegen training config: data.size must be multiples of ${multiple}, got ${data.size.join('x')}`,
      );
    }
  });
  if (!(typeof data.ratio === 'number' && data.ratio >= 1 && data.ratio <= 3)) {
    throw new InputError(
      `framegen training config: data.ratio must be a ratio in [1, 3], got ${showValue(data.ratio)}`,
    );
  }
  if (!(typeof data.fps === 'number' && data.fps > 0 && data.fps <= 500)) {
    throw new InputError(
      `framegen training config: data.fps must be a number in (0, 500], got ${showValue(data.fps)}`,
    );
  }
  positiveInt('data.clips', data.clips);
  if (!Number.isInteger(data.devClips) || data.devClips < 0 || data.devClips > 10_000) {
    throw new InputError(
      `framegen training config: data.devClips must be an integer in 0..10000, got ${showValue(data.devClips)}`,
    );
  }
  if (positiveInt('data.clipFrames', data.clipFrames) < 2) {
    throw new InputError('framegen training config: data.clipFrames must be at least 2');
  }
  positiveInt('data.pairsPerClip', data.pairsPerClip);
  positiveInt('data.referenceSamples', data.referenceSamples);
  if (typeof data.mirror !== 'boolean') {
    throw new InputError(
      `framegen training config: data.mirror must be true or false, got ${showValue(data.mirror)}`,
    );
  }
  const { factors } = data;
  if (
    !Array.isArray(factors) ||
    factors.length === 0 ||
    !factors.every((f) => [2, 3, 4].includes(f)) ||
    new Set(factors).size !== factors.length
  ) {
    throw new InputError(
      `framegen training config: data.factors must be distinct rate factors from 2, 3, 4, got ${showValue(factors)}`,
    );
  }
  positiveInt('logEvery', merged.logEvery);
  positiveInt('checkpointEvery', merged.checkpointEvery);
  checkScheduleRestart(merged.scheduleRestart, 'framegen training config');
  return merged;
}
