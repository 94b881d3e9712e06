/** A small split entry of a procedural scene for the clip sampler's tests (6 frames, 32×32, 2×). */
import type { SplitEntry } from '../../src/train/splits.ts';

export const sceneEntry = (scene: string, path = 'orbit', seed = 1): SplitEntry => ({
  name: `${scene}-${path}-${seed}`,
  scene,
  path,
  seed,
  frames: 6,
  displaySize: [32, 32],
  ratio: 2,
});
