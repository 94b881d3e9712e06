// Quantized graphs (src/nn/quantize.ts): the fakequant op and weightBits, CPU references by hand,
// GPU kernels against them on random inputs, the straight-through backward (GPU vs CPU, and a
// finite-difference check of the smoothed op it stands for), and whole quantized networks on the
// GPU against the CPU, forward and backward.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu, maxAbsDiff } from './helpers/gpu.ts';
import { InputError } from '../src/core/errors.ts';
import { randomReal } from '../src/train/grad-check.ts';
import { createStorageBuffer, readBuffer } from '../src/gpu/resources.ts';
import { fakeQuantCpu, quantizeWeightCpu } from '../src/reference/nn/ops.ts';
import {
  quantMax,
  parameterSpecs,
  validateGraph,
  type GraphDescription,
} from '../src/core/graph.ts';
import { fakeQuantBackwardCpu, networkBackwardCpu } from '../src/reference/nn/backward.ts';
import { prepareFakeQuant } from '../src/nn/ops/fakequant.ts';
import { prepareQuantizeWeight } from '../src/nn/ops/quantize-weight.ts';
import { encodeFakeQuantBackward } from '../src/nn/backward/fakequant.ts';
import { createNetworkBackward } from '../src/nn/backward/network.ts';
import { createNetwork } from '../src/nn/network.ts';
import { runNetworkCpu } from '../src/reference/nn/network.ts';
import {
  baseGraph,
  calibrateActivationScales,
  fakeQuantizeWeights,
  graphQuantization,
  quantizeGraph,
  quantizedName,
  weightedInputs,
} from '../src/nn/quantize.ts';
import { createGpuTensor, readGpuTensor, uploadTensor } from '../src/nn/tensor.ts';
import { tensorFrom, type Tensor } from '../src/core/tensor.ts';
import { decodeWeights, encodeWeights } from '../src/nn/weights.ts';
import { TINY_NETWORK } from '../src/train/tiny-network.ts';
import { FEATURE_CHANNELS } from '../src/core/neural-frame.ts';

const f32 = (n: number, seed: number, lo = -1, hi = 1) =>
  new Float32Array(randomReal(n, seed, lo, hi));

test('fakequant and weight quantization CPU by hand: grid, half up, clamp, zero tensors', () => {
  // 3 bits: qmax 3, s 0.5 → grid −1.5 … 1.5.
  const x = tensorFrom(
    { channels: 1, height: 1, width: 7 },
    new Float32Array([0.2, 0.25, -0.25, 0.8, 1.6, -9, 1.24]),
  );
  assert.deepEqual(
    [...fakeQuantCpu(x, 0.5, 3).data].map((v) => v + 0), // -0 → 0
    [0, 0.5, 0, 1, 1.5, -1.5, 1],
  );
  assert.equal(quantMax(8), 127);
  const w = quantizeWeightCpu(new Float32Array([0.3, -0.6, 0.11, 0.05]), 3);
  assert.equal(w.scale, Math.fround(0.6) / 3);
  assert.deepEqual(
    [...w.values].map((v) => Number(v.toFixed(6))),
    [0.4, -0.6, 0.2, 0],
  );
  const zero = quantizeWeightCpu(new Float32Array(5), 8);
  assert.equal(zero.scale, 0);
  assert.deepEqual([...zero.values], [0, 0, 0, 0, 0]);
  // Straight-through: the gradient passes inside ±qmax·s and stops where the grid clamps.
  const dX = fakeQuantBackwardCpu(x.data, new Float32Array(7).fill(2), 0.5, 3);
  assert.deepEqual([...dX], [2, 2, 2, 2, 0, 0, 2]);
});

