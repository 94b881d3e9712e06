// The training / validation split: disjoint layouts, held-out combinations and files.
import { test } from 'node:test';
import { dirname } from 'node:path';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { PROCEDURAL_SCENES } from '../src/scene/procedural/scenes.ts';
import { CAMERA_PATHS } from '../src/scene/paths.ts';
import {
  entryScene,
  HELD_OUT_COMBINATIONS,
  TRAIN,
  VALIDATION,
  VALIDATION_GLTF_FILES,
} from '../src/train/splits.ts';

const scenes = Object.keys(PROCEDURAL_SCENES);

test('validation and training never share a (scene, seed) pair', () => {
  const trained = new Set(TRAIN.map((e) => `${e.scene}#${e.seed}`));
  for (const e of VALIDATION) {
    assert.ok(!trained.has(`${e.scene}#${e.seed}`), `${e.name} reuses a training layout`);
  }
});

test('every procedural scene is validated, with seeds training never uses', () => {
  for (const scene of scenes) {
    const trainSeeds = new Set(TRAIN.filter((e) => e.scene === scene).map((e) => e.seed));
    const validation = VALIDATION.filter((e) => e.scene === scene);
    assert.ok(trainSeeds.size > 0, `${scene} is trained on`);
    assert.ok(validation.length > 0, `${scene} is validated`);
    for (const e of validation) assert.ok(!trainSeeds.has(e.seed), e.name);
  }
});

test('held-out scene/path combinations are validated and never trained on', () => {
  const trained = new Set(TRAIN.map((e) => `${e.scene}#${e.path}`));
  assert.ok(HELD_OUT_COMBINATIONS.length >= 1);
  for (const { scene, path } of HELD_OUT_COMBINATIONS) {
    assert.ok(!trained.has(`${scene}#${path}`), `${scene} × ${path} is in training`);
    assert.ok(
      VALIDATION.some((e) => e.scene === scene && e.path === path),
      `${scene} × ${path} is not validated`,
    );
  }
});

test('glTF assets are in validation only', () => {
  assert.ok(VALIDATION_GLTF_FILES.length >= 1);
  for (const file of VALIDATION_GLTF_FILES) {
    assert.ok(VALIDATION.some((e) => e.scene === file));
    assert.ok(!TRAIN.some((e) => e.scene === file));
  }
  for (const e of TRAIN) assert.ok(scenes.includes(e.scene), `${e.scene} is not procedural`);
});

// The shared asset folder sits beside the repository on the project's machines; a clone elsewhere
// has no assets, and then there is nothing to check.
const assetsDir = dirname(dirname(entryScene({ scene: VALIDATION_GLTF_FILES[0]! })));
test(
  'glTF assets of the validation split exist relative to the repository',
  { skip: !existsSync(assetsDir) && `${assetsDir} is absent` },
  () => {
    for (const file of VALIDATION_GLTF_FILES) {
      assert.ok(existsSync(entryScene({ scene: file })), `${file} is missing`);
    }
  },
);

test('entries are well formed and uniquely named', () => {
  for (const split of [TRAIN, VALIDATION]) {
    assert.equal(new Set(split.map((e) => e.name)).size, split.length);
    for (const e of split) {
      assert.ok(e.path in CAMERA_PATHS, `${e.name}: path ${e.path}`);
      assert.ok(Number.isInteger(e.seed) && e.frames >= 8, e.name);
      assert.ok(e.ratio >= 1 && e.ratio <= 3, e.name);
      assert.ok(/^[A-Za-z0-9._-]+$/.test(e.name), `${e.name} is not a safe directory name`);
    }
  }
});
