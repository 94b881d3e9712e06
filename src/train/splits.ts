/**
 * The training and held-out validation splits of the data engine's sequences.
 *
 * An entry is a scene, a camera path and a seed (the seed chooses the procedural layout, the
 * materials, the object motion and the path's parameters), with the length and sizes it is
 * rendered at by `uplift dataset`. The split:
 *
 * - **Seeds.** Training entries use seeds TRAIN_SEEDS (1..8) of every procedural scene (what
 *   `uplift dataset` writes); the on-the-fly clip sampler draws its layout seeds from the wider
 *   TRAIN_LAYOUT_SEEDS (1..1000) for the same scene/path pairs. Validation uses seeds from 1001
 *   up. No (scene, seed) pair is in both, so no validation layout was ever seen in training.
 * - **Held-out scene/path combinations.** HELD_OUT_COMBINATIONS (foliage × shake, fence ×
 *   fast-turn, city × cut, and for the scenes of network v3's failure classes runners ×
 *   fast-turn, signs × shake, meadow × shake, poles × cut) never appear in training, with any
 *   seed: they test generalisation to a kind of motion on content the model knows, not just to a
 *   new layout.
 * - **Paths made for a scene.** The `forward` path flies along a scene's road or corridor
 *   (`focus.heading`); only FORWARD_SCENES, built along one, train and validate on it.
 * - **Stable validation.** The first validation entries (FIRST_VALIDATION_SCENES, their held-out
 *   combinations and the glTF files) keep the names and seeds they had before scenes were added;
 *   the entries of later scenes (LATER_VALIDATION, then LATEST_VALIDATION: the herd of
 *   2026-12-05) follow with the next seeds, so earlier measurements stay comparable entry by
 *   entry (and a validation of the first n entries, `--validation-clips n`, stays the same).
 * - **glTF files.** Every scene file of assets/gltf (in the repository, with its licenses in
 *   assets/README.md; paths relative to the repository root) is in validation only: real-world
 *   assets the model never trains on.
 * - **Sizes.** Validation entries are rendered at 384×256 in Performance mode (ratio 2) with 64
 *   reference samples and 32 frames; `uplift dataset --display/--quality/--frames/--samples`
 *   override them. Training entries rotate over the four upscaling modes at 192×128; the on-the-fly
 *   clip sampler (data/clips.ts) picks its own display size and ratio and uses only the scene,
 *   path, seed and length of an entry.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Size, QUALITY_RATIOS } from '../core/quality.ts';
import { CAMERA_PATHS } from '../scene/paths.ts';
import { PROCEDURAL_SCENES } from '../scene/procedural/scenes.ts';

/** One sequence of a split. */
export interface SplitEntry {
  /** Unique within its split; the directory name `uplift dataset` writes. */
  readonly name: string;
  /** A built-in procedural scene name, or a .gltf / .glb path relative to the repository root. */
  readonly scene: string;
  /** A built-in camera path name (CAMERA_PATHS). */
  readonly path: string;
  readonly seed: number;
  readonly frames: number;
  readonly displaySize: Size;
  /** Display / render ratio. */
  readonly ratio: number;
}

export type SplitName = 'train' | 'validation';

/** Layout seeds used for training (each procedural scene). */
export const TRAIN_SEEDS: readonly number[] = [1, 2, 3, 4, 5, 6, 7, 8];

/** First seed of the validation entries (all validation seeds are ≥ this). */
export const VALIDATION_SEED_BASE = 1001;

/**
 * Layout seeds (inclusive range) of the on-the-fly training clips (data/clips.ts): many more
 * layouts than the written train split, all below VALIDATION_SEED_BASE.
 */
export const TRAIN_LAYOUT_SEEDS = { first: 1, last: VALIDATION_SEED_BASE - 1 } as const;

/** The held-out combinations of the first validation entries (their order fixes their seeds). */
const FIRST_HELD_OUT: ReadonlyArray<{ scene: string; path: string }> = [
  { scene: 'foliage', path: 'shake' },
  { scene: 'fence', path: 'fast-turn' },
  { scene: 'city', path: 'cut' },
];

