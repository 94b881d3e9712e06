import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu, rng, maxAbsDiff } from './helpers/gpu.ts';
import { inferShapes, type GraphDescription } from '../src/core/graph.ts';
import {
  NETWORK_V2,
  NETWORK_V2_INPUT_CHANNELS,
  NETWORK_V2_OUTPUT_CHANNELS,
} from '../src/nn/network-v2.ts';
import { createNetwork } from '../src/nn/network.ts';
import { runNetworkCpu } from '../src/reference/nn/network.ts';
import { initWeights } from '../src/nn/weights.ts';
import { readGpuTensor, uploadTensor } from '../src/nn/tensor.ts';
import { tensorFrom, type Tensor } from '../src/core/tensor.ts';
import { InputError } from '../src/core/errors.ts';
import { requestGpu } from '../src/gpu/device.ts';
import { createGpuTimer, type GpuTimer } from '../src/gpu/profiler.ts';

/** Network v1 weights with random (non-zero) biases, so the bias path is exercised too. */
function testParameters(seed: number): Map<string, Float32Array> {
  const parameters = initWeights(NETWORK_V2, seed);
  const next = rng(seed + 1);
  for (const [name, values] of parameters) {
    if (name.endsWith('.bias')) for (let i = 0; i < values.length; i++) values[i] = next() - 0.5;
  }
  return parameters;
}

function randomInput(height: number, width: number, seed: number): Tensor {
  const next = rng(seed);
  const channels = NETWORK_V2_INPUT_CHANNELS;
  const data = Float32Array.from({ length: channels * height * width }, () => next() * 2 - 1);
  return tensorFrom({ channels, height, width }, data);
}

/** Relative to the largest reference magnitude: f32 GPU vs float64 CPU through 20 layers. */
const NETWORK_TOLERANCE = 1e-4;
/**
 * f16 intermediates: each stored value is rounded by up to 2^-11 relative; about 20 roundings in
 * sequence, partly averaged by the sums (measured 7e-4 on lavapipe).
 */
const F16_NETWORK_TOLERANCE = 5e-3;

test('network v2: GPU matches the float64 CPU reference at 32x24, then after a resize to 16x16', async () => {
  const { device } = await testGpu();
  const parameters = testParameters(7);
  const network = createNetwork(device, NETWORK_V2, parameters);
  for (const [height, width, seed] of [
    [24, 32, 1],
    [16, 16, 2],
  ] as const) {
    const input = randomInput(height, width, seed);
    const input64 = tensorFrom(input, Float64Array.from(input.data));
    const cpu = runNetworkCpu(NETWORK_V2, parameters, input64);
    const encoder = device.createCommandEncoder();
    const run = network.run(encoder, uploadTensor(device, input));
    device.queue.submit([encoder.finish()]);
    for (const name of ['res1', 'res3', 'skip2', 'join', 'raw']) {
      const gpu = await readGpuTensor(device, run.activations.get(name)!);
      const ref = cpu.tensors.get(name)!;
      assert.deepEqual(
        [gpu.channels, gpu.height, gpu.width],
        [ref.channels, ref.height, ref.width],
      );
      const scale = Math.max(1, ...ref.data.map(Math.abs));
      const { max, at } = maxAbsDiff(gpu.data, ref.data);
      assert.ok(max <= NETWORK_TOLERANCE * scale, `${name} at ${width}x${height}: ${max} at ${at}`);
    }
    assert.equal(run.output, run.outputs.get('raw'));
    assert.deepEqual(
      [run.output.channels, run.output.height, run.output.width],
      [NETWORK_V2_OUTPUT_CHANNELS, height, width],
    );
  }
  network.destroy();
});

test('network v2: runs give bit-identical outputs (same, fresh and alternating input buffers)', async () => {
  const { device } = await testGpu();
  const network = createNetwork(device, NETWORK_V2, testParameters(3));
  const cpuInput = randomInput(16, 24, 9);
  const input = uploadTensor(device, cpuInput);
  const outputs: Float32Array[] = [];
  const other = uploadTensor(device, randomInput(16, 24, 10));
  // Same buffer, a fresh buffer, then back and forth between cached plans.
  for (const given of [input, input, uploadTensor(device, cpuInput), other, input]) {
    const encoder = device.createCommandEncoder();
    const run = network.run(encoder, given);
    device.queue.submit([encoder.finish()]);
    outputs.push((await readGpuTensor(device, run.output)).data);
  }
  assert.ok(
    outputs[0]!.some((v) => v !== 0),
    'output is not all zero',
  );
  assert.deepEqual(new Uint32Array(outputs[0]!.buffer), new Uint32Array(outputs[1]!.buffer));
  assert.deepEqual(new Uint32Array(outputs[0]!.buffer), new Uint32Array(outputs[2]!.buffer));
  assert.notDeepEqual(outputs[3], outputs[0]);
  assert.deepEqual(new Uint32Array(outputs[0]!.buffer), new Uint32Array(outputs[4]!.buffer));
  network.destroy();
});

