// An INT8 conv3x3 computing its whole input in its staged halo (src/nn/ops/int8/producer-in-halo.ts):
// bit for bit the CPU reference of the two ops (the producer with its residual, in one or more
// output blocks; both conv3x3 tiles), never reading the input tensor; what it refuses; network
// v2's up1 in dec1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu, rng } from './helpers/gpu.ts';
import {
  memoryOfExactRuns,
  randomProducerInput,
  randomFeatures,
  randomInt8,
  randomInt8Params,
  withPart,
} from './helpers/int8-random.ts';
import { packInt8, unpackInt8, type Int8Tensor } from '../src/core/int8.ts';
import type { Activation } from '../src/core/graph.ts';
import { int8OpCpu } from '../src/reference/nn/int8-ops.ts';
import { uploadInt8Op } from '../src/nn/ops/int8/common.ts';
import { encodeInt8Op } from '../src/nn/ops/int8/encode.ts';
import { producerInHaloRefusal } from '../src/nn/ops/int8/producer-in-halo.ts';
import type { DirectOp } from '../src/nn/ops/int8/direct.ts';
import { uploadInt8Tensor, createGpuInt8Tensor, readGpuTensor } from '../src/nn/tensor.ts';
import { readBuffer } from '../src/gpu/resources.ts';
import { requestGpu } from '../src/gpu/device.ts';
import { loadWeights } from '../src/nn/weights.ts';
import { planInt8 } from '../src/core/int8-plan.ts';
import { runInt8NetworkCpu } from '../src/reference/nn/int8-network.ts';
import {
  createInt8Network,
  producersInConsumers,
  tensorsComputedInHalos,
} from '../src/nn/int8-network.ts';
import { randomInt8Model } from '../src/nn/networks.ts';
import { NETWORK_V3A } from '../src/nn/network-v3.ts';

interface Case {
  readonly name: string;
  readonly producer: DirectOp;
  readonly producerIn: number;
  /** The consumer's input channels. */
  readonly channels: number;
  readonly consumerOut: number;
  readonly residual: boolean;
  /** The consumer's input (and output) size. */
  readonly height: number;
  readonly width: number;
  readonly activation: Activation;
}

const CASES: readonly Case[] = [
  // Network v2's up1 in dec1: 32 → 16 with the skip from res1, then 16 → 16.
  {
    name: 'up1 in dec1',
    producer: 'up2x2',
    producerIn: 32,
    channels: 16,
    consumerOut: 16,
    residual: true,
    height: 20,
    width: 34,
    activation: 'relu',
  },
  // A producer of two output blocks (32 channels), a consumer of one block of 8.
  {
    name: 'two blocks',
    producer: 'down2x2',
    producerIn: 12,
    channels: 32,
    consumerOut: 8,
    residual: false,
    height: 10,
    width: 18,
    activation: 'leaky',
  },
  // Channels ending inside a word (6 of 8), a block of 24 out.
  {
    name: 'partial word',
    producer: 'conv1x1',
    producerIn: 8,
    channels: 6,
    consumerOut: 24,
    residual: false,
    height: 9,
    width: 17,
    activation: 'none',
  },
];

test('int8 producer in halo: the conv3x3 equals the two ops on the CPU bit for bit, without reading its input', async () => {
  const { device } = await testGpu();
  const random = rng(83);
  for (const c of CASES) {
    const producerIn = randomProducerInput(random, c.producer, c.producerIn, c.height, c.width);
    const shape = { channels: c.channels, height: c.height, width: c.width };
    const residual: Int8Tensor | undefined = c.residual
      ? { ...shape, data: randomInt8(random, c.channels * c.height * c.width) }
      : undefined;
    const pParams = randomInt8Params(
      random,
      c.producer,
      c.producerIn,
      c.channels,
      c.activation,
      c.residual,
    );
    const cParams = randomInt8Params(random, 'conv3x3', c.channels, c.consumerOut, 'relu');
    const middle = int8OpCpu(c.producer, producerIn, pParams, residual);
    assert.equal(middle.height, c.height);
    assert.ok(new Set(middle.data).size > 6, `${c.name}: a varied middle tensor`);
    const want = int8OpCpu('conv3x3', middle, cParams);
    assert.ok(new Set(want.data).size > 6, `${c.name}: a varied output`);

    const upload = (t: Int8Tensor) => uploadInt8Tensor(device, t);
    // The consumer's input tensor holds other values: the kernel must not read them.
    const decoy: Int8Tensor = { ...shape, data: randomInt8(random, middle.data.length) };
    const input = upload(decoy);
    const pInput = upload(producerIn);
    const pResidual = residual && upload(residual);
    const producer = {
      weights: uploadInt8Op(device, c.producer, pParams, c.producerIn),
      input: pInput,
      outChannelOffset: 0,
      ...(pResidual ? { residual: pResidual } : {}),
    };
    // Both tiles: 16×8 below the larger tile's threshold, 16×16 from it.
    for (const largeFrom of [Infinity, 0]) {
      const consumer = {
        ...uploadInt8Op(device, 'conv3x3', cParams, c.channels),
        conv3x3LargeTileFrom: largeFrom,
      };
      const output = createGpuInt8Tensor(device, { ...shape, channels: c.consumerOut });
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      encodeInt8Op(device, pass, consumer, input, { output }, undefined, producer);
      pass.end();
      device.queue.submit([encoder.finish()]);
      const words = new Uint32Array((await readBuffer(device, output.buffer)).buffer);
      const got = unpackInt8(words, output.channels, output.height, output.width);
      assert.deepEqual(got, want.data, `${c.name}, tile from ${largeFrom} px`);
      output.buffer.destroy();
    }
    const after = new Uint32Array((await readBuffer(device, input.buffer)).buffer);
    assert.deepEqual(
      after,
      packInt8(decoy.data, c.channels, c.height, c.width),
      `${c.name}: input`,
    );
    for (const t of [input, pInput, ...(pResidual ? [pResidual] : [])]) t.buffer.destroy();
  }
});

