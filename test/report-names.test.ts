// eval of two sequences whose names slug alike (x1/same and x2/same): each section gets its own
// pictures (same-…, same-2-…) instead of the second overwriting the first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { analyticSequence } from '../src/scene/analytic.ts';
import { createSequenceWriter } from '../src/io/index.ts';

test('eval x1/same x2/same writes one set of pictures per section', async () => {
  const root = mkdtempSync(join(tmpdir(), 'uplift-names-'));
  for (const [k, seed] of [
    ['x1', 1],
    ['x2', 2],
  ] as const) {
    const sequence = analyticSequence({
      displaySize: [16, 12],
      ratio: 2,
      frames: 3,
      referenceSamples: 2,
      seed,
    });
    const writer = await createSequenceWriter(join(root, k, 'same'), sequence.header);
    for (const [i, frame] of sequence.frames.entries()) {
      await writer.writeFrame(i, frame.params, frame.images);
    }
    await writer.finish();
  }
  const report = join(root, 'report');
  const r = spawnSync(
    process.execPath,
    ['bin/uplift.mjs', 'eval', join(root, 'x1', 'same'), join(root, 'x2', 'same')].concat([
      '--methods',
      'bilinear',
      '--warmup',
      '1',
      '--no-flip',
      '--report',
      report,
      '-q',
    ]),
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const files = readdirSync(report).sort();
  for (const f of ['same-crops.png', 'same-2-crops.png', 'same-psnr.svg', 'same-2-psnr.svg']) {
    assert.ok(files.includes(f), `${f} in ${files.join(' ')}`);
  }
  const md = readFileSync(join(report, 'report.md'), 'utf8');
  assert.match(md, /same-crops\.png[\s\S]*same-2-crops\.png/);
});

test('eval with a warm-up as long as the sequence: an InputError, not NaN in the summary', async () => {
  const root = mkdtempSync(join(tmpdir(), 'uplift-warmup-'));
  const sequence = analyticSequence({
    displaySize: [16, 12],
    ratio: 2,
    frames: 3,
    referenceSamples: 2,
  });
  const writer = await createSequenceWriter(join(root, 'short'), sequence.header);
  for (const [i, frame] of sequence.frames.entries()) {
    await writer.writeFrame(i, frame.params, frame.images);
  }
  await writer.finish();
  const r = spawnSync(
    process.execPath,
    [
      'bin/uplift.mjs',
      'eval',
      join(root, 'short'),
      '--methods',
      'bilinear',
      '--warmup',
      '3',
    ].concat(['--report', join(root, 'report'), '-q']),
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /short: a warm-up of 3 frames leaves none of its 3 steady; lower the warm-up/,
  );
});