test('quantizeGraph: a fakequant per tensor a weighted op reads, weightBits, undone by baseGraph', () => {
  const params = new Map(
    parameterSpecs(TINY_NETWORK).map((p, i) => [p.name, f32(p.length, 10 + i, -0.5, 0.5)]),
  );
  const input = tensorFrom(
    { channels: FEATURE_CHANNELS, height: 8, width: 8 },
    f32(FEATURE_CHANNELS * 64, 3, 0, 1),
  );
  const scales = calibrateActivationScales(TINY_NETWORK, params, [input]);
  const q = quantizeGraph(TINY_NETWORK, {
    weightBits: 6,
    activationBits: 8,
    activationScales: scales,
  });
  validateGraph(q);
  const fq = q.nodes.filter((n) => n.op === 'fakequant');
  assert.deepEqual(
    fq.map((n) => n.inputs[0]),
    weightedInputs(TINY_NETWORK),
  );
  for (const node of q.nodes.filter((n) => n.outChannels !== undefined)) {
    assert.equal(node.weightBits, 6);
    assert.ok(node.inputs[0]!.startsWith('q('), `${node.name} reads ${node.inputs[0]}`);
  }
  assert.deepEqual(baseGraph(q), TINY_NETWORK);
  const read = graphQuantization(q)!;
  assert.equal(read.weightBits, 6);
  assert.equal(read.activationBits, 8);
  for (const [name, s] of scales) assert.equal(read.activationScales!.get(name), Math.fround(s));
  assert.equal(graphQuantization(TINY_NETWORK), undefined);
  assert.throws(() => quantizeGraph(q, { weightBits: 8 }), /quantized already/);
  assert.throws(() => quantizeGraph(TINY_NETWORK, { activationBits: 8 }), /calibrate it first/);
  assert.throws(() => quantizeGraph(TINY_NETWORK, { weightBits: 1 }), /bits must be/);
  // weightBits in the graph computes exactly what rounding the stored weights does.
  const viaGraph = runNetworkCpu(quantizeGraph(TINY_NETWORK, { weightBits: 6 }), params, input);
  const viaWeights = runNetworkCpu(TINY_NETWORK, fakeQuantizeWeights(params, 6).parameters, input);
  assert.deepEqual(viaGraph.output.data, viaWeights.output.data);
  // And it changes the output (the check could not pass with quantization switched off).
  const plain = runNetworkCpu(TINY_NETWORK, params, input).output.data;
  assert.ok(maxAbsDiff(plain, viaGraph.output.data).max > 1e-3);
  // A quantized graph survives the weights file.
  const bytes = encodeWeights({ graph: q, parameters: params });
  assert.deepEqual(decodeWeights(bytes).graph, q);
  assert.throws(() => decodeWeights(bytes, { graph: TINY_NETWORK }), InputError);
});

test('graph validation rejects malformed quantization', () => {
  const fq = (extra: object) =>
    ({
      ...TINY_NETWORK,
      nodes: [
        {
          op: 'fakequant',
          name: 'q',
          inputs: ['features'],
          output: 'qf',
          scale: 0.1,
          bits: 8,
          ...extra,
        },
        ...TINY_NETWORK.nodes,
      ],
    }) as GraphDescription;
  validateGraph(fq({}));
  const bad = (g: GraphDescription, pattern: RegExp) =>
    assert.throws(
      () => validateGraph(g),
      (e: Error) => e instanceof InputError && pattern.test(e.message),
    );
  bad(fq({ scale: 0 }), /scale must be a positive number/);
  bad(fq({ scale: Number.NaN }), /scale must be a positive number/);
  bad(fq({ bits: 1 }), /bits must be an integer from 2 to 16/);
  bad(fq({ bits: 8.5 }), /bits must be an integer/);
  bad(fq({ activation: 'relu' }), /fakequant has no activation/);
  bad(fq({ inputs: ['features', 'features'] }), /fakequant takes one input/);
  const edit = (name: string, extra: object) =>
    ({
      ...TINY_NETWORK,
      nodes: TINY_NETWORK.nodes.map((n) => (n.name === name ? { ...n, ...extra } : n)),
    }) as GraphDescription;
  bad(edit('res', { weightBits: 8 }), /weightBits must be .* on a weighted op/);
  bad(edit('conv', { weightBits: 17 }), /weightBits must be/);
  bad(edit('conv', { scale: 0.5 }), /only fakequant takes scale and bits/);
});

test('fakequant GPU matches the CPU reference on random inputs', async () => {
  const { device } = await testGpu();
  for (const [bits, scale, n] of [
    [8, 0.01, 5000],
    [4, 0.13, 777],
    [16, 3e-5, 1000],
  ] as const) {
    const x = tensorFrom({ channels: 1, height: 1, width: n }, f32(n, bits, -1.5, 1.5));
    const want = fakeQuantCpu(x, Math.fround(scale), bits);
    const input = uploadTensor(device, x);
    const output = createGpuTensor(device, x);
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    const dispatch = prepareFakeQuant(device, { input, output, scale, bits });
    dispatch.encode(pass);
    pass.end();
    device.queue.submit([encoder.finish()]);
    const got = (await readGpuTensor(device, output)).data;
    // f32 division on the GPU may round a value lying within an ulp of a half step the other
    // way: allow one step at a rare few values, exact (to f32) everywhere else.
    let offByOneStep = 0;
    for (let i = 0; i < n; i++) {
      const d = Math.abs(got[i]! - want.data[i]!);
      if (d <= 1e-6 * Math.max(1, Math.abs(want.data[i]!))) continue;
      assert.ok(
        Math.abs(d - Math.fround(scale)) < 1e-6,
        `${bits} bits [${i}]: ${got[i]} vs ${want.data[i]}`,
      );
      offByOneStep++;
    }
    assert.ok(offByOneStep <= n / 1000, `${offByOneStep} values a step off`);
    // The grid clamps: at 4 bits (qmax 7) inputs up to 1.5 exceed 7 · 0.13.
    if (bits === 4) {
      const edge = Math.fround(7 * Math.fround(scale));
      assert.ok(want.data.some((v) => Math.abs(v) === edge));
    }
    dispatch.destroy();
  }
});

