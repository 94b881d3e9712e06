import { conv3x3OutBlock, conv3x3 } from '../src/nn/ops/conv3x3.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addCpu,
  concatCpu,
  conv1x1Cpu,
  conv3x3Cpu,
  down2x2Cpu,
  up2x2Cpu,
} from '../src/reference/nn/ops.ts';
import {
  type Activation,
  countParameters,
  inferShapes,
  inputMultiple,
  macsPerOutputPixel,
  parameterSpecs,
  validateGraph,
  type GraphDescription,
} from '../src/core/graph.ts';
import { tensorFrom, type Tensor } from '../src/core/tensor.ts';
import { NETWORK_V2 } from '../src/nn/network-v2.ts';
import { InputError } from '../src/core/errors.ts';
import { describeNetwork } from '../src/nn/describe.ts';
import { NETWORK_V3A } from '../src/nn/network-v3.ts';
import { floatToHalf, halfToFloat } from '../src/core/half.ts';
import { testGpu, rng, maxAbsDiff } from './helpers/gpu.ts';
import { createStorageBuffer } from '../src/gpu/resources.ts';
import { createGpuTensor, readGpuTensor, uploadTensor } from '../src/nn/tensor.ts';
import { conv1x1 } from '../src/nn/ops/conv1x1.ts';
import { down2x2, down2x2OutBlock } from '../src/nn/ops/down2x2.ts';
import { up2x2 } from '../src/nn/ops/up2x2.ts';
import { add } from '../src/nn/ops/add.ts';
import { concat } from '../src/nn/ops/concat.ts';

const f32 = (values: number[]) => Float32Array.from(values);
const f64 = (values: number[]) => Float64Array.from(values);

