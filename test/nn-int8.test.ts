// INT8 inference: the integer arithmetic of src/core/int8.ts (rounding, requantization, packing),
// and the dot4I8Packed kernels against their CPU reference, bit for bit, on random inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu, rng } from './helpers/gpu.ts';
import {
  accumulatorBound,
  packInt8,
  requantize,
  requantMultiplier,
  roundHalfEven,
  quantizeBias,
  quantizeInt8,
  unpackInt8,
  type Int8OpParams,
  type Int8Tensor,
} from '../src/core/int8.ts';
import type { Activation } from '../src/core/graph.ts';
import { conv3x3Int8Cpu, conv3x3Int8ToF32Cpu } from '../src/reference/nn/int8-ops.ts';
import { encodeInt8Conv3x3, uploadInt8Conv3x3 } from '../src/nn/ops/int8/conv3x3.ts';
import { createGpuInt8Tensor, createGpuTensor, readGpuTensor } from '../src/nn/tensor.ts';
import { readBuffer } from '../src/gpu/resources.ts';

test('int8 arithmetic: ties to even, clamped grid, requantization, bias, packing', () => {
  assert.deepEqual(
    [2.5, 3.5, -2.5, -1.5, 0.5, -0.5, 1.4999, -7.2].map(roundHalfEven),
    [2, 4, -2, -2, 0, -0, 1, -7],
  );
  assert.equal(quantizeInt8(1000, 1), 127);
  assert.equal(quantizeInt8(-1000, 1), -127);
  assert.equal(quantizeInt8(0.25, 0.1), 2);
  // M = 1/4: t = 6 → 1.5 → 2, t = 10 → 2.5 → 2 (ties to even), negative through leaky: −40/4 · 0.1.
  assert.equal(requantize(6, 0.25, 'none'), 2);
  assert.equal(requantize(10, 0.25, 'none'), 2);
  assert.equal(requantize(-10, 0.25, 'relu'), 0);
  assert.equal(requantize(-40, 0.25, 'leaky'), -1);
  assert.equal(requantize(1e6, 0.25, 'none'), 127);
  assert.equal(requantMultiplier(0.5, 0.25, 0.125), 1);
  assert.equal(requantMultiplier(0.1, 0.1), Math.fround(0.1 * 0.1));
  assert.equal(quantizeBias(0.3, 0.1, 0.5), 6);
  assert.equal(accumulatorBound('op', 9, [10]), 9 * 127 * 127 + 10);
  assert.throws(() => accumulatorBound('big op', 1100, [0]), /big op: 1100 int8 products/);

  const random = rng(5);
  const values = Int8Array.from({ length: 7 * 3 * 2 }, () => Math.round(random() * 254 - 127));
  const words = packInt8(values, 7, 3, 2);
  assert.equal(words.length, 2 * 3 * 2);
  assert.deepEqual(unpackInt8(words, 7, 3, 2), values);
  // Byte k of word g of pixel p (at p·2 + g) is channel 4g + k; the padding channel 7 is zero.
  assert.equal((words[1 * 2 + 1]! >>> 16) & 0xff, values[6 * 6 + 1]! & 0xff);
  assert.equal(words[1 * 2 + 1]! >>> 24, 0);
  assert.equal(words[1 * 2 + 0]! & 0xff, values[0 * 6 + 1]! & 0xff);
});

/** Random int8 values in [−range, range]. */
function randomInt8(random: () => number, length: number, range = 127): Int8Array {
  return Int8Array.from({ length }, () => Math.round((random() * 2 - 1) * range));
}

function randomInt8Tensor(
  random: () => number,
  c: number,
  h: number,
  w: number,
  range = 127,
): Int8Tensor {
  const data = randomInt8(random, c * h * w, range);
  return { channels: c, height: h, width: w, data };
}

