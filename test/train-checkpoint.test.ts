// Checkpoint file: exact round trip, atomic write (no temp file left), every corruption (magic,
// version, truncation, a flipped byte anywhere, the header included) rejected with an InputError,
// a strict header (unknown keys, step and seed out of range, an invalid config), version 1 still
// read, and `train --resume` refusing a step past the run by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { InputError } from '../src/core/errors.ts';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
  type Checkpoint,
} from '../src/train/checkpoint.ts';
import { resolveTrainConfig } from '../src/train/config.ts';
import {
  checkpointHeaderText,
  encodeCheckpointV1,
  withCheckpointHeader,
} from './helpers/checkpoint-bytes.ts';

const sample: Checkpoint = {
  step: 17,
  seed: 42,
  // As read back: a training config resolved over the defaults.
  config: resolveTrainConfig({ network: 'tiny', seed: 42, learningRate: 1e-3, size: [32, 32] }),
  weights: new Uint8Array([1, 2, 3, 4, 5, 250]),
  moments: [
    { name: 'a.weight', m: new Float32Array([0.5, -1e-30, 3]), v: new Float32Array([1, 2, 3]) },
    { name: 'a.bias', m: new Float32Array([Math.PI]), v: new Float32Array([1e-12]) },
  ],
};

test('checkpoint round trip is exact and the write leaves no temp file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'uplift-ckpt-'));
  const path = join(dir, 'run.ckpt');
  await saveCheckpoint(path, sample);
  await saveCheckpoint(path, { ...sample, step: 18 }); // overwrite in place
  assert.deepEqual(await readdir(dir), ['run.ckpt']);
  const back = await loadCheckpoint(path);
  assert.deepEqual(back, { ...sample, step: 18 });
});

test('corrupt checkpoints are rejected with an InputError naming the problem', async () => {
  const good = encodeCheckpoint(sample);
  const cases: [string, Uint8Array, RegExp][] = [
    ['magic', Uint8Array.from(good, (b, i) => (i === 0 ? 0 : b)), /bad magic/],
    ['version', Uint8Array.from(good, (b, i) => (i === 8 ? 9 : b)), /version/],
    ['truncated', good.slice(0, good.length - 3), /checksum/],
    ['flipped header byte', Uint8Array.from(good, (b, i) => (i === 20 ? b ^ 1 : b)), /checksum/],
    [
      'flipped byte',
      Uint8Array.from(good, (b, i) => (i === good.length - 2 ? b ^ 1 : b)),
      /checksum/,
    ],
    ['short', good.slice(0, 10), /magic/],
  ];
  for (const [what, bytes, message] of cases) {
    assert.throws(
      () => decodeCheckpoint(bytes, 'x.ckpt'),
      (e: unknown) => {
        assert.ok(e instanceof InputError, `${what}: ${String(e)}`);
        assert.match((e as Error).message, message, what);
        return true;
      },
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'uplift-ckpt-'));
  await assert.rejects(loadCheckpoint(join(dir, 'missing.ckpt')), InputError);
  await writeFile(join(dir, 'bad.ckpt'), new Uint8Array(40));
  await assert.rejects(loadCheckpoint(join(dir, 'bad.ckpt')), InputError);
  assert.ok((await readFile(join(dir, 'bad.ckpt'))).length === 40);
});

