// A direct INT8 kernel computing its producer's part of its input (src/nn/ops/int8/
// producer-in-consumer.ts): bit for bit the CPU reference of the two ops, never reading the part
// from memory; which steps of a plan fuse so; network v2 with and without it.
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
import { int8OpCpu, int8OpOutputShape } from '../src/reference/nn/int8-ops.ts';
import { uploadInt8Op } from '../src/nn/ops/int8/common.ts';
import { encodeInt8Op } from '../src/nn/ops/int8/encode.ts';
import {
  producerInConsumerRefusal,
  type Int8Producer,
} from '../src/nn/ops/int8/producer-in-consumer.ts';
import type { DirectOp } from '../src/nn/ops/int8/direct.ts';
import { uploadInt8Tensor, createGpuInt8Tensor } from '../src/nn/tensor.ts';
import { readBuffer } from '../src/gpu/resources.ts';
import { loadWeights } from '../src/nn/weights.ts';
import { planInt8 } from '../src/core/int8-plan.ts';
import { runInt8NetworkCpu } from '../src/reference/nn/int8-network.ts';
import { producersInConsumers } from '../src/nn/int8-network.ts';
import { randomInt8Model } from '../src/nn/networks.ts';
import { NETWORK_V3A } from '../src/nn/network-v3.ts';

interface Case {
  readonly producer: DirectOp;
  readonly producerIn: number;
  readonly producerOut: number;
  readonly consumer: DirectOp;
  /** Channels of the consumer's input (the concat), the producer's part at `offset`. */
  readonly channels: number;
  readonly offset: number;
  readonly consumerOut: number;
  /** The concat's size. */
  readonly height: number;
  readonly width: number;
  readonly activation: Activation;
}

const CASES: readonly Case[] = [
  // Network v2's up0 in its mix: 16 → 8 at words 0–1 of 5, 24 channels out.
  {
    producer: 'up2x2',
    producerIn: 16,
    producerOut: 8,
    consumer: 'conv1x1',
    channels: 20,
    offset: 0,
    consumerOut: 24,
    height: 6,
    width: 18,
    activation: 'relu',
  },
  // A last part whose channels end inside a word (6 of 8), read by a down2x2.
  {
    producer: 'conv1x1',
    producerIn: 8,
    producerOut: 6,
    consumer: 'down2x2',
    channels: 14,
    offset: 8,
    consumerOut: 16,
    height: 8,
    width: 12,
    activation: 'leaky',
  },
  // A part between two others, from a down2x2, to 8 channels out.
  {
    producer: 'down2x2',
    producerIn: 12,
    producerOut: 16,
    consumer: 'conv1x1',
    channels: 24,
    offset: 4,
    consumerOut: 8,
    height: 5,
    width: 9,
    activation: 'none',
  },
];

test('int8 producer in consumer: the fused kernel equals the two ops on the CPU bit for bit, without reading the part', async () => {
  const { device } = await testGpu();
  const random = rng(71);
  for (const c of CASES) {
    const name = `${c.producer} ${c.producerIn}→${c.producerOut} in ${c.consumer} @${c.offset}`;
    const concatShape = { channels: c.channels, height: c.height, width: c.width };
    const producerIn = randomProducerInput(random, c.producer, c.producerIn, c.height, c.width);
    const pParams = randomInt8Params(random, c.producer, c.producerIn, c.producerOut, c.activation);
    const cParams = randomInt8Params(random, c.consumer, c.channels, c.consumerOut, 'relu');
    // The CPU: the producer's output in its part of the concat, then the consumer.
    const others: Int8Tensor = {
      ...concatShape,
      data: randomInt8(random, c.channels * c.height * c.width),
    };
    const part = int8OpCpu(c.producer, producerIn, pParams);
    assert.equal(part.height, c.height);
    const want = int8OpCpu(c.consumer, withPart(others, part, c.offset), cParams);
    assert.ok(new Set(want.data).size > 6, `${name}: a varied output`);

    // The GPU: the concat holds other values in the producer's part; the kernel must not read them.
    const upload = (t: Int8Tensor) => uploadInt8Tensor(device, t);
    // Or stored without the part: the other parts' channels alone, those after it moved down.
    const plane = c.height * c.width;
    const withoutPart: Int8Tensor = {
      ...concatShape,
      channels: c.channels - c.producerOut,
      data: Int8Array.from([
        ...others.data.subarray(0, c.offset * plane),
        ...others.data.subarray((c.offset + c.producerOut) * plane),
      ]),
    };
    const pWeights = uploadInt8Op(device, c.producer, pParams, c.producerIn);
    const pInput = upload(producerIn);
    const consumer = uploadInt8Op(device, c.consumer, cParams, c.channels);
    for (const partNotStored of [false, true]) {
      const stored = partNotStored ? withoutPart : others;
      const concat = upload(stored);
      const producer: Int8Producer = {
        weights: pWeights,
        input: pInput,
        outChannelOffset: c.offset,
        partNotStored,
      };
      const output = createGpuInt8Tensor(
        device,
        int8OpOutputShape(c.consumer, concatShape, c.consumerOut),
      );
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      // The kernel reads the concat as a whole (its channels), whatever its buffer stores.
      const view = { ...concat, channels: c.channels };
      encodeInt8Op(device, pass, consumer, view, { output }, undefined, producer);
      pass.end();
      device.queue.submit([encoder.finish()]);
      const words = new Uint32Array((await readBuffer(device, output.buffer)).buffer);
      const got = unpackInt8(words, output.channels, output.height, output.width);
      assert.deepEqual(got, want.data, `${name}, part not stored: ${partNotStored}`);
      // Neither the concat nor the producer's input was written.
      const after = new Uint32Array((await readBuffer(device, concat.buffer)).buffer);
      const packed = packInt8(stored.data, stored.channels, c.height, c.width);
      assert.deepEqual(after, packed, `${name}: input`);
      for (const t of [concat, output]) t.buffer.destroy();
    }
    // A buffer too small for what it should store is refused, naming the sizes: the concat
    // stored without the part, handed over as if it held the part too.
    const small = upload(withoutPart);
    const outShape = int8OpOutputShape(c.consumer, concatShape, c.consumerOut);
    const bad = device.createCommandEncoder().beginComputePass();
    assert.throws(
      () =>
        encodeInt8Op(
          device,
          bad,
          consumer,
          { ...small, channels: c.channels },
          { output: createGpuInt8Tensor(device, outShape) },
          undefined,
          { weights: pWeights, input: pInput, outChannelOffset: c.offset },
        ),
      /input buffer holds \d+ bytes, not the \d+ of \d+ stored channels/,
    );
    bad.end();
    for (const t of [small, pInput]) t.buffer.destroy();
  }
});