test('conv3x3 CPU: identity kernel, zero padding, bias and relu by hand', () => {
  const input = tensorFrom({ channels: 1, height: 3, width: 3 }, f32([1, 2, 3, 4, 5, 6, 7, 8, 9]));
  const identity = f32([0, 0, 0, 0, 1, 0, 0, 0, 0]);
  assert.deepEqual([...conv3x3Cpu(input, identity, f32([0])).data], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const ones = tensorFrom({ channels: 1, height: 3, width: 3 }, f64(Array(9).fill(1)));
  const box = conv3x3Cpu(ones, f64(Array(9).fill(1)), f64([-6]), 'relu');
  assert.ok(box.data instanceof Float64Array);
  assert.deepEqual([...box.data], [0, 0, 0, 0, 3, 0, 0, 0, 0]);
  // Kernel orientation: weight (ky, kx) = (0, 0) reads the pixel above-left.
  const corner = f32([1, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...conv3x3Cpu(input, corner, f32([0])).data], [0, 0, 0, 0, 1, 2, 0, 4, 5]);
});

test('conv1x1 CPU: two channels in, leaky out by hand', () => {
  const input = tensorFrom({ channels: 2, height: 1, width: 2 }, f32([1, -2, 10, 20]));
  const out = conv1x1Cpu(input, f32([1, -1]), f32([0]), 'leaky');
  // (1 - 10) = -9 → -0.9; (-2 - 20) = -22 → -2.2
  assert.ok(Math.abs(out.data[0]! + 0.9) < 1e-6 && Math.abs(out.data[1]! + 2.2) < 1e-6);
});

test('down2x2 CPU: weight taps by hand', () => {
  const input = tensorFrom({ channels: 1, height: 2, width: 4 }, f64([1, 2, 5, 6, 3, 4, 7, 8]));
  const out = down2x2Cpu(input, f64([1, 10, 100, 1000]), f64([0.5]));
  assert.deepEqual([out.channels, out.height, out.width], [1, 1, 2]);
  assert.deepEqual([...out.data], [1 + 20 + 300 + 4000 + 0.5, 5 + 60 + 700 + 8000 + 0.5]);
  assert.throws(
    () =>
      down2x2Cpu(
        tensorFrom({ channels: 1, height: 1, width: 2 }, f64([1, 2])),
        f64([1, 1, 1, 1]),
        f64([0]),
      ),
    RangeError,
  );
});

test('up2x2 CPU: transposed conv in PyTorch layout by hand', () => {
  // 2 input channels, 1 output, input 1×1: out(0, i, j) = b + in0·w[0][0][i][j] + in1·w[1][0][i][j].
  const input = tensorFrom({ channels: 2, height: 1, width: 1 }, f32([2, -1]));
  const out = up2x2Cpu(input, f32([1, 2, 3, 4, 10, 20, 30, 40]), f32([1]));
  assert.deepEqual([out.channels, out.height, out.width], [1, 2, 2]);
  assert.deepEqual([...out.data], [1 + 2 - 10, 1 + 4 - 20, 1 + 6 - 30, 1 + 8 - 40]);
  // 1 input channel, 2 outputs: w[0][co] selects the output channel.
  const one = tensorFrom({ channels: 1, height: 1, width: 2 }, f32([1, 2]));
  const two = up2x2Cpu(one, f32([1, 0, 0, 0, 0, 0, 0, 1]), f32([0, 0]));
  assert.deepEqual([...two.data], [1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2]);
});

test('add and concat CPU by hand', () => {
  const shape = { channels: 1, height: 1, width: 3 };
  const sum = addCpu(
    tensorFrom(shape, f32([1, -5, 2])),
    tensorFrom(shape, f32([1, 1, -3])),
    'relu',
  );
  assert.deepEqual([...sum.data], [2, 0, 0]);
  const cat = concatCpu([
    tensorFrom(shape, f32([1, 2, 3])),
    tensorFrom({ ...shape, channels: 2 }, f32([4, 5, 6, 7, 8, 9])),
  ]);
  assert.deepEqual([cat.channels, ...cat.data], [3, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('network v2: parameter count, MACs and shapes', () => {
  validateGraph(NETWORK_V2);
  // Hand sum over the 13 weighted nodes (see graph.ts): 784 + 4640 + 2080 + 18496 + 8256 + 73856
  // + 8224 + 9248 + 2064 + 2320 + 520 + 504 + 1953.
  assert.equal(countParameters(NETWORK_V2), 132945);
  // down1 12·16·4 / 4, the other 2 downs and 3 ups at 128 each, res blocks 4608 / 4 =
  // 16·16·9·2 / 4 per level, decoders 576, mix 20·24, head 24·9·9.
  assert.equal(
    macsPerOutputPixel(NETWORK_V2),
    192 + 5 * 128 + 3 * 1152 + 2 * 576 + 20 * 24 + 24 * 9 * 9,
  );
  assert.equal(inputMultiple(NETWORK_V2), 8);
  const shapes = inferShapes(NETWORK_V2, 24, 32);
  assert.deepEqual(shapes.get('res3'), { channels: 64, height: 3, width: 4 });
  assert.deepEqual(shapes.get('join'), { channels: 20, height: 24, width: 32 });
  assert.deepEqual(shapes.get('raw'), { channels: 9, height: 24, width: 32 });
  assert.throws(() => inferShapes(NETWORK_V2, 20, 32), RangeError);
  const specs = parameterSpecs(NETWORK_V2);
  assert.deepEqual(specs.find((s) => s.name === 'up2.weight')?.shape, [64, 32, 2, 2]);
  assert.deepEqual(specs.find((s) => s.name === 'down1.weight')?.shape, [16, 12, 2, 2]);
  assert.equal(JSON.stringify(JSON.parse(JSON.stringify(NETWORK_V2))), JSON.stringify(NETWORK_V2));
});

test('graph validation names the problem', () => {
  const bad = (edit: (g: GraphDescription) => GraphDescription, pattern: RegExp) =>
    assert.throws(
      () => validateGraph(edit(NETWORK_V2)),
      (e: Error) => e instanceof InputError && pattern.test(e.message),
    );
  bad((g) => ({ ...g, nodes: g.nodes.slice(1) }), /"down1" is not defined/);
  bad(
    (g) => ({ ...g, nodes: [{ ...g.nodes[0]!, op: 'conv5x5' as 'conv3x3' }, ...g.nodes.slice(1)] }),
    /unknown op/,
  );
  bad((g) => ({ ...g, outputs: ['nothing'] }), /output "nothing"/);
  bad(
    (g) => ({
      ...g,
      nodes: g.nodes.map((n) => (n.name === 'skip2' ? { ...n, inputs: ['up2', 'res1'] } : n)),
    }),
    /add inputs differ/,
  );
});

function randomArray(length: number, seed: number): Float32Array {
  const next = rng(seed);
  return Float32Array.from({ length }, () => next() * 2 - 1);
}

function randomTensor(channels: number, height: number, width: number, seed: number): Tensor {
  return tensorFrom({ channels, height, width }, randomArray(channels * height * width, seed));
}

/** GPU vs CPU within f32 accumulation error: 1e-4 of the largest reference magnitude (at least 1). */
function assertClose(gpu: Tensor, cpu: Tensor<Float32Array>, what: string): void {
  assert.deepEqual([gpu.channels, gpu.height, gpu.width], [cpu.channels, cpu.height, cpu.width]);
  const scale = Math.max(1, ...cpu.data.map(Math.abs));
  const { max, at } = maxAbsDiff(gpu.data, cpu.data);
  assert.ok(max <= 1e-4 * scale, `${what}: max diff ${max} at ${at} (scale ${scale})`);
}

const weightedOps = {
  conv3x3: { gpu: conv3x3, cpu: conv3x3Cpu, taps: 9 },
  conv1x1: { gpu: conv1x1, cpu: conv1x1Cpu, taps: 1 },
  down2x2: { gpu: down2x2, cpu: down2x2Cpu, taps: 4 },
  up2x2: { gpu: up2x2, cpu: up2x2Cpu, taps: 4 },
};

/** [Cin, Cout, activation, height, width]: odd channel counts, partial tiles and channel blocks. */
const cases: [number, number, Activation, number, number][] = [
  [3, 5, 'none', 16, 24],
  [7, 6, 'relu', 16, 24],
  [4, 8, 'leaky', 14, 22],
  [9, 12, 'leaky', 10, 6],
  [1, 1, 'relu', 2, 4],
  // conv3x3's blocks of 12 output channels (9 = network v2's head, 11, 36), of 8 (17) and of 4
  // (the frame generator's head, 26 -> 4; 1 -> 1 above).
  [24, 9, 'none', 12, 20],
  [26, 4, 'none', 12, 20],
  [5, 11, 'relu', 10, 10],
  [3, 36, 'none', 8, 8],
  [2, 17, 'leaky', 8, 16],
];

test('conv3x3 picks blocks of 12 output channels only where they waste fewer lanes than 8, of 4 up to 4 outputs', () => {
  const picks = [1, 4, 5, 8, 9, 12, 13, 16, 17, 24, 33, 36, 64].map(conv3x3OutBlock);
  assert.deepEqual(picks, [4, 4, 8, 8, 12, 12, 8, 8, 8, 8, 12, 12, 8]);
});

test("down2x2 computes all output channels in one thread up to 12 (the frame generator's 18 -> 12), blocks of 4 beyond", () => {
  const picks = [1, 4, 5, 8, 9, 12, 13, 16, 64].map(down2x2OutBlock);
  assert.deepEqual(picks, [4, 4, 8, 8, 12, 12, 4, 4, 4]);
});

for (const [opName, op] of Object.entries(weightedOps)) {
  test(`${opName} GPU matches the CPU reference on random inputs (odd channels and sizes)`, async () => {
    const { device } = await testGpu();
    let seed = 100;
    for (const [cin, cout, activation, height, width] of cases) {
      const input = randomTensor(cin, height, width, seed++);
      const weight = randomArray(cin * cout * op.taps, seed++);
      const bias = randomArray(cout, seed++);
      const expected = op.cpu(input, weight, bias, activation);
      const output = createGpuTensor(device, expected);
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      op.gpu(device, pass, {
        input: uploadTensor(device, input),
        weight: createStorageBuffer(device, weight),
        bias: createStorageBuffer(device, bias),
        output,
        activation,
      });
      pass.end();
      device.queue.submit([encoder.finish()]);
      assertClose(
        await readGpuTensor(device, output),
        expected,
        `${opName} ${cin}->${cout} ${activation} ${width}x${height}`,
      );
    }
  });
}

test('add and concat GPU match the CPU reference', async () => {
  const { device } = await testGpu();
  const a = randomTensor(3, 8, 6, 1);
  const b = randomTensor(3, 8, 6, 2);
  const c = randomTensor(5, 8, 6, 3);
  const sum = addCpu(a, b, 'leaky');
  const cat = concatCpu([a, c, b], 'relu');
  const sumGpu = createGpuTensor(device, sum);
  const catGpu = createGpuTensor(device, cat);
  const [ga, gb, gc] = [a, b, c].map((t) => uploadTensor(device, t));
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  add(device, pass, { a: ga!, b: gb!, output: sumGpu, activation: 'leaky' });
  concat(device, pass, { inputs: [ga!, gc!, gb!], output: catGpu, activation: 'relu' });
  pass.end();
  device.queue.submit([encoder.finish()]);
  assertClose(await readGpuTensor(device, sumGpu), sum, 'add');
  assertClose(await readGpuTensor(device, catGpu), cat, 'concat');
  assert.throws(() => add(device, pass, { a: ga!, b: gc!, output: sumGpu }), RangeError);
});

test('GPU ops reject mismatched shapes', async () => {
  const { device } = await testGpu();
  const input = createGpuTensor(device, { channels: 2, height: 4, width: 4 });
  const weight = createStorageBuffer(device, new Float32Array(2 * 3 * 9));
  const bias = createStorageBuffer(device, new Float32Array(3));
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  const wrongSize = createGpuTensor(device, { channels: 3, height: 4, width: 2 });
  assert.throws(
    () => conv3x3(device, pass, { input, weight, bias, output: wrongSize }),
    /gives 3x4x4/,
  );
  const tooMany = createGpuTensor(device, { channels: 5, height: 4, width: 4 });
  assert.throws(
    () => conv3x3(device, pass, { input, weight, bias, output: tooMany }),
    /weight needs/,
  );
  pass.end();
});

test('describeNetwork: per-node rows add up to the totals', () => {
  const d = describeNetwork(NETWORK_V2);
  assert.equal(d.parameters, countParameters(NETWORK_V2));
  assert.equal(d.macsPerOutputPixel, 7864);
  assert.equal(
    d.nodes.reduce((s, n) => s + n.macsPerPixel, 0),
    d.macsPerOutputPixel,
  );
  assert.equal(d.nodes.length, NETWORK_V2.nodes.length);
  const head = d.nodes.find((n) => n.name === 'head')!;
  assert.deepEqual(
    [head.inChannels, head.outChannels, head.scale, head.parameters],
    [24, 9, 1, 1953],
  );
  assert.equal(d.nodes.find((n) => n.name === 'res3a')!.scale, 1 / 8);
  assert.match(d.text, /132945 parameters, 7864 MACs per output pixel \(16\.31 GMAC/);
  // v2 has no history guard; the v3 candidates say theirs.
  assert.doesNotMatch(d.text, /history guard/);
  assert.match(describeNetwork(NETWORK_V3A).text, /history guard: .* more than 1 box range/);
});

/** The value nearest to v in binary16 (what an f16 tensor stores). */
const toHalf = (v: number) => halfToFloat(floatToHalf(v));

test('f16 tensors: every op reads and writes f16 within half rounding of the CPU reference', async () => {
  const { device, features } = await testGpu();
  assert.ok(features.shaderF16, 'lavapipe has shader-f16');
  let seed = 500;
  for (const [opName, op] of Object.entries(weightedOps)) {
    const [cin, cout, activation, height, width] = [5, 6, 'leaky', 6, 10] as const;
    const input = randomTensor(cin, height, width, seed++);
    const weight = randomArray(cin * cout * op.taps, seed++);
    const bias = randomArray(cout, seed++);
    // The GPU sees the input rounded to f16; its f32 result is rounded to f16 once more.
    const rounded = tensorFrom(input, Float64Array.from(input.data, toHalf));
    const expected = op.cpu(rounded, weight, bias, activation);
    const output = createGpuTensor(device, expected, 'out', 'f16');
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    op.gpu(device, pass, {
      input: uploadTensor(device, input, 'in', 'f16'),
      weight: createStorageBuffer(device, weight),
      bias: createStorageBuffer(device, bias),
      output,
      activation,
    });
    pass.end();
    device.queue.submit([encoder.finish()]);
    const gpu = await readGpuTensor(device, output);
    const scale = Math.max(1, ...expected.data.map(Math.abs));
    for (let i = 0; i < gpu.data.length; i++) {
      const ref = expected.data[i]!;
      const bound = 2 ** -11 * Math.abs(ref) + 1e-4 * scale;
      assert.ok(
        Math.abs(gpu.data[i]! - ref) <= bound,
        `${opName} f16 at ${i}: ${gpu.data[i]} vs ${ref}`,
      );
    }
  }
  // add and concat mixing f16 and f32 tensors.
  const a = randomTensor(2, 4, 6, seed++);
  const b = randomTensor(2, 4, 6, seed++);
  const ga = uploadTensor(device, a, 'a', 'f16');
  const gb = uploadTensor(device, b);
  const sum = createGpuTensor(device, a, 'sum', 'f16');
  const cat = createGpuTensor(device, { channels: 4, height: 4, width: 6 });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  add(device, pass, { a: ga, b: gb, output: sum, activation: 'relu' });
  concat(device, pass, { inputs: [gb, ga], output: cat });
  pass.end();
  device.queue.submit([encoder.finish()]);
  const aHalf = Float32Array.from(a.data, toHalf);
  const sumRef = a.data.map((_, i) => toHalf(Math.max(0, aHalf[i]! + b.data[i]!)));
  assert.deepEqual((await readGpuTensor(device, sum)).data, sumRef);
  assert.deepEqual([...(await readGpuTensor(device, cat)).data], [...b.data, ...aHalf]);
});

test('weighted ops read concat(input, input2) in place and add a residual (fused nodes)', async () => {
  const { device } = await testGpu();
  let seed = 900;
  for (const [opName, op] of Object.entries(weightedOps)) {
    for (const split of [true, false]) {
      const a = randomTensor(split ? 3 : 5, 6, 10, seed++);
      const b = randomTensor(2, 6, 10, seed++);
      // input2 is f16: the GPU reads it rounded.
      const bHalf = tensorFrom(b, Float32Array.from(b.data, toHalf));
      const weight = randomArray(5 * 7 * op.taps, seed++);
      const bias = randomArray(7, seed++);
      const convolved = op.cpu(split ? concatCpu([a, bHalf]) : a, weight, bias, 'relu');
      const residual = randomTensor(7, convolved.height, convolved.width, seed++);
      const expected = addCpu(convolved, residual, 'leaky');
      const output = createGpuTensor(device, expected);
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      op.gpu(device, pass, {
        input: uploadTensor(device, a),
        ...(split ? { input2: uploadTensor(device, b, 'b', 'f16') } : {}),
        residual: uploadTensor(device, residual),
        residualActivation: 'leaky',
        weight: createStorageBuffer(device, weight),
        bias: createStorageBuffer(device, bias),
        output,
        activation: 'relu',
      });
      pass.end();
      device.queue.submit([encoder.finish()]);
      const what = `${opName} ${split ? 'with input2 and' : 'with'} residual`;
      assertClose(await readGpuTensor(device, output), expected, what);
    }
  }
});