test('checkpoint headers that are null, hold null moments or an absurd step are InputErrors', () => {
  const good = encodeCheckpoint(sample);
  const header = JSON.parse(checkpointHeaderText(good)) as Record<string, unknown>;
  const cases: [string, RegExp][] = [
    ['null', /malformed header \(not an object\)/],
    ['[1, 2]', /malformed header \(not an object\)/],
    [JSON.stringify({ ...header, moments: [null] }), /moments\[0\] must be an object, got null/],
    [JSON.stringify({ ...header, moments: null }), /moments must be a list/],
    [
      JSON.stringify({ ...header, step: 1e15 }),
      /x\.ckpt: step must be an integer ≥ 0 and ≤ 1000000000, got 1000000000000000/,
    ],
    [JSON.stringify({ ...header, step: -1 }), /step must be an integer/],
    ['{"step": 1e999}', /x\.ckpt: step must be .*, got Infinity/],
    [
      JSON.stringify({ ...header, seed: 2 ** 32 }),
      /x\.ckpt: seed must be an integer ≥ 0 and ≤ 4294967295/,
    ],
    [JSON.stringify({ ...header, seed: 43 }), /x\.ckpt: seed 43 differs from the config's seed 42/],
    [JSON.stringify({ ...header, stepz: 1 }), /x\.ckpt: header: unknown key "stepz"/],
    [
      JSON.stringify({ ...header, moments: [{ name: 'a', size: 1, extra: 0 }] }),
      /moments\[0\]: unknown key "extra"/,
    ],
    [
      JSON.stringify({ ...header, config: { ...(sample.config as object), stepz: 3 } }),
      /x\.ckpt: training config: unknown key "stepz"/,
    ],
    [JSON.stringify({ ...header, config: [] }), /x\.ckpt: training config must be a JSON object/],
    [
      JSON.stringify({ ...header, step: 2000 }),
      /x\.ckpt: step 2000 is past the config's 1000 steps/,
    ],
    [
      `{"config":${'['.repeat(50000)}${']'.repeat(50000)}}`,
      /x\.ckpt \(header\): JSON nested 50001 levels deep/,
    ],
  ];
  for (const [json, message] of cases) {
    // Re-signed (the checks behind the hash), and as a version 1 file would hold it (no hash over
    // the header: the schema alone must refuse it).
    for (const bytes of [
      withCheckpointHeader(good, json),
      withCheckpointHeader(encodeCheckpointV1(sample), json),
    ]) {
      assert.throws(
        () => decodeCheckpoint(bytes, 'x.ckpt'),
        (e: unknown) => e instanceof InputError && message.test((e as Error).message),
        json.slice(0, 60),
      );
    }
  }
});

test('the hash covers the header: a changed step, seed or config is a corrupt file', () => {
  const good = encodeCheckpoint(sample);
  const text = checkpointHeaderText(good);
  for (const [from, to] of [
    ['"step":17', '"step":97'],
    ['"seed":42', '"seed":24'],
    ['"learningRate":0.001', '"learningRate":0.002'],
  ] as const) {
    assert.ok(text.includes(from), from);
    const edited = Uint8Array.from(good);
    edited.set(new TextEncoder().encode(text.replace(from, to)), 16); // same length, not re-signed
    assert.throws(() => decodeCheckpoint(edited, 'x.ckpt'), /x\.ckpt: checksum mismatch/, to);
  }
});

test('version 1 checkpoints (hash of the payload in the header) still read', () => {
  const v1 = encodeCheckpointV1(sample);
  assert.equal(new DataView(v1.buffer).getUint32(8, true), 1);
  assert.deepEqual(decodeCheckpoint(v1), sample);
  const flipped = Uint8Array.from(v1, (b, i) => (i === v1.length - 2 ? b ^ 1 : b));
  assert.throws(() => decodeCheckpoint(flipped, 'old.ckpt'), /old\.ckpt: checksum mismatch/);
});

test('train --resume refuses a step past the run instead of exiting 0 without training', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'uplift-ckpt-'));
  const resume = (...args: string[]) =>
    spawnSync(
      process.execPath,
      ['bin/uplift.mjs', 'train', '--resume', '--out', dir, '--quiet', ...args],
      { encoding: 'utf8' },
    );
  // Version 1 did not hash its header: a step of 1e15 there must still be refused by name.
  const v1 = encodeCheckpointV1(sample);
  const header = JSON.parse(checkpointHeaderText(v1)) as Record<string, unknown>;
  await writeFile(
    join(dir, 'checkpoint.ckpt'),
    withCheckpointHeader(v1, JSON.stringify({ ...header, step: 1e15 })),
  );
  const absurd = resume();
  assert.equal(absurd.status, 1, absurd.stderr);
  assert.match(
    absurd.stderr,
    /checkpoint\.ckpt: step must be an integer ≥ 0 and ≤ 1000000000, got 1000000000000000/,
  );
  assert.doesNotMatch(absurd.stderr, /\n\s+at /, 'no stack');
  // A valid checkpoint at step 17 resumed with fewer steps: nothing would train.
  await writeFile(join(dir, 'checkpoint.ckpt'), encodeCheckpoint(sample));
  const fewer = resume('--steps', '10');
  assert.equal(fewer.status, 1, fewer.stderr);
  assert.match(
    fewer.stderr,
    /checkpoint\.ckpt is at step 17, past the 10 steps asked for: raise steps/,
  );
  assert.equal(absurd.stdout + fewer.stdout, '', 'no summary of a run that did not train');
});
