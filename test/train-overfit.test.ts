// The honest overfit test of the whole GPU training path on lavapipe: the tiny network learns to
// imitate a teacher (same architecture, other weights) on one fixed random batch; the L1 loss
// must fall by a large factor (> 5×; measured 1.01 → 0.15) within 80 Adam steps. Then the exact
// resume: 8 steps straight vs 4 + checkpoint file + restore + 4 give the same bits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu } from './helpers/gpu.ts';
import { randomReal } from '../src/train/grad-check.ts';
import { runNetworkCpu } from '../src/reference/nn/network.ts';
import { initWeights } from '../src/nn/weights.ts';
import { uploadTensor } from '../src/nn/tensor.ts';
import { createStorageBuffer } from '../src/gpu/resources.ts';
import { TINY_NETWORK } from '../src/train/tiny-network.ts';
import { createTrainableNetwork, type TrainableNetwork } from '../src/train/trainable.ts';
import { captureCheckpoint, restoreTrainable } from '../src/train/session.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../src/train/checkpoint.ts';
import { resolveTrainConfig } from '../src/train/config.ts';
import { trainFixedBatch } from '../src/train/fixed-batch.ts';
import { DEFAULT_ADAM } from '../src/train/adam-cpu.ts';

const [H, W] = [16, 16];
const schedule = { peak: 3e-2, warmupSteps: 5, totalSteps: 80, finalRatio: 0.3 };

async function setup() {
  const { device } = await testGpu();
  const channels = TINY_NETWORK.inputs[0]!.channels;
  const features = {
    channels,
    height: H,
    width: W,
    data: new Float32Array(randomReal(channels * H * W, 7, 0, 1)),
  };
  const teacher = runNetworkCpu(TINY_NETWORK, initWeights(TINY_NETWORK, 2), features).output;
  return {
    device,
    input: uploadTensor(device, features),
    target: createStorageBuffer(device, teacher.data),
  };
}

test('training the tiny network on a fixed batch lowers the loss by a large factor', async () => {
  const { device, input, target } = await setup();
  const trainable = createTrainableNetwork(
    device,
    TINY_NETWORK,
    initWeights(TINY_NETWORK, 1),
    DEFAULT_ADAM,
  );
  const losses = await trainFixedBatch(device, trainable, input, target, {
    startStep: 0,
    steps: 80,
    schedule,
  });
  assert.equal(losses.length, 80);
  const first = losses[0]!;
  const last = Math.min(...losses.slice(-5));
  assert.ok(Number.isFinite(first) && first > 0, `first loss ${first}`);
  assert.ok(last < first / 5, `loss fell from ${first} to only ${last}`);
  trainable.destroy();
});

test('a resumed run continues bit-for-bit: 8 steps straight = 4, checkpoint, restore, 4', async () => {
  const { device, input, target } = await setup();
  const run = (trainable: TrainableNetwork, startStep: number, steps: number) =>
    trainFixedBatch(device, trainable, input, target, { startStep, steps, schedule, readEvery: 4 });
  const straight = createTrainableNetwork(
    device,
    TINY_NETWORK,
    initWeights(TINY_NETWORK, 1),
    DEFAULT_ADAM,
  );
  const lossesStraight = await run(straight, 0, 8);
  const expected = await straight.readParams();

  const first = createTrainableNetwork(
    device,
    TINY_NETWORK,
    initWeights(TINY_NETWORK, 1),
    DEFAULT_ADAM,
  );
  const lossesA = await run(first, 0, 4);
  const config = resolveTrainConfig({ network: 'tiny', task: 'teacher', seed: 0, steps: 8 });
  const checkpoint = await captureCheckpoint(first, { step: 4, seed: 0, config });
  first.destroy();
  // Through the file format, as a real resume would go.
  const restored = restoreTrainable(
    device,
    decodeCheckpoint(encodeCheckpoint(checkpoint)),
    DEFAULT_ADAM,
    TINY_NETWORK,
  );
  const lossesB = await run(restored, 4, 4);
  const got = await restored.readParams();

  assert.deepEqual([...lossesA, ...lossesB], lossesStraight, 'same losses at every step');
  for (const [name, want] of expected) {
    const have = got.get(name)!;
    assert.ok(
      Buffer.from(have.buffer).equals(Buffer.from(want.buffer)),
      `${name} differs after resume`,
    );
  }
  straight.destroy();
  restored.destroy();
});
