// `uplift dataset`: split entries rendered to sequence directories that read back; complete ones
// are skipped on a rerun; bad input is one clear line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSequence } from '../src/io/sequence.ts';
import { VALIDATION } from '../src/train/splits.ts';
import { selectEntries } from '../src/cli/dataset.ts';

const uplift = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
  });

const heldOut = VALIDATION.find((e) => e.scene === 'foliage' && e.path === 'shake')!;
// A glTF entry: the smallest file of assets/gltf (in the repository).
const gltf = VALIDATION.find((e) => e.scene.endsWith('tile.glb'))!;

test('--only selects entries by words in their names', () => {
  assert.deepEqual(
    selectEntries(VALIDATION, heldOut.name).map((e) => e.name),
    [heldOut.name],
  );
  const foliage = selectEntries(VALIDATION, 'foliage, tile');
  assert.ok(foliage.length >= 2 && foliage.every((e) => /foliage|tile/.test(e.name)));
  assert.throws(() => selectEntries(VALIDATION, 'no-such-entry'), /matches no entry/);
});

test('uplift dataset renders split entries that openSequence reads back, and resumes', async () => {
  const out = mkdtempSync(join(tmpdir(), 'uplift-dataset-'));
  try {
    const args = ['dataset', '--split', 'validation', '--only', `${heldOut.name},${gltf.name}`];
    const small = ['--display', '32x32', '--frames', '3', '--samples', '2', '--out', out];
    const first = uplift([...args, ...small]);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, /wrote 2 sequences/);
    for (const entry of [heldOut, gltf]) {
      const source = await openSequence(join(out, entry.name));
      assert.equal(source.frameCount, 3);
      assert.deepEqual(source.header.displaySize, [32, 32]);
      assert.deepEqual(source.header.renderSize, [16, 16], 'validation renders at ratio 2');
      assert.equal(source.header.source?.['seed'], entry.seed);
      assert.equal(source.header.source?.['entry'], entry.name);
      const frame = await source.readFrame(2);
      assert.equal(frame.reference!.width, 32);
      assert.ok(frame.color.data.every(Number.isFinite));
      assert.ok(
        frame.reference!.data.some((v) => v > 0),
        `${entry.name} is not black`,
      );
    }
    // A rerun skips complete entries (sequence.json untouched).
    const json = join(out, heldOut.name, 'sequence.json');
    const before = statSync(json).mtimeMs;
    const again = uplift([...args, ...small]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /wrote 0 sequences.*skipped 2/);
    assert.equal(statSync(json).mtimeMs, before);
    // Other settings over a complete entry: refused unless --overwrite.
    const changed = uplift([...args, ...small, '--frames', '4']);
    assert.equal(changed.status, 1);
    assert.match(changed.stderr, /other settings.*--overwrite/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('uplift dataset: --list, and bad input is one clear line', () => {
  const list = uplift(['dataset', '--split', 'train', '--only', 'fence-orbit', '--list']);
  assert.equal(list.status, 0, list.stderr);
  const lines = list.stdout.trim().split('\n');
  assert.ok(lines.length >= 2 && lines.every((l) => l.startsWith('fence-orbit-')));
  for (const [args, message] of [
    [['--split', 'test', '--out', 'x'], /--split must be validation or train/],
    [['--list', '--only', 'zzz'], /matches no entry/],
  ] as const) {
    const result = uplift(['dataset', ...args]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  }
});
