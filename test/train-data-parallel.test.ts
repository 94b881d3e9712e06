// Data-parallel training: `uplift train --workers 2` (a second process computing half of each
// step's clips) ends with exactly the weights and losses of the same two shares computed in one
// process and differs from a one-process run (the second share counts); bad worker counts; a
// worker that dies or fails names itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGpu } from './helpers/gpu.ts';
import { NETWORKS, resolveTrainConfig } from '../src/train/config.ts';
import { framesTask } from '../src/train/tasks.ts';
import { createTrainableNetwork } from '../src/train/trainable.ts';
import { initWeights, decodeWeights } from '../src/nn/weights.ts';
import { createLocalGradientWorker } from '../src/train/worker-process.ts';
import {
  clipIndexFor,
  forkGradientWorkers,
  packParameters,
  unpackParameters,
  WORKER_CLIP_STRIDE,
} from '../src/train/data-parallel.ts';

const overrides = {
  network: 'tiny',
  task: 'frames',
  seed: 5,
  steps: 2,
  size: [16, 16],
  learningRate: 0.01,
  warmupSteps: 1,
  data: { source: 'scenes', clipFrames: 3, referenceSamples: 2 },
  clipsPerStep: 1,
  validationClips: 0,
  warmup: 1,
  logEvery: 1,
  checkpointEvery: 10,
};

const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/uplift.mjs', 'train', '--quiet', ...args], {
    encoding: 'utf8',
  });

test('clip indices and packing: worker streams apart, packed parameters round-trip', () => {
  assert.equal(clipIndexFor(7, 1, 2, 0), 15, 'worker 0 is the single-process run');
  assert.equal(clipIndexFor(7, 1, 2, 3), 3 * WORKER_CLIP_STRIDE + 15);
  const specs = [
    { name: 'a', shape: [2], length: 2 },
    { name: 'b', shape: [3], length: 3 },
  ];
  const values = new Map([
    ['a', new Float32Array([1, 2])],
    ['b', new Float32Array([3, 4, 5])],
  ]);
  const packed = packParameters(specs, values);
  assert.deepEqual([...packed], [1, 2, 3, 4, 5]);
  assert.deepEqual(unpackParameters(specs, packed), values);
  assert.throws(() => unpackParameters(specs, new Float32Array(4)), /hold 4 values, the graph 5/);
});

test('uplift train --workers 2 equals both shares computed in one process, bit for bit', async () => {
  const root = mkdtempSync(join(tmpdir(), 'uplift-dp-'));
  const configFile = join(root, 'config.json');
  writeFileSync(configFile, JSON.stringify(overrides));
  const two = cli('--config', configFile, '--out', join(root, 'two'), '--workers', '2');
  assert.equal(two.status, 0, two.stderr);
  const one = cli('--config', configFile, '--out', join(root, 'one'));
  assert.equal(one.status, 0, one.stderr);
  const log = (dir: string) =>
    readFileSync(join(root, dir, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).loss as number);
  const weights = (dir: string) =>
    decodeWeights(new Uint8Array(readFileSync(join(root, dir, 'weights.uplift')))).parameters;

  // The same two shares in this process: worker 1 local, its gradient added before Adam.
  const { device } = await testGpu();
  const config = resolveTrainConfig(overrides);
  const graph = NETWORKS[config.network]!;
  const trainable = createTrainableNetwork(device, graph, initWeights(graph, 5), config.adam);
  const worker = createLocalGradientWorker(device, config, graph, 1, 2);
  const task = framesTask(device, config, trainable, { workers: [worker] });
  const schedule = {
    peak: config.learningRate,
    warmupSteps: config.warmupSteps,
    totalSteps: config.steps,
    finalRatio: config.finalRatio,
  };
  try {
    const losses = [];
    for (let step = 0; step < 2; step++) losses.push(...(await task.runSteps(step, 1, schedule)));
    assert.deepEqual(log('two'), losses);
    const params = await trainable.readParams();
    for (const [name, values] of weights('two'))
      assert.deepEqual([...values], [...params.get(name)!], name);
  } finally {
    task.destroy();
    worker.destroy();
    trainable.destroy();
  }
  assert.notDeepEqual(log('one'), log('two'), 'the second share changes the step');
});

test('a bad --workers is refused by name; a run that is not frames on the GPU cannot have workers', () => {
  const root = mkdtempSync(join(tmpdir(), 'uplift-dp-'));
  const zero = cli('--network', 'tiny', '--workers', '0', '--out', join(root, 'a'));
  assert.equal(zero.status, 1);
  assert.match(zero.stderr, /--workers must be at least 1, got "0"/);
  const teacher = cli(
    '--network',
    'tiny',
    '--task',
    'teacher',
    '--size',
    '16x16',
    '--steps',
    '1',
    '--workers',
    '2',
    '--out',
    join(root, 'b'),
  );
  assert.equal(teacher.status, 1);
  assert.match(teacher.stderr, /data-parallel workers need task "frames" with frame "gpu"/);
});

test('a worker process that dies fails the request with its number and exit code', async () => {
  const root = mkdtempSync(join(tmpdir(), 'uplift-dp-'));
  const script = join(root, 'dies.mjs');
  writeFileSync(script, 'process.exit(3);\n');
  await assert.rejects(
    forkGradientWorkers(
      { file: script, args: [], execArgv: [] },
      { config: {}, graph: NETWORKS.tiny!, workers: 2 },
    ),
    /training worker 1 exited \(code 3\)/,
  );
  // One that answers a step with an error: the message comes back with the worker's number.
  const failing = join(root, 'fails.mjs');
  writeFileSync(
    failing,
    "process.on('message', (m) => process.send(m.type === 'init' ? { type: 'ready' } : { type: 'error', message: 'no GPU here' }));\n" +
      "process.on('disconnect', () => process.exit(0));\n",
  );
  const [worker] = await forkGradientWorkers(
    { file: failing, args: [], execArgv: [] },
    { config: {}, graph: NETWORKS.tiny!, workers: 2 },
  );
  try {
    await assert.rejects(worker!.compute(0, new Float32Array(4)), /training worker 1: no GPU here/);
  } finally {
    worker!.destroy();
  }
});
