// GPU backward kernels of the neural frame vs their CPU references (random inputs, tiny sizes):
// blend, activations + KPN filter, features, the reprojection (deterministic fixed-point scatter),
// and the whole frame backward around network v1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maxAbsDiff, rng, testGpu } from './helpers/gpu.ts';
import type { Image } from '../src/core/image.ts';
import { historyFill, randomImage } from './helpers/frame-images.ts';
import type { Size } from '../src/core/quality.ts';
import { createGpuImage, readGpuImage, uploadGpuImage } from '../src/gpu/gpu-image.ts';
import { createGpuTensor, readGpuTensor, uploadTensor } from '../src/nn/tensor.ts';
import { encodeBlendBackward } from '../src/nn/backward/blend.ts';
import { encodeKpnFilterBackward } from '../src/nn/backward/kpn-filter.ts';
import { encodeFeaturesBackward } from '../src/nn/backward/features.ts';
import {
  encodeReprojectBackward,
  reprojectBackwardScratchBytes,
} from '../src/nn/backward/reproject.ts';
import { createNeuralFrameBackward } from '../src/nn/backward/neural-frame.ts';
import { createNeuralFrameTargets, encodeNeuralFrame } from '../src/nn/resolve/neural-frame.ts';
import { parameterSpecs } from '../src/core/graph.ts';
import { NETWORK_V2 } from '../src/nn/network-v2.ts';
import { createNetwork } from '../src/nn/network.ts';
import { initWeights } from '../src/nn/weights.ts';
import { readBuffer } from '../src/gpu/resources.ts';
import { reprojectCpu } from '../src/reference/reproject.ts';
import { neuralFrameCpu } from '../src/reference/nn/frame.ts';
import {
  assembleFeaturesBackwardCpu,
  blendBackwardCpu,
  kpnFilterBackwardCpu,
  neuralFrameBackwardCpu,
  reprojectBackwardCpu,
} from '../src/reference/nn/frame-backward.ts';
import { paddedSize, FEATURE_CHANNELS, RAW_CHANNELS } from '../src/core/neural-frame.ts';

// Not multiples of 8: padding is exercised.
const DISPLAY: Size = [22, 13];

const uniform = (lo: number, hi: number) => (r: () => number) => lo + (hi - lo) * r();

/** Runs `record` in one compute pass and submits. */
function submitPass(device: GPUDevice, record: (pass: GPUComputePassEncoder) => void): void {
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  record(pass);
  pass.end();
  device.queue.submit([encoder.finish()]);
}

for (const [reset, historyGuard] of [
  [false, 0],
  [true, 0],
  [false, 1],
] as const) {
  test(`blend backward: GPU matches CPU (reset ${reset}, history guard ${historyGuard})`, async () => {
    const { device } = await testGpu();
    const filtered = randomImage(DISPLAY, 1, uniform(0, 1));
    const history = randomImage(DISPLAY, 2, historyFill);
    history.data[4 * 3] = NaN;
    const dOut = randomImage(DISPLAY, 3, uniform(-1, 1));
    // Colors in [0.1, 0.9): some history values fall outside the neighbourhood box.
    const color = randomImage([11, 7], 12, uniform(0.1, 0.9));
    const [pw, ph] = paddedSize(DISPLAY);
    const random = rng(13);
    const raw = {
      channels: RAW_CHANNELS,
      height: ph,
      width: pw,
      data: Float32Array.from({ length: RAW_CHANNELS * pw * ph }, () => random() * 4 - 2),
    };
    const expected = blendBackwardCpu(
      filtered,
      history,
      { color, raw, reset, historyGuard },
      dOut.data,
    );
    const targets = {
      filtered: createGpuImage(device, ...DISPLAY),
      history: createGpuImage(device, ...DISPLAY),
      betaRaw: createGpuImage(device, ...DISPLAY),
    };
    submitPass(device, (pass) =>
      encodeBlendBackward(
        device,
        pass,
        uploadGpuImage(device, filtered),
        uploadGpuImage(device, history),
        {
          color: uploadGpuImage(device, color),
          raw: uploadTensor(device, raw),
          reset,
          historyGuard,
        },
        uploadGpuImage(device, dOut),
        targets,
      ),
    );
    const f = maxAbsDiff((await readGpuImage(device, targets.filtered)).data, expected.filtered);
    const h = maxAbsDiff((await readGpuImage(device, targets.history)).data, expected.history);
    const betaGpu = (await readGpuImage(device, targets.betaRaw)).data.filter(
      (_, i) => i % 4 === 0,
    );
    const b = maxAbsDiff(betaGpu, expected.betaRaw);
    assert.ok(f.max < 1e-6, `dFiltered: ${f.max} at ${f.at}`);
    assert.ok(h.max < 1e-6, `dHistory: ${h.max} at ${h.at}`);
    assert.ok(b.max < 1e-6, `dBetaRaw: ${b.max} at ${b.at}`);
    assert.equal(
      expected.betaRaw.some((v) => v !== 0),
      !reset,
    );
  });
}

