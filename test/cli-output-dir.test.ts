// One output-directory policy (issue 16, item 5): outputs are compared with inputs by real path,
// may not be or lie inside an input (a symlink does not get around it), must be directories;
// --overwrite removes every old frame so no stale one is left; paths that cannot be made are
// InputErrors naming them (a regular file, a symlink loop, procfs), never a stack or a hang; the
// same for `uplift dataset`, whose entries' sequence.json is their completion marker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { writeDataset } from '../src/cli/dataset.ts';
import { prepareOutputDirectory } from '../src/cli/output-dir.ts';
import { GpuRefusedError, InputError } from '../src/core/errors.ts';
import { analyticSequence } from '../src/scene/analytic.ts';
import { createSequenceWriter, openSequence } from '../src/io/index.ts';
import { VALIDATION } from '../src/train/splits.ts';
import { faultyDevice } from './helpers/faulty-device.ts';
import { testGpu } from './helpers/gpu.ts';

const root = mkdtempSync(join(tmpdir(), 'uplift-outdir-'));
/** A procedural validation entry for the `uplift dataset` tests. */
const entry = VALIDATION.find((e) => e.scene === 'foliage' && e.path === 'shake')!;

test('prepareOutputDirectory: inside the input (also through a symlink), files, loops, procfs are refused by name', () => {
  const seq = join(root, 'seq');
  mkdirSync(join(seq, 'color'), { recursive: true });
  const expectInput = (fn: () => unknown, pattern: RegExp) =>
    assert.throws(fn, (e: Error) => e instanceof InputError && pattern.test(e.message));
  const inputs = [seq];
  expectInput(
    () => prepareOutputDirectory(seq, { inputs, overwrite: true }),
    /--output .* is the input/,
  );
  expectInput(
    () => prepareOutputDirectory(join(seq, 'color'), { inputs, overwrite: true }),
    /is inside the input/,
  );
  symlinkSync(join(seq, 'color'), join(root, 'link'));
  expectInput(
    () => prepareOutputDirectory(join(root, 'link'), { inputs, overwrite: true }),
    /is inside the input/,
  );
  writeFileSync(join(root, 'file'), 'x');
  expectInput(
    () => prepareOutputDirectory(join(root, 'file'), { inputs, overwrite: false }),
    /is a file, not a directory/,
  );
  expectInput(
    () => prepareOutputDirectory(join(root, 'file', 'sub'), { inputs, overwrite: false }),
    /is not a directory|cannot create/,
  );
  symlinkSync(join(root, 'loopA'), join(root, 'loopB'));
  symlinkSync(join(root, 'loopB'), join(root, 'loopA'));
  expectInput(
    () => prepareOutputDirectory(join(root, 'loopA'), { inputs, overwrite: false }),
    /symlink loop/,
  );
  const started = Date.now();
  expectInput(
    () => prepareOutputDirectory('/proc/uplift-out', { inputs, overwrite: false }),
    /\/proc\/uplift-out: cannot create the directory/,
  );
  assert.ok(Date.now() - started < 2000, 'no spin on procfs');
  // A new directory below a new parent is made.
  const fresh = prepareOutputDirectory(join(root, 'a', 'b'), { inputs, overwrite: false });
  assert.deepEqual(readdirSync(fresh), []);
});

