/**
 * Scene clips at a larger display's pixel density: with `probability`, a clip renders the window
 * of a virtual display larger by a scale drawn log-uniformly from [1, maxScale], at a uniform
 * offset (src/scene/camera.ts ViewWindow; the window equals a crop of the larger render). The
 * clips keep their size, so the cost of a step does not change, while the network sees objects,
 * edges and textures spanning as many pixels as they do at the displays it serves: the 256×256
 * clips show a scene's whole view, about a quarter of a 1080p display's pixels across it.
 */
import type { ViewWindow } from '../../scene/camera.ts';
import { STREAM_ZOOM, randomFor } from './clip-source.ts';

export interface ZoomRates {
  /** Probability per scene clip of a window. */
  readonly probability: number;
  /** The largest scale drawn (≥ 1). */
  readonly maxScale: number;
}

export const NO_ZOOM: ZoomRates = { probability: 0, maxScale: 4 };

/** Throws a RangeError naming `where` unless `rates` are a probability and a scale ≥ 1. */
export function checkZoomRates(rates: ZoomRates, where: string): void {
  const { probability, maxScale } = rates;
  if (typeof probability !== 'number' || !(probability >= 0 && probability <= 1)) {
    throw new RangeError(
      `${where}.probability must be a probability in [0, 1], got ${String(probability)}`,
    );
  }
  if (typeof maxScale !== 'number' || !(maxScale >= 1 && maxScale <= 16)) {
    throw new RangeError(`${where}.maxScale must be a number in [1, 16], got ${String(maxScale)}`);
  }
}

/** Scene clip `index`'s window, or undefined (a pure function of seed and index). */
export function clipWindow(rates: ZoomRates, seed: number, index: number): ViewWindow | undefined {
  const random = randomFor(seed, STREAM_ZOOM, index);
  if (!(random() < rates.probability)) return undefined;
  const scale = rates.maxScale ** random();
  const room = 1 - 1 / scale;
  return { scale, offset: [random() * room, random() * room] };
}
