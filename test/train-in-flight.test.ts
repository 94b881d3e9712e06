// Training keeps two steps in flight (the CPU renders and encodes step n + 1 while the GPU runs
// step n): runInFlight's order, bound and errors, and the frames task on scene clips giving the
// same losses and weights, bit for bit, with one or two steps in flight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGpu } from './helpers/gpu.ts';
import { runInFlight } from '../src/train/in-flight.ts';
import { resolveTrainConfig } from '../src/train/config.ts';
import { withFramesTask } from './helpers/frames-task.ts';

test('runInFlight returns results in order and never holds more than `depth` pending', async () => {
  for (const depth of [1, 2, 3]) {
    let pending = 0;
    let most = 0;
    const order: number[] = [];
    const results = await runInFlight(6, depth, async (i) => {
      pending++;
      most = Math.max(most, pending);
      order.push(i);
      // Later steps finish first: the results must still come back in step order.
      const result = new Promise<number>((resolve) =>
        setTimeout(
          () => {
            pending--;
            resolve(i * 10);
          },
          12 - 2 * i,
        ),
      );
      return { result };
    });
    assert.deepEqual(results, [0, 10, 20, 30, 40, 50]);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
    assert.equal(most, depth, `depth ${depth}`);
  }
  await assert.rejects(
    runInFlight(4, 2, async (i) => ({
      result: i === 1 ? Promise.reject(new Error('step 1 failed')) : Promise.resolve(i),
    })),
    /step 1 failed/,
  );
  await assert.rejects(
    runInFlight(1, 0, async () => ({ result: Promise.resolve(0) })),
    /steps in flight must be an integer ≥ 1, got 0/,
  );
});

test('frames task on scene clips: 1 or 2 steps in flight give identical losses and weights', async () => {
  const { device } = await testGpu();
  const config = resolveTrainConfig({
    network: 'tiny',
    task: 'frames',
    steps: 3,
    size: [16, 16],
    data: { source: 'scenes', clipFrames: 3, referenceSamples: 2 },
    clipsPerStep: 2,
    validationClips: 0,
    warmup: 1,
  });
  const schedule = { peak: 1e-2, warmupSteps: 1, totalSteps: 3, finalRatio: 0.1 };
  const runs = [];
  for (const depth of [1, 2]) {
    runs.push(
      await withFramesTask(
        device,
        config,
        { stepsInFlight: depth },
        7,
        async (task, trainable) => ({
          losses: await task.runSteps(0, 3, schedule),
          params: await trainable.readParams(),
        }),
      ),
    );
  }
  const [one, ...others] = runs;
  assert.equal(one!.losses.length, 3);
  assert.ok(one!.losses.every((l) => Number.isFinite(l) && l > 0));
  for (const run of others) {
    assert.deepEqual(run.losses, one!.losses);
    for (const [name, values] of one!.params)
      assert.ok(Buffer.from(run.params.get(name)!.buffer).equals(Buffer.from(values.buffer)), name);
  }
});

test('uplift train --steps-in-flight 0 is refused by name before anything is written', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'uplift-in-flight-')), 'run');
  const r = spawnSync(
    process.execPath,
    ['bin/uplift.mjs', 'train', '--network', 'tiny', '--steps-in-flight', '0', '--out', out],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /--steps-in-flight must be at least 1, got "0"/);
  assert.equal(existsSync(out), false);
});
