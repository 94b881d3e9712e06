// `uplift interpolate`: output numbering (frame k·factor is input frame k), the completion marker,
// scoring against a sequence rendered at the higher rate, and refusals naming the problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readExr } from '../src/io/exr/file.ts';
import { renderTestSequence } from './helpers/render-sequence.ts';

const uplift = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
  });

const renderSequence = (dir: string, fps: number, frames: number) =>
  renderTestSequence(dir, { path: 'orbit', fps, frames });

test('uplift interpolate: ×2 of the references, scored against the 60 fps render', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'uplift-interpolate-'));
  try {
    await renderSequence(join(dir, 's30'), 30, 3);
    await renderSequence(join(dir, 's60'), 60, 5);
    const out = join(dir, 'out');
    const run = uplift([
      'interpolate',
      join(dir, 's30'),
      '-o',
      out,
      '--upscale',
      'reference',
      '--reference',
      join(dir, 's60'),
      '-q',
    ]);
    assert.equal(run.status, 0, run.stderr);
    const frames = readdirSync(out).filter((f) => f.endsWith('.exr'));
    assert.deepEqual(frames, ['0000.exr', '0001.exr', '0002.exr', '0003.exr', '0004.exr']);
    // Output frame 2 is input frame 1 (its reference, as written: half floats).
    const input = await readExr(join(dir, 's30', 'reference', '0001.exr'));
    const output = await readExr(join(out, '0002.exr'));
    assert.deepEqual(output.image.data, input.image.data);
    const marker = JSON.parse(readFileSync(join(out, 'interpolate.json'), 'utf8'));
    assert.equal(marker.complete, true);
    assert.equal(marker.frames, 5);
    assert.equal(marker.scores.frames, 2);
    const { generated, repeat, blend } = marker.scores.psnr;
    assert.ok(generated > repeat && generated > blend, JSON.stringify(marker.scores));
    // ×3: input frame k is output frame 3k, two generated frames between.
    const three = join(dir, 'o3');
    const run3 = uplift([
      'interpolate',
      join(dir, 's30'),
      '-o',
      three,
      '--factor',
      '3',
      '--upscale',
      'reference',
      '-q',
    ]);
    assert.equal(run3.status, 0, run3.stderr);
    assert.equal(readdirSync(three).filter((f) => f.endsWith('.exr')).length, 7);
    // A reference too short for the factor, and a factor out of range, are refused.
    const mismatch = uplift([
      'interpolate',
      join(dir, 's30'),
      '-o',
      join(dir, 'o4'),
      '--factor',
      '2',
      '--reference',
      join(dir, 's30'),
    ]);
    assert.equal(mismatch.status, 1);
    assert.match(mismatch.stderr, /--reference .*s30 has 3 frames; ×2 of 3 frames needs 5/);
    const factor = uplift([
      'interpolate',
      join(dir, 's30'),
      '-o',
      join(dir, 'o5'),
      '--factor',
      '5',
    ]);
    assert.equal(factor.status, 1);
    assert.match(factor.stderr, /--factor must be 2, 3 or 4, got "5"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