test('weight quantization GPU matches quantizeWeightCpu (sizes around the workgroup, zeros)', async () => {
  const { device } = await testGpu();
  for (const [n, bits] of [
    [1, 8],
    [255, 8],
    [256, 4],
    [1000, 6],
    [36864, 8],
    [40, 8],
  ] as const) {
    const w = n === 40 ? new Float32Array(40) : f32(n, n + bits, -0.3, 0.2);
    const want = quantizeWeightCpu(w, bits);
    const weight = createStorageBuffer(device, w);
    const quantized = createStorageBuffer(device, new Float32Array(n).fill(7));
    const dispatch = prepareQuantizeWeight(device, weight, quantized, n, bits);
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    dispatch.encode(pass);
    pass.end();
    device.queue.submit([encoder.finish()]);
    const got = await readBuffer(device, quantized);
    const step = Math.fround(want.scale);
    let off = 0;
    for (let i = 0; i < n; i++) {
      const d = Math.abs(got[i]! - want.values[i]!);
      if (d <= 1e-7) continue;
      assert.ok(Math.abs(d - step) < 1e-6, `n ${n} [${i}]: ${got[i]} vs ${want.values[i]}`);
      off++;
    }
    assert.ok(off <= Math.max(1, n / 1000), `n ${n}: ${off} values a step off`);
    if (n === 40) assert.ok(got.every((v) => v === 0));
    dispatch.destroy();
  }
});

test('fakequant backward: GPU matches the CPU straight-through estimator, written and accumulated', async () => {
  const { device } = await testGpu();
  const n = 3000;
  const [scale, bits] = [0.02, 6]; // limit 31 · 0.02 = 0.62: some inputs clamp
  const x = f32(n, 5, -1, 1);
  const dY = f32(n, 6);
  const want = fakeQuantBackwardCpu(x, dY, Math.fround(scale), bits);
  assert.ok(want.some((v) => v === 0) && want.some((v) => v !== 0));
  const prior = f32(n, 7);
  const dX = createStorageBuffer(device, prior);
  for (const accumulate of [false, true]) {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeFakeQuantBackward(
      device,
      pass,
      createStorageBuffer(device, x),
      createStorageBuffer(device, dY),
      dX,
      n,
      scale,
      bits,
      accumulate,
    );
    pass.end();
    device.queue.submit([encoder.finish()]);
  }
  const got = await readBuffer(device, dX);
  const twice = want.map((v) => 2 * v);
  assert.ok(maxAbsDiff(got, twice).max <= 1e-6);
});

test('fakequant backward: the straight-through gradient is the finite difference of the op at a fine grid (float64)', () => {
  // Rounding has zero derivative almost everywhere; the estimator stands for the op without the
  // rounding (identity, clamped). At 16 bits a central difference with a step of many grid cells
  // measures exactly that, so it must agree with the estimator away from the clamp.
  const bits = 16;
  const scale = 1e-4; // limit 32767e-4 ≈ 3.28
  const eps = 1e-2; // 100 grid cells
  const xs = randomReal(400, 11, -5, 5);
  const g = fakeQuantBackwardCpu(xs, new Float64Array(400).fill(1), scale, bits);
  const limit = quantMax(bits) * scale;
  let checked = 0;
  for (let i = 0; i < xs.length; i++) {
    if (Math.abs(Math.abs(xs[i]!) - limit) < 2 * eps) continue;
    const at = (v: number) =>
      fakeQuantCpu(
        tensorFrom({ channels: 1, height: 1, width: 1 }, new Float64Array([v])),
        scale,
        bits,
      ).data[0]!;
    const fd = (at(xs[i]! + eps) - at(xs[i]! - eps)) / (2 * eps);
    assert.ok(
      Math.abs(fd - g[i]!) <= scale / eps,
      `x ${xs[i]}: finite difference ${fd}, estimator ${g[i]}`,
    );
    checked++;
  }
  assert.ok(checked > 350);
});

/** A random tiny-network setup quantized to 4-bit weights and 6-bit activations. */
function quantizedTiny(height: number, width: number) {
  const params = new Map(
    parameterSpecs(TINY_NETWORK).map((p, i) => [p.name, f32(p.length, 60 + i, -0.5, 0.5)]),
  );
  const features = tensorFrom(
    { channels: FEATURE_CHANNELS, height, width },
    f32(FEATURE_CHANNELS * height * width, 59, 0, 1),
  );
  const scales = calibrateActivationScales(TINY_NETWORK, params, [features], 6);
  // Tighter grids than calibration for two tensors, so some values clamp and the mask matters.
  scales.set('res', scales.get('res')! * 0.6);
  scales.set('features', scales.get('features')! * 0.8);
  const graph = quantizeGraph(TINY_NETWORK, {
    weightBits: 4,
    activationBits: 6,
    activationScales: scales,
  });
  return { graph, params, features };
}

