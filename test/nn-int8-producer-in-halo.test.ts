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
import { packInt8, unpackInt8, type Int8OpParams, type Int8Tensor } from '../src/core/int8.ts';
import type { Activation } from '../src/core/graph.ts';
import { int8OpCpu } from '../src/reference/nn/int8-ops.ts';
import { uploadInt8Op } from '../src/nn/ops/int8/common.ts';
import { encodeInt8Op } from '../src/nn/ops/int8/encode.ts';
import { haloParts, producerInHaloRefusal } from '../src/nn/ops/int8/producer-in-halo.ts';
import type { DirectOp } from '../src/nn/ops/int8/direct.ts';
import {
  uploadInt8Tensor,
  createGpuInt8Tensor,
  readGpuTensor,
  type GpuInt8Tensor,
} from '../src/nn/tensor.ts';
import type { TensorShape } from '../src/core/tensor.ts';
import type { Int8Producer } from '../src/nn/ops/int8/producer-in-consumer.ts';
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

/**
 * Runs the conv3x3 of `params` (`inChannels` in) on both tiles (16×8 below the larger tile's
 * threshold, 16×16 from it), computing its input `input` with `producer`, and asserts each
 * output (unpacked) equals `want`.
 */
async function assertConsumerOnBothTiles(
  device: GPUDevice,
  consumer: { params: Int8OpParams; inChannels: number; input: GpuInt8Tensor; output: TensorShape },
  producer: Int8Producer,
  want: Int8Array,
  label: string,
): Promise<void> {
  const { params, inChannels, input, output } = consumer;
  for (const largeFrom of [Infinity, 0]) {
    const weights = {
      ...uploadInt8Op(device, 'conv3x3', params, inChannels),
      conv3x3LargeTileFrom: largeFrom,
    };
    const out = createGpuInt8Tensor(device, output);
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeInt8Op(device, pass, weights, input, { output: out }, undefined, producer);
    pass.end();
    device.queue.submit([encoder.finish()]);
    const words = new Uint32Array((await readBuffer(device, out.buffer)).buffer);
    const got = unpackInt8(words, out.channels, out.height, out.width);
    assert.deepEqual(got, want, `${label}, tile from ${largeFrom} px`);
    out.buffer.destroy();
  }
}

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
    const output = { ...shape, channels: c.consumerOut };
    const consumer = { params: cParams, inChannels: c.channels, input, output };
    await assertConsumerOnBothTiles(device, consumer, producer, want.data, c.name);
    const after = new Uint32Array((await readBuffer(device, input.buffer)).buffer);
    assert.deepEqual(
      after,
      packInt8(decoy.data, c.channels, c.height, c.width),
      `${c.name}: input`,
    );
    for (const t of [input, pInput, ...(pResidual ? [pResidual] : [])]) t.buffer.destroy();
  }
});

interface NestedCase {
  readonly name: string;
  /** The producer (the conv3x3's input) reading a concat, one part of which `inner` computes. */
  readonly producer: DirectOp;
  readonly concat: number;
  readonly channels: number;
  readonly inner: DirectOp;
  readonly innerIn: number;
  readonly innerOut: number;
  /** The inner producer's part's first channel in the concat. */
  readonly offset: number;
  readonly consumerOut: number;
  /** The conv3x3's size. */
  readonly height: number;
  readonly width: number;
}

const NESTED: readonly NestedCase[] = [
  // Network v2's head: mix (1×1, 20 → 24) computing up0 (16 → 8 from ½ resolution) at channels
  // 0–7 of join; the head 24 → 9. up0 runs first for every halo pixel (a conv1x1 reads its own).
  {
    name: "v2's head, mix and up0",
    producer: 'conv1x1',
    concat: 20,
    channels: 24,
    inner: 'up2x2',
    innerIn: 16,
    innerOut: 8,
    offset: 0,
    consumerOut: 9,
    height: 12,
    width: 34,
  },
  // A down2x2 (12 → 16) computing its 1×1 part (8 → 4) at channels 4–7: the part runs inside the
  // producer for each of its four input pixels.
  {
    name: 'down2x2 and a conv1x1 part',
    producer: 'down2x2',
    concat: 12,
    channels: 16,
    inner: 'conv1x1',
    innerIn: 8,
    innerOut: 4,
    offset: 4,
    consumerOut: 8,
    height: 9,
    width: 19,
  },
];