for (const [ratio, coverage] of [
  [2, 0],
  [1.5, 0],
  [2, 0.8],
] as const) {
  test(`KPN filter backward: GPU matches CPU (ratio ${ratio}, coverage blend ${coverage})`, async () => {
    const { device } = await testGpu();
    const render: Size = [Math.round(DISPLAY[0] / ratio), Math.round(DISPLAY[1] / ratio)];
    const color = randomImage(render, 4, uniform(0, 1));
    const [pw, ph] = paddedSize(DISPLAY);
    const random = rng(5);
    const raw = {
      channels: RAW_CHANNELS,
      height: ph,
      width: pw,
      data: Float32Array.from({ length: RAW_CHANNELS * pw * ph }, () => random() * 4 - 2),
    };
    const dFiltered = randomImage(DISPLAY, 6, uniform(-1, 1));
    const dState = randomImage(DISPLAY, 7, uniform(-1, 1));
    const dBeta = randomImage(DISPLAY, 8, uniform(-1, 1));
    const dBetaRaw = dBeta.data.filter((_, i) => i % 4 === 0);
    const jitter = [0.33, -0.21] as const;
    const expected = kpnFilterBackwardCpu(
      raw,
      color,
      DISPLAY,
      jitter,
      dFiltered.data,
      dState.data,
      dBetaRaw,
      coverage,
    );
    const dRaw = createGpuTensor(device, raw);
    submitPass(device, (pass) =>
      encodeKpnFilterBackward(
        device,
        pass,
        uploadTensor(device, raw),
        uploadGpuImage(device, color),
        jitter,
        {
          filtered: uploadGpuImage(device, dFiltered),
          state: uploadGpuImage(device, dState),
          betaRaw: uploadGpuImage(device, dBeta),
        },
        dRaw,
        coverage,
      ),
    );
    const actual = await readGpuTensor(device, dRaw);
    // Gradients up to ~10 through 1/σ³ terms: 1e-4 relative to the largest.
    const scale = Math.max(...expected.map(Math.abs));
    const { max, at } = maxAbsDiff(actual.data, expected);
    assert.ok(max < 1e-4 * scale, `max |GPU − CPU| ${max} at ${at} (scale ${scale})`);
  });
}

for (const reset of [false, true]) {
  test(`features backward: GPU matches CPU, blend gradient added (reset ${reset})`, async () => {
    const { device } = await testGpu();
    const history = randomImage(DISPLAY, 8, historyFill);
    const state = randomImage(DISPLAY, 9, uniform(-1, 1));
    state.data[6] = NaN;
    history.data[0] = Infinity;
    const dHistoryBlend = randomImage(DISPLAY, 10, (r, c) => (c < 3 ? r() * 2 - 1 : 0));
    const [pw, ph] = paddedSize(DISPLAY);
    const random = rng(11);
    const dFeatures = {
      channels: FEATURE_CHANNELS,
      height: ph,
      width: pw,
      data: Float32Array.from({ length: FEATURE_CHANNELS * pw * ph }, () => random() * 2 - 1),
    };
    // Luma (a) in [0.3, 0.6): history lumas fall inside and outside the neighbourhood range.
    const color = randomImage([11, 7], 14, (r, c) => (c < 3 ? r() : 0.3 + 0.3 * r()));
    const expected = assembleFeaturesBackwardCpu(
      { color, motion: color, history, state },
      { jitter: [0, 0], reset },
      dFeatures.data,
    );
    for (let i = 0; i < expected.history.length; i++) {
      expected.history[i]! += dHistoryBlend.data[i]!;
    }
    const targets = {
      history: createGpuImage(device, ...DISPLAY),
      state: createGpuImage(device, ...DISPLAY),
    };
    submitPass(device, (pass) =>
      encodeFeaturesBackward(
        device,
        pass,
        {
          dFeatures: uploadTensor(device, dFeatures),
          history: uploadGpuImage(device, history),
          state: uploadGpuImage(device, state),
          color: uploadGpuImage(device, color),
          dHistoryBlend: uploadGpuImage(device, dHistoryBlend),
        },
        reset,
        targets,
      ),
    );
    const h = maxAbsDiff((await readGpuImage(device, targets.history)).data, expected.history);
    const s = maxAbsDiff((await readGpuImage(device, targets.state)).data, expected.state);
    assert.ok(h.max < 1e-6, `dHistory: ${h.max} at ${h.at}`);
    assert.ok(s.max < 1e-6, `dState: ${s.max} at ${s.at}`);
  });
}