function randomParams(
  random: () => number,
  cin: number,
  cout: number,
  multiplier: number,
  activation: Activation,
  range = 127,
): Int8OpParams {
  return {
    weight: randomInt8(random, cout * cin * 9, range),
    bias: Int32Array.from({ length: cout }, () => Math.round((random() * 2 - 1) * range * range)),
    multiplier,
    activation,
  };
}

const CASES: Array<[number, number, number, number, number, Activation, number]> = [
  // cin, cout, height, width, multiplier, activation, value range
  [5, 9, 11, 13, Math.fround(1 / 3000), 'none', 127],
  [16, 16, 16, 16, 1 / 4096, 'relu', 127],
  [12, 8, 9, 17, Math.fround(7.3e-4), 'leaky', 127],
  [33, 3, 10, 8, Math.fround(5e-4), 'relu', 127],
  // Small values and M = 1/2: every odd accumulator is a tie (ties go to even).
  [8, 8, 8, 8, 0.5, 'leaky', 3],
];

test('int8 conv3x3 on the GPU equals its CPU reference bit for bit (int8 and f32 outputs)', async () => {
  const { device } = await testGpu();
  const random = rng(11);
  for (const [cin, cout, h, w, multiplier, activation, range] of CASES) {
    const label = `${cin}→${cout} ${h}x${w} ${activation}`;
    const input = randomInt8Tensor(random, cin, h, w, range);
    const params = randomParams(random, cin, cout, multiplier, activation, range);
    const weights = uploadInt8Conv3x3(device, params, cin);
    const gpuInput = createGpuInt8Tensor(device, input);
    device.queue.writeBuffer(gpuInput.buffer, 0, packInt8(input.data, cin, h, w));
    const packedOut = createGpuInt8Tensor(device, { channels: cout, height: h, width: w });
    const realOut = createGpuTensor(device, { channels: cout, height: h, width: w });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeInt8Conv3x3(device, pass, gpuInput, weights, packedOut);
    encodeInt8Conv3x3(device, pass, gpuInput, { ...weights, multiplier: 1e-3 }, realOut);
    pass.end();
    device.queue.submit([encoder.finish()]);

    const want = conv3x3Int8Cpu(input, params);
    const words = new Uint32Array((await readBuffer(device, packedOut.buffer)).buffer);
    const got = unpackInt8(words, cout, h, w);
    assert.deepEqual(got, want.data, label);
    // Padding bytes of the last word stay zero.
    const padded = unpackInt8(words, Math.ceil(cout / 4) * 4, h, w);
    assert.ok(
      padded.subarray(cout * h * w).every((v) => v === 0),
      `${label}: padding`,
    );
    // Not a trivial output: the values spread over the grid, some saturate.
    assert.ok(new Set(want.data).size > 20, `${label}: spread`);

    const wantReal = conv3x3Int8ToF32Cpu(input, { ...params, multiplier: 1e-3 });
    const gotReal = await readGpuTensor(device, realOut);
    assert.deepEqual(
      new Uint32Array(gotReal.data.buffer),
      new Uint32Array(wantReal.data.buffer),
      `${label}: f32 output`,
    );
  }
});

test('int8 conv3x3 refuses mismatched tensors and accumulators that f32 cannot hold', async () => {
  const { device } = await testGpu();
  const params = randomParams(rng(2), 4, 4, 0.01, 'none');
  const weights = uploadInt8Conv3x3(device, params, 4);
  const input = createGpuInt8Tensor(device, { channels: 8, height: 4, width: 4 });
  const output = createGpuInt8Tensor(device, { channels: 4, height: 4, width: 4 });
  const pass = device.createCommandEncoder().beginComputePass();
  assert.throws(
    () => encodeInt8Conv3x3(device, pass, input, weights, output),
    /input has 8 channels, the weights 4/,
  );
  const big = randomInt8Tensor(rng(3), 130, 2, 2);
  assert.throws(
    () => conv3x3Int8Cpu(big, randomParams(rng(4), 130, 1, 0.01, 'none')),
    /int8 conv3x3: 1170 int8 products/,
  );
});