test("int8 producer in halo, nested: a conv3x3 computing a 1×1 conv that computes its up2x2 part (v2's head, mix and up0) equals the three ops on the CPU", async () => {
  const { device } = await testGpu();
  const random = rng(97);
  const [height, width] = [12, 34];
  // up0: 16 → 8 at ½ resolution; join: 20 channels, up0's at 0–7; mix: 20 → 24; head: 24 → 9.
  const dec1: Int8Tensor = {
    channels: 16,
    height: height / 2,
    width: width / 2,
    data: randomInt8(random, 16 * (height / 2) * (width / 2)),
  };
  const up0 = randomInt8Params(random, 'up2x2', 16, 8, 'relu');
  const mix = randomInt8Params(random, 'conv1x1', 20, 24, 'relu');
  const head = randomInt8Params(random, 'conv3x3', 24, 9, 'none');
  const join: Int8Tensor = {
    channels: 20,
    height,
    width,
    data: randomInt8(random, 20 * height * width),
  };
  const want = int8OpCpu(
    'conv3x3',
    int8OpCpu('conv1x1', withPart(join, int8OpCpu('up2x2', dec1, up0), 0), mix),
    head,
  );
  assert.ok(new Set(want.data).size > 6, 'a varied output');
  const upload = (t: Int8Tensor) => uploadInt8Tensor(device, t);
  const joinWithoutPart: Int8Tensor = {
    channels: 12,
    height,
    width,
    data: join.data.slice(8 * height * width),
  };
  const headWeights = uploadInt8Op(device, 'conv3x3', head, 24);
  const input = createGpuInt8Tensor(device, { channels: 24, height, width }); // never read
  for (const partNotStored of [false, true]) {
    const stored = upload(partNotStored ? joinWithoutPart : join);
    const output = createGpuInt8Tensor(device, { channels: 9, height, width });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeInt8Op(device, pass, headWeights, input, { output }, undefined, {
      weights: uploadInt8Op(device, 'conv1x1', mix, 20),
      input: stored,
      outChannelOffset: 0,
      producer: {
        weights: uploadInt8Op(device, 'up2x2', up0, 16),
        input: upload(dec1),
        outChannelOffset: 0,
        partNotStored,
      },
    });
    pass.end();
    device.queue.submit([encoder.finish()]);
    const words = new Uint32Array((await readBuffer(device, output.buffer)).buffer);
    const got = unpackInt8(words, 9, height, width);
    assert.deepEqual(got, want.data, `part not stored: ${partNotStored}`);
  }
});

test('int8 producer in halo: what it refuses, with the reason', async () => {
  const conv = { op: 'conv3x3', inChannels: 16, outChannels: 16 };
  const up = { op: 'up2x2', outChannels: 16 };
  assert.equal(producerInHaloRefusal(conv, up, 0), undefined);
  assert.match(producerInHaloRefusal({ ...conv, op: 'conv1x1' }, up, 0)!, /consumer is a conv1x1/);
  assert.match(producerInHaloRefusal({ ...conv, residual: 'r' }, up, 0)!, /adds a residual/);
  assert.match(
    producerInHaloRefusal({ ...conv, outChannels: 32 }, up, 0)!,
    /32 channels take more than one output block/,
  );
  assert.match(
    producerInHaloRefusal(conv, { op: 'conv3x3', outChannels: 16 }, 0)!,
    /producer is a conv3x3/,
  );
  assert.match(
    producerInHaloRefusal(conv, { op: 'up2x2', outChannels: 8 }, 8)!,
    /channels 8–15 of the consumer's 16, not all of them/,
  );
  // The kernel refuses it too, naming the ops.
  const { device } = await testGpu();
  const random = rng(6);
  const shape = { channels: 8, height: 4, width: 4 };
  const wide = uploadInt8Op(
    device,
    'conv3x3',
    randomInt8Params(random, 'conv3x3', 8, 32, 'relu'),
    8,
  );
  const pass = device.createCommandEncoder().beginComputePass();
  assert.throws(
    () =>
      encodeInt8Op(
        device,
        pass,
        wide,
        createGpuInt8Tensor(device, shape),
        { output: createGpuInt8Tensor(device, { ...shape, channels: 32 }) },
        undefined,
        {
          weights: uploadInt8Op(
            device,
            'conv1x1',
            randomInt8Params(random, 'conv1x1', 8, 8, 'relu'),
            8,
          ),
          input: createGpuInt8Tensor(device, shape),
          outChannelOffset: 0,
        },
      ),
    /int8 conv3x3 computing its conv1x1 input: the consumer's 32 channels take more than one output block/,
  );
  pass.end();
});

