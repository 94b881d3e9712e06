// Backward kernels of the network ops: GPU vs the CPU reference (src/reference/nn/backward.ts) on
// random inputs, for input, weight and bias gradients, written and accumulated. Tolerance
// 1e-4 relative + 1e-5 absolute (f32 sums of ≤ a few hundred terms against float64).
import { test } from 'node:test';
import { FEATURE_CHANNELS } from '../src/core/neural-frame.ts';
import assert from 'node:assert/strict';
import { testGpu } from './helpers/gpu.ts';
import { randomReal } from '../src/train/grad-check.ts';
import { createStorageBuffer, readBuffer } from '../src/gpu/resources.ts';
import {
  activationBackwardCpu,
  conv1x1BackwardCpu,
  conv3x3BackwardCpu,
  down2x2BackwardCpu,
  networkBackwardCpu,
  up2x2BackwardCpu,
  type LinearGrads,
  type Plane,
} from '../src/reference/nn/backward.ts';
import {
  linearBackwardScratchFloats,
  type LinearBackward,
  type LinearOpSpec,
} from '../src/nn/backward/linear-backward.ts';
import { conv3x3Spec, encodeConv3x3Backward } from '../src/nn/backward/conv3x3.ts';
import { conv1x1Spec, encodeConv1x1Backward } from '../src/nn/backward/conv1x1.ts';
import { down2x2Spec, encodeDown2x2Backward } from '../src/nn/backward/down2x2.ts';
import { up2x2Spec, encodeUp2x2Backward } from '../src/nn/backward/up2x2.ts';
import { encodeActivationBackward } from '../src/nn/backward/activation.ts';
import { encodeGradRoute } from '../src/nn/backward/accumulate.ts';
import { type Activation, parameterSpecs } from '../src/core/graph.ts';
import { createNetworkBackward } from '../src/nn/backward/network.ts';
import { runNetworkCpu } from '../src/reference/nn/network.ts';
import { uploadTensor } from '../src/nn/tensor.ts';
import { TINY_NETWORK } from '../src/train/tiny-network.ts';

type CpuBackward = (
  input: Float64Array,
  inChannels: number,
  plane: Plane,
  weight: Float64Array,
  outChannels: number,
  dZ: Float64Array,
) => LinearGrads;

const ops: { spec: LinearOpSpec; gpu: LinearBackward; cpu: CpuBackward; weights: number }[] = [
  { spec: conv3x3Spec, gpu: encodeConv3x3Backward, cpu: conv3x3BackwardCpu, weights: 9 },
  { spec: conv1x1Spec, gpu: encodeConv1x1Backward, cpu: conv1x1BackwardCpu, weights: 1 },
  { spec: down2x2Spec, gpu: encodeDown2x2Backward, cpu: down2x2BackwardCpu, weights: 4 },
  { spec: up2x2Spec, gpu: encodeUp2x2Backward, cpu: up2x2BackwardCpu, weights: 4 },
];

/** f32-rounded random values as float64 (both sides then see the same inputs). */
const f32Real = (n: number, seed: number) =>
  new Float64Array(new Float32Array(randomReal(n, seed)));

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const tol = 1e-5 + 1e-4 * Math.abs(want[i]!);
    if (!(Math.abs(got[i]! - want[i]!) <= tol))
      assert.fail(`${what}[${i}]: GPU ${got[i]}, CPU ${want[i]}`);
  }
}

