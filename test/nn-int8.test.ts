// INT8 inference: the integer arithmetic of src/core/int8.ts (rounding, requantization, packing),
// and the dot4I8Packed kernels against their CPU reference, bit for bit, on random inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu, rng } from './helpers/gpu.ts';
import { checkSharedBisections, runOpIntoFilled } from './helpers/int8-random.ts';
import {
  accumulatorBound,
  addResidual,
  packInt8,
  packedGroups,
  requantize,
  requantMultiplier,
  roundHalfEven,
  quantizeBias,
  quantizeF32,
  unpackInt8,
  type Int8OpParams,
  type Int8Tensor,
} from '../src/core/int8.ts';
import type { Activation, WeightedOp } from '../src/core/graph.ts';
import {
  INT8_OP_TAPS,
  int8OpCpu,
  int8OpOutputShape,
  int8OpToF32Cpu,
  int8WeightIndex,
} from '../src/reference/nn/int8-ops.ts';
import {
  int8GroupStep,
  int8OutBlock,
  int8StoreWords,
  uploadInt8Op,
  wgslAccumulateBlock,
  CONV3X3_BISECTS,
  type Conv3x3Bisect,
} from '../src/nn/ops/int8/common.ts';
import { encodeInt8Op } from '../src/nn/ops/int8/encode.ts';
import { DIRECT_ROWS } from '../src/nn/ops/int8/direct-rows.ts';
import { directSplitApplies } from '../src/nn/ops/int8/direct-split.ts';
import type { DirectRows, DirectSplit } from '../src/nn/ops/int8/common.ts';
import {
  CONV3X3_LARGE_TILE,
  CONV3X3_TILE,
  conv3x3Tile,
  int8Conv3x3Code,
} from '../src/nn/ops/int8/conv3x3.ts';
import {
  int8MatrixCode,
  MATRIX_BISECTS,
  matrixGeometry,
  type MatrixTiling,
  packMatrixWeight,
  subgroupMatricesUsable,
  uploadMatrixWeights,
  type MatrixBisect,
  type MatrixMultiply,
} from '../src/nn/ops/int8/matrix.ts';
import {
  createGpuInt8Tensor,
  createGpuTensor,
  readGpuTensor,
  writeGpuTensor,
  type GpuInt8Tensor,
} from '../src/nn/tensor.ts';
import { readBuffer } from '../src/gpu/resources.ts';
import {
  createPaddedInt8Tensor,
  int8Layout,
  isPadded,
  paddedLayout,
  paddingIsZero,
  repackInt8Words,
} from '../src/nn/ops/int8/padded.ts';
import { prepareInt8Pad } from '../src/nn/ops/int8/pad.ts';
import { shapeString } from '../src/core/tensor.ts';
import { encodeQuantizeInt8 } from '../src/nn/ops/int8/quantize.ts';
import { randomInt8Model } from '../src/nn/networks.ts';
import { NETWORK_V3A } from '../src/nn/network-v3.ts';
import { planInt8 } from '../src/core/int8-plan.ts';
import { createTensor, type Real, type Tensor } from '../src/core/tensor.ts';
import { runInt8NetworkCpu } from '../src/reference/nn/int8-network.ts';
import { runNetworkCpu } from '../src/reference/nn/network.ts';
import {
  createInt8Network,
  matrixPitches,
  matrixSteps,
  type Int8Network,
} from '../src/nn/int8-network.ts';
import { checkInt8Kernels } from '../src/nn/int8-self-check.ts';
import { loadWeights } from '../src/nn/weights.ts';
import { baseGraph } from '../src/nn/quantize.ts';