test("int8 network v2 computes up1 in dec1's halo and mix (with up0) in the head's, storing neither, bit for bit with and without; v3a has no such pair", async () => {
  const model = await loadWeights('weights/uplift-v2-int8.uplift');
  const plan = planInt8(model.graph, model.parameters);
  const named = (m: Map<number, number>) =>
    [...m].map(([c, p]) => [plan.steps[c]!.node, plan.steps[p]!.node]);
  const all = [
    ['dec1', 'up1'],
    ['mix', 'up0'],
    ['head', 'mix'],
  ];
  assert.deepEqual(named(producersInConsumers(plan, 'dot4')), all);
  assert.deepEqual(named(producersInConsumers(plan, 'dot4', { halos: false })), [['mix', 'up0']]);
  assert.deepEqual(named(producersInConsumers(plan, 'emulated-matrix')), []);
  // The head on matrices ('mixed'): dec1 alone computes its input in its halo.
  assert.deepEqual(named(producersInConsumers(plan, 'emulated-mixed')), all.slice(0, 2));
  assert.deepEqual(
    [...tensorsComputedInHalos(plan, producersInConsumers(plan, 'dot4'))],
    ['q(skip1)', 'q(mix)'],
  );
  // Within the device's storage buffers: dec1 computing up1 binds 7; the head computing mix and
  // up0 binds 9 of its own, 13 as the frame's last layer with the filter + blend.
  for (const [limit, want] of [
    [6, [all[1]]],
    [8, all.slice(0, 2)],
    [12, all.slice(0, 2)],
    [13, all],
  ] as const) {
    const got = producersInConsumers(plan, 'dot4', { maxStorageBuffers: limit });
    assert.deepEqual(named(got), want, `${limit} storage buffers`);
  }
  // v3a: its res convs add their own input as the residual, its down1 is the first step.
  const v3a = randomInt8Model(NETWORK_V3A);
  assert.equal(producersInConsumers(planInt8(v3a.graph, v3a.parameters), 'dot4').size, 0);

  const { device } = await testGpu();
  const shape = { channels: 12, height: 16, width: 40 };
  const { features, input } = randomFeatures(device, shape, 47);
  const want = runInt8NetworkCpu(plan, features).output;
  const bytes = await memoryOfExactRuns(device, plan, input, want, [
    { producersInHalos: true },
    { producersInHalos: false },
  ]);
  // In the halos, skip1 (16 channels at ½ resolution) and mix (24 channels) are stored as
  // one-word placeholders.
  const skip1 = 4 * 4 * (shape.height / 2) * (shape.width / 2);
  const mix = 6 * 4 * shape.height * shape.width;
  assert.equal(bytes[1]! - bytes[0]!, skip1 + mix - 2 * 4);
  input.buffer.destroy();
});

test('int8 network v2 on a device with default limits (8 storage buffers a stage): the head reads mix from memory, the same bits', async () => {
  const { device } = await requestGpu({ limits: 'default' });
  assert.equal(device.limits.maxStorageBuffersPerShaderStage, 8);
  const model = await loadWeights('weights/uplift-v2-int8.uplift');
  const plan = planInt8(model.graph, model.parameters);
  const shape = { channels: 12, height: 16, width: 24 };
  const { features, input } = randomFeatures(device, shape, 53);
  const want = runInt8NetworkCpu(plan, features).output;
  const network = createInt8Network(device, plan);
  // The frame's last layer would bind 13: not fused here; dec1 computing up1 binds 7.
  assert.equal(network.lastStep(shape.height, shape.width).producer, undefined);
  const encoder = device.createCommandEncoder();
  const output = network.run(encoder, input);
  device.queue.submit([encoder.finish()]);
  const got = await readGpuTensor(device, output);
  assert.deepEqual(new Uint32Array(got.data.buffer), new Uint32Array(want.data.buffer));
  network.destroy();
  device.destroy();
  // On the test device (the adapter's limits) the head computes mix.
  const { device: large } = await testGpu();
  const fused = createInt8Network(large, plan);
  assert.equal(fused.lastStep(shape.height, shape.width).producer?.weights.op, 'conv1x1');
  fused.destroy();
});