for (const op of ops) {
  // 34×38 output pixels for conv: more than one weight-gradient chunk (1024 pixels).
  const [inC, outC, H, W] = op.spec.sumOver === 'input' ? [3, 5, 18, 20] : [3, 5, 34, 38];
  test(`${op.spec.name} backward on the GPU matches the CPU reference`, async () => {
    const { device } = await testGpu();
    const [OH, OW] = op.spec.outputSize(H, W);
    const input = f32Real(inC * H * W, 1);
    const weight = f32Real(inC * outC * op.weights, 2);
    const dZ = f32Real(outC * OH * OW, 3);
    const cpu = op.cpu(input, inC, { height: H, width: W }, weight, outC, dZ);
    const prior = {
      dInput: f32Real(input.length, 4),
      dWeight: f32Real(weight.length, 5),
      dBias: f32Real(outC, 6),
    };
    for (const accumulate of [false, true]) {
      const buf = (d: Float64Array) => createStorageBuffer(device, new Float32Array(d));
      const [dInput, dWeight, dBias] = [buf(prior.dInput), buf(prior.dWeight), buf(prior.dBias)];
      const scratch = buf(new Float64Array(linearBackwardScratchFloats(op.spec, inC, outC, H, W)));
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      op.gpu(device, pass, {
        input: buf(input),
        inChannels: inC,
        inHeight: H,
        inWidth: W,
        weight: buf(weight),
        outChannels: outC,
        dZ: buf(dZ),
        dInput,
        accumulateInput: accumulate,
        dWeight,
        dBias,
        accumulateParams: accumulate,
        scratch,
      });
      pass.end();
      device.queue.submit([encoder.finish()]);
      const plus = (a: Float64Array, b: Float64Array) =>
        accumulate ? a.map((v, i) => v + b[i]!) : a;
      const tag = `${op.spec.name} ${accumulate ? 'accumulated' : 'written'}`;
      assertClose(
        await readBuffer(device, dInput),
        plus(cpu.dInput, prior.dInput),
        `${tag} dInput`,
      );
      assertClose(
        await readBuffer(device, dWeight),
        plus(cpu.dWeight, prior.dWeight),
        `${tag} dWeight`,
      );
      assertClose(await readBuffer(device, dBias), plus(cpu.dBias, prior.dBias), `${tag} dBias`);
    }
  });
}

test('activation backward and gradient routing on the GPU match the CPU reference', async () => {
  const { device } = await testGpu();
  const n = 1000;
  const output = f32Real(n, 7).map((v, i) => (i % 3 === 0 ? Math.max(v, 0) : v));
  const grad = f32Real(n, 8);
  for (const activation of ['none', 'relu', 'leaky'] as Activation[]) {
    const gradBuffer = createStorageBuffer(device, new Float32Array(grad));
    const target = createStorageBuffer(device, new Float32Array(n - 100).fill(1));
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeActivationBackward(
      device,
      pass,
      activation,
      createStorageBuffer(device, new Float32Array(output)),
      gradBuffer,
      n,
    );
    encodeGradRoute(device, pass, gradBuffer, 100, target, n - 100, true);
    pass.end();
    device.queue.submit([encoder.finish()]);
    const want = activationBackwardCpu(activation, output, grad);
    assertClose(await readBuffer(device, gradBuffer), want, `${activation} dZ`);
    assertClose(
      await readBuffer(device, target),
      want.subarray(100).map((v) => v + 1),
      `${activation} routed`,
    );
  }
});

test('whole-network backward on the GPU matches the CPU reference (and accumulates over frames)', async () => {
  const { device } = await testGpu();
  const [H, W] = [8, 16];
  const params = new Map<string, Float32Array>();
  parameterSpecs(TINY_NETWORK).forEach((p, i) =>
    params.set(p.name, new Float32Array(randomReal(p.length, 50 + i, -0.5, 0.5))),
  );
  const features = {
    channels: FEATURE_CHANNELS,
    height: H,
    width: W,
    data: new Float32Array(randomReal(FEATURE_CHANNELS * H * W, 49)),
  };
  const activations = runNetworkCpu(TINY_NETWORK, params, features).tensors;
  const gRaw = new Float32Array(randomReal(activations.get('raw')!.data.length, 48));
  const cpu = networkBackwardCpu(TINY_NETWORK, params, activations, new Map([['raw', gRaw]]));

  const backward = createNetworkBackward(device, TINY_NETWORK, H, W);
  const gpuActivations = new Map(
    [...activations].map(([name, t]) => [name, uploadTensor(device, t)]),
  );
  const paramBuffers = new Map(
    [...params].map(([name, p]) => [name, createStorageBuffer(device, p)]),
  );
  const gradBuffers = new Map(
    [...params].map(([name, p]) => [name, createStorageBuffer(device, new Float32Array(p.length))]),
  );
  for (const accumulateParams of [false, true]) {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    backward.encode(pass, {
      activations: gpuActivations,
      params: paramBuffers,
      outputGrads: new Map([['raw', createStorageBuffer(device, gRaw)]]),
      paramGrads: gradBuffers,
      accumulateParams,
    });
    pass.end();
    device.queue.submit([encoder.finish()]);
  }
  const dFeatures = await readBuffer(device, backward.inputGrads.get('features')!.buffer);
  assertClose(dFeatures, cpu.inputs.get('features')!, 'network d features');
  for (const [name, buffer] of gradBuffers) {
    // Two frames accumulated: twice the single-frame gradient.
    assertClose(
      await readBuffer(device, buffer),
      cpu.params.get(name)!.map((v) => 2 * v),
      `network d ${name}`,
    );
  }
  backward.destroy();
});