test('network: a timed run times every node and gives the same output', async () => {
  const { device, features } = await testGpu();
  assert.ok(features.timestampQuery, 'lavapipe and Dawn provide timestamp-query');
  const network = createNetwork(device, NETWORK_V2, testParameters(5));
  const input = uploadTensor(device, randomInput(8, 16, 4));
  const read = async (timer?: GpuTimer) => {
    const encoder = device.createCommandEncoder();
    const run = network.run(encoder, input, timer ? { timer } : {});
    timer?.resolve(encoder);
    device.queue.submit([encoder.finish()]);
    return (await readGpuTensor(device, run.output)).data;
  };
  const timer = createGpuTimer(device);
  const timed = await read(timer);
  const times = await timer.read();
  assert.deepEqual(
    [...times.keys()],
    NETWORK_V2.nodes.map((n) => n.name),
  );
  assert.ok([...times.values()].every((ms) => ms >= 0 && Number.isFinite(ms)));
  assert.deepEqual(timed, await read());
  timer.destroy();
  network.destroy();
});

test('network: writeParameters changes the output; bad inputs and parameters are rejected', async () => {
  const { device } = await testGpu();
  const graph: GraphDescription = {
    name: 'tiny',
    version: 1,
    inputs: [{ name: 'x', channels: 2 }],
    outputs: ['y'],
    nodes: [{ op: 'conv1x1', name: 'proj', inputs: ['x'], output: 'y', outChannels: 1 }],
  };
  const network = createNetwork(
    device,
    graph,
    new Map([
      ['proj.weight', Float32Array.from([1, 2])],
      ['proj.bias', Float32Array.from([0.5])],
    ]),
  );
  const input = uploadTensor(
    device,
    tensorFrom({ channels: 2, height: 1, width: 2 }, Float32Array.from([1, 2, 3, 4])),
  );
  const read = async () => {
    const encoder = device.createCommandEncoder();
    const run = network.run(encoder, input);
    device.queue.submit([encoder.finish()]);
    return [...(await readGpuTensor(device, run.output)).data];
  };
  assert.deepEqual(await read(), [1 + 6 + 0.5, 2 + 8 + 0.5]);
  network.writeParameters(
    new Map([
      ['proj.weight', Float64Array.from([-1, 0])],
      ['proj.bias', Float64Array.from([0])],
    ]),
  );
  assert.deepEqual(await read(), [-1, -2]);
  assert.throws(
    () => network.writeParameters(new Map([['proj.weight', new Float32Array(2)]])),
    InputError,
  );
  const encoder = device.createCommandEncoder();
  const wrong = uploadTensor(
    device,
    tensorFrom({ channels: 3, height: 1, width: 2 }, new Float32Array(6)),
  );
  assert.throws(() => network.run(encoder, wrong), /input x is 3x1x2, want 2x1x2/);
  assert.throws(() => inferShapes(NETWORK_V2, 12, 16), /multiples of 8/);
  network.destroy();
});

test('network v2 in f16: within the f16 bound of the float64 CPU reference', async () => {
  const { device } = await testGpu();
  const parameters = testParameters(7);
  const network = createNetwork(device, NETWORK_V2, parameters, { precision: 'f16' });
  const input = randomInput(16, 24, 1);
  const cpu = runNetworkCpu(
    NETWORK_V2,
    parameters,
    tensorFrom(input, Float64Array.from(input.data)),
  );
  const encoder = device.createCommandEncoder();
  const run = network.run(encoder, uploadTensor(device, input));
  device.queue.submit([encoder.finish()]);
  assert.equal(run.activations.get('res2')!.dtype, 'f16');
  assert.equal(run.output.dtype ?? 'f32', 'f32');
  const gpu = await readGpuTensor(device, run.output);
  const ref = cpu.output.data;
  const scale = Math.max(1, ...ref.map(Math.abs));
  const { max, at } = maxAbsDiff(gpu.data, ref);
  assert.ok(max <= F16_NETWORK_TOLERANCE * scale, `f16 network: ${max} at ${at} (scale ${scale})`);
  network.destroy();
});

