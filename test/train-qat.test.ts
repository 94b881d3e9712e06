// Quantization-aware training: GPU activation calibration against a CPU max, an overfit of a
// quantized tiny network on a fixed batch (the loss must fall; the stored weights stay f32 off the
// grid while the forward uses them rounded), and `train` with qat — calibration, a split run
// equal to a straight one bit for bit, the quantized graph in the weights, and config errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGpu } from './helpers/gpu.ts';
import { randomReal } from '../src/train/grad-check.ts';
import { createNetwork } from '../src/nn/network.ts';
import { runNetworkCpu } from '../src/reference/nn/network.ts';
import { initWeights, decodeWeights, saveWeights } from '../src/nn/weights.ts';
import { readGpuTensor, uploadTensor } from '../src/nn/tensor.ts';
import { tensorFrom } from '../src/core/tensor.ts';
import { createStorageBuffer } from '../src/gpu/resources.ts';
import { TINY_NETWORK } from '../src/train/tiny-network.ts';
import { createTrainableNetwork } from '../src/train/trainable.ts';
import { trainFixedBatch } from '../src/train/fixed-batch.ts';
import { DEFAULT_ADAM } from '../src/train/adam-cpu.ts';
import { createAbsMaxTracker } from '../src/train/calibrate.ts';
import { resolveTrainConfig } from '../src/train/config.ts';
import { train } from '../src/train/trainer.ts';
import {
  baseGraph,
  calibrateActivationScales,
  graphQuantization,
  quantizeGraph,
  weightedInputs,
} from '../src/nn/quantize.ts';
import { quantizeWeightCpu } from '../src/reference/nn/ops.ts';
import { FEATURE_CHANNELS } from '../src/core/neural-frame.ts';
import { TINY_FRAMES_CONFIG } from './helpers/teacher-config.ts';

test('GPU activation calibration: max |x| per tensor over several encodes, NaN and Inf ignored', async () => {
  const { device } = await testGpu();
  const shapes = [
    { channels: 3, height: 17, width: 9 },
    { channels: 1, height: 1, width: 1000 },
  ];
  const tracker = createAbsMaxTracker(device, ['a', 'b']);
  const want = [0, 0];
  for (let round = 0; round < 3; round++) {
    const tensors = new Map(
      shapes.map((shape, k) => {
        const n = shape.channels * shape.height * shape.width;
        const data = new Float32Array(randomReal(n, 10 * round + k, -2 - round, 1 + k));
        if (round === 1) data[5] = Number.NaN;
        if (round === 2) data[7] = -Infinity;
        for (const v of data) if (Number.isFinite(v)) want[k] = Math.max(want[k]!, Math.abs(v));
        return [k === 0 ? 'a' : 'b', uploadTensor(device, tensorFrom(shape, data))] as const;
      }),
    );
    const encoder = device.createCommandEncoder();
    tracker.encode(encoder, tensors);
    device.queue.submit([encoder.finish()]);
  }
  const got = await tracker.read();
  assert.equal(got.get('a'), Math.fround(want[0]!));
  assert.equal(got.get('b'), Math.fround(want[1]!));
  assert.throws(() => tracker.encode(device.createCommandEncoder(), new Map()), /no tensor a/);
  tracker.destroy();
});

test('QAT overfit: a quantized tiny network lowers the loss on a fixed batch; stored weights stay f32', async () => {
  const { device } = await testGpu();
  const [H, W] = [16, 16];
  const features = tensorFrom(
    { channels: FEATURE_CHANNELS, height: H, width: W },
    new Float32Array(randomReal(FEATURE_CHANNELS * H * W, 7, 0, 1)),
  );
  const teacher = runNetworkCpu(TINY_NETWORK, initWeights(TINY_NETWORK, 2), features).output;
  const start = initWeights(TINY_NETWORK, 1);
  const scales = calibrateActivationScales(TINY_NETWORK, start, [features], 6);
  const graph = quantizeGraph(TINY_NETWORK, {
    weightBits: 6,
    activationBits: 6,
    activationScales: scales,
  });
  const trainable = createTrainableNetwork(device, graph, start, DEFAULT_ADAM);
  const losses = await trainFixedBatch(
    device,
    trainable,
    uploadTensor(device, features),
    createStorageBuffer(device, teacher.data),
    {
      startStep: 0,
      steps: 80,
      schedule: { peak: 3e-2, warmupSteps: 5, totalSteps: 80, finalRatio: 0.3 },
    },
  );
  // Measured on lavapipe: 0.775 → 0.129.
  const first = losses[0]!;
  const last = Math.min(...losses.slice(-5));
  assert.ok(last < first / 3, `loss fell from ${first} to only ${last}`);
  // Straight-through: Adam updates the stored f32 weights, which leave the grid (rounding them in
  // place would swallow every update smaller than half a step).
  const params = await trainable.readParams();
  const w = params.get('conv.weight')!;
  const onGrid = quantizeWeightCpu(w, 6).values;
  assert.ok(
    w.some((v, i) => Math.abs(v - onGrid[i]!) > 1e-6),
    'stored weights are on the grid',
  );
  // The trained network computes on the GPU what the CPU computes with the quantized graph.
  const network = createNetwork(device, graph, params, { keepActivations: false });
  const encoder = device.createCommandEncoder();
  const out = network.run(encoder, uploadTensor(device, features)).output;
  device.queue.submit([encoder.finish()]);
  const got = (await readGpuTensor(device, out)).data;
  const want = runNetworkCpu(graph, params, features).output.data;
  let close = 0;
  for (let i = 0; i < want.length; i++) if (Math.abs(got[i]! - want[i]!) <= 1e-4) close++;
  assert.ok(close / want.length >= 0.99, `${close} of ${want.length} outputs agree`);
  network.destroy();
  trainable.destroy();
});