test("int8 producer in halo, nested: a conv3x3 computing a producer that computes a part of its input (v2's head, mix and up0) equals the three ops on the CPU", async () => {
  const { device } = await testGpu();
  const random = rng(97);
  for (const c of NESTED) {
    // The producer's input (the concat) and the inner producer's input at their sizes.
    const concat = randomProducerInput(random, c.producer, c.concat, c.height, c.width);
    const innerInput = randomProducerInput(random, c.inner, c.innerIn, concat.height, concat.width);
    const innerParams = randomInt8Params(random, c.inner, c.innerIn, c.innerOut, 'relu');
    const pParams = randomInt8Params(random, c.producer, c.concat, c.channels, 'relu');
    const cParams = randomInt8Params(random, 'conv3x3', c.channels, c.consumerOut, 'none');
    const want = int8OpCpu(
      'conv3x3',
      int8OpCpu(
        c.producer,
        withPart(concat, int8OpCpu(c.inner, innerInput, innerParams), c.offset),
        pParams,
      ),
      cParams,
    );
    assert.ok(new Set(want.data).size > 6, `${c.name}: a varied output`);
    const upload = (t: Int8Tensor) => uploadInt8Tensor(device, t);
    // The concat as stored without the part: its channels before and after it.
    const plane = concat.height * concat.width;
    const withoutPart: Int8Tensor = {
      ...concat,
      channels: c.concat - c.innerOut,
      data: Int8Array.from([
        ...concat.data.slice(0, c.offset * plane),
        ...concat.data.slice((c.offset + c.innerOut) * plane),
      ]),
    };
    const shape = { channels: c.channels, height: c.height, width: c.width };
    const input = createGpuInt8Tensor(device, shape); // never read
    const innerGpu = upload(innerInput);
    for (const partNotStored of [false, true]) {
      const stored = upload(partNotStored ? withoutPart : concat);
      const producer = {
        weights: uploadInt8Op(device, c.producer, pParams, c.concat),
        input: stored,
        outChannelOffset: 0,
        producer: {
          weights: uploadInt8Op(device, c.inner, innerParams, c.innerIn),
          input: innerGpu,
          outChannelOffset: c.offset,
          partNotStored,
        },
      };
      const output = { ...shape, channels: c.consumerOut };
      const consumer = { params: cParams, inChannels: c.channels, input, output };
      const label = `${c.name}, part not stored: ${partNotStored}`;
      await assertConsumerOnBothTiles(device, consumer, producer, want.data, label);
      stored.buffer.destroy();
    }
  }
});

test('int8 producer in halo: its words dealt over the threads in parts that take least', () => {
  const pixel = (op: DirectOp, outChannels: number) => ({
    op,
    words: 8,
    outChannels,
    residual: false,
  });
  // A 16×16 tile: 324 halo pixels over 256 threads (whole pixels: 2 rounds).
  assert.equal(haloParts(324, 256, pixel('up2x2', 16)), 2); // 4 words: 3 rounds of 2 (1.5)
  assert.equal(haloParts(324, 256, pixel('conv1x1', 24)), 3); // 6 words: 4 rounds of 2 (1.33)
  assert.equal(haloParts(324, 256, pixel('up2x2', 8)), 2); // 2 words: 3 rounds of 1 (1.5)
  assert.equal(haloParts(324, 256, pixel('conv1x1', 4)), 1); // one word
  // A 16×8 tile: 180 pixels over 128 threads; mix in 2 parts (1.5), not 3 (5 rounds of 2: 1.67).
  assert.equal(haloParts(180, 128, pixel('conv1x1', 24)), 2);
  // Pixels that fit the threads: no parts.
  assert.equal(haloParts(100, 128, pixel('up2x2', 16)), 1);
  // A producer of two blocks computes whole pixels.
  assert.equal(haloParts(324, 256, pixel('down2x2', 32)), 1);
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
