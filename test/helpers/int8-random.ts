// Random INT8 tensors and op parameters for the INT8 kernel tests, random network features, INT8
// networks run against their CPU reference, and one op run into a filled output (bisections).
import assert from 'node:assert/strict';
import { unpackInt8, type Int8OpParams, type Int8Tensor } from '../../src/core/int8.ts';
import type { Int8OpWeights } from '../../src/nn/ops/int8/common.ts';
import { encodeInt8Op } from '../../src/nn/ops/int8/encode.ts';
import { readBuffer } from '../../src/gpu/resources.ts';
import type { DirectOp } from '../../src/nn/ops/int8/direct.ts';
import type { Int8Plan } from '../../src/core/int8-plan.ts';
import { createInt8Network, type Int8NetworkOptions } from '../../src/nn/int8-network.ts';
import type { Activation, WeightedOp } from '../../src/core/graph.ts';
import { INT8_OP_TAPS } from '../../src/reference/nn/int8-ops.ts';
import { createTensor, type Tensor, type TensorShape } from '../../src/core/tensor.ts';
import {
  createGpuInt8Tensor,
  uploadTensor,
  readGpuTensor,
  type GpuInt8Tensor,
  type GpuTensor,
} from '../../src/nn/tensor.ts';
import { rng } from './gpu.ts';

export const randomInt8 = (random: () => number, length: number) =>
  Int8Array.from({ length }, () => Math.round((random() * 2 - 1) * 127));

/**
 * An op's random int8 parameters: outputs about half the int8 range from inputs of that range
 * (73: the spread of uniform ±127), and with `residual` one added at half its own scale, so that
 * outputs vary and few are clamped.
 */
export function randomInt8Params(
  random: () => number,
  op: WeightedOp,
  cin: number,
  cout: number,
  activation: Activation,
  residual = false,
): Int8OpParams {
  const toAccumulator = 2 * Math.sqrt(cin * INT8_OP_TAPS[op]) * 73;
  return {
    weight: randomInt8(random, cout * cin * INT8_OP_TAPS[op]),
    bias: Int32Array.from({ length: cout }, () => Math.round((random() * 2 - 1) * 127 ** 2)),
    multiplier: Math.fround(1 / toAccumulator),
    activation,
    ...(residual
      ? { residualMultiplier: Math.fround(toAccumulator / 2), residualActivation: 'relu' as const }
      : {}),
  };
}

/** Channels [offset, offset + part.channels) of `whole` replaced by `part` (planar tensors). */
export function withPart(whole: Int8Tensor, part: Int8Tensor, offset: number): Int8Tensor {
  const plane = whole.height * whole.width;
  const data = whole.data.slice();
  data.set(part.data, offset * plane);
  return { ...whole, data };
}

/** Random network features (−0.5 … 1.5) of `shape`, and a copy on the GPU. */
export function randomFeatures(device: GPUDevice, shape: TensorShape, seed: number) {
  const random = rng(seed);
  const features = createTensor(shape);
  for (let i = 0; i < features.data.length; i++) features.data[i] = random() * 2 - 0.5;
  return { features, input: uploadTensor(device, features) };
}

/**
 * Runs INT8 network `plan` on `input` once per options set, asserts each output equals `want`
 * (the CPU reference) bit for bit, and returns each network's memoryBytes.
 */
export async function memoryOfExactRuns(
  device: GPUDevice,
  plan: Int8Plan,
  input: GpuTensor,
  want: Tensor,
  runs: readonly Int8NetworkOptions[],
): Promise<number[]> {
  const bytes: number[] = [];
  for (const options of runs) {
    const network = createInt8Network(device, plan, options);
    const encoder = device.createCommandEncoder();
    const output = network.run(encoder, input);
    device.queue.submit([encoder.finish()]);
    const got = await readGpuTensor(device, output);
    assert.deepEqual(
      new Uint32Array(got.data.buffer),
      new Uint32Array(want.data.buffer),
      JSON.stringify(options),
    );
    bytes.push(network.memoryBytes());
    network.destroy();
  }
  return bytes;
}

/** A random int8 input of `channels` for a direct op `op` whose output is height × width. */
export function randomProducerInput(
  random: () => number,
  op: DirectOp,
  channels: number,
  height: number,
  width: number,
): Int8Tensor {
  const scale = op === 'down2x2' ? 2 : op === 'up2x2' ? 0.5 : 1;
  const [h, w] = [height * scale, width * scale];
  return { channels, height: h, width: w, data: randomInt8(random, channels * h * w) };
}

/**
 * Runs the INT8 op of `weights` (a bisection's field set or not) on `input` into a new output of
 * `shape` (standard layout) filled with 0x55 bytes first, so what the op leaves unwritten reads
 * 85; returns the output's values (CHW).
 */
export async function runOpIntoFilled(
  device: GPUDevice,
  weights: Int8OpWeights,
  input: GpuInt8Tensor,
  shape: TensorShape,
): Promise<Int8Array> {
  const output = createGpuInt8Tensor(device, shape);
  device.queue.writeBuffer(
    output.buffer,
    0,
    new Uint32Array(output.buffer.size / 4).fill(0x55555555),
  );
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encodeInt8Op(device, pass, weights, input, { output });
  pass.end();
  device.queue.submit([encoder.finish()]);
  const words = new Uint32Array((await readBuffer(device, output.buffer)).buffer);
  output.buffer.destroy();
  return unpackInt8(words, shape.channels, shape.height, shape.width);
}

/**
 * The parts every INT8 kernel bisection shares, checked through `run` (the op with the part left
 * out, into a filled output: `runOpIntoFilled`): the whole kernel gives `whole` (the CPU's values),
 * `no-product` `biasOnly` (the CPU's with zero weights), `no-epilogue` writes nothing, and made-up
 * inputs or weights give other values, all written. Returns nothing; asserts.
 */
export async function checkSharedBisections(
  run: (
    bisect?: 'no-product' | 'no-epilogue' | 'no-input-loads' | 'no-weight-loads',
  ) => Promise<Int8Array>,
  whole: Int8Array,
  biasOnly: Int8Array,
): Promise<void> {
  const got = await run();
  assert.deepEqual(got, whole);
  assert.deepEqual(await run('no-product'), biasOnly);
  assert.ok(
    (await run('no-epilogue')).every((v) => v === 85),
    'no-epilogue writes nothing',
  );
  for (const bisect of ['no-input-loads', 'no-weight-loads'] as const) {
    const other = await run(bisect);
    assert.notDeepEqual(other, got, bisect);
    assert.ok(other.some((v) => v !== 85) && new Set(other).size > 6, `${bisect}: written`);
  }
}
