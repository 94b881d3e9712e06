// Data echoing (src/train/data/echo.ts): which clip a slot uses, the clip cache, and the frames
// task giving the same losses and weights with the cache as with every use rendered anew (clips
// are pure in their index, so a resumed run, whose cache starts empty, sees the same data).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu } from './helpers/gpu.ts';
import { createClipCache, echoedClipIndex } from '../src/train/data/echo.ts';
import { clipIndexFor, WORKER_CLIP_STRIDE } from '../src/train/data-parallel.ts';
import { resolveTrainConfig } from '../src/train/config.ts';
import { withFramesTask } from './helpers/frames-task.ts';

test('echoedClipIndex: every echo-th slot a fresh clip, the others one of the window most recent', () => {
  const settings = { echo: 3, window: 4, seed: 11 };
  for (let slot = 0; slot < 50; slot++) {
    assert.equal(echoedClipIndex(slot, { ...settings, echo: 1 }), slot, 'echo 1: every slot fresh');
  }
  const uses = new Map<number, number>();
  const slots = 3000;
  for (let slot = 0; slot < slots; slot++) {
    const index = echoedClipIndex(slot, settings);
    assert.equal(index, echoedClipIndex(slot, settings), 'pure');
    const fresh = Math.floor(slot / 3);
    if (slot % 3 === 0) assert.equal(index, fresh);
    else assert.ok(index <= fresh && index >= Math.max(0, fresh - 3), `slot ${slot}: ${index}`);
    uses.set(index, (uses.get(index) ?? 0) + 1);
  }
  assert.equal(uses.size, slots / 3, 'every fresh clip is used');
  const most = Math.max(...uses.values());
  assert.ok(most > 3 && most < 20, `uses of one clip: at most ${most}`);
  // Another seed draws other echoes; the worker's offset is added to the echoed index.
  const other = Array.from({ length: 60 }, (_, s) => echoedClipIndex(s, { ...settings, seed: 12 }));
  const mine = Array.from({ length: 60 }, (_, s) => echoedClipIndex(s, settings));
  assert.notDeepEqual(other, mine);
  assert.equal(clipIndexFor(7, 1, 2, 3, settings), 3 * WORKER_CLIP_STRIDE + mine[15]!);
});

test('createClipCache keeps the most recent clips, destroys the rest, and does not keep a failed one', async () => {
  const destroyed: number[] = [];
  let made = 0;
  const make = async (index: number) => {
    made++;
    return { index, destroy: () => destroyed.push(index) };
  };
  const cache = createClipCache<{ index: number; destroy(): void }>(2);
  assert.equal((await cache.get(1, make)).index, 1);
  await cache.get(2, make);
  await cache.get(1, make); // a hit: 1 becomes the most recent
  assert.equal(made, 2);
  await cache.get(3, make); // evicts 2, the least recently used
  await Promise.resolve();
  assert.deepEqual(destroyed, [2]);
  assert.equal(cache.size, 2);
  await assert.rejects(
    cache.get(4, () => Promise.reject(new Error('render failed'))),
    /render failed/,
  );
  await new Promise((r) => setTimeout(r, 0));
  assert.equal((await cache.get(4, make)).index, 4, 'a failed clip is made again');
  cache.destroy();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(destroyed.sort(), [1, 2, 3, 4]);
  assert.throws(() => createClipCache(0), /capacity must be an integer ≥ 1, got 0/);
});

test('frames task with data.echo: the clip cache changes no loss and no weight', async () => {
  const { device } = await testGpu();
  const config = resolveTrainConfig({
    network: 'tiny',
    task: 'frames',
    steps: 4,
    size: [16, 16],
    data: { source: 'scenes', clipFrames: 3, referenceSamples: 2, echo: 2, echoWindow: 2 },
    clipsPerStep: 2,
    validationClips: 0,
    warmup: 1,
  });
  const echo = { echo: 2, window: 2, seed: config.seed };
  const indices = Array.from({ length: 8 }, (_, slot) => echoedClipIndex(slot, echo));
  assert.ok(new Set(indices).size < indices.length, `some clip is echoed: ${indices}`);
  const schedule = { peak: 1e-2, warmupSteps: 1, totalSteps: 4, finalRatio: 0.1 };
  const runs = [];
  for (const clipCache of [true, false]) {
    runs.push(
      await withFramesTask(device, config, { clipCache }, 7, async (task, trainable) => ({
        losses: await task.runSteps(0, 4, schedule),
        params: await trainable.readParams(),
      })),
    );
  }
  const [cached, rendered] = runs;
  assert.ok(cached!.losses.every((l) => Number.isFinite(l) && l > 0));
  assert.deepEqual(cached!.losses, rendered!.losses);
  for (const [name, values] of cached!.params)
    assert.ok(
      Buffer.from(rendered!.params.get(name)!.buffer).equals(Buffer.from(values.buffer)),
      name,
    );
});

test('training config: data.echo and data.echoWindow are positive integers', () => {
  assert.equal(resolveTrainConfig({}).data.echo, 1);
  assert.equal(resolveTrainConfig({ data: { echo: 3 } }).data.echo, 3);
  assert.throws(() => resolveTrainConfig({ data: { echo: 0 } }), /data\.echo/);
  assert.throws(() => resolveTrainConfig({ data: { echoWindow: 1.5 } }), /data\.echoWindow/);
  assert.throws(() => resolveTrainConfig({ data: { echo: 65 } }), /data\.echo/);
});