/** Fraction of values within `tol` of the reference, and the largest difference. */
function agreement(got: ArrayLike<number>, want: ArrayLike<number>, tol: number) {
  let close = 0;
  for (let i = 0; i < want.length; i++) if (Math.abs(got[i]! - want[i]!) <= tol) close++;
  return { fraction: close / want.length, max: maxAbsDiff(got, want).max };
}

test('quantized network forward: GPU (training and inference runners) matches the CPU', async () => {
  const { device } = await testGpu();
  const [H, W] = [16, 24];
  const { graph, params, features } = quantizedTiny(H, W);
  const want = runNetworkCpu(graph, params, features).output.data;
  const plain = runNetworkCpu(TINY_NETWORK, params, features).output.data;
  const scale = Math.max(...want.map(Math.abs));
  // Quantization moves most outputs by far more than the tolerance: the check can fail.
  assert.ok(agreement(plain, want, 1e-4 * scale).fraction < 0.5);
  for (const keepActivations of [true, false]) {
    const network = createNetwork(device, graph, params, { keepActivations });
    const input = uploadTensor(device, features);
    for (let run = 0; run < 2; run++) {
      const encoder = device.createCommandEncoder();
      const out = network.run(encoder, input).output;
      device.queue.submit([encoder.finish()]);
      const got = (await readGpuTensor(device, out)).data;
      // A value within an f32 ulp of a half step may land one step over on the GPU and move the
      // outputs that read it: demand agreement almost everywhere, and a bounded worst case.
      const a = agreement(got, want, 1e-4 * scale);
      assert.ok(a.fraction >= 0.99, `keep ${keepActivations}: ${a.fraction} agree`);
      assert.ok(a.max <= 0.05 * scale, `keep ${keepActivations}: max diff ${a.max}`);
    }
    network.destroy();
  }
});

test('quantized network backward: GPU matches the CPU (straight through weights and activations)', async () => {
  const { device } = await testGpu();
  const [H, W] = [8, 16];
  const { graph, params, features } = quantizedTiny(H, W);
  const activations = runNetworkCpu(graph, params, features).tensors;
  const gRaw = f32(activations.get('raw')!.data.length, 48);
  const cpu = networkBackwardCpu(graph, params, activations, new Map([['raw', gRaw]]));
  // The gradient reaches the stored weights through the rounded ones: not the f32 network's.
  const f32Grads = networkBackwardCpu(
    TINY_NETWORK,
    params,
    runNetworkCpu(TINY_NETWORK, params, features).tensors,
    new Map([['raw', gRaw]]),
  );
  assert.ok(
    maxAbsDiff(f32Grads.params.get('head.weight')!, cpu.params.get('head.weight')!).max > 1e-3,
  );

  const network = createNetwork(device, graph, params);
  const encoder = device.createCommandEncoder();
  network.run(encoder, uploadTensor(device, features)); // fills the rounded weight copies
  device.queue.submit([encoder.finish()]);
  const backward = createNetworkBackward(device, graph, H, W);
  const grads = new Map(
    [...params].map(([name, p]) => [name, createStorageBuffer(device, new Float32Array(p.length))]),
  );
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  backward.encode(pass, {
    activations: new Map(
      [...activations].map(([name, t]) => [name, uploadTensor(device, t as Tensor)]),
    ),
    params: network.runParameters,
    outputGrads: new Map([['raw', createStorageBuffer(device, gRaw)]]),
    paramGrads: grads,
  });
  pass.end();
  device.queue.submit([enc.finish()]);
  const close = (got: ArrayLike<number>, want: ArrayLike<number>, what: string) => {
    for (let i = 0; i < want.length; i++) {
      const tol = 1e-5 + 1e-4 * Math.abs(want[i]!);
      if (!(Math.abs(got[i]! - want[i]!) <= tol))
        assert.fail(`${what}[${i}]: GPU ${got[i]}, CPU ${want[i]}`);
    }
  };
  close(
    await readBuffer(device, backward.inputGrads.get('features')!.buffer),
    cpu.inputs.get('features')!,
    'd features',
  );
  for (const [name, buffer] of grads)
    close(await readBuffer(device, buffer), cpu.params.get(name)!, `d ${name}`);
  assert.ok(graph.nodes.some((n) => n.name === quantizedName('features')));
  backward.destroy();
  network.destroy();
});
