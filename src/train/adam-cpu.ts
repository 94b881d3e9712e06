/**
 * CPU reference of the optimizer step (the oracle of ./adam.ts): Adam with bias correction,
 * decoupled weight decay (AdamW) and global gradient-norm clipping, plus the learning-rate
 * schedule (linear warm-up, then cosine decay), which the GPU path also uses as is.
 */
import type { Real } from '../core/tensor.ts';

/** Optimizer settings. */
export interface AdamConfig {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** Decoupled (AdamW) weight decay per unit learning rate; 0 disables it. */
  readonly weightDecay: number;
  /** Gradients are scaled so their global L2 norm is at most this; 0 disables clipping. */
  readonly maxGradNorm: number;
  /**
   * Decay of an exponential moving average of the weights, updated after every step (0 disables
   * it): with it on, validation, the best checkpoint and the weights files use the average
   * (./weight-average.ts). 0.999 averages over about the last 1,000 steps.
   */
  readonly averageDecay: number;
  /**
   * With w > 0, the average's decay at optimizer step t is min(averageDecay, (1 + t) / (w + t)):
   * early steps replace most of the average, so a short run's average is its own weights and not
   * the ones it started from (at 0.999 a fixed decay keeps ~40 % of the start after 900 steps;
   * w = 10 keeps 10⁻²⁰ of it). 0 keeps the decay fixed. Steps count across resumes.
   */
  readonly averageWarmup: number;
}

export const DEFAULT_ADAM: AdamConfig = {
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  weightDecay: 0,
  maxGradNorm: 1,
  averageDecay: 0,
  averageWarmup: 0,
};

/**
 * Learning-rate schedule: linear warm-up to `peak`, then cosine decay to `peak · finalRatio`;
 * from `restart.step` on, cosine decay from `restart.learningRate` to the same floor instead.
 */
export interface ScheduleConfig {
  readonly peak: number;
  readonly warmupSteps: number;
  readonly totalSteps: number;
  readonly finalRatio: number;
  readonly restart?: ScheduleRestart | null;
}

/**
 * Where a resumed run that changed its length continues the schedule: from step `step` the rate
 * decays from `learningRate` (the old schedule's rate there) to the floor at the new last step,
 * so lengthening a run never jumps the rate back up.
 */
export interface ScheduleRestart {
  readonly step: number;
  readonly learningRate: number;
}

/** Learning rate of step `step` (0-based). Past `totalSteps` it stays at the final value. */
export function learningRateAt(step: number, s: ScheduleConfig): number {
  const restart = s.restart;
  if (restart && step >= restart.step) {
    const floor = Math.min(s.peak * s.finalRatio, restart.learningRate);
    const t = Math.min(1, (step - restart.step) / Math.max(1, s.totalSteps - restart.step));
    return floor + (restart.learningRate - floor) * 0.5 * (1 + Math.cos(Math.PI * t));
  }
  if (step < s.warmupSteps) return (s.peak * (step + 1)) / s.warmupSteps;
  const span = Math.max(1, s.totalSteps - s.warmupSteps);
  const t = Math.min(1, (step - s.warmupSteps) / span);
  const floor = s.peak * s.finalRatio;
  return floor + (s.peak - floor) * 0.5 * (1 + Math.cos(Math.PI * t));
}

/** Scale applied to every gradient so the global norm is at most `maxNorm` (1 if no clipping). */
export function clipScale(normSquared: number, maxNorm: number): number {
  if (!(maxNorm > 0)) return 1;
  return Math.min(1, maxNorm / (Math.sqrt(normSquared) + 1e-6));
}

/** One parameter tensor with its Adam moments (all the same length). */
export interface AdamTensorCpu {
  readonly param: Real;
  readonly grad: Real;
  readonly m: Real;
  readonly v: Real;
}

/**
 * One Adam step over all tensors, in place. `step` is the 1-based step number (bias correction);
 * the gradient norm for clipping is taken over all tensors together.
 */
export function adamStepCpu(
  tensors: readonly AdamTensorCpu[],
  step: number,
  learningRate: number,
  config: AdamConfig,
): { gradNorm: number } {
  let normSquared = 0;
  for (const t of tensors) for (let i = 0; i < t.grad.length; i++) normSquared += t.grad[i]! ** 2;
  const scale = clipScale(normSquared, config.maxGradNorm);
  const c1 = 1 - config.beta1 ** step;
  const c2 = 1 - config.beta2 ** step;
  for (const t of tensors) {
    for (let i = 0; i < t.param.length; i++) {
      const g = t.grad[i]! * scale;
      t.m[i] = config.beta1 * t.m[i]! + (1 - config.beta1) * g;
      t.v[i] = config.beta2 * t.v[i]! + (1 - config.beta2) * g * g;
      const update = t.m[i]! / c1 / (Math.sqrt(t.v[i]! / c2) + config.epsilon);
      t.param[i] = t.param[i]! - learningRate * (update + config.weightDecay * t.param[i]!);
    }
  }
  return { gradNorm: Math.sqrt(normSquared) };
}

/** The weight average's decay at optimizer step `step` (1-based): see `averageWarmup`. */
export function averageDecayAt(
  config: Pick<AdamConfig, 'averageDecay' | 'averageWarmup'>,
  step: number,
): number {
  const { averageDecay, averageWarmup } = config;
  return averageWarmup > 0
    ? Math.min(averageDecay, (1 + step) / (averageWarmup + step))
    : averageDecay;
}

/** One update of a weight average in place: average ← decay · average + (1 − decay) · param (f32). */
export function averageStepCpu(average: Float32Array, param: Float32Array, decay: number): void {
  if (average.length !== param.length) {
    throw new RangeError(`weight average: ${average.length} values, parameter ${param.length}`);
  }
  const d = Math.fround(decay);
  const rest = Math.fround(1 - d);
  for (let i = 0; i < average.length; i++) {
    average[i] = Math.fround(Math.fround(d * average[i]!) + Math.fround(rest * param[i]!));
  }
}