test('network v2 without keepActivations: same bits, less memory', async () => {
  const { device } = await testGpu();
  const parameters = testParameters(4);
  const input = uploadTensor(device, randomInput(24, 32, 6));
  const results: { data: Float32Array; bytes: number; names: string[]; timed: number }[] = [];
  for (const keepActivations of [true, false]) {
    const network = createNetwork(device, NETWORK_V2, parameters, { keepActivations });
    assert.equal(network.intermediateBytes(), 0);
    const timer = createGpuTimer(device);
    const encoder = device.createCommandEncoder();
    const run = network.run(encoder, input, { timer });
    timer.resolve(encoder);
    device.queue.submit([encoder.finish()]);
    const data = (await readGpuTensor(device, run.output)).data;
    const timed = (await timer.read()).size;
    timer.destroy();
    const names = [...run.activations.keys()];
    results.push({ data, bytes: network.intermediateBytes(), names, timed });
    network.destroy();
  }
  const [kept, shared] = results as [(typeof results)[0], (typeof results)[0]];
  assert.deepEqual(new Uint32Array(shared.data.buffer), new Uint32Array(kept.data.buffer));
  assert.deepEqual(shared.names.sort(), ['features', 'raw']);
  // The concat and the 5 adds are fused into weighted ops.
  assert.equal(shared.timed, NETWORK_V2.nodes.length - 6);
  // Kept, in full-resolution channel planes: up0 8 + join 20 + mix 24 + raw 9 at full res, 7·16
  // at ½, 7·32 at ¼ and 4·64 at ⅛ = 61 + 28 + 14 + 4 = 107.
  assert.equal(kept.bytes, 107 * 32 * 24 * 4);
  // Shared: 3 buffers per lower level (a block's input, middle and output), at full res up0 (8),
  // mix (24) and raw (9; the concat is read in place): 3·16/4 + 3·32/16 + 3·64/64 + 41 = 62.
  assert.equal(shared.bytes, 62 * 32 * 24 * 4);
});

test('network keeping two sizes: alternating sizes reuse the buffers and plans, same bits', async () => {
  const { device } = await testGpu();
  const parameters = testParameters(9);
  const inputs = [
    uploadTensor(device, randomInput(24, 32, 3)),
    uploadTensor(device, randomInput(16, 16, 4)),
  ];
  const run = async (network: ReturnType<typeof createNetwork>, input: (typeof inputs)[0]) => {
    const encoder = device.createCommandEncoder();
    const output = network.run(encoder, input).output;
    device.queue.submit([encoder.finish()]);
    return new Uint32Array((await readGpuTensor(device, output)).data.buffer);
  };
  const fresh = [];
  for (const input of inputs) {
    const network = createNetwork(device, NETWORK_V2, parameters);
    fresh.push(await run(network, input));
    network.destroy();
  }
  const kept = createNetwork(device, NETWORK_V2, parameters, { keptSizes: 2 });
  const single = createNetwork(device, NETWORK_V2, parameters);
  for (const network of [kept, single]) {
    await run(network, inputs[0]!);
    await run(network, inputs[1]!);
  }
  // Back to the first size: the two-size network creates no buffer, the one-size one reallocates.
  const created = { count: 0 };
  const createBuffer = device.createBuffer.bind(device);
  device.createBuffer = (descriptor) => {
    created.count++;
    return createBuffer(descriptor);
  };
  try {
    assert.deepEqual(await run(kept, inputs[0]!), fresh[0]);
    const keptCreated = created.count - 1; // the read-back's staging buffer
    created.count = 0;
    assert.deepEqual(await run(single, inputs[0]!), fresh[0]);
    assert.equal(keptCreated, 0, 'buffers created on returning to a kept size');
    assert.ok(created.count > 10, `the one-size network reallocates (${created.count} buffers)`);
    assert.deepEqual(await run(kept, inputs[1]!), fresh[1]);
  } finally {
    device.createBuffer = createBuffer;
    kept.destroy();
    single.destroy();
  }
  assert.throws(
    () => createNetwork(device, NETWORK_V2, parameters, { keptSizes: 0 }),
    /keptSizes must be a positive integer, got 0/,
  );
});