// historyScale ≠ 1: an exposure change; the rescale's backward runs before the scatter.
for (const historyScale of [1, 3, 0.5]) {
  test(`reproject backward: GPU scatter matches CPU and is bit-identical across runs (history scale ${historyScale})`, async () => {
    const { device } = await testGpu();
    const render: Size = [11, 7];
    // Motion up to ±0.2 UV: many display pixels land on the same previous pixels; some leave.
    const motion = randomImage(render, 12, (r, c) => (c < 2 ? r() * 0.4 - 0.2 : 0));
    const previousHistory = randomImage(DISPLAY, 13, uniform(0, 0.9));
    const dHistory = randomImage(DISPLAY, 14, (r, c) => (c < 3 ? r() * 2 - 1 : 0));
    const dState = randomImage(DISPLAY, 15, uniform(-1, 1));
    const expected = reprojectBackwardCpu(
      motion,
      previousHistory,
      false,
      dHistory.data,
      dState.data,
      historyScale,
    );
    const scratch = device.createBuffer({
      size: reprojectBackwardScratchBytes(...DISPLAY),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    const gpu = {
      motion: uploadGpuImage(device, motion),
      previousHistory: uploadGpuImage(device, previousHistory),
      upstream: {
        history: uploadGpuImage(device, dHistory),
        state: uploadGpuImage(device, dState),
      },
    };
    const run = async (reset: boolean) => {
      const targets = {
        history: createGpuImage(device, ...DISPLAY),
        state: createGpuImage(device, ...DISPLAY),
      };
      const encoder = device.createCommandEncoder();
      encodeReprojectBackward(
        device,
        encoder,
        gpu.motion,
        gpu.previousHistory,
        reset,
        gpu.upstream,
        scratch,
        targets,
        historyScale,
      );
      device.queue.submit([encoder.finish()]);
      return {
        history: (await readGpuImage(device, targets.history)).data,
        state: (await readGpuImage(device, targets.state)).data,
      };
    };
    const first = await run(false);
    const h = maxAbsDiff(first.history, expected.history);
    const s = maxAbsDiff(first.state, expected.state);
    assert.ok(h.max < 1e-5, `dPreviousHistory: ${h.max} at ${h.at}`);
    assert.ok(s.max < 1e-5, `dPreviousState: ${s.max} at ${s.at}`);
    assert.ok(
      first.history.some((v) => Math.abs(v) > 0.5),
      'gradients accumulated',
    );
    const second = await run(false);
    assert.deepEqual(second.history, first.history);
    assert.deepEqual(second.state, first.state);
    const reset = await run(true);
    assert.ok(reset.history.every((v) => v === 0) && reset.state.every((v) => v === 0));
  });
}

test('whole frame on the GPU, forward (encodeNeuralFrame) and backward (network v1 + reprojection), matches the CPU reference', async () => {
  const { device } = await testGpu();
  const display: Size = [16, 8];
  const render: Size = [8, 4];
  const color = randomImage(render, 40, uniform(0, 1));
  for (let i = 0; i < color.data.length; i += 4) {
    color.data[i + 3] =
      0.2126 * color.data[i]! + 0.7152 * color.data[i + 1]! + 0.0722 * color.data[i + 2]!;
  }
  const motion = randomImage(render, 41, (r, c) => (c < 2 ? r() * 0.1 - 0.05 : r() * 0.3));
  const previousHistory = randomImage(display, 42, uniform(0, 1));
  const previousState = randomImage(display, 43, uniform(-1, 1));
  const dHistory = randomImage(display, 44, (r, c) => (c < 3 ? r() * 2 - 1 : 0));
  const dState = randomImage(display, 45, uniform(-1, 1));
  const parameters = initWeights(NETWORK_V2, 6);
  const random = rng(46);
  for (const [name, v] of parameters) {
    if (name.endsWith('.bias')) for (let i = 0; i < v.length; i++) v[i] = random() * 0.2 - 0.1;
  }
  const model = { graph: NETWORK_V2, parameters };
  const params = { jitter: [0.12, -0.3] as const, reset: false };

  // CPU, float64 from the reprojection on.
  const reprojected = reprojectCpu(motion, previousHistory, previousState, false);
  const f64 = (image: Image) => ({ ...image, data: Float64Array.from(image.data) });
  const inputs = {
    color,
    motion,
    history: f64(reprojected.history),
    state: f64(reprojected.state),
  };
  const frame = neuralFrameCpu(model, inputs, params);
  const grads = neuralFrameBackwardCpu(model, inputs, params, frame, dHistory.data, dState.data);
  const previous = reprojectBackwardCpu(
    motion,
    previousHistory,
    false,
    grads.reprojected.history,
    grads.reprojected.state,
  );

  // GPU: the forward, keeping the network's activations, then the whole backward.
  const network = createNetwork(device, NETWORK_V2, parameters);
  const gpu = {
    color: uploadGpuImage(device, color),
    motion: uploadGpuImage(device, motion),
    history: uploadGpuImage(device, reprojected.history),
    state: uploadGpuImage(device, reprojected.state),
  };
  const targets = createNeuralFrameTargets(device, display);
  const paramGrads = new Map(
    parameterSpecs(NETWORK_V2).map((spec) => [
      spec.name,
      device.createBuffer({
        size: spec.length * 4,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      }),
    ]),
  );
  const backward = createNeuralFrameBackward(device, NETWORK_V2, display);
  const encoder = device.createCommandEncoder();
  const run = encodeNeuralFrame(
    device,
    encoder,
    network,
    { ...params, prepared: gpu, reprojected: gpu },
    targets,
  );
  backward.encode(encoder, {
    prepared: { color: gpu.color, motion: gpu.motion },
    reprojected: { history: gpu.history, state: gpu.state },
    jitter: params.jitter,
    reset: false,
    filtered: targets.filtered,
    activations: run.activations,
    params: network.parameters,
    paramGrads,
    dHistory: uploadGpuImage(device, dHistory),
    dState: uploadGpuImage(device, dState),
    previousHistory: uploadGpuImage(device, previousHistory),
  });
  device.queue.submit([encoder.finish()]);

  const close = (what: string, actual: ArrayLike<number>, expected: ArrayLike<number>) => {
    let scale = 0;
    for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
    assert.ok(scale > 0, `${what}: all zero`);
    const { max, at } = maxAbsDiff(actual, expected);
    assert.ok(max < 2e-3 * scale, `${what}: max |GPU − CPU| ${max} at ${at} (scale ${scale})`);
  };
  close(
    'd reprojected history',
    (await readGpuImage(device, backward.reprojected.history)).data,
    grads.reprojected.history,
  );
  close(
    'd reprojected state',
    (await readGpuImage(device, backward.reprojected.state)).data,
    grads.reprojected.state,
  );
  close(
    'd previous history',
    (await readGpuImage(device, backward.previous.history)).data,
    previous.history,
  );
  close(
    'd previous state',
    (await readGpuImage(device, backward.previous.state)).data,
    previous.state,
  );
  for (const name of ['down1.weight', 'res2a.weight', 'head.weight', 'head.bias']) {
    const expected = grads.parameters.get(name)!;
    close(
      `d ${name}`,
      await readBuffer(device, paramGrads.get(name)!, expected.length * 4),
      expected,
    );
  }
  // The forward's new history too.
  close('new history', (await readGpuImage(device, targets.history)).data, frame.history.data);
  backward.destroy();
  targets.destroy();
  network.destroy();
});