/** Held-out combinations of the scenes of network v3's failure classes (issue 14). */
const LATER_HELD_OUT: ReadonlyArray<{ scene: string; path: string }> = [
  { scene: 'runners', path: 'fast-turn' },
  { scene: 'signs', path: 'shake' },
  { scene: 'meadow', path: 'shake' },
  { scene: 'poles', path: 'cut' },
];

/** Held-out combinations of the scenes added after the Fox's ghost (2026-12-05). */
const LATEST_HELD_OUT: ReadonlyArray<{ scene: string; path: string }> = [
  { scene: 'herd', path: 'fast-turn' },
];

/** Scene/path combinations that appear in validation only. */
export const HELD_OUT_COMBINATIONS: ReadonlyArray<{ scene: string; path: string }> = [
  ...FIRST_HELD_OUT,
  ...LATER_HELD_OUT,
  ...LATEST_HELD_OUT,
];

/** Scenes built along `focus.heading`, for the `forward` path (the only ones that use it). */
export const FORWARD_SCENES: readonly string[] = ['city', 'poles', 'meadow'];

/** Camera paths that only FORWARD_SCENES use. */
const FORWARD_PATHS = new Set(['forward']);

/** Whether training and validation pair `scene` with `path` at all (held out or not). */
export const pathSuits = (scene: string, path: string) =>
  !FORWARD_PATHS.has(path) || FORWARD_SCENES.includes(scene);

/** The procedural scenes of the first validation entries, in their order. */
export const FIRST_VALIDATION_SCENES: readonly string[] = [
  'city',
  'fence',
  'foliage',
  'particles',
  'mix',
];

/** Camera paths of the ordinary (not held-out) validation entries of FIRST_VALIDATION_SCENES. */
const VALIDATION_PATHS = ['orbit', 'flythrough', 'fast-turn'];

/**
 * Validation entries of the scenes added for network v3's failure classes (after the first
 * entries, with the next seeds): the path that shows each failure and one more.
 */
export const LATER_VALIDATION: ReadonlyArray<{ scene: string; paths: readonly string[] }> = [
  { scene: 'poles', paths: ['forward', 'orbit'] },
  { scene: 'city', paths: ['forward'] },
  { scene: 'runners', paths: ['static', 'orbit'] },
  { scene: 'signs', paths: ['static', 'orbit'] },
  { scene: 'meadow', paths: ['forward', 'static'] },
];

/**
 * Validation entries of the scenes added after the Fox's ghost (2026-12-05), after every entry
 * above (their seeds follow the later held-out ones).
 */
export const LATEST_VALIDATION: ReadonlyArray<{ scene: string; paths: readonly string[] }> = [
  { scene: 'herd', paths: ['orbit', 'static'] },
];

/** The glTF files of assets/gltf (held out of training entirely). */
export const VALIDATION_GLTF_FILES: readonly string[] = [
  'assets/gltf/FlightHelmet/FlightHelmet.gltf',
  'assets/gltf/animated/Fox.glb',
  'assets/gltf/AlienCake/alien.glb',
  'assets/gltf/AlienCake/cakeBirthday.glb',
  'assets/gltf/AlienCake/tile.glb',
  'assets/gltf/ship/craft_speederD.gltf',
  'assets/gltf/DepthOfFieldExample/DepthOfFieldExample.glb',
  'assets/gltf/terrain/terrain.glb',
  'assets/gltf/PalmTree/PalmTree.gltf',
];

const TRAIN_DISPLAY: Size = [192, 128];
const TRAIN_FRAMES = 64;
const VALIDATION_DISPLAY: Size = [384, 256];
const VALIDATION_FRAMES = 32;
const VALIDATION_RATIO = QUALITY_RATIOS.performance;
/** Upscaling modes the training entries rotate over. */
const TRAIN_RATIOS = [
  QUALITY_RATIOS.performance,
  QUALITY_RATIOS.quality,
  QUALITY_RATIOS.balanced,
  QUALITY_RATIOS['ultra-performance'],
];