test('--overwrite leaves no stale frames: a 3-frame run into a directory of 6 frames ends with 3', async () => {
  const seqDir = join(root, 'short');
  const sequence = analyticSequence({
    displaySize: [16, 12],
    ratio: 2,
    frames: 3,
    referenceSamples: 1,
  });
  const writer = await createSequenceWriter(seqDir, sequence.header);
  for (const [i, frame] of sequence.frames.entries()) {
    await writer.writeFrame(i, frame.params, frame.images);
  }
  await writer.finish();
  const out = join(root, 'out');
  mkdirSync(out);
  for (let i = 0; i < 6; i++) writeFileSync(join(out, `${String(i).padStart(4, '0')}.exr`), 'old');
  writeFileSync(join(out, 'notes.txt'), 'kept');
  const run = (...extra: string[]) =>
    spawnSync(
      process.execPath,
      ['bin/uplift.mjs', 'upscale', seqDir, '-o', out, '--method', 'bilinear', '-q', ...extra],
      { encoding: 'utf8' },
    );
  const refused = run();
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /already holds frames \(0000\.exr\); pass --overwrite/);
  const r = run('--overwrite');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(out).sort(), [
    '0000.exr',
    '0001.exr',
    '0002.exr',
    'notes.txt',
    'upscale.json',
  ]);
  // The completion marker, written after the last frame.
  const marker = JSON.parse(readFileSync(join(out, 'upscale.json'), 'utf8'));
  assert.deepEqual([marker.complete, marker.method, marker.frames], [true, 'bilinear', 3]);
  // Into the input's own folder: refused, the input untouched.
  const inside = spawnSync(
    process.execPath,
    ['bin/uplift.mjs', 'upscale', seqDir, '-o', join(seqDir, 'color'), '-q', '--overwrite'],
    { encoding: 'utf8' },
  );
  assert.equal(inside.status, 1);
  assert.match(inside.stderr, /inside the input/);
  assert.equal(readdirSync(join(seqDir, 'color')).length, 3);
});

test('render -o at a file, render --fps Infinity, eval --report inside an input: one line naming it, exit 1', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['bin/uplift.mjs', ...args], { encoding: 'utf8' });
  writeFileSync(join(root, 'plain-file'), 'x');
  const render = cli(
    'render',
    '--frames',
    '1',
    '--display',
    '16x8',
    '-o',
    join(root, 'plain-file'),
    '-q',
  );
  assert.equal(render.status, 1);
  assert.match(render.stderr, /^uplift: --output .*plain-file is a file, not a directory$/m);
  assert.doesNotMatch(render.stderr, /\n\s+at /, 'no stack');
  const fps = cli('render', '--fps', 'Infinity', '-o', join(root, 'fps'), '-q');
  assert.equal(fps.status, 1);
  assert.match(fps.stderr, /--fps must be a number in \(0, 1000\], got "Infinity"/);
  const seqDir = join(root, 'short'); // written by the previous test
  const evaluation = cli(
    'eval',
    seqDir,
    '--methods',
    'bilinear',
    '--report',
    join(seqDir, 'r'),
    '-q',
  );
  assert.equal(evaluation.status, 1);
  assert.match(evaluation.stderr, /--report .* is inside the input/);
});

