// The direct kernels' benchmark variants: the bisection (DirectBisect in
// src/nn/ops/int8/common.ts: each variant runs and leaves out exactly its part, the parts stay in
// the shader, the network option reaches the direct steps), the kernel that loads a pixel's words
// first (src/nn/ops/int8/direct-rows.ts; with a bisection asked for too, refused) and the one that
// splits a block over two threads (src/nn/ops/int8/direct-split.ts): network v2 with each, the
// CPU's bits (their ops are checked in nn-int8.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu, rng } from './helpers/gpu.ts';
import {
  memoryOfExactRuns,
  randomFeatures,
  randomInt8,
  randomProducerInput,
  runOpIntoFilled,
  checkSharedBisections,
} from './helpers/int8-random.ts';
import { packInt8, type Int8OpParams } from '../src/core/int8.ts';
import { INT8_OP_TAPS, int8OpCpu, int8OpOutputShape } from '../src/reference/nn/int8-ops.ts';
import {
  DIRECT_BISECTS,
  INT8_BISECT_NEVER,
  uploadInt8Op,
  type DirectBisect,
} from '../src/nn/ops/int8/common.ts';
import { int8DirectCode, type DirectOp } from '../src/nn/ops/int8/direct.ts';
import { createGpuInt8Tensor, readGpuTensor } from '../src/nn/tensor.ts';
import { planInt8 } from '../src/core/int8-plan.ts';
import { createInt8Network } from '../src/nn/int8-network.ts';
import { ARCHITECTURES, randomInt8Model } from '../src/nn/networks.ts';
import { runInt8NetworkCpu } from '../src/reference/nn/int8-network.ts';
import { DIRECT_ROWS } from '../src/nn/ops/int8/direct-rows.ts';

const OPS: readonly DirectOp[] = ['down2x2', 'up2x2', 'conv1x1'];

for (const op of OPS) {
  test(`dot4I8Packed ${op} bisection (benchmarks only): each variant runs and leaves its part out`, async () => {
    const { device } = await testGpu();
    const random = rng(29);
    const [inChannels, outChannels] = [16, 16];
    const input = randomProducerInput(random, op, inChannels, 8, 20);
    const params: Int8OpParams = {
      weight: randomInt8(random, inChannels * outChannels * INT8_OP_TAPS[op]),
      bias: Int32Array.from({ length: outChannels }, () => Math.round((random() * 2 - 1) * 60000)),
      multiplier: Math.fround(1 / 4096),
      activation: 'none',
    };
    const weights = uploadInt8Op(device, op, params, inChannels);
    const gpuInput = createGpuInt8Tensor(device, input);
    device.queue.writeBuffer(
      gpuInput.buffer,
      0,
      packInt8(input.data, input.channels, input.height, input.width),
    );
    const shape = int8OpOutputShape(op, input, outChannels);
    // Each variant writes into an output filled with 0x55 bytes (85): what it left unwritten stays so.
    const run = (directBisect?: DirectBisect) =>
      runOpIntoFilled(
        device,
        directBisect ? { ...weights, directBisect } : weights,
        gpuInput,
        shape,
      );
    // No product: every output is its bias requantized (the op with zero weights).
    const zeroWeights = { ...params, weight: new Int8Array(params.weight.length) };
    await checkSharedBisections(
      run,
      int8OpCpu(op, input, params).data,
      int8OpCpu(op, input, zeroWeights).data,
    );
    // The skipped parts stay in the shader behind a condition no dispatch meets; the whole
    // kernel has no such condition.
    const code = (bisect?: DirectBisect) =>
      int8DirectCode(op, 4, false, bisect)({ realOutput: false, residual: false, block: 16 });
    assert.ok(!code().includes(INT8_BISECT_NEVER));
    for (const bisect of DIRECT_BISECTS) {
      assert.ok(code(bisect).includes(INT8_BISECT_NEVER), bisect);
      assert.match(code(bisect), /input\[\(sy \* u\.inWidth \+ sx\) \* WORDS \+ g\]/, bisect);
      assert.match(code(bisect), /weight\[weightBase \+ i\]/, `${bisect}: weights read`);
      assert.match(code(bisect), /dot4I8Packed/, `${bisect}: product`);
      assert.match(code(bisect), /finish\(acc/, `${bisect}: epilogue`);
    }
    // The rows kernel has no bisection: both asked for is refused by name, not timed as whole.
    await assert.rejects(
      runOpIntoFilled(
        device,
        { ...weights, directRows: 2, directBisect: 'no-product' },
        gpuInput,
        shape,
      ),
      /directBisect \(no-product\) does not apply to directRows 2/,
    );
    weights.weightBuffer.destroy();
    weights.biasBuffer.destroy();
    gpuInput.buffer.destroy();
  });
}

/** The INT8 plan of network v2 with random quantized weights. */
function randomV2Plan() {
  const model = randomInt8Model(ARCHITECTURES['v2']!);
  return planInt8(model.graph, model.parameters);
}

test('int8 network v2 with directBisect: the direct steps that run alone take it, the outputs change', async () => {
  const { device } = await testGpu();
  const plan = randomV2Plan();
  const shape = { channels: 12, height: 16, width: 24 };
  const { input } = randomFeatures(device, shape, 37);
  const outputOf = async (directBisect?: DirectBisect) => {
    const network = createInt8Network(device, plan, directBisect ? { directBisect } : {});
    const encoder = device.createCommandEncoder();
    const output = network.run(encoder, input);
    device.queue.submit([encoder.finish()]);
    const got = await readGpuTensor(device, output);
    network.destroy();
    return got.data;
  };
  const whole = await outputOf();
  for (const bisect of DIRECT_BISECTS) {
    assert.notDeepEqual(await outputOf(bisect), whole, bisect);
  }
  input.buffer.destroy();
});

test('int8 network v2 with directRows 1, 2, 4 and with directSplit 2: the CPU reference bit for bit', async () => {
  const { device } = await testGpu();
  const plan = randomV2Plan();
  // 32 × 48: the ½-, ¼- and ⅛-resolution layers 16, 8 and 4 high, partial workgroups at 2 and 4
  // rows a thread (16 and 32 rows a workgroup).
  const shape = { channels: 12, height: 32, width: 48 };
  const { features, input } = randomFeatures(device, shape, 41);
  const want = runInt8NetworkCpu(plan, features).output;
  await memoryOfExactRuns(device, plan, input, want, [
    ...DIRECT_ROWS.map((directRows) => ({ directRows })),
    { directSplit: 2 as const },
  ]);
  // The split option reaches the direct steps' kernels: with a bisection beside it, refused there.
  const both = createInt8Network(device, plan, { directSplit: 2, directBisect: 'no-product' });
  assert.throws(
    () => both.run(device.createCommandEncoder(), input),
    /int8 down2x2: directSplit 2 runs without directBisect or directRows/,
  );
  both.destroy();
  input.buffer.destroy();
});
