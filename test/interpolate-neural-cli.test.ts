// `uplift interpolate --method neural`: a weights file given with --weights drives the generated
// frames (scored like the heuristic's), and --weights without the neural method is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FRAMEGEN_NETWORK_V1 } from '../src/nn/framegen-network.ts';
import { initWeights, saveWeights } from '../src/nn/weights.ts';
import { renderTestSequence } from './helpers/render-sequence.ts';

const uplift = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
  });

const renderSequence = (dir: string, fps: number, frames: number) =>
  renderTestSequence(dir, { path: 'orbit', fps, frames });

test('uplift interpolate --method neural --weights: generated frames scored; --weights alone refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'uplift-interpolate-neural-'));
  try {
    await renderSequence(join(dir, 's30'), 30, 3);
    await renderSequence(join(dir, 's60'), 60, 5);
    const weights = join(dir, 'fg.uplift');
    await saveWeights(weights, {
      graph: FRAMEGEN_NETWORK_V1,
      parameters: initWeights(FRAMEGEN_NETWORK_V1, 3),
    });
    const args = ['interpolate', join(dir, 's30'), '--upscale', 'reference', '-q'];
    const run = uplift([
      ...args,
      '-o',
      join(dir, 'out'),
      '--method',
      'neural',
      '--weights',
      weights,
      '--reference',
      join(dir, 's60'),
    ]);
    assert.equal(run.status, 0, run.stderr);
    const marker = JSON.parse(readFileSync(join(dir, 'out', 'interpolate.json'), 'utf8'));
    assert.equal(marker.method, 'neural');
    assert.equal(marker.weights, weights);
    assert.equal(marker.frames, 5);
    assert.ok(marker.scores.psnr.generated > 15, JSON.stringify(marker.scores));
    const refused = uplift([...args, '-o', join(dir, 'o2'), '--weights', weights]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /--weights is for --method neural/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
