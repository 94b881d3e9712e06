// The training / validation split: disjoint layouts, held-out combinations and files, also for
// the layouts the on-the-fly clip sampler draws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { PROCEDURAL_SCENES } from '../src/scene/procedural/scenes.ts';
import { CAMERA_PATHS } from '../src/scene/paths.ts';
import {
  entryScene,
  FIRST_VALIDATION_SCENES,
  FORWARD_SCENES,
  HELD_OUT_COMBINATIONS,
  LATER_VALIDATION,
  pathSuits,
  isHeldOut,
  TRAIN,
  TRAIN_LAYOUT_SEEDS,
  VALIDATION,
  VALIDATION_GLTF_FILES,
  VALIDATION_SEED_BASE,
} from '../src/train/splits.ts';
import { sceneClipChoice } from '../src/train/data/scene-clips.ts';
import { HARD_CASE_SCENES } from '../src/scene/procedural/hard-cases.ts';
import { proceduralScene } from '../src/scene/procedural/scenes.ts';

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

// The files are in the repository (assets/gltf); test/assets.test.ts checks what they reference.
test('glTF assets of the validation split exist in the repository', () => {
  for (const file of VALIDATION_GLTF_FILES) {
    assert.ok(existsSync(entryScene({ scene: file })), `${file} is missing`);
  }
});

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

test('on-the-fly training clips never use a validation seed or a held-out scene/path pair', () => {
  assert.ok(TRAIN_LAYOUT_SEEDS.first >= 1 && TRAIN_LAYOUT_SEEDS.last < VALIDATION_SEED_BASE);
  assert.ok(VALIDATION.every((e) => e.seed >= VALIDATION_SEED_BASE));
  const validationLayouts = new Set(VALIDATION.map((e) => `${e.scene}#${e.seed}`));
  const layouts = new Set<number>();
  // The trainer's training source ({ kind: 'scenes' } with TRAIN_LAYOUT_SEEDS; the same choice
  // as the default source), over many clips, seeds and ratio lists.
  for (const spec of [{ layoutSeeds: TRAIN_LAYOUT_SEEDS }, {}]) {
    for (const seed of [1, 2, 12345]) {
      for (let index = 0; index < 4000; index++) {
        const { entry, startFrame } = sceneClipChoice(spec, {
          seed,
          index,
          clipLength: 6,
          ratios: [1.5, 2],
        });
        assert.ok(
          entry.seed >= TRAIN_LAYOUT_SEEDS.first && entry.seed < VALIDATION_SEED_BASE,
          `clip ${index}: seed ${entry.seed}`,
        );
        assert.ok(!validationLayouts.has(`${entry.scene}#${entry.seed}`), entry.name);
        assert.ok(!isHeldOut(entry.scene, entry.path), `${entry.scene} × ${entry.path}`);
        assert.ok(scenes.includes(entry.scene), `${entry.scene} is not procedural`);
        assert.ok(startFrame >= 0 && startFrame + 6 <= entry.frames);
        layouts.add(entry.seed);
      }
    }
  }
  // Many more layouts than the written train split (TRAIN_SEEDS), and a pure function of the index.
  assert.ok(layouts.size > 900, `${layouts.size} layouts drawn`);
  const options = { seed: 5, index: 77, clipLength: 6, ratios: [2] };
  assert.deepEqual(sceneClipChoice({}, options), sceneClipChoice({}, options));
  // Explicit entries keep their own seeds unless a range is given.
  const own = sceneClipChoice({ entries: VALIDATION.slice(0, 3) }, options);
  assert.ok(VALIDATION.slice(0, 3).includes(own.entry));
});

test("validation clips 'each': n clips cover the n procedural entries once, in turn; 'grouped' fewer", () => {
  const entries = VALIDATION.filter((e) => e.scene in PROCEDURAL_SCENES);
  assert.equal(entries.length, 33);
  const choose = (spread: boolean, index: number) =>
    sceneClipChoice(
      { entries, spread },
      { seed: 1_000_004, index, clipLength: 8, ratios: [2, 1.5] },
    );
  const spread = Array.from({ length: entries.length }, (_, i) => choose(true, i));
  assert.deepEqual(
    spread.map((c) => c.entry.name),
    entries.map((e) => e.name),
  );
  assert.deepEqual(new Set(spread.map((c) => c.ratio)), new Set([2, 1.5]), 'both ratios drawn');
  for (const c of spread) assert.ok(c.startFrame >= 0 && c.startFrame + 8 <= c.entry.frames);
  // The trainer's 16 clips as they were chosen until 2026-12-05: four entries, four clips each.
  const grouped = new Set(Array.from({ length: 16 }, (_, i) => choose(false, i).entry.name));
  assert.ok(grouped.size <= 4, `${grouped.size} entries`);
  assert.deepEqual(choose(true, 7), choose(true, 7), 'pure in the index');
});