test('int8 producer in consumer: what it refuses, with the reason', async () => {
  const direct = { op: 'up2x2', outChannels: 8 };
  assert.equal(producerInConsumerRefusal({ op: 'conv1x1' }, direct, 0), undefined);
  assert.match(
    producerInConsumerRefusal({ op: 'conv3x3' }, direct, 0)!,
    /consumer is a conv3x3 .*conv1x1 or down2x2/,
  );
  assert.match(producerInConsumerRefusal({ op: 'up2x2' }, direct, 0)!, /consumer is a up2x2/);
  assert.match(
    producerInConsumerRefusal({ op: 'conv1x1', residual: 'r' }, direct, 0)!,
    /adds a residual/,
  );
  assert.match(
    producerInConsumerRefusal({ op: 'conv1x1' }, { op: 'conv3x3', outChannels: 8 }, 0)!,
    /producer is a conv3x3/,
  );
  assert.match(
    producerInConsumerRefusal({ op: 'conv1x1' }, { op: 'conv1x1', outChannels: 32 }, 0)!,
    /32 channels take more than one output block/,
  );
  assert.match(
    producerInConsumerRefusal({ op: 'conv1x1' }, direct, 6)!,
    /starts at channel 6, not at a word/,
  );
  // The kernel refuses it too, naming the op (a conv3x3 consumer computes its input in its halo
  // instead: test/nn-int8-producer-in-halo.test.ts).
  const { device } = await testGpu();
  const random = rng(5);
  const shape = { channels: 8, height: 4, width: 4 };
  const up = uploadInt8Op(device, 'up2x2', randomInt8Params(random, 'up2x2', 8, 8, 'relu'), 8);
  const producer: Int8Producer = {
    weights: uploadInt8Op(device, 'conv1x1', randomInt8Params(random, 'conv1x1', 8, 8, 'relu'), 8),
    input: createGpuInt8Tensor(device, shape),
    outChannelOffset: 0,
  };
  const pass = device.createCommandEncoder().beginComputePass();
  assert.throws(
    () =>
      encodeInt8Op(
        device,
        pass,
        up,
        createGpuInt8Tensor(device, shape),
        { output: createGpuInt8Tensor(device, { ...shape, height: 8, width: 8 }) },
        undefined,
        producer,
      ),
    /int8 up2x2 computing its conv1x1 input: the consumer is a up2x2/,
  );
  pass.end();
});

test('int8 network v2 computes up0 in mix and stores join without it, bit for bit with and without; v3a has no such pair', async () => {
  const model = await loadWeights('weights/uplift-v2-int8.uplift');
  const plan = planInt8(model.graph, model.parameters);
  const named = (m: Map<number, number>) =>
    [...m].map(([c, p]) => [plan.steps[c]!.node, plan.steps[p]!.node]);
  // (Without the conv3x3s computing their input in their halos: test/nn-int8-producer-in-halo.)
  const concats = { halos: false };
  assert.deepEqual(named(producersInConsumers(plan, 'dot4', concats)), [['mix', 'up0']]);
  // On the mixed kernels mix writes the head's padded input: still fused.
  assert.deepEqual(named(producersInConsumers(plan, 'emulated-mixed', concats)), [['mix', 'up0']]);
  assert.deepEqual(named(producersInConsumers(plan, 'emulated-matrix', concats)), []);
  const v3a = randomInt8Model(NETWORK_V3A);
  const v3aPlan = planInt8(v3a.graph, v3a.parameters);
  assert.equal(producersInConsumers(v3aPlan, 'dot4', concats).size, 0);

  const { device } = await testGpu();
  const shape = { channels: 12, height: 16, width: 24 };
  const { features, input } = randomFeatures(device, shape, 43);
  const want = runInt8NetworkCpu(plan, features).output;
  const bytes = await memoryOfExactRuns(device, plan, input, want, [
    { producersInConsumers: true, producersInHalos: false },
    { producersInConsumers: false },
  ]);
  // Fused, join is stored without up0's part: 2 words a pixel less.
  assert.equal(bytes[1]! - bytes[0]!, 2 * 4 * shape.height * shape.width);
  input.buffer.destroy();
});
