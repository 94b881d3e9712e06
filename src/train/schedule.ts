/**
 * The learning-rate schedule of a training config, and how a resume that changes the run's length
 * continues it (src/train/adam-cpu.ts has the schedule's formula).
 */
import { InputError } from '../core/errors.ts';
import { isRecord, showValue } from '../core/strict-json.ts';
import { learningRateAt, type ScheduleConfig, type ScheduleRestart } from './adam-cpu.ts';

/** The fields of a training config (frames or frame generation) that make its schedule. */
export interface ScheduledConfig {
  readonly steps: number;
  readonly learningRate: number;
  readonly warmupSteps: number;
  readonly finalRatio: number;
  /**
   * Set by a resume that changed `steps` or `learningRate` (never needed by hand): from this step
   * the rate decays from the rate the run had there to the floor at `steps`.
   */
  readonly scheduleRestart: ScheduleRestart | null;
}

/** The learning-rate schedule of a run's config. */
export function scheduleOf(config: ScheduledConfig): ScheduleConfig {
  return {
    peak: config.learningRate,
    warmupSteps: config.warmupSteps,
    totalSteps: config.steps,
    finalRatio: config.finalRatio,
    restart: config.scheduleRestart,
  };
}

/**
 * `after` (a resumed run's config) with its schedule restarted at `step` if the resume changed the
 * run's length or rate: the rate then decays from the old schedule's rate at `step` (or from a new
 * `learningRate` the resume asked for) to the floor at the new last step, rather than jumping to
 * where a run of the new length would have been (12-05: a 1,000-step run resumed to 3,000 steps at
 * step 750 went from 0.00041 to 0.00175 at once, and lost 3 dB of validation PSNR in 250 steps).
 */
export function continuedSchedule<C extends ScheduledConfig>(before: C, after: C, step: number): C {
  if (after.steps === before.steps && after.learningRate === before.learningRate) return after;
  const learningRate =
    after.learningRate !== before.learningRate
      ? after.learningRate
      : learningRateAt(step, scheduleOf(before));
  return { ...after, scheduleRestart: { step, learningRate } };
}

/** Throws an InputError naming `source` unless `r` is null or a schedule restart. */
export function checkScheduleRestart(r: unknown, source: string): void {
  if (r === null) return;
  if (
    !isRecord(r) ||
    Object.keys(r).some((k) => k !== 'step' && k !== 'learningRate') ||
    !Number.isInteger(r.step) ||
    (r.step as number) < 0 ||
    typeof r.learningRate !== 'number' ||
    !(r.learningRate >= 0 && Number.isFinite(r.learningRate))
  ) {
    throw new InputError(
      `${source}: scheduleRestart must be null or { "step": integer ≥ 0, "learningRate": number ≥ 0 }, got ${showValue(r)}`,
    );
  }
}