test('an error echoing a huge value prints one short line', () => {
  const huge = 'x'.repeat(100_000); // (one argument may hold at most 128 KiB)
  const r = spawnSync(
    process.execPath,
    [
      'bin/uplift.mjs',
      'upscale',
      'builtin:analytic',
      '-o',
      join(root, 'huge'),
      '--sharpness',
      huge,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 1);
  assert.ok(r.stderr.length < 1000, `stderr of ${r.stderr.length} characters`);
  assert.match(
    r.stderr,
    /^uplift: --sharpness must be in 0\.\.1, got "x+… \(\d+ more characters\)$/m,
  );
});

test('train with a bad config is refused before its --out directory exists', () => {
  const config = join(root, 'bad-train.json');
  writeFileSync(config, JSON.stringify({ learningRate: -1 }));
  const out = join(root, 'train-never');
  const r = spawnSync(
    process.execPath,
    ['bin/uplift.mjs', 'train', '--config', config, '--out', out],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^uplift: training config: learningRate must be .*got -1$/m);
  assert.equal(existsSync(out), false, 'no empty run directory left behind');
});

test('uplift dataset: --out at procfs, a file, or an entry that is a file: one line naming it, exit 1', () => {
  const dataset = (out: string) =>
    spawnSync(
      process.execPath,
      ['bin/uplift.mjs', 'dataset', '--only', entry.name, '--frames', '1', '--out', out, '-q'],
      { encoding: 'utf8', timeout: 60_000 },
    );
  const proc = dataset('/proc/uplift-dataset');
  assert.equal(proc.status, 1, 'exits, no spin on procfs');
  assert.match(proc.stderr, /^uplift: --out \/proc\/uplift-dataset: cannot create the directory/m);
  writeFileSync(join(root, 'dataset-file'), 'x');
  const file = dataset(join(root, 'dataset-file'));
  assert.equal(file.status, 1);
  assert.match(file.stderr, /^uplift: --out .*dataset-file is a file, not a directory$/m);
  mkdirSync(join(root, 'dataset-entry-file'));
  writeFileSync(join(root, 'dataset-entry-file', entry.name), 'x');
  const entryFile = dataset(join(root, 'dataset-entry-file'));
  assert.equal(entryFile.status, 1);
  assert.match(entryFile.stderr, new RegExp(`--out .*${entry.name} is a file, not a directory`));
  for (const r of [proc, file, entryFile]) assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack');
});

test('uplift dataset --overwrite leaves no stale frames; a refused frame leaves no sequence.json', async () => {
  const out = join(root, 'dataset');
  const settings = { displaySize: [32, 32] as [number, number], samples: 1 };
  const { device } = await testGpu();
  await writeDataset(device, [entry], out, { ...settings, frames: 3 }, { quiet: true });
  const dir = join(out, entry.name);
  assert.equal((await openSequence(dir)).frameCount, 3);
  await writeDataset(
    device,
    [entry],
    out,
    { ...settings, frames: 2 },
    { overwrite: true, quiet: true },
  );
  assert.equal((await openSequence(dir)).frameCount, 2);
  assert.deepEqual(readdirSync(join(dir, 'color')).sort(), ['0000.exr', '0001.exr']);
  // The GPU refuses the second frame of a rerun: an error naming it, and the old sequence.json,
  // removed before the rerun began, is not written again over a partial entry.
  await assert.rejects(
    writeDataset(
      faultyDevice(device, 2),
      [entry],
      out,
      { ...settings, frames: 3 },
      { overwrite: true, quiet: true },
    ),
    (error: Error) =>
      error instanceof GpuRefusedError &&
      new RegExp(
        `dataset: ${entry.name} frame \\d \\(sequence.json not written\\): the GPU refused it`,
      ).test(error.message),
  );
  assert.ok(!existsSync(join(dir, 'sequence.json')), 'no completion marker');
  // The interrupted entry is redone by a plain rerun (no --overwrite needed).
  const rerun = await writeDataset(
    device,
    [entry],
    out,
    { ...settings, frames: 3 },
    { quiet: true },
  );
  assert.deepEqual(rerun.written, [entry.name]);
  assert.equal((await openSequence(dir)).frameCount, 3);
});

test('train --out, --debug-views and single-file outputs at a file or procfs: one line naming the path, exit 1, no spin', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['bin/uplift.mjs', ...args], { encoding: 'utf8', timeout: 60_000 });
  writeFileSync(join(root, 'train-file'), 'x');
  const teacher = ['train', '--network', 'tiny', '--task', 'teacher', '--size', '32x32', '--quiet'];
  for (const [args, message] of [
    [
      [...teacher, '--out', '/proc/uplift-train'],
      /^uplift: --out \/proc\/uplift-train: cannot create the directory/m,
    ],
    [
      [...teacher, '--out', join(root, 'train-file')],
      /^uplift: --out .*train-file is a file, not a directory$/m,
    ],
    [
      [
        'upscale',
        'builtin:analytic',
        '-o',
        join(root, 'views-out'),
        '--method',
        'neural',
        '--debug-views',
        '/proc/uplift-views',
        '-q',
      ],
      /^uplift: --debug-views \/proc\/uplift-views: cannot create the directory/m,
    ],
    // Written through writeFileAtomic (named by the target) and saveWeights (Node's message).
    [
      ['export-onnx', 'weights/uplift-v2.uplift', '/proc/uplift/a.onnx'],
      /^uplift: cannot write \/proc\/uplift\/a\.onnx: ENOENT/m,
    ],
    [
      ['quantize', 'weights/uplift-v2.uplift', join(root, 'train-file', 'a.uplift')],
      /^uplift: ENOTDIR: .*train-file\/a\.uplift/m,
    ],
  ] as const) {
    const r = cli(...args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack');
  }
});