test('int8 arithmetic: ties to even, clamped grid, requantization, bias, packing', () => {
  assert.deepEqual(
    [2.5, 3.5, -2.5, -1.5, 0.5, -0.5, 1.4999, -7.2].map(roundHalfEven),
    [2, 4, -2, -2, 0, -0, 1, -7],
  );
  assert.equal(quantizeF32(1000, 1), 127);
  assert.equal(quantizeF32(-1000, 1), -127);
  assert.equal(quantizeF32(0.25, 10), 2);
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
  return { channels: c, height: h, width: w, data: randomInt8(random, c * h * w, range) };
}

interface OpCase {
  op: WeightedOp;
  cin: number;
  cout: number;
  height: number;
  width: number;
  multiplier: number;
  activation: Activation;
  /** Magnitude of the random values (small values make ties frequent). */
  range: number;
  /** A fused residual: its multiplier to accumulator units and the activation after the add. */
  residual?: { multiplier: number; activation: Activation };
  /** The output is channels [offset, offset + cout) of a wider packed tensor. */
  offset?: number;
  /** Matrix kernels: the padded input's bytes per pixel (default its channels rounded to 32). */
  pitch?: number;
  /** A conv3x3 on dot4I8Packed runs on the larger tile (CONV3X3_LARGE_TILE, 16×16). */
  largeTile?: boolean;
  /** A direct op runs on ./ops/int8/direct-rows.ts's kernel, this many pixels a thread. */
  directRows?: DirectRows;
  /** A direct op runs on ./ops/int8/direct-split.ts's kernel where its blocks are all real. */
  directSplit?: DirectSplit;
}

const CASES: OpCase[] = [
  {
    op: 'conv3x3',
    cin: 5,
    cout: 9,
    height: 11,
    width: 13,
    multiplier: 1 / 3000,
    activation: 'none',
    range: 127,
  },
  {
    op: 'conv3x3',
    cin: 16,
    cout: 16,
    height: 16,
    width: 16,
    multiplier: 1 / 4096,
    activation: 'relu',
    range: 127,
  },
  {
    op: 'conv3x3',
    cin: 12,
    cout: 8,
    height: 9,
    width: 17,
    multiplier: 7.3e-4,
    activation: 'leaky',
    range: 127,
  },
  {
    op: 'conv3x3',
    cin: 33,
    cout: 3,
    height: 10,
    width: 8,
    multiplier: 5e-4,
    activation: 'relu',
    range: 127,
  },
  // Small values and M = 1/2: every odd accumulator is a tie (ties go to even).
  {
    op: 'conv3x3',
    cin: 8,
    cout: 8,
    height: 8,
    width: 8,
    multiplier: 0.5,
    activation: 'leaky',
    range: 3,
  },
  // Two workgroup blocks of output channels, and seven staging steps of one input word.
  {
    op: 'conv3x3',
    cin: 28,
    cout: 32,
    height: 9,
    width: 11,
    multiplier: 1 / 6000,
    activation: 'relu',
    range: 127,
  },
  {
    op: 'conv3x3',
    cin: 16,
    cout: 16,
    height: 12,
    width: 10,
    multiplier: 1 / 2048,
    activation: 'none',
    range: 127,
    residual: { multiplier: 37.5, activation: 'relu' },
  },
  // The larger tile: partial workgroups across and down, with and without a residual.
  {
    op: 'conv3x3',
    cin: 12,
    cout: 8,
    height: 19,
    width: 21,
    multiplier: 7.3e-4,
    activation: 'leaky',
    range: 127,
    largeTile: true,
  },
  {
    op: 'conv3x3',
    cin: 16,
    cout: 16,
    height: 17,
    width: 33,
    multiplier: 1 / 2048,
    activation: 'none',
    range: 127,
    residual: { multiplier: 37.5, activation: 'relu' },
    largeTile: true,
  },
  {
    op: 'conv1x1',
    cin: 20,
    cout: 24,
    height: 7,
    width: 9,
    multiplier: 1 / 700,
    activation: 'relu',
    range: 127,
  },
  {
    op: 'conv1x1',
    cin: 6,
    cout: 5,
    height: 5,
    width: 6,
    multiplier: 0.5,
    activation: 'none',
    range: 4,
    offset: 8,
  },
  {
    op: 'down2x2',
    cin: 12,
    cout: 16,
    height: 10,
    width: 14,
    multiplier: 1 / 900,
    activation: 'relu',
    range: 127,
  },
  {
    op: 'down2x2',
    cin: 3,
    cout: 7,
    height: 6,
    width: 4,
    multiplier: 1 / 300,
    activation: 'leaky',
    range: 127,
  },
  {
    op: 'up2x2',
    cin: 64,
    cout: 32,
    height: 5,
    width: 7,
    multiplier: 1 / 1500,
    activation: 'relu',
    range: 127,
    residual: { multiplier: 9.25, activation: 'none' },
  },
  {
    op: 'up2x2',
    cin: 16,
    cout: 8,
    height: 6,
    width: 5,
    multiplier: 1 / 500,
    activation: 'relu',
    range: 127,
    offset: 4,
  },
];

function caseLabel(c: OpCase): string {
  const extra = `${c.residual ? ' + residual' : ''}${c.offset ? ` at channel ${c.offset}` : ''}`;
  const pitch = c.pitch ? ` (input pitch ${c.pitch} bytes)` : '';
  const tile = c.largeTile ? ' (16×16 tile)' : c.directRows ? ` (direct rows ${c.directRows})` : '';
  return `${c.op} ${c.cin}→${c.cout} ${c.height}x${c.width} ${c.activation}${extra}${pitch}${tile}`;
}

/** A tensor's values (standard CHW), read in its layout; a padded one's padding must be zero. */
async function readInt8(device: GPUDevice, t: GpuInt8Tensor): Promise<Int8Array> {
  let words = new Uint32Array((await readBuffer(device, t.buffer)).buffer);
  if (isPadded(t)) {
    assert.ok(paddingIsZero(words, t, t.padding), `${shapeString(t)}: padding stays zero`);
    words = repackInt8Words(words, t, t.padding, true);
  }
  return unpackInt8(words, t.channels, t.height, t.width);
}

/**
 * Uploads a tensor in the standard layout, or padded (the matrix kernels' input) by the pad pass,
 * whose output must equal the CPU's repacking of the standard words.
 */
async function uploadInt8(device: GPUDevice, t: Int8Tensor, padded: boolean, pitch?: number) {
  const words = packInt8(t.data, t.channels, t.height, t.width);
  const standard = createGpuInt8Tensor(device, t);
  device.queue.writeBuffer(standard.buffer, 0, words);
  if (!padded) return standard;
  const gpu = createPaddedInt8Tensor(device, t, undefined, pitch);
  const pad = prepareInt8Pad(device, standard, gpu);
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pad.encode(pass);
  pass.end();
  device.queue.submit([encoder.finish()]);
  const got = new Uint32Array((await readBuffer(device, gpu.buffer)).buffer);
  assert.deepEqual(got, repackInt8Words(words, t, gpu.padding), `pad ${shapeString(t)}`);
  pad.destroy();
  standard.buffer.destroy();
  return gpu;
}

test('int8 conv3x3 tiles: 16×16 from 500 K output pixels (1080p at ½ resolution and up), 16×8 below', () => {
  assert.equal(conv3x3Tile(960, 544), CONV3X3_LARGE_TILE);
  assert.equal(conv3x3Tile(1920, 1088), CONV3X3_LARGE_TILE);
  assert.equal(conv3x3Tile(480, 272), CONV3X3_TILE);
  assert.equal(conv3x3Tile(1920, 260), CONV3X3_TILE);
  assert.equal(conv3x3Tile(8, 8, 0), CONV3X3_LARGE_TILE);
  assert.equal(conv3x3Tile(3840, 2160, Infinity), CONV3X3_TILE);
});

test('int8 output blocks and group steps: the fewest unused, the larger on a tie', () => {
  const blocks = [3, 5, 7, 8, 9, 12, 16, 20, 24, 32, 64].map(int8OutBlock);
  assert.deepEqual(blocks, [8, 8, 8, 8, 12, 12, 16, 24, 24, 16, 16]);
  assert.deepEqual([1, 3, 4, 5, 6, 8, 16].map(int8GroupStep), [1, 3, 4, 5, 6, 4, 4]);
});

test("int8 accumulation issues the products of a block's real channels only", () => {
  // Each channel k's product, as the WGSL writes it: acc[4u * q + lane] += dot4I8Packed(v, w.lane).
  const channelsOf = (wgsl: string) => {
    const products = [
      ...wgsl.matchAll(/acc\[4u \* (q|\d+u)(?: \+ (\d)u)?\] \+= dot4I8Packed\(v, w\.([xyzw])\)/g),
    ];
    const loop = Number(/q < (\d+)u/.exec(wgsl)?.[1] ?? 0);
    const channels: number[] = [];
    for (const [, q, lane = '0', component] of products) {
      assert.equal('xyzw'[Number(lane)], component, 'lane and component agree');
      const words = q === 'q' ? Array.from({ length: loop }, (_, i) => i) : [parseInt(q!)];
      for (const word of words) channels.push(4 * word + Number(lane));
    }
    return channels.sort((a, b) => a - b);
  };
  const upTo = (n: number) => Array.from({ length: n }, (_, k) => k);
  // v2's head: 9 of a block of 12; blocks of 8 with 3, 5 and 7; whole blocks untouched.
  assert.deepEqual(channelsOf(wgslAccumulateBlock('acc', 'v', 'taps', 't', 12, 9)), upTo(9));
  for (const channels of [3, 4, 5, 7]) {
    assert.deepEqual(
      channelsOf(wgslAccumulateBlock('acc', 'v', 'taps', 't', 8, channels)),
      upTo(channels),
    );
  }
  for (const block of [8, 12, 16, 24] as const) {
    assert.deepEqual(channelsOf(wgslAccumulateBlock('acc', 'v', 'taps', 't', block)), upTo(block));
  }
  // More channels than the block (a block of a wider op) computes the whole block.
  assert.deepEqual(channelsOf(wgslAccumulateBlock('acc', 'v', 'taps', 't', 16, 28)), upTo(16));
});

/**
 * Runs every case on the dot4I8Packed kernels, or on the matrix kernels (`multiply`, with
 * `tiling`); adds the store widths of the dot4I8Packed epilogue the cases chose to `storeWidths`.
 */
async function checkOpsAgainstCpu(
  cases: readonly OpCase[],
  multiply?: MatrixMultiply,
  storeWidths?: Set<number>,
  tiling?: MatrixTiling,
) {
  const { device } = await testGpu();
  const random = rng(11);
  for (const c of cases) {
    const label = `${caseLabel(c)} (${multiply ?? 'dot4'})`;
    const input = randomInt8Tensor(random, c.cin, c.height, c.width, c.range);
    const params: Int8OpParams = {
      weight: randomInt8(random, c.cout * c.cin * INT8_OP_TAPS[c.op], c.range),
      bias: Int32Array.from({ length: c.cout }, () =>
        Math.round((random() * 2 - 1) * c.range ** 2),
      ),
      multiplier: Math.fround(c.multiplier),
      activation: c.activation,
      ...(c.residual
        ? { residualMultiplier: c.residual.multiplier, residualActivation: c.residual.activation }
        : {}),
    };
    const outShape = int8OpOutputShape(c.op, input, c.cout);
    const residual = c.residual
      ? randomInt8Tensor(random, c.cout, outShape.height, outShape.width)
      : undefined;
    const uploaded = uploadInt8Op(device, c.op, params, c.cin);
    const weights = c.largeTile
      ? { ...uploaded, conv3x3LargeTileFrom: 0 }
      : c.directRows
        ? { ...uploaded, directRows: c.directRows }
        : c.directSplit
          ? { ...uploaded, directSplit: c.directSplit }
          : uploaded;
    const matrix =
      multiply && uploadMatrixWeights(device, weights, multiply, c.pitch, undefined, tiling);
    // The matrix kernels read a padded input, and here write (and add) padded tensors too.
    const padded = multiply !== undefined;
    const gpuInput = await uploadInt8(device, input, padded, c.pitch);
    const gpuResidual = residual && (await uploadInt8(device, residual, padded));
    const offset = c.offset ?? 0;
    const realOut = createGpuTensor(device, outShape);
    const plane = outShape.height * outShape.width;
    const want = int8OpCpu(c.op, input, params, residual);
    // The packed output with 3 channels past the op's, and with a pitch of whole vec4u and 16:
    // the dot4I8Packed epilogue stores one, two or four words at once as the layout allows.
    for (const channels of [offset + c.cout + 3, Math.ceil((offset + c.cout) / 16) * 16 + 16]) {
      const packedShape = { ...outShape, channels };
      const packedOut = padded
        ? createPaddedInt8Tensor(device, packedShape)
        : createGpuInt8Tensor(device, packedShape);
      const pitchWords = int8Layout(packedOut).pitchWords;
      const opWords = packedGroups(c.cout);
      storeWidths?.add(int8StoreWords(int8OutBlock(c.cout), pitchWords, offset / 4, opWords));
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      encodeInt8Op(
        device,
        pass,
        weights,
        gpuInput,
        { residual: gpuResidual, output: packedOut, outChannelOffset: offset },
        matrix,
      );
      pass.end();
      device.queue.submit([encoder.finish()]);
      const got = await readInt8(device, packedOut);
      const at = `${label}, ${channels} channels`;
      assert.deepEqual(got.subarray(offset * plane, (offset + c.cout) * plane), want.data, at);
      // Channels outside the op's range are untouched zeros (the padding of its last word too).
      assert.ok(
        got.subarray(0, offset * plane).every((v) => v === 0),
        `${at}: before`,
      );
      assert.ok(
        got.subarray((offset + c.cout) * plane).every((v) => v === 0),
        `${at}: after`,
      );
      packedOut.buffer.destroy();
    }
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeInt8Op(
      device,
      pass,
      { ...weights, multiplier: 1e-3 },
      gpuInput,
      { residual: gpuResidual, output: realOut },
      matrix,
    );
    pass.end();
    device.queue.submit([encoder.finish()]);

    // Not a trivial output: the values spread over the grid.
    assert.ok(new Set(want.data).size > 6, `${label}: spread`);

    const wantReal = int8OpToF32Cpu(c.op, input, { ...params, multiplier: 1e-3 }, residual);
    const gotReal = await readGpuTensor(device, realOut);
    assert.deepEqual(
      new Uint32Array(gotReal.data.buffer),
      new Uint32Array(wantReal.data.buffer),
      `${label}: f32 output`,
    );
  }
}

test('int8 ops on the GPU equal their CPU reference bit for bit (int8 and f32 outputs)', async () => {
  const storeWidths = new Set<number>();
  await checkOpsAgainstCpu(CASES, undefined, storeWidths);
  assert.deepEqual([...storeWidths].sort(), [1, 2, 4], 'the cases store 1, 2 and 4 words at once');
});

test('int8 direct ops loading a pixel before its products, 1, 2 or 4 pixels a thread: the CPU reference bit for bit', async () => {
  const direct = CASES.filter((c) => c.op !== 'conv3x3');
  assert.deepEqual([...new Set(direct.map((c) => c.op))].sort(), ['conv1x1', 'down2x2', 'up2x2']);
  // Partial workgroups down at every row count: some output heights not a multiple of 8 × rows.
  assert.ok(
    direct.some((c) => int8OpOutputShape(c.op, { ...c, channels: c.cin }, c.cout).height % 8),
  );
  for (const directRows of DIRECT_ROWS) {
    await checkOpsAgainstCpu(direct.map((c) => ({ ...c, directRows })));
  }
});

test('int8 direct ops with each block split over two threads: the CPU reference bit for bit', async () => {
  const direct = CASES.filter((c) => c.op !== 'conv3x3');
  // Cases the split kernel runs (all channels real: 8, 16, 24 a block) and ones that keep the
  // standard kernel (a block with unused channels).
  const split = direct.filter((c) => directSplitApplies(c.cout));
  assert.ok(split.length >= 3, `${split.length} direct cases split`);
  assert.ok(new Set(split.map((c) => c.op)).size === 3, 'every direct op splits');
  assert.ok(split.some((c) => c.residual));
  assert.ok(direct.some((c) => !directSplitApplies(c.cout)));
  await checkOpsAgainstCpu(direct.map((c) => ({ ...c, directSplit: 2 as const })));
});

test('int8 store widths: aligned to the pitch, the offset, the thread block and its own words', () => {
  // Network v2's mix (24 channels, block 24) into the padded 32-byte layout: vec2u.
  assert.equal(int8StoreWords(24, 8, 0, 6), 2);
  // 16 channels in the standard layout: vec4u; at channel 8 of a concat: vec2u.
  assert.equal(int8StoreWords(16, 4, 0, 4), 4);
  assert.equal(int8StoreWords(16, 8, 2, 4), 2);
  // A head of 9 channels (3 words, block 12), an odd pitch or offset: one word a store.
  assert.equal(int8StoreWords(12, 4, 0, 3), 1);
  assert.equal(int8StoreWords(16, 5, 0, 4), 1);
  assert.equal(int8StoreWords(8, 4, 1, 2), 1);
  // 8 channels into 12: never past the op's words into its neighbour's.
  assert.equal(int8StoreWords(8, 4, 0, 2), 2);
});

/** Shapes the matrix kernels tile differently: network v2's layers, partial tiles, 64 channels. */
const MATRIX_CASES: OpCase[] = [
  ...CASES.filter((c) => !c.largeTile),
  {
    op: 'conv3x3',
    cin: 24,
    cout: 9,
    height: 7,
    width: 37,
    multiplier: 1 / 5000,
    activation: 'none',
    range: 127,
  },
  {
    op: 'conv3x3',
    cin: 64,
    cout: 64,
    height: 5,
    width: 18,
    multiplier: 1 / 9000,
    activation: 'relu',
    range: 127,
    residual: { multiplier: 12.5, activation: 'relu' },
  },
  {
    op: 'conv3x3',
    cin: 32,
    cout: 32,
    height: 9,
    width: 33,
    multiplier: 1 / 6000,
    activation: 'relu',
    range: 127,
    offset: 4,
  },
  {
    op: 'down2x2',
    cin: 32,
    cout: 64,
    height: 10,
    width: 36,
    multiplier: 1 / 2000,
    activation: 'relu',
    range: 127,
  },
  {
    op: 'up2x2',
    cin: 32,
    cout: 16,
    height: 5,
    width: 17,
    multiplier: 1 / 1500,
    activation: 'relu',
    range: 127,
    residual: { multiplier: 3.75, activation: 'none' },
  },
  // 4 tiles of 16 pixels per subgroup: the row's last tiles and the last rows computed again.
  {
    op: 'conv3x3',
    cin: 16,
    cout: 16,
    height: 5,
    width: 70,
    multiplier: 1 / 4096,
    activation: 'relu',
    range: 127,
  },
  {
    op: 'down2x2',
    cin: 16,
    cout: 32,
    height: 6,
    width: 70,
    multiplier: 1 / 2000,
    activation: 'relu',
    range: 127,
  },
  // v3a's 48 channels (a 64-byte pitch) and its 9-channel up2x2 head.
  {
    op: 'conv3x3',
    cin: 48,
    cout: 48,
    height: 6,
    width: 13,
    multiplier: 1 / 9000,
    activation: 'none',
    range: 127,
    residual: { multiplier: 7.5, activation: 'relu' },
  },
  {
    op: 'up2x2',
    cin: 16,
    cout: 9,
    height: 3,
    width: 35,
    multiplier: 1 / 800,
    activation: 'none',
    range: 127,
  },
  {
    op: 'conv1x1',
    cin: 8,
    cout: 8,
    height: 4,
    width: 33,
    multiplier: 1 / 300,
    activation: 'leaky',
    range: 127,
  },
  // The narrow pitch of a tensor only down2x2 reads: a 2-pixel span is one 32-byte chunk.
  {
    op: 'down2x2',
    cin: 12,
    cout: 16,
    height: 10,
    width: 70,
    multiplier: 1 / 900,
    activation: 'relu',
    range: 127,
    pitch: 16,
  },
  {
    op: 'down2x2',
    cin: 16,
    cout: 32,
    height: 6,
    width: 36,
    multiplier: 1 / 2000,
    activation: 'relu',
    range: 127,
    residual: { multiplier: 5.5, activation: 'relu' },
    pitch: 16,
  },
  {
    op: 'down2x2',
    cin: 3,
    cout: 7,
    height: 6,
    width: 4,
    multiplier: 1 / 300,
    activation: 'leaky',
    range: 127,
    pitch: 16,
  },
];

test('int8 matrix kernels (emulated multiply) equal the CPU reference bit for bit', async () => {
  await checkOpsAgainstCpu(MATRIX_CASES, 'emulated');
});

test("int8 matrix kernels with the benchmarks' other tilings equal the CPU reference too", async () => {
  // The results' rows padded, one 16-pixel tile a subgroup, the K steps split over the
  // subgroups: other strides, workgroup shapes and partial sums through the same epilogue (the
  // 64-channel and up2x2 cases among them).
  const cases = MATRIX_CASES.filter((c) => c.cin >= 24 || c.op === 'up2x2');
  assert.ok(cases.length >= 3);
  const tilings: MatrixTiling[] = [
    { resultPad: 8 },
    { maxMTiles: 1 },
    { splitK: true },
    { splitK: true, maxMTiles: 1 },
  ];
  for (const tiling of tilings) {
    await checkOpsAgainstCpu(cases, 'emulated', undefined, tiling);
  }
  assert.equal(matrixGeometry('conv3x3', 64, 64).resultStride, 64);
  assert.equal(matrixGeometry('conv3x3', 64, 64, 49152, 64, { resultPad: 8 }).resultStride, 72);
  assert.equal(matrixGeometry('conv3x3', 16, 16, 49152, 32, { maxMTiles: 1 }).mTiles, 1);
  // Where a tile does not fit with the pad words (a wide up2x2 on 32 KiB): without them.
  const pad8 = { resultPad: 8 };
  assert.equal(matrixGeometry('up2x2', 64, 32, 32768, 64, pad8).resultStride, 128);
  assert.equal(matrixGeometry('up2x2', 64, 32, 49152, 64, pad8).resultStride, 136);
});

test("int8 direct dot4I8Packed kernels write a padded output (a matrix kernel's input on the mixed kernels) bit for bit, padding zero", async () => {
  const { device } = await testGpu();
  const random = rng(13);
  for (const [op, cin, cout, height, width, offset] of [
    ['conv1x1', 20, 24, 7, 37, 0],
    ['down2x2', 12, 16, 6, 34, 0],
    ['up2x2', 16, 8, 4, 18, 4],
  ] as const) {
    const input = randomInt8Tensor(random, cin, height, width, 127);
    const params: Int8OpParams = {
      weight: randomInt8(random, cout * cin * INT8_OP_TAPS[op], 127),
      bias: Int32Array.from({ length: cout }, () => Math.round((random() * 2 - 1) * 127 ** 2)),
      multiplier: Math.fround(1 / (150 * cin * INT8_OP_TAPS[op])),
      activation: 'relu',
    };
    const outShape = int8OpOutputShape(op, input, cout);
    const weights = uploadInt8Op(device, op, params, cin);
    const gpuInput = await uploadInt8(device, input, false);
    const output = createPaddedInt8Tensor(device, { ...outShape, channels: offset + cout });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeInt8Op(device, pass, weights, gpuInput, { output, outChannelOffset: offset });
    pass.end();
    device.queue.submit([encoder.finish()]);
    const got = await readInt8(device, output); // asserts the padding stayed zero
    const plane = outShape.height * outShape.width;
    const want = int8OpCpu(op, input, params).data;
    assert.deepEqual(got.subarray(offset * plane), want, `${op} ${cin}→${cout}`);
    assert.ok(new Set(want).size > 6, `${op}: spread`);
    assert.ok(
      got.subarray(0, offset * plane).every((v) => v === 0),
      `${op}: channels before`,
    );
    // What they cannot: a padded input or residual, a padded output of the tiled conv3x3.
    const bad = device.createCommandEncoder().beginComputePass();
    assert.throws(
      () => encodeInt8Op(device, bad, weights, output, { output: gpuInput }),
      /reads the standard layout, not padded tensors/,
    );
    const residual = createPaddedInt8Tensor(device, outShape);
    assert.throws(
      () =>
        encodeInt8Op(
          device,
          bad,
          { ...weights, residualMultiplier: 2, residualActivation: 'relu' },
          gpuInput,
          { output: createGpuInt8Tensor(device, outShape), residual },
        ),
      /reads the standard layout/,
    );
    bad.end();
    for (const b of [gpuInput, output, residual]) b.buffer.destroy();
  }
  const conv = uploadInt8Op(
    device,
    'conv3x3',
    {
      weight: new Int8Array(8 * 8 * 9),
      bias: new Int32Array(8),
      multiplier: 0.01,
      activation: 'relu',
    },
    8,
  );
  const shape = { channels: 8, height: 4, width: 4 };
  const bad = device.createCommandEncoder().beginComputePass();
  assert.throws(
    () =>
      encodeInt8Op(device, bad, conv, createGpuInt8Tensor(device, shape), {
        output: createPaddedInt8Tensor(device, shape),
      }),
    /writes a padded output only from conv1x1, down2x2 or up2x2/,
  );
  bad.end();
});

test('int8 matrix kernels on subgroup matrices equal the CPU reference bit for bit', async (t) => {
  const { device } = await testGpu();
  if (!subgroupMatricesUsable(device)) {
    t.skip(
      'the adapter has no i8 subgroup matrices (checked on the GPU machine by bench/int8-exact.ts)',
    );
    return;
  }
  await checkOpsAgainstCpu(MATRIX_CASES, 'subgroup-matrix');
});

test('int8 matrix weights: each byte of a chunk is its span pixel and channel, zero past it', () => {
  const random = rng(5);
  for (const [op, cin, cout] of [
    ['conv3x3', 12, 9],
    ['down2x2', 12, 16],
    ['up2x2', 8, 12],
    ['conv1x1', 20, 24],
  ] as const) {
    const g = matrixGeometry(op, cin, cout);
    const weight = randomInt8(random, cout * cin * INT8_OP_TAPS[op]);
    const packed = packMatrixWeight(g, weight);
    let nonzero = 0;
    for (let r = 0; r < g.tapRows; r++) {
      for (let b = 0; b < g.chunks * 32; b++) {
        for (let n = 0; n < g.columns; n++) {
          const got = packed[((r * g.chunks + (b >> 5)) * 32 + (b % 32)) * g.columns + n]!;
          const j = Math.floor(b / g.pixelBytes);
          const ci = b % g.pixelBytes;
          const tap = op === 'up2x2' ? Math.floor(n / g.tapColumns) : r * g.spanPixels + j;
          const co = op === 'up2x2' ? n % g.tapColumns : n;
          const inside = j < g.spanPixels && ci < cin && co < cout;
          const want = inside ? weight[int8WeightIndex(op, co, ci, tap, cin, cout)]! : 0;
          assert.equal(got, want, `${op} row ${r} byte ${b} column ${n}`);
          if (inside) nonzero++;
        }
      }
    }
    assert.equal(nonzero, weight.length, `${op}: every weight placed once`);
  }
});

test('int8 padded layout: 32-byte pitch, one-pixel border, rows of whole 32 pixels; kernels refuse the wrong layout', async () => {
  assert.deepEqual(paddedLayout({ channels: 16, height: 540, width: 960 }), {
    border: 1,
    rowPixels: 962,
    rows: 542,
    pitchWords: 8,
  });
  assert.equal(paddedLayout({ channels: 48, height: 2, width: 240 }).pitchWords, 16);
  assert.equal(paddedLayout({ channels: 64, height: 2, width: 17 }).rowPixels, 34);
  // Each chunk of a tap row is 32 bytes of the span; a 16→16 conv3x3 multiplies 3 × 3 of them.
  const g = matrixGeometry('conv3x3', 16, 16);
  assert.deepEqual([g.pixelBytes, g.chunks, g.columnTiles, g.mTiles], [32, 3, 1, 4]);
  const wide = matrixGeometry('conv3x3', 64, 64);
  assert.deepEqual([wide.pixelBytes, wide.chunks, wide.columnTiles, wide.mTiles], [64, 6, 4, 2]);
  assert.equal(matrixGeometry('up2x2', 64, 32).mTiles, 1);
  // The narrow pitch: down2x2 only (a conv3x3's 48-byte span is no whole chunk, an up2x2's rows
  // would overlap).
  assert.equal(matrixGeometry('down2x2', 12, 16, 49152, 16).chunks, 1);
  assert.throws(() => matrixGeometry('conv3x3', 12, 16, 49152, 16), /input pitch of 16 bytes/);
  assert.throws(() => matrixGeometry('up2x2', 16, 8, 49152, 16), /input pitch of 16 bytes/);
  const model = await loadWeights('weights/uplift-v2-int8.uplift');
  const pitches = matrixPitches(planInt8(model.graph, model.parameters))!;
  assert.deepEqual(
    [...pitches].filter(([, p]) => p === 16).map(([name]) => name),
    ['q(features)', 'q(res1)'],
  );
  assert.equal(pitches.get('q(res3)'), 64);
  assert.equal(pitches.get('q(join)'), 32);

  const { device } = await testGpu();
  const random = rng(3);
  const params: Int8OpParams = {
    weight: randomInt8(random, 8 * 8 * 9),
    bias: new Int32Array(8),
    multiplier: 0.01,
    activation: 'relu',
  };
  const weights = uploadInt8Op(device, 'conv3x3', params, 8);
  const matrix = uploadMatrixWeights(device, weights, 'emulated');
  const shape = { channels: 8, height: 4, width: 4 };
  const standard = createGpuInt8Tensor(device, shape);
  const padded = createPaddedInt8Tensor(device, shape);
  const pass = device.createCommandEncoder().beginComputePass();
  assert.throws(
    () => encodeInt8Op(device, pass, weights, standard, { output: standard }, matrix),
    /int8 conv3x3 \(matrix kernel\): the input must be a padded int8 tensor/,
  );
  assert.throws(
    () => encodeInt8Op(device, pass, weights, padded, { output: standard }),
    /dot4I8Packed kernel reads the standard layout, not padded tensors/,
  );
  assert.throws(
    () => prepareInt8Pad(device, standard, padded, 2),
    /int8 pad: channels 2…8 of 8x4x4 \(standard\)/,
  );
});

test('int8 ops refuse mismatched tensors, leaky before a residual, and unexact accumulators', async () => {
  const { device } = await testGpu();
  const random = rng(2);
  const params: Int8OpParams = {
    weight: randomInt8(random, 4 * 4 * 9),
    bias: new Int32Array(4),
    multiplier: 0.01,
    activation: 'leaky',
  };
  const weights = uploadInt8Op(device, 'conv3x3', params, 4);
  const input = createGpuInt8Tensor(device, { channels: 8, height: 4, width: 4 });
  const output = createGpuInt8Tensor(device, { channels: 4, height: 4, width: 4 });
  const pass = device.createCommandEncoder().beginComputePass();
  assert.throws(
    () => encodeInt8Op(device, pass, weights, input, { output }),
    /int8 conv3x3: input has 8 channels, the weights 4/,
  );
  const input4 = createGpuInt8Tensor(device, { channels: 4, height: 4, width: 4 });
  assert.throws(
    () => encodeInt8Op(device, pass, weights, input4, { output, outChannelOffset: 2 }),
    /int8 conv3x3: output 4x4x4 does not hold 4x4x4|multiple of 4/,
  );
  assert.throws(
    () =>
      encodeInt8Op(device, pass, { ...weights, residualMultiplier: 1 }, input4, {
        output,
        residual: output,
      }),
    /no leaky activation before it/,
  );
  assert.throws(() => addResidual(5, 'leaky', 1, 1), /leaky activation before a fused residual/);
  const big = randomInt8Tensor(random, 130, 2, 2);
  const wide = { ...params, weight: randomInt8(random, 130 * 9), bias: new Int32Array(1) };
  assert.throws(() => int8OpCpu('conv3x3', big, wide), /int8 conv3x3: 1170 int8 products/);
});

test('int8 plan of the shipped INT8 weights: every tensor int8, adds and the concat folded in', async () => {
  const model = await loadWeights('weights/uplift-v2-int8.uplift');
  const plan = planInt8(model.graph, model.parameters);
  assert.equal(plan.steps.length, 16);
  assert.deepEqual(
    plan.quantizes.map((q) => [q.output, q.outChannelOffset]),
    [
      ['q(features)', 0],
      ['q(join)', 8],
    ],
  );
  const byNode = new Map(plan.steps.map((s) => [s.node, s]));
  assert.equal(byNode.get('res1b')!.residual, 'q(down1)');
  assert.equal(byNode.get('res1b')!.output, 'q(res1)');
  assert.equal(byNode.get('up2')!.residual, 'q(res2)');
  assert.equal(byNode.get('up0')!.output, 'q(join)');
  assert.ok(byNode.get('head')!.realOutput);
  // An f32 model has no int8 form.
  assert.throws(
    () => planInt8(baseGraph(model.graph), model.parameters),
    /int8 plan of "uplift-kpn": graph: not quantized .*uplift quantize/,
  );
});

/** One forward of `network` on `features` (uploaded to a new GPU tensor), read back. */
async function gpuForward(device: GPUDevice, network: Int8Network, features: Tensor<Real>) {
  const input = createGpuTensor(device, features);
  writeGpuTensor(device, input, features);
  const encoder = device.createCommandEncoder();
  const output = network.run(encoder, input);
  device.queue.submit([encoder.finish()]);
  const result = await readGpuTensor(device, output);
  input.buffer.destroy();
  return result;
}

/**
 * The shipped v2 INT8 network's plan and random features of `shape` (values in [-0.5, 1.5)), with
 * the random stream for more.
 */
async function v2PlanAndFeatures(
  seed: number,
  shape: { channels: number; height: number; width: number },
) {
  const model = await loadWeights('weights/uplift-v2-int8.uplift');
  const plan = planInt8(model.graph, model.parameters);
  const random = rng(seed);
  const features = createTensor(shape);
  for (let i = 0; i < features.data.length; i++) features.data[i] = random() * 2 - 0.5;
  return { model, plan, features, random };
}

test('int8 network on the GPU equals its CPU reference bit for bit, close to the fake-quantized f32', async () => {
  const { device } = await testGpu();
  const shape = { channels: 12, height: 24, width: 32 };
  const { model, plan, features, random } = await v2PlanAndFeatures(21, shape);
  features.data[5] = Number.NaN; // non-finite inputs quantize to 0 on both sides

  const want = runInt8NetworkCpu(plan, features);
  const network = createInt8Network(device, plan);
  const got = await gpuForward(device, network, features);
  assert.deepEqual(new Uint32Array(got.data.buffer), new Uint32Array(want.output.data.buffer));
  // Its prepared dispatches follow a new input buffer (and new values) at the same size.
  const other = createTensor(shape);
  for (let i = 0; i < other.data.length; i++) other.data[i] = random() - 0.25;
  const got2 = await gpuForward(device, network, other);
  const want2 = runInt8NetworkCpu(plan, other).output;
  assert.deepEqual(new Uint32Array(got2.data.buffer), new Uint32Array(want2.data.buffer));
  network.destroy();

  // The INT8 network computes what the fake-quantized graph simulates, up to its roundings.
  features.data[5] = 0;
  const wantInt8 = runInt8NetworkCpu(plan, features).output.data;
  const simulated = runNetworkCpu(model.graph, model.parameters, features).output.data;
  let error = 0;
  let energy = 0;
  for (let i = 0; i < simulated.length; i++) {
    error += (wantInt8[i]! - simulated[i]!) ** 2;
    energy += simulated[i]! ** 2;
  }
  assert.ok(
    energy > 0 && Math.sqrt(error / energy) < 0.03,
    `relative error ${Math.sqrt(error / energy)}`,
  );
});

test('int8 network on the matrix kernels (emulated multiply) equals its CPU reference bit for bit', async () => {
  const { device } = await testGpu();
  const shape = { channels: 12, height: 16, width: 40 };
  const { plan, features } = await v2PlanAndFeatures(23, shape);
  const want = runInt8NetworkCpu(plan, features).output;
  const network = createInt8Network(device, plan, { kernels: 'emulated-matrix' });
  assert.equal(network.kernels, 'emulated-matrix');
  const got = await gpuForward(device, network, features);
  assert.deepEqual(new Uint32Array(got.data.buffer), new Uint32Array(want.data.buffer));
  assert.ok(new Set(want.data).size > 100, 'a varied output');
  network.destroy();
  // Without subgroup matrices on the device, asking for them is an error that says what to use.
  if (!subgroupMatricesUsable(device)) {
    assert.throws(
      () => createInt8Network(device, plan, { kernels: 'subgroup-matrix' }),
      /chromium-experimental-subgroup-matrix.*use "dot4"/,
    );
  }
});

test('int8 mixed kernels: network v2 runs its head alone on matrices (emulated multiply), bit for bit', async () => {
  const { device } = await testGpu();
  const shape = { channels: 12, height: 16, width: 40 };
  const { plan, features } = await v2PlanAndFeatures(37, shape);
  const onMatrices = matrixSteps(plan, 'emulated-mixed');
  assert.deepEqual(
    plan.steps.filter((_, i) => onMatrices[i]).map((s) => s.node),
    ['head'],
  );
  assert.deepEqual([...matrixPitches(plan, 'emulated-mixed')!.keys()], [plan.steps.at(-1)!.input]);
  assert.equal(matrixPitches(plan, 'dot4'), undefined);
  // Network v3a has no full-resolution 3×3 conv: nothing runs on matrices, nothing is padded.
  const v3a = randomInt8Model(NETWORK_V3A);
  const v3aPlan = planInt8(v3a.graph, v3a.parameters);
  assert.ok(!matrixSteps(v3aPlan, 'mixed').includes(true));
  assert.equal(matrixPitches(v3aPlan, 'mixed'), undefined);

  const want = runInt8NetworkCpu(plan, features).output;
  const network = createInt8Network(device, plan, { kernels: 'emulated-mixed' });
  const got = await gpuForward(device, network, features);
  assert.deepEqual(new Uint32Array(got.data.buffer), new Uint32Array(want.data.buffer));
  assert.ok(new Set(want.data).size > 100, 'a varied output');
  // The features pass writes the standard layout: no staging tensor, no pad pass.
  const targets = network.inputQuantizations(shape.height, shape.width);
  assert.ok(targets.every((t) => !isPadded(t.output)));
  network.destroy();
  if (!subgroupMatricesUsable(device)) {
    assert.throws(
      () => createInt8Network(device, plan, { kernels: 'mixed' }),
      /kernels "mixed" need the device feature chromium-experimental-subgroup-matrix/,
    );
  }
});

test('int8 network v2 on the matrix kernels from an input written in the standard layout (padded by the pad pass)', async () => {
  const { device } = await testGpu();
  const shape = { channels: 12, height: 16, width: 24 };
  const { plan, features } = await v2PlanAndFeatures(29, shape);
  const want = runInt8NetworkCpu(plan, features).output;
  const network = createInt8Network(device, plan, { kernels: 'emulated-matrix' });
  const input = createGpuTensor(device, features);
  writeGpuTensor(device, input, features);
  // What a features pass does: writes each quantization into the standard tensor handed out.
  const targets = network.inputQuantizations(shape.height, shape.width);
  assert.ok(targets.every((t) => !isPadded(t.output)));
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  for (const t of targets)
    encodeQuantizeInt8(device, pass, input, t.scale, t.output, t.outChannelOffset);
  pass.end();
  const output = network.run(encoder, input, { inputQuantized: true });
  device.queue.submit([encoder.finish()]);
  const got = await readGpuTensor(device, output);
  assert.deepEqual(new Uint32Array(got.data.buffer), new Uint32Array(want.data.buffer));
  network.destroy();
  input.buffer.destroy();
});

test('int8 network v3a (random quantized weights) on the matrix kernels (emulated) equals its CPU reference', async () => {
  const { device } = await testGpu();
  const model = randomInt8Model(NETWORK_V3A);
  const plan = planInt8(model.graph, model.parameters);
  assert.ok(plan.steps.some((s) => s.inChannels === 48) && plan.steps.at(-1)!.op === 'up2x2');
  const random = rng(31);
  const features = createTensor({ channels: 12, height: 24, width: 40 });
  for (let i = 0; i < features.data.length; i++) features.data[i] = random() * 2 - 1;
  const want = runInt8NetworkCpu(plan, features).output;
  for (const kernels of ['dot4', 'emulated-matrix'] as const) {
    const network = createInt8Network(device, plan, { kernels });
    const got = await gpuForward(device, network, features);
    assert.deepEqual(new Uint32Array(got.data.buffer), new Uint32Array(want.data.buffer), kernels);
    network.destroy();
  }
  assert.ok(new Set(want.data).size > 100, 'a varied output');
});

test('int8 self-check: the dot4, emulated-matrix and emulated-mixed kernels agree with the CPU reference', async () => {
  const { device } = await testGpu();
  for (const [kernels, cases] of [
    ['dot4', 13],
    ['emulated-matrix', 13],
    ['emulated-mixed', 26],
  ] as const) {
    const result = await checkInt8Kernels(device, kernels);
    assert.equal(result.cases, cases);
    assert.deepEqual(result.mismatches, [], kernels);
  }
});

test('matrix kernel bisection (benchmarks only): each variant leaves its part out of the WGSL', () => {
  const g = matrixGeometry('conv3x3', 16, 16);
  const epilogue = { realOutput: false, residual: false, block: 16 as const };
  const code = (bisect?: MatrixBisect) => int8MatrixCode(g, 'subgroup-matrix', bisect)(epilogue);
  // The reduction: from its loop to the accumulators' stores.
  const reduction = (wgsl: string) =>
    wgsl.slice(wgsl.indexOf('for (var r = 0u'), wgsl.indexOf('subgroupMatrixStore'));
  const whole = code();
  assert.match(reduction(whole), /subgroup_matrix_left/);
  assert.match(reduction(whole), /subgroup_matrix_right/);
  assert.match(whole, /for \(var t = 0u; t < [1-9]\d*u; t\+\+\)/, 'the epilogue loop');
  const noA = code('no-a-loads');
  assert.doesNotMatch(reduction(noA), /subgroup_matrix_left/);
  assert.match(reduction(noA), /subgroup_matrix_right/);
  assert.match(noA, /subgroup_matrix_left/, 'one load each, hoisted');
  const noB = code('no-b-loads');
  assert.match(reduction(noB), /subgroup_matrix_left/);
  assert.doesNotMatch(reduction(noB), /subgroup_matrix_right/);
  // Skipped parts stay in the shader behind a condition no dispatch meets: the driver keeps the
  // work that feeds them and Dawn the bindings they read (a removed product left the input and
  // weight bindings unused, and the bind group failed on the device).
  const never = /if \(u\.outChannels == 0xffffffffu\) \{\s*for \(var r = 0u/;
  assert.match(code('no-product'), never);
  assert.match(code('no-product'), /subgroupMatrixMultiplyAccumulate/);
  assert.doesNotMatch(whole, never);
  const noEpilogue = code('no-epilogue');
  assert.match(
    noEpilogue,
    /if \(!\(u\.outChannels == 0xffffffffu\)\) \{ return; \}\s*\/\/[^\n]*\n\s*for \(var t = 0u; t < [1-9]\d*u/,
  );
  assert.match(noEpilogue, /subgroupMatrixMultiplyAccumulate/);
  assert.doesNotMatch(whole, /0xffffffffu/, 'the whole kernel skips nothing');
  const noWrites = code('no-writes');
  assert.match(
    noWrites,
    /if \(u\.outChannels == 0xffffffffu\) \{ finishWord\(a, w, outPixel\(gy, gx\)\); \} else \{ sink \^= a; \}/,
  );
  assert.match(
    noWrites,
    /if \(u\.outChannels == 0xffffffffu\) \{ results\[li\] = sink/,
    'the sink is kept',
  );
  assert.match(whole, /\n\s*finishWord\(a, w, outPixel\(gy, gx\)\);/);
  // The requantization left out, the stores kept (int8 output; here packed).
  assert.match(
    code('no-requantize'),
    /if \(u\.outChannels == 0xffffffffu\) \{ finishWord\(a, w, outPixel\(gy, gx\)\); \} else if \(w \* 4u < u\.outChannels\) \{ output\[outWord\(outPixel\(gy, gx\), w\)\] = pack4xI8Clamp\(a\); \}/,
  );
  assert.deepEqual([...MATRIX_BISECTS].sort(), [
    'no-a-loads',
    'no-b-loads',
    'no-epilogue',
    'no-product',
    'no-requantize',
    'no-writes',
  ]);
  assert.throws(
    () => int8MatrixCode(g, 'emulated', 'no-product'),
    /"no-product" times subgroup matrices only/,
  );
});

test('dot4I8Packed conv3x3 bisection (benchmarks only): each variant runs and leaves its part out', async () => {
  const { device } = await testGpu();
  const random = rng(23);
  const input = randomInt8Tensor(random, 16, 10, 12);
  const params: Int8OpParams = {
    weight: randomInt8(random, 16 * 16 * 9),
    bias: Int32Array.from({ length: 16 }, () => Math.round((random() * 2 - 1) * 60000)),
    multiplier: Math.fround(1 / 4096),
    activation: 'none',
  };
  const weights = uploadInt8Op(device, 'conv3x3', params, 16);
  const gpuInput = await uploadInt8(device, input, false);
  const shape = int8OpOutputShape('conv3x3', input, 16);
  // Each variant writes into an output filled with 0x55 bytes (85): what it left unwritten stays so.
  const run = (conv3x3Bisect?: Conv3x3Bisect) =>
    runOpIntoFilled(
      device,
      conv3x3Bisect ? { ...weights, conv3x3Bisect } : weights,
      gpuInput,
      shape,
    );
  // No product: every output is its bias requantized (the op with zero weights).
  const zeroWeights = { ...params, weight: new Int8Array(params.weight.length) };
  await checkSharedBisections(
    run,
    int8OpCpu('conv3x3', input, params).data,
    int8OpCpu('conv3x3', input, zeroWeights).data,
  );
  await run('no-barriers');
  // The skipped parts stay in the shader behind a condition no dispatch meets (Dawn keeps the
  // bindings they read); the whole kernel has no such condition.
  const code = (bisect?: Conv3x3Bisect) =>
    int8Conv3x3Code(4, CONV3X3_TILE, bisect)({ realOutput: false, residual: false, block: 16 });
  const never = 'u.outChannels == 0xffffffffu';
  assert.ok(!code().includes(never));
  for (const bisect of CONV3X3_BISECTS.filter((b) => b !== 'no-barriers')) {
    assert.ok(code(bisect).includes(never), bisect);
    assert.match(code(bisect), /input\[\(u32\(sy\)/, `${bisect}: input read`);
    assert.match(code(bisect), /weight\[weightBase \+ i\]/, `${bisect}: weights read`);
    assert.match(code(bisect), /dot4I8Packed/, `${bisect}: product`);
  }
  assert.equal(code().match(/workgroupBarrier/g)?.length, 2);
  assert.doesNotMatch(code('no-barriers'), /workgroupBarrier/);
  weights.weightBuffer.destroy();
  weights.biasBuffer.destroy();
});