// The validation entries as they were before the scenes of network v3's failure classes: the
// names (and so the seeds) earlier measurements (docs/QUALITY.md) refer to.
const FIRST_VALIDATION_NAMES = [
  'city-orbit-1001',
  'city-flythrough-1002',
  'city-fast-turn-1003',
  'fence-orbit-1004',
  'fence-flythrough-1005',
  'foliage-orbit-1006',
  'foliage-flythrough-1007',
  'foliage-fast-turn-1008',
  'particles-orbit-1009',
  'particles-flythrough-1010',
  'particles-fast-turn-1011',
  'mix-orbit-1012',
  'mix-flythrough-1013',
  'mix-fast-turn-1014',
  'foliage-shake-1015',
  'fence-fast-turn-1016',
  'city-cut-1017',
  'FlightHelmet-orbit-1018',
  'Fox-orbit-1019',
  'alien-orbit-1020',
  'cakeBirthday-orbit-1021',
  'tile-orbit-1022',
  'craft_speederD-orbit-1023',
  'DepthOfFieldExample-orbit-1024',
  'terrain-orbit-1025',
  'PalmTree-orbit-1026',
];

test('earlier validation entries keep their names and seeds; later scenes follow them', () => {
  assert.deepEqual(
    VALIDATION.slice(0, FIRST_VALIDATION_NAMES.length).map((e) => e.name),
    FIRST_VALIDATION_NAMES,
  );
  assert.deepEqual(FIRST_VALIDATION_SCENES, scenes.slice(0, FIRST_VALIDATION_SCENES.length));
  const later = VALIDATION.slice(FIRST_VALIDATION_NAMES.length);
  const last = VALIDATION_SEED_BASE + FIRST_VALIDATION_NAMES.length - 1;
  assert.ok(later.length > 0 && later.every((e) => e.seed > last));
  for (const { scene, paths } of LATER_VALIDATION) {
    for (const path of paths) assert.ok(later.some((e) => e.scene === scene && e.path === path));
  }
});

test('each failure-class scene is trained and validated on held-out seeds and combinations', () => {
  for (const scene of Object.keys(HARD_CASE_SCENES)) {
    const train = TRAIN.filter((e) => e.scene === scene);
    const validation = VALIDATION.filter((e) => e.scene === scene);
    assert.ok(train.length >= 8 * 5, `${scene}: ${train.length} training entries`);
    assert.ok(validation.length >= 2, `${scene}: ${validation.length} validation entries`);
    const trainSeeds = new Set(train.map((e) => e.seed));
    for (const e of validation) {
      assert.ok(e.seed >= VALIDATION_SEED_BASE && !trainSeeds.has(e.seed), e.name);
    }
    // A combination of its own that training never sees.
    const heldOut = HELD_OUT_COMBINATIONS.filter((c) => c.scene === scene);
    assert.ok(heldOut.length >= 1, `${scene} has a held-out combination`);
    for (const c of heldOut) {
      assert.ok(!train.some((e) => e.path === c.path), `${scene} × ${c.path} trained`);
      assert.ok(
        validation.some((e) => e.path === c.path),
        `${scene} × ${c.path} not validated`,
      );
    }
  }
});

test('the forward path is used only by scenes built along a heading', () => {
  for (const scene of FORWARD_SCENES) {
    assert.ok(proceduralScene(scene, 1).focus.heading, `${scene} has no heading`);
    assert.ok(
      TRAIN.some((e) => e.scene === scene && e.path === 'forward'),
      scene,
    );
  }
  for (const e of [...TRAIN, ...VALIDATION]) {
    assert.ok(pathSuits(e.scene, e.path), `${e.name}: ${e.path} is not made for ${e.scene}`);
    if (e.path === 'forward') assert.ok(FORWARD_SCENES.includes(e.scene), e.name);
  }
  assert.ok(VALIDATION.some((e) => e.scene === 'poles' && e.path === 'forward'));
});

