/**
 * Exposure changes in training clips, as engines with auto-exposure hand them: within a clip the
 * exposure either steps (a camera cut into another light level, a flash, a manual change) or ramps
 * over a few frames (eye adaptation). The clip's pixels stay as rendered; only the frames'
 * `exposure` changes, and the trainer then does what the upscaler does (src/reference/exposure.ts:
 * color and reference scaled by it, history rescaled by the ratio to the previous frame's), so a
 * network trained on such clips sees exactly what it will see at inference.
 *
 * Like the other engine-like degradations (engine-augment.ts), a clip's exposures are a pure
 * function of (sampler seed, clip index) on their own random stream, and every draw is made
 * whether the change fires or not: probability 0 leaves every clip as it was.
 */
import { randomFor, STREAM_EXPOSURE, type ExposureChange } from './clip-source.ts';

/** How often clips get an exposure change, and the exposures they move between. */
export interface ExposureChangeRates {
  /** Probability per clip, in [0, 1]. */
  readonly probability: number;
  /** Lowest and highest exposure [min, max], drawn log-uniformly (1 = as rendered). */
  readonly range: readonly [number, number];
}

export const NO_EXPOSURE_CHANGES: ExposureChangeRates = { probability: 0, range: [0.25, 4] };

/** Exposures further apart than this factor from 1 are refused (colors would clip or vanish). */
export const EXPOSURE_LIMIT = 1024;

/** Throws a RangeError naming `where` unless `rates` are a probability and a valid range. */
export function checkExposureChangeRates(rates: ExposureChangeRates, where: string): void {
  const { probability, range } = rates;
  if (typeof probability !== 'number' || !(probability >= 0 && probability <= 1))
    throw new RangeError(
      `${where}.probability must be a probability in [0, 1], got ${String(probability)}`,
    );
  const inLimits = (v: unknown) =>
    typeof v === 'number' && v >= 1 / EXPOSURE_LIMIT && v <= EXPOSURE_LIMIT;
  if (
    !Array.isArray(range) ||
    range.length !== 2 ||
    !range.every(inLimits) ||
    !(range[0] <= range[1])
  )
    throw new RangeError(
      `${where}.range must be [min, max] with 1/${EXPOSURE_LIMIT} ≤ min ≤ max ≤ ${EXPOSURE_LIMIT}, got ${JSON.stringify(range)}`,
    );
}

/** The exposure change of clip `index` of `frames` frames, or null (always six draws). */
export function clipExposureChange(
  rates: ExposureChangeRates,
  seed: number,
  index: number,
  frames: number,
): ExposureChange | null {
  const random = randomFor(seed, STREAM_EXPOSURE, index);
  const fires = random() < rates.probability;
  const [min, max] = rates.range;
  const draw = () => min * (max / min) ** random();
  const from = draw();
  const to = draw();
  const kind = random() < 0.5 ? 'step' : 'ramp';
  // The change starts after frame 0 (a reset, which never rescales history).
  const at = 1 + Math.floor(random() * Math.max(frames - 1, 1));
  const length = 1 + Math.floor(random() * Math.max(frames - at, 1));
  return fires ? { kind, from, to, at, length: kind === 'step' ? 1 : length } : null;
}

/** The exposure of frame `t` under `change` (before `at`: from; from `at + length − 1` on: to). */
export function exposureAt(change: ExposureChange, t: number): number {
  const { from, to, at, length } = change;
  if (t < at) return from;
  const share = (t - at + 1) / length;
  return share >= 1 ? to : from * (to / from) ** share;
}
