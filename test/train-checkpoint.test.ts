// Checkpoint file: exact round trip, atomic write (no temp file left), and every corruption
// (magic, version, truncation, flipped payload byte) rejected with an InputError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../src/core/errors.ts';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
  type Checkpoint,
} from '../src/train/checkpoint.ts';

const sample: Checkpoint = {
  step: 17,
  seed: 42,
  config: { learningRate: 1e-3, crop: [32, 32] },
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
    ['truncated', good.slice(0, good.length - 3), /payload/],
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
  const headerLength = new DataView(good.buffer).getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(good.subarray(16, 16 + headerLength)));
  /** The checkpoint with its header JSON replaced (the payload and its hash unchanged). */
  const withHeader = (json: string) => {
    const text = new TextEncoder().encode(json);
    const out = new Uint8Array(16 + text.length + good.length - 16 - headerLength);
    out.set(good.subarray(0, 16));
    new DataView(out.buffer).setUint32(12, text.length, true);
    out.set(text, 16);
    out.set(good.subarray(16 + headerLength), 16 + text.length);
    return out;
  };
  assert.deepEqual(decodeCheckpoint(withHeader(JSON.stringify(header))).step, 17);
  for (const [json, message] of [
    ['null', /malformed header \(not an object\)/],
    ['[1, 2]', /malformed header \(not an object\)/],
    [JSON.stringify({ ...header, moments: [null] }), /malformed header/],
    [JSON.stringify({ ...header, step: 1e15 }), /step must be an integer in 0\.\.1000000000/],
    [JSON.stringify({ ...header, step: -1 }), /step must be an integer/],
  ] as const) {
    assert.throws(
      () => decodeCheckpoint(withHeader(json), 'x.ckpt'),
      (e: unknown) => e instanceof InputError && message.test((e as Error).message),
      json.slice(0, 40),
    );
  }
});