const framesConfig = {
  ...TINY_FRAMES_CONFIG,
  clipsPerStep: 1,
  qat: { weightBits: 8, activationBits: 6, calibrationClips: 2 },
};

test('train with qat: calibrated quantized graph, validation through it, split run = straight run', async () => {
  const { device } = await testGpu();
  const straightDir = await mkdtemp(join(tmpdir(), 'uplift-qat-'));
  const splitDir = await mkdtemp(join(tmpdir(), 'uplift-qat-'));
  const straight = await train(device, framesConfig, { out: straightDir });
  assert.equal(straight.step, 4);
  assert.ok(straight.log.every((e) => Number.isFinite(e.loss) && e.loss > 0));
  assert.ok(straight.log.every((e) => Number.isFinite(e.validationPsnr)));
  const weights = decodeWeights(await readFile(join(straightDir, 'weights.uplift')));
  const q = graphQuantization(weights.graph)!;
  assert.equal(q.weightBits, 8);
  assert.equal(q.activationBits, 6);
  assert.deepEqual([...q.activationScales!.keys()], weightedInputs(TINY_NETWORK));
  for (const s of q.activationScales!.values()) assert.ok(s > 0 && Number.isFinite(s));
  assert.deepEqual(baseGraph(weights.graph), TINY_NETWORK);

  await train(device, framesConfig, { out: splitDir, stopAtStep: 2 });
  await train(device, {}, { out: splitDir, resume: true });
  const read = (dir: string) => readFile(join(dir, 'weights.uplift'));
  assert.ok((await read(straightDir)).equals(await read(splitDir)), 'split run differs');

  // Resuming with other bits than the checkpoint's graph is refused, naming qat.
  await assert.rejects(
    train(device, { qat: { activationBits: 8 } }, { out: splitDir, resume: true }),
    /quantized to 8-bit weights and 8-bit activations/,
  );
  // QAT fine-tuning from quantized weights keeps their scales (no recalibration).
  const again = await mkdtemp(join(tmpdir(), 'uplift-qat-'));
  await train(
    device,
    { ...framesConfig, steps: 1, validationClips: 0 },
    { out: again, initWeights: join(straightDir, 'weights.uplift') },
  );
  const continued = decodeWeights(await readFile(join(again, 'weights.uplift')));
  assert.deepEqual(graphQuantization(continued.graph), q);
});

test('train with qat from f32 weights (--init) and bad qat configs', async () => {
  const { device } = await testGpu();
  const dir = await mkdtemp(join(tmpdir(), 'uplift-qat-'));
  const init = join(dir, 'init.uplift');
  await saveWeights(init, { graph: TINY_NETWORK, parameters: initWeights(TINY_NETWORK, 3) });
  const out = join(dir, 'run');
  const result = await train(
    device,
    { ...framesConfig, steps: 1, validationClips: 0, qat: true },
    { out, initWeights: init },
  );
  assert.equal(result.step, 1);
  const q = graphQuantization(decodeWeights(await readFile(join(out, 'weights.uplift'))).graph)!;
  assert.equal(q.weightBits, 8);
  assert.equal(q.activationBits, 8);

  assert.throws(() => resolveTrainConfig({ qat: { weightBits: 1 } }), /qat.weightBits must be/);
  assert.throws(() => resolveTrainConfig({ qat: { bits: 8 } }), /unknown key "qat.bits"/);
  assert.throws(
    () => resolveTrainConfig({ qat: { calibrationClips: 0 } }),
    /qat.calibrationClips must be a positive integer/,
  );
  assert.throws(() => resolveTrainConfig({ task: 'teacher', qat: true }), /qat needs task/);
  assert.throws(() => resolveTrainConfig({ frame: 'cpu', qat: true }), /qat needs task/);
  assert.equal(resolveTrainConfig({}).qat, null);
  assert.deepEqual(resolveTrainConfig({ qat: { activationBits: 6 } }).qat, {
    weightBits: 8,
    activationBits: 6,
    calibrationClips: 8,
  });
});
