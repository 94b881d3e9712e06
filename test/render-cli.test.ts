import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSequenceWriter, openSequence } from '../src/io/sequence.ts';
import { createSceneRenderer, sceneFrameSource } from '../src/scene/renderer.ts';
import { testGpu } from './helpers/gpu.ts';
import { readPng } from '../src/io/png.ts';

const uplift = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
  });

test('uplift render writes a sequence directory that reads back, with a preview strip', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'uplift-render-'));
  try {
    const out = join(dir, 'seq');
    const args = ['render', '--scene', 'particles', '--path', 'cut', '--frames', '4'];
    const result = uplift([...args, '--display', '32x24', '--samples', '2', '-q', '-o', out]);
    assert.equal(result.status, 0, result.stderr);
    const source = await openSequence(out);
    assert.equal(source.frameCount, 4);
    assert.deepEqual(source.header.renderSize, [16, 12]);
    assert.deepEqual(source.header.displaySize, [32, 24]);
    assert.equal(source.frameParams(0).reset, true);
    assert.equal(source.frameParams(2).reset, true, 'the cut path cuts at the middle frame');
    const frame = await source.readFrame(1);
    assert.equal(frame.reference!.width, 32);
    assert.equal(frame.motion.channels, 2);
    assert.ok(frame.reactive, 'reactive masks are written');
    const preview = await readPng(join(out, 'preview.png'));
    assert.equal(preview.image.height, 24);
    assert.ok(preview.image.width > 4 * 32, 'one thumbnail per frame');
    // Existing sequences are kept unless --overwrite.
    const again = uplift([...args, '--display', '32x24', '--samples', '1', '-q', '-o', out]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /overwrite/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('uplift render: bad input is one clear line', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--scene', 'nope'], /--scene must be a built-in scene/],
    [['--path', 'nope'], /--path must be one of/],
    [['--display', '12'], /--display must look like/],
    [['--scene', 'missing.glb'], /does not exist/],
  ];
  for (const [args, message] of cases) {
    const result = uplift(['render', ...args, '-o', join(tmpdir(), 'uplift-never-written')]);
    assert.equal(result.status, 1, args.join(' '));
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  }
  assert.ok(!existsSync(join(tmpdir(), 'uplift-never-written')));
});

test('determinism: the same seed writes byte-identical sequence files', async () => {
  const { device } = await testGpu();
  const dir = mkdtempSync(join(tmpdir(), 'uplift-determinism-'));
  try {
    const write = async (name: string) => {
      const renderer = createSceneRenderer(device, {
        scene: 'fence',
        displaySize: [32, 24],
        samples: 2,
        frames: 2,
        seed: 4,
      });
      const source = sceneFrameSource(renderer);
      const writer = await createSequenceWriter(join(dir, name), renderer.header);
      for (let i = 0; i < 2; i++)
        await writer.writeFrame(i, source.frameParams(i), await source.readFrame(i));
      await writer.finish();
      renderer.destroy();
      return join(dir, name);
    };
    const [a, b] = [await write('a'), await write('b')];
    const files = (root: string) =>
      (readdirSync(root, { recursive: true }) as string[])
        .filter((f) => statSync(join(root, f)).isFile())
        .sort();
    assert.deepEqual(files(a), files(b));
    assert.ok(files(a).length >= 11, 'sequence.json and 5 roles × 2 frames');
    for (const f of files(a))
      assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