test('sceneShares: a scene drawn alone for its share of the groups, the other draws unchanged', () => {
  const options = (index: number) => ({ seed: 3, index, clipLength: 6, ratios: [1.5, 2] });
  const groups = 4000;
  const plain = { layoutSeeds: TRAIN_LAYOUT_SEEDS };
  const shared = { ...plain, sceneShares: { herd: 0.25, runners: 0.1 } };
  let herd = 0;
  let runners = 0;
  let plainHerd = 0;
  let sameOthers = 0;
  for (let g = 0; g < groups; g++) {
    // One clip a group (clipsPerRenderer 4): clips 4g … 4g + 3 share the group's entry.
    const a = sceneClipChoice(plain, options(4 * g));
    const b = sceneClipChoice(shared, options(4 * g));
    assert.deepEqual(
      sceneClipChoice(shared, options(4 * g + 3)).entry,
      b.entry,
      'one entry a group',
    );
    if (b.entry.scene === 'herd') herd++;
    if (b.entry.scene === 'runners') runners++;
    if (a.entry.scene === 'herd') plainHerd++;
    // The ratio and the layout seed come from the same draws either way; a group not given to
    // a shared scene shows what it showed without the shares.
    assert.equal(b.ratio, a.ratio);
    assert.equal(b.entry.seed, a.entry.seed);
    assert.ok(b.startFrame >= 0 && b.startFrame + 6 <= b.entry.frames);
    if (b.entry.name === a.entry.name) sameOthers++;
    assert.ok(!isHeldOut(b.entry.scene, b.entry.path), `${b.entry.scene} × ${b.entry.path}`);
  }
  // The uniform draw gives the herd about 1 group in 10 (10 scenes); with the shares it gets its
  // 25 % plus its part of the other 65 %.
  const expectedHerd = 0.25 + 0.65 * (plainHerd / groups);
  assert.ok(Math.abs(herd / groups - expectedHerd) < 0.03, `herd ${herd / groups}`);
  assert.ok(runners / groups > 0.1, `runners ${runners / groups}`);
  assert.ok(sameOthers > groups * 0.5, `${sameOthers} groups unchanged`);
  // Empty shares: the stream of choices is exactly the plain one.
  for (let index = 0; index < 200; index++) {
    assert.deepEqual(
      sceneClipChoice({ ...plain, sceneShares: {}, pathShares: {} }, options(index)),
      sceneClipChoice(plain, options(index)),
    );
  }
});

test('pathShares: a camera path drawn alone for its share of the groups, after the scenes', () => {
  const options = (index: number) => ({ seed: 5, index, clipLength: 6, ratios: [2] });
  const groups = 3000;
  const plain = { layoutSeeds: TRAIN_LAYOUT_SEEDS };
  const shared = { ...plain, sceneShares: { herd: 0.1 }, pathShares: { 'fast-turn': 0.3 } };
  let fastTurns = 0;
  let plainFastTurns = 0;
  let herd = 0;
  for (let g = 0; g < groups; g++) {
    const a = sceneClipChoice(plain, options(4 * g));
    const b = sceneClipChoice(shared, options(4 * g));
    if (b.entry.path === 'fast-turn') fastTurns++;
    if (a.entry.path === 'fast-turn') plainFastTurns++;
    if (b.entry.scene === 'herd') herd++;
    assert.equal(b.ratio, a.ratio);
    assert.ok(!isHeldOut(b.entry.scene, b.entry.path), `${b.entry.scene} × ${b.entry.path}`);
  }
  // 30 % of the groups from the fast turns alone, the rest as drawn without the shares.
  const expected = 0.3 + 0.6 * (plainFastTurns / groups);
  assert.ok(Math.abs(fastTurns / groups - expected) < 0.03, `fast turns ${fastTurns / groups}`);
  assert.ok(plainFastTurns / groups < 0.25, `plain fast turns ${plainFastTurns / groups}`);
  assert.ok(herd / groups > 0.1, `herd ${herd / groups}`);
});
