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
import { tensorFrom } from '../src/nn/tensor.ts';
import {
  NETWORK_V1,
  countParameters,
  inferShapes,
  inputMultiple,
  macsPerOutputPixel,
  parameterSpecs,
  validateGraph,
  type GraphDescription,
} from '../src/nn/graph.ts';
import { InputError } from '../src/core/errors.ts';

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

test('network v1: parameter count, MACs and shapes', () => {
  validateGraph(NETWORK_V1);
  // Hand sum over the 12 weighted nodes (see graph.ts): 528 + 4640 + 2080 + 18496 + 8256 + 73856
  // + 8224 + 9248 + 2064 + 2320 + 520 + 1160.
  assert.equal(countParameters(NETWORK_V1), 131392);
  // 3 downs and 3 ups at 128 each, res blocks 4608 / 4 = 16·16·9·2 / 4 per level, decoders 576.
  assert.equal(macsPerOutputPixel(NETWORK_V1), 6 * 128 + 3 * 1152 + 2 * 576 + 1152);
  assert.equal(inputMultiple(NETWORK_V1), 8);
  const shapes = inferShapes(NETWORK_V1, 24, 32);
  assert.deepEqual(shapes.get('res3'), { channels: 64, height: 3, width: 4 });
  assert.deepEqual(shapes.get('join'), { channels: 16, height: 24, width: 32 });
  assert.deepEqual(shapes.get('raw'), { channels: 8, height: 24, width: 32 });
  assert.throws(() => inferShapes(NETWORK_V1, 20, 32), RangeError);
  const specs = parameterSpecs(NETWORK_V1);
  assert.deepEqual(specs.find((s) => s.name === 'up2.weight')?.shape, [64, 32, 2, 2]);
  assert.deepEqual(specs.find((s) => s.name === 'down1.weight')?.shape, [16, 8, 2, 2]);
  assert.equal(JSON.stringify(JSON.parse(JSON.stringify(NETWORK_V1))), JSON.stringify(NETWORK_V1));
});

test('graph validation names the problem', () => {
  const bad = (edit: (g: GraphDescription) => GraphDescription, pattern: RegExp) =>
    assert.throws(
      () => validateGraph(edit(NETWORK_V1)),
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
