// Training config files read strictly: nesting limited before anything walks the value (a config
// nested 50,000 deep is an InputError naming the file, not a stack overflow), the file must hold
// an object, unknown keys are refused at every level, values are typed and bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../src/core/errors.ts';
import {
  parseTrainConfigText,
  resolveTrainConfig,
  validationClipFrames,
} from '../src/train/config.ts';
import { validationSignature } from '../src/train/run-start.ts';

const refused = (fn: () => unknown, message: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof InputError && message.test((e as Error).message));

test('config files: depth-limited, an object, errors naming the file', () => {
  const deep = `{"data":{"ratio":${'['.repeat(50000)}${']'.repeat(50000)}}}`;
  refused(() => parseTrainConfigText(deep, 'deep.json'), /^deep\.json: JSON nested 50002 levels/);
  refused(
    () => parseTrainConfigText('[]', 'a.json'),
    /^a\.json: a training config must be a JSON object, got \[\]/,
  );
  refused(() => parseTrainConfigText('{"steps": 3', 'b.json'), /^b\.json: invalid JSON/);
  // Values just under the depth limit are checked and shown short, never printed whole.
  const nested = JSON.parse(`{"steps":${'['.repeat(60)}${']'.repeat(60)}}`) as object;
  refused(
    () => resolveTrainConfig(nested),
    /steps must be a positive integer up to 1000000000, got \[\[\[\[/,
  );
  assert.equal(resolveTrainConfig(parseTrainConfigText('{"steps": 3}', 'c.json')).steps, 3);
});

test('configs: unknown keys at every level, mistyped and out-of-range values are refused', () => {
  for (const [config, message] of [
    [{ adam: { betta1: 0.9 } }, /unknown key "adam\.betta1"/],
    [{ data: { sourc: 'scenes' } }, /unknown key "data\.sourc"/],
    [{ loss: { l2: 1 } }, /unknown key "loss\.l2"/],
    [{ loss: { stale: -1 } }, /loss\.stale/],
    [{ loss: { mse: -1 } }, /loss\.mse/],
    [
      { loss: { staleOffscreen: 1.5 } },
      /loss\.staleOffscreen must be a number in \[0, 1\], got 1\.5/,
    ],
    [
      { loss: { staleOffscreen: '0' } },
      /loss\.staleOffscreen must be a number in \[0, 1\], got "0"/,
    ],
    [{ adam: 5 }, /adam must be an object, got 5/],
    [{ data: 'scenes' }, /data must be an object, got "scenes"/],
    [{ qat: 5 }, /qat must be an object, true, false or null, got 5/],
    [{ qat: 'yes' }, /qat must be an object/],
    [{ network: 'constructor' }, /network must be one of v2, .*, got "constructor"/],
    [{ network: 'toString' }, /network must be one of/],
    [{ data: { ratio: '2' } }, /data\.ratio must be a ratio in \[1, 3\]/],
    [{ data: { ratio: [2, '1.5'] } }, /data\.ratio/],
    [{ seed: -1 }, /seed must be an integer in 0\.\.4294967295, got -1/],
    [{ seed: 2 ** 32 }, /seed must be an integer in 0\.\.4294967295/],
    [{ seed: 1e300 }, /seed must be an integer/],
    [{ validationClips: 1e9 }, /validationClips must be an integer in 0\.\.4096, got 1000000000/],
    [{ validationClips: -1 }, /validationClips must be an integer in 0\.\.4096/],
    [{ task: { x: 1 } }, /task must be frames or teacher, got \{"x":1\}/],
  ] as const) {
    refused(() => resolveTrainConfig(config), message);
  }
  // The same values inside their ranges are taken.
  const ok = resolveTrainConfig({
    seed: 2 ** 32 - 1,
    validationClips: 0,
    qat: false,
    data: { ratio: [2, 1.5] },
    loss: { stale: 10, staleOffscreen: 0, mse: 25 },
  });
  assert.equal(ok.seed, 2 ** 32 - 1);
  assert.deepEqual(ok.loss, {
    l1: 1,
    gradient: 0.5,
    temporal: 0.5,
    stale: 10,
    staleOffscreen: 0,
    mse: 25,
    srgb: 0,
  });
  // Configs from before the setting (a checkpoint's) count off-screen history fully stale, and
  // have no mse or srgb term.
  assert.equal(resolveTrainConfig({ loss: { stale: 10 } }).loss.staleOffscreen, 1);
  assert.equal(resolveTrainConfig({ loss: { stale: 10 } }).loss.mse, 0);
  assert.equal(resolveTrainConfig({ loss: { stale: 10 } }).loss.srgb, 0);
  assert.throws(() => resolveTrainConfig({ loss: { srgb: -1 } }), /loss\.srgb/);
  assert.equal(ok.validationClips, 0);
  assert.equal(ok.qat, null);
});

test('uplift train --config: a deep config file is one line naming it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'uplift-config-'));
  const file = join(dir, 'deep.json');
  writeFileSync(file, `{"loss":${'['.repeat(50000)}${']'.repeat(50000)}}`);
  const r = spawnSync(
    process.execPath,
    ['bin/uplift.mjs', 'train', '--config', file, '--out', join(dir, 'run'), '--quiet'],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /deep\.json: JSON nested 50001 levels deep, more than 64/);
});

test('data.validationClipFrames: validation clips of their own length, checked like clipFrames', () => {
  const base = resolveTrainConfig({ data: { clipFrames: 8 }, warmup: 3 });
  assert.equal(base.data.validationClipFrames, null);
  assert.equal(validationClipFrames(base.data), 8);
  // Longer training clips, validation kept at 8 frames: the run's best stays comparable.
  const longer = resolveTrainConfig({ data: { clipFrames: 16, validationClipFrames: 8 } }, base);
  assert.equal(longer.data.clipFrames, 16);
  assert.equal(validationClipFrames(longer.data), 8);
  assert.equal(validationSignature(longer), validationSignature(base));
  // Without the pin the validation clips grow with the training clips: a changed validation.
  const unpinned = resolveTrainConfig({ data: { clipFrames: 16 } }, base);
  assert.equal(validationClipFrames(unpinned.data), 16);
  assert.notEqual(validationSignature(unpinned), validationSignature(base));
  for (const [config, message] of [
    [
      { data: { validationClipFrames: 0 } },
      /data\.validationClipFrames must be a positive integer/,
    ],
    [{ data: { validationClipFrames: 2.5 } }, /data\.validationClipFrames must be a positive/],
    [{ data: { validationClipFrames: 1e6 } }, /data\.validationClipFrames .*up to 256/],
    [
      { data: { clipFrames: 16, validationClipFrames: 3 }, warmup: 3 },
      /warmup must be an integer in \[0, 3\) \(the shorter of data\.clipFrames and data\.validationClipFrames\), got 3/,
    ],
  ] as const) {
    refused(() => resolveTrainConfig(config), message);
  }
});

test('data.sceneShares and data.pathShares: training scenes and paths with shares in (0, 1) summing below 1, scenes data only', () => {
  const config = resolveTrainConfig({ data: { sceneShares: { herd: 0.15, runners: 0.15 } } });
  assert.deepEqual(config.data.sceneShares, { herd: 0.15, runners: 0.15 });
  assert.deepEqual(resolveTrainConfig({}).data.sceneShares, {});
  assert.deepEqual(resolveTrainConfig({}).data.pathShares, {});
  const paths = resolveTrainConfig({ data: { pathShares: { 'fast-turn': 0.2 } } });
  assert.deepEqual(paths.data.pathShares, { 'fast-turn': 0.2 });
  for (const [data, message] of [
    [
      { sceneShares: { dragons: 0.1 } },
      /data\.sceneShares: "dragons" is not a training scene \(city, /,
    ],
    [{ sceneShares: { herd: 0 } }, /data\.sceneShares\.herd must be a share in \(0, 1\), got 0/],
    [{ sceneShares: { herd: '0.2' } }, /data\.sceneShares\.herd must be a share in \(0, 1\)/],
    [{ sceneShares: { herd: 0.6, runners: 0.4 } }, /must sum to less than 1 .*got 1/],
    [
      { sceneShares: { herd: 0.5 }, pathShares: { 'fast-turn': 0.5 } },
      /data\.sceneShares and data\.pathShares must sum to less than 1 .*got 1/,
    ],
    [
      { pathShares: { 'slow-turn': 0.1 } },
      /data\.pathShares: "slow-turn" is not a training camera path \(/,
    ],
    [{ pathShares: { 'fast-turn': 1 } }, /data\.pathShares\.fast-turn must be a share in \(0, 1\)/],
    [{ source: 'analytic', pathShares: { orbit: 0.2 } }, /data\.pathShares needs data\.source/],
    [{ sceneShares: [0.2] }, /data\.sceneShares must be an object/],
    [
      { source: 'analytic', sceneShares: { herd: 0.2 } },
      /data\.sceneShares needs data\.source "scenes"/,
    ],
  ] as const) {
    assert.throws(() => resolveTrainConfig({ data }), message);
  }
});