/** Whether a scene/path pair is held out of training (HELD_OUT_COMBINATIONS). */
export const isHeldOut = (scene: string, path: string) =>
  HELD_OUT_COMBINATIONS.some((c) => c.scene === scene && c.path === path);

/** A glTF file's entry name: its file name without the extension. */
const fileStem = (file: string) => file.replace(/^.*\//, '').replace(/\.(gltf|glb)$/i, '');

function buildTrain(): SplitEntry[] {
  const entries: SplitEntry[] = [];
  for (const scene of Object.keys(PROCEDURAL_SCENES)) {
    for (const path of Object.keys(CAMERA_PATHS)) {
      if (isHeldOut(scene, path) || !pathSuits(scene, path)) continue;
      for (const seed of TRAIN_SEEDS) {
        entries.push({
          name: `${scene}-${path}-${seed}`,
          scene,
          path,
          seed,
          frames: TRAIN_FRAMES,
          displaySize: TRAIN_DISPLAY,
          ratio: TRAIN_RATIOS[entries.length % TRAIN_RATIOS.length]!,
        });
      }
    }
  }
  return entries;
}

function buildValidation(): SplitEntry[] {
  const entries: SplitEntry[] = [];
  let seed = VALIDATION_SEED_BASE;
  const add = (scene: string, name: string, path: string) =>
    entries.push({
      name: `${name}-${path}-${seed}`,
      scene,
      path,
      seed: seed++,
      frames: VALIDATION_FRAMES,
      displaySize: VALIDATION_DISPLAY,
      ratio: VALIDATION_RATIO,
    });
  for (const scene of FIRST_VALIDATION_SCENES) {
    for (const path of VALIDATION_PATHS) if (!isHeldOut(scene, path)) add(scene, scene, path);
  }
  for (const { scene, path } of FIRST_HELD_OUT) add(scene, scene, path);
  for (const file of VALIDATION_GLTF_FILES) add(file, fileStem(file), 'orbit');
  // Later scenes: their seeds follow, so every entry above keeps its name and seed.
  for (const { scene, paths } of LATER_VALIDATION) {
    for (const path of paths) add(scene, scene, path);
  }
  for (const { scene, path } of LATER_HELD_OUT) add(scene, scene, path);
  for (const { scene, paths } of LATEST_VALIDATION) {
    for (const path of paths) add(scene, scene, path);
  }
  for (const { scene, path } of LATEST_HELD_OUT) add(scene, scene, path);
  return entries;
}

/** Training entries (procedural scenes only). */
export const TRAIN: readonly SplitEntry[] = buildTrain();

/** Held-out validation entries (procedural scenes with unseen seeds and combinations, glTF files). */
export const VALIDATION: readonly SplitEntry[] = buildValidation();

/**
 * The repository root: entries name asset files relative to it. It is the nearest folder above
 * this module that holds assets/gltf, so the CLI finds the assets from any working directory,
 * from the sources (src/train/, two levels down) and from a bundle (.device/main.mjs for the GPU
 * machine, one level down). Where no folder above holds them (a bundle or package without
 * assets/), it is the folder two levels up, so a missing file is reported by its expected path.
 */
export const REPOSITORY_ROOT = findRepositoryRoot(fileURLToPath(new URL('.', import.meta.url)));

/** The nearest folder from `moduleDir` up that holds assets/gltf, else the folder two levels up. */
export function findRepositoryRoot(moduleDir: string): string {
  for (let dir = moduleDir; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'assets', 'gltf'))) return dir;
    if (dirname(dir) === dir) return resolve(moduleDir, '..', '..');
  }
}

/** The entry's scene as `loadScene` takes it: a built-in name, or a file path resolved from the repository root. */
export function entryScene(entry: Pick<SplitEntry, 'scene'>): string {
  const file = /\.(gltf|glb)$/i.test(entry.scene);
  return file && !isAbsolute(entry.scene) ? resolve(REPOSITORY_ROOT, entry.scene) : entry.scene;
}

/** The entries of a split by name. */
export function splitEntries(split: SplitName): readonly SplitEntry[] {
  return split === 'train' ? TRAIN : VALIDATION;
}