test('network: f16 needs shader-f16', async () => {
  const plain = await requestGpu({ wantFeatures: [] });
  assert.equal(plain.device.features.has('shader-f16'), false);
  assert.throws(
    () => createNetwork(plain.device, NETWORK_V2, testParameters(1), { precision: 'f16' }),
    /needs the adapter feature shader-f16/,
  );
  plain.device.destroy();
});

test('inference fusion keeps results on a graph where only some nodes can fuse', async () => {
  const { device } = await testGpu();
  const conv = (name: string, input: string, activation: 'none' | 'relu' = 'none') =>
    ({ op: 'conv3x3', name, inputs: [input], output: name, outChannels: 3, activation }) as const;
  const graph: GraphDescription = {
    name: 'fusion-cases',
    version: 1,
    inputs: [{ name: 'x', channels: 2 }],
    outputs: ['y', 'shared'],
    nodes: [
      conv('a', 'x'),
      conv('shared', 'a', 'relu'), // a is read twice: its add cannot fold into it
      { op: 'add', name: 's1', inputs: ['a', 'shared'], output: 's1', activation: 'leaky' },
      conv('b', 's1'),
      conv('c', 'b', 'relu'),
      // b is made before c: the add folds into c (the later producer), reading b as residual.
      { op: 'add', name: 's2', inputs: ['b', 'c'], output: 's2' },
      { op: 'concat', name: 'j', inputs: ['s2', 'x'], output: 'j' },
      { op: 'conv1x1', name: 'y', inputs: ['j'], output: 'y', outChannels: 2 },
    ],
  };
  const next = rng(77);
  const parameters = new Map<string, Float32Array>();
  for (const [name, values] of initWeights(graph, 3)) {
    parameters.set(name, name.endsWith('.bias') ? values.map(() => next() - 0.5) : values);
  }
  const input = tensorFrom(
    { channels: 2, height: 8, width: 8 },
    randomInput(8, 8, 5).data.slice(0, 128),
  );
  const cpu = runNetworkCpu(graph, parameters, input);
  const network = createNetwork(device, graph, parameters, { keepActivations: false });
  const timer = createGpuTimer(device);
  const encoder = device.createCommandEncoder();
  const run = network.run(encoder, uploadTensor(device, input), { timer });
  timer.resolve(encoder);
  device.queue.submit([encoder.finish()]);
  assert.deepEqual([...(await timer.read()).keys()], ['a', 'shared', 's1', 'b', 'c+s2', 'y']);
  for (const name of ['y', 'shared']) {
    const gpu = (await readGpuTensor(device, run.outputs.get(name)!)).data;
    const ref = cpu.tensors.get(name)!.data;
    const { max } = maxAbsDiff(gpu, ref);
    assert.ok(max <= 1e-4 * Math.max(1, ...ref.map(Math.abs)), `${name}: ${max}`);
  }
  timer.destroy();
  network.destroy();
});

test('network: more input buffers than cached plans, all recorded in one encoder, stay valid', async () => {
  // Training records a whole clip (more frames than the plan cache holds) in one command buffer;
  // evicting a plan must not destroy buffers that encoder still uses.
  const { device } = await testGpu();
  const parameters = testParameters(21);
  const network = createNetwork(device, NETWORK_V2, parameters);
  const inputs = Array.from({ length: 11 }, (_, i) => randomInput(8, 8, 100 + i));
  const outputs = inputs.map(() =>
    device.createBuffer({
      size: NETWORK_V2_OUTPUT_CHANNELS * 8 * 8 * 4,
      usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC | GPUBufferUsage.STORAGE,
    }),
  );
  device.pushErrorScope('validation');
  const encoder = device.createCommandEncoder();
  inputs.forEach((input, i) => {
    const { output } = network.run(encoder, uploadTensor(device, input));
    encoder.copyBufferToBuffer(output.buffer, 0, outputs[i]!, 0, outputs[i]!.size);
  });
  device.queue.submit([encoder.finish()]);
  const error = await device.popErrorScope();
  assert.equal(error, null, error?.message);
  for (const [i, input] of inputs.entries()) {
    const got = await readGpuTensor(device, {
      channels: NETWORK_V2_OUTPUT_CHANNELS,
      height: 8,
      width: 8,
      buffer: outputs[i]!,
    });
    const want = runNetworkCpu(NETWORK_V2, parameters, input).output;
    const scale = Math.max(...want.data.map(Math.abs));
    assert.ok(maxAbsDiff(got.data, want.data).max <= NETWORK_TOLERANCE * scale, `input ${i}`);
  }
});
