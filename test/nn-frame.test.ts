// The neural frame on the GPU vs its CPU reference: features, activations + KPN filter, blend on
// random inputs; the whole frame through the frame API over consecutive frames, a reset, a resize;
// NaN in the reprojected history/state; bit-identical reruns.
import { test } from 'node:test';
import { int8RunsExactly } from '../src/nn/int8-self-check.ts';
import assert from 'node:assert/strict';
import { maxAbsDiff, rng, testGpu } from './helpers/gpu.ts';
import { gpuFrame, relativeError } from './helpers/frames.ts';
import { storedImage } from '../src/core/image.ts';
import {
  historyFill,
  randomImage,
  randomPreparedColor,
  withNonFinite,
} from './helpers/frame-images.ts';
import type { Size } from '../src/core/quality.ts';
import { createGpuImage, readGpuImage, uploadGpuImage } from '../src/gpu/gpu-image.ts';
import { readBuffer } from '../src/gpu/resources.ts';
import {
  createGpuInt8Tensor,
  createGpuTensor,
  readGpuTensor,
  uploadTensor,
} from '../src/nn/tensor.ts';
import { encodeQuantizeInt8 } from '../src/nn/ops/int8/quantize.ts';
import { stageInt8Copies } from '../src/gpu/int8-quantize.ts';
import type { Int8InputTarget } from '../src/nn/int8-network.ts';
import { NETWORK_V2 } from '../src/nn/network-v2.ts';
import { encodeWeights, initWeights } from '../src/nn/weights.ts';
import { InputError } from '../src/core/errors.ts';
import { encodeFeatures } from '../src/nn/resolve/features.ts';
import { encodeKpnFilter } from '../src/nn/resolve/kpn-filter.ts';
import { encodeBlend } from '../src/nn/resolve/blend.ts';
import { assembleFeaturesCpu, blendCpu, kpnFilterCpu } from '../src/reference/nn/frame.ts';
import { neuralCpuResolver } from '../src/reference/nn/neural-resolver.ts';
import {
  paddedSize,
  RAW_CHANNELS,
  FEATURE_CHANNELS,
  type NeuralModel,
} from '../src/core/neural-frame.ts';
import { createUpscaler } from '../src/upscaler.ts';
import { createReferenceUpscaler } from '../src/reference/upscaler.ts';
import { analyticSequence } from '../src/scene/analytic.ts';
import {
  createNeuralResolver,
  loadNeuralModel,
  type NeuralResolverOptions,
} from '../src/nn/resolve/neural-resolver.ts';

// Not multiples of 8: the network input is padded to 24×16.
const DISPLAY: Size = [22, 13];

/** Prepared color (rgb in [0, 1), a = luma), motion (z, w cues), history (a 0/1), state. */
function randomFrameInputs(render: Size, seed: number) {
  const color = randomPreparedColor(render, seed);
  const motion = randomImage(render, seed + 1, (r, c) =>
    c < 2 ? r() * 0.1 - 0.05 : r() < 0.5 ? 0 : r(),
  );
  const history = randomImage(DISPLAY, seed + 2, historyFill);
  const state = randomImage(DISPLAY, seed + 3, (r) => r() * 2 - 1);
  return { color, motion, history, state };
}

function renderSizeOf(ratio: number): Size {
  return [Math.round(DISPLAY[0] / ratio), Math.round(DISPLAY[1] / ratio)];
}

for (const [ratio, format] of [
  [2, 'rgba32float'],
  [1.5, 'rgba32float'],
  [2, 'rgba16float'],
] as const) {
  for (const reset of [false, true]) {
    test(`features: GPU matches CPU (ratio ${ratio}, reset ${reset}, history ${format})`, async () => {
      const { device } = await testGpu();
      const random = randomFrameInputs(renderSizeOf(ratio), 10 + ratio);
      // The reprojected history and state as the GPU holds them.
      const inputs = {
        ...random,
        history: storedImage(random.history, format),
        state: storedImage(random.state, format),
      };
      const params = { jitter: [0.31, -0.27] as const, reset };
      const expected = assembleFeaturesCpu(inputs, params);
      const [pw, ph] = paddedSize(DISPLAY);
      const output = createGpuTensor(device, { channels: FEATURE_CHANNELS, height: ph, width: pw });
      const gpu = {
        color: uploadGpuImage(device, inputs.color),
        motion: uploadGpuImage(device, inputs.motion),
        history: uploadGpuImage(device, inputs.history, undefined, format),
        state: uploadGpuImage(device, inputs.state, undefined, format),
      };
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      encodeFeatures(device, pass, gpu, params, output);
      pass.end();
      device.queue.submit([encoder.finish()]);
      const actual = await readGpuTensor(device, output);
      const { max, at } = maxAbsDiff(actual.data, expected.data);
      assert.ok(max < 1e-5, `max |GPU − CPU| ${max} at ${at}`);
      // Padding is zero; every channel carries something.
      const plane = pw * ph;
      for (let k = 0; k < 8; k++) {
        assert.equal(actual.data[k * plane + (ph - 1) * pw + pw - 1], 0);
      }
      if (!reset) {
        for (let k = 0; k < 8; k++) {
          const channel = expected.data.subarray(k * plane, (k + 1) * plane);
          assert.ok(
            channel.some((v) => v !== 0),
            `channel ${k} is all zero`,
          );
        }
      }
    });
  }

  for (const coverage of format === 'rgba32float' ? [0, 0.8] : []) {
    test(`KPN filter + activations: GPU matches CPU (ratio ${ratio}, coverage blend ${coverage})`, async () => {
      const { device } = await testGpu();
      const render = renderSizeOf(ratio);
      const { color } = randomFrameInputs(render, 20 + ratio);
      const [pw, ph] = paddedSize(DISPLAY);
      const random = rng(7);
      // Raw outputs around the interesting range: σ from ~0.35 to ~3 pixels, any angle, α and
      // tanh away from saturation and into it.
      const raw = {
        channels: RAW_CHANNELS,
        height: ph,
        width: pw,
        data: Float32Array.from({ length: RAW_CHANNELS * ph * pw }, () => random() * 6 - 3),
      };
      const jitter = [-0.41, 0.18] as const;
      const expected = kpnFilterCpu(raw, color, DISPLAY, jitter, coverage);
      const targets = {
        filtered: createGpuImage(device, ...DISPLAY),
        state: createGpuImage(device, ...DISPLAY),
      };
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      encodeKpnFilter(
        device,
        pass,
        uploadTensor(device, raw),
        uploadGpuImage(device, color),
        jitter,
        targets,
        coverage,
      );
      pass.end();
      device.queue.submit([encoder.finish()]);
      const filtered = await readGpuImage(device, targets.filtered);
      const state = await readGpuImage(device, targets.state);
      // f32 exp of quadratic forms up to ~10²: 2e-4 absolute on [0, 1] colors.
      const f = maxAbsDiff(filtered.data, expected.filtered.data);
      assert.ok(f.max < 2e-4, `filtered: max |GPU − CPU| ${f.max} at ${f.at}`);
      const s = maxAbsDiff(state.data, expected.state.data);
      assert.ok(s.max < 1e-5, `state: max |GPU − CPU| ${s.max} at ${s.at}`);
      // The filter is a convex combination of the window's colors: within [0, 1].
      assert.ok(filtered.data.every((v) => v >= 0 && v <= 1));
      if (coverage > 0) {
        // The coverage blend moves α: not the network's sigmoid everywhere.
        const plain = kpnFilterCpu(raw, color, DISPLAY, jitter);
        const moved = expected.filtered.data.filter(
          (v, i) => i % 4 === 3 && Math.abs(v - plain.filtered.data[i]!) > 0.01,
        );
        assert.ok(
          moved.length > DISPLAY[0] * DISPLAY[1] * 0.25,
          `α moved at ${moved.length} pixels`,
        );
      }
    });
  }
}

test('KPN filter: tiny kernels far from every sample fall back to the nearest sample, finite', () => {
  // σ = 0.3 display px at ratio 3: the nearest sample can be > 2 px away, exp(−q/2) underflows
  // without the max shift.
  const render: Size = [8, 6];
  const color = randomImage(render, 3, (r) => r());
  const display: Size = [24, 18];
  const [pw, ph] = paddedSize(display);
  const raw = {
    channels: RAW_CHANNELS,
    height: ph,
    width: pw,
    data: new Float64Array(RAW_CHANNELS * pw * ph),
  };
  raw.data.fill(-80, 0, 2 * pw * ph); // σ1 = σ2 = 0.3 + softplus(−80) ≈ 0.3
  const out = kpnFilterCpu(raw, color, display, [0.45, 0.45]);
  assert.ok(out.filtered.data.every(Number.isFinite));
  // Display pixel (0, 0) centre (0.5, 0.5) display px; render sample (0, 0) sits at 0.95·3 = 2.85:
  // the nearest sample dominates completely.
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(out.filtered.data[c]! - color.data[c]!) < 1e-9);
});

test('blend: GPU matches CPU, invalid history and reset ignore it, NaN history never reaches the output', async () => {
  const { device } = await testGpu();
  const filtered = randomImage(DISPLAY, 31, (r) => r());
  const history = withNonFinite(
    randomImage(DISPLAY, 32, (r, c) => (c < 3 ? r() : r() < 0.6 ? 1 : 0)),
  );
  // Render 11×7 for display 22×13; history values partly outside the neighbourhood box.
  const color = randomImage([11, 7], 33, (r) => r() * 0.8 + 0.1);
  const [pw, ph] = paddedSize(DISPLAY);
  const random = rng(34);
  const raw = {
    channels: RAW_CHANNELS,
    height: ph,
    width: pw,
    data: Float32Array.from({ length: RAW_CHANNELS * pw * ph }, () => random() * 4 - 2),
  };
  for (const reset of [false, true]) {
    const expected = blendCpu(filtered, history, { color, raw, reset });
    const output = createGpuImage(device, ...DISPLAY);
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeBlend(
      device,
      pass,
      uploadGpuImage(device, filtered),
      uploadGpuImage(device, history),
      { color: uploadGpuImage(device, color), raw: uploadTensor(device, raw), reset },
      output,
    );
    pass.end();
    device.queue.submit([encoder.finish()]);
    const actual = await readGpuImage(device, output);
    assert.ok(actual.data.every(Number.isFinite));
    const { max, at } = maxAbsDiff(actual.data, expected.data);
    assert.ok(max < 1e-6, `reset ${reset}: max |GPU − CPU| ${max} at ${at}`);
    if (reset) assert.equal(actual.data[8], filtered.data[8]);
  }
});

const PARAMETERS = initWeights(NETWORK_V2, 5);
const MODEL: NeuralModel = { graph: NETWORK_V2, parameters: PARAMETERS };

test('whole neural frame: GPU upscaler matches the CPU reference over consecutive frames, a reset, a render size change and a resize', async () => {
  const { device } = await testGpu();
  // Frames 0–3, a camera cut at 4 (reset), 5; then a different display size.
  const sequence = analyticSequence({ displaySize: [24, 16], ratio: 2, frames: 6, cutAt: 4 });
  const options = { displaySize: [24, 16] as Size, quality: 2, method: 'neural' as const };
  const gpu = await createUpscaler(device, { ...options, model: MODEL });
  const cpu = createReferenceUpscaler({ ...options, resolver: neuralCpuResolver(MODEL) });
  for (const frame of sequence.frames) {
    const expected = cpu.dispatch(frame.images, frame.params);
    const actual = await gpuFrame(device, gpu, frame.images, frame.params);
    // f32 network (~130K parameters) vs float64, compounded through history and state.
    const error = relativeError(actual, expected);
    assert.ok(error < 2e-3, `frame ${frame.params.reset ? '(reset) ' : ''}error ${error}`);
  }
  // The recurrent state is in use: the CPU state after frame 5 is not all zero.
  assert.ok(cpu.history!.state.data.some((v) => Math.abs(v) > 1e-3));
  // Dynamic resolution: the app renders at 1.5× instead of 2× mid-sequence (inputs 16×11).
  const finer = analyticSequence({ displaySize: [24, 16], ratio: 1.5, frames: 2 });
  for (const frame of finer.frames) {
    const expected = cpu.dispatch(frame.images, frame.params);
    const actual = await gpuFrame(device, gpu, frame.images, frame.params);
    const error = relativeError(actual, expected);
    assert.ok(error < 2e-3, `after a render size change: error ${error}`);
  }
  assert.deepEqual(gpu.renderSize, finer.header.renderSize);
  const larger = analyticSequence({ displaySize: [20, 18], ratio: 1.5, frames: 2 });
  gpu.resize([20, 18], larger.header.renderSize);
  cpu.resize([20, 18], larger.header.renderSize);
  for (const frame of larger.frames) {
    const expected = cpu.dispatch(frame.images, frame.params);
    const actual = await gpuFrame(device, gpu, frame.images, frame.params);
    assert.equal(actual.width, 20);
    const error = relativeError(actual, expected);
    assert.ok(error < 2e-3, `after resize: error ${error}`);
  }
  gpu.destroy();
});

test('neural resolver: NaN in the reprojected history and state never reaches the outputs; reruns are bit-identical', async () => {
  const { device } = await testGpu();
  const render = renderSizeOf(2);
  const inputs = randomFrameInputs(render, 40);
  for (let i = 0; i < inputs.history.data.length; i += 9) inputs.history.data[i] = NaN;
  for (let i = 0; i < inputs.state.data.length; i += 7) inputs.state.data[i] = -Infinity;
  const resolver = await createNeuralResolver(device, { model: MODEL });
  const gpuInputs = {
    prepared: {
      color: uploadGpuImage(device, inputs.color),
      motion: uploadGpuImage(device, inputs.motion),
    },
    reprojected: {
      history: uploadGpuImage(device, inputs.history),
      state: uploadGpuImage(device, inputs.state),
    },
    jitter: [0.2, -0.1] as const,
    reset: false,
    renderSize: render,
    displaySize: DISPLAY,
  };
  const runOnce = async () => {
    const encoder = device.createCommandEncoder();
    const out = resolver.resolve(encoder, gpuInputs);
    device.queue.submit([encoder.finish()]);
    return {
      history: await readGpuImage(device, out.history),
      state: await readGpuImage(device, out.state),
    };
  };
  const first = await runOnce();
  const second = await runOnce();
  assert.ok(first.history.data.every(Number.isFinite), 'history has non-finite values');
  assert.ok(first.state.data.every(Number.isFinite), 'state has non-finite values');
  assert.deepEqual(second.history.data, first.history.data);
  assert.deepEqual(second.state.data, first.state.data);
  const cpu = neuralCpuResolver(MODEL).resolve({
    prepared: { color: inputs.color, motion: inputs.motion },
    reprojected: { history: inputs.history, state: inputs.state },
    jitter: gpuInputs.jitter,
    reset: false,
    renderSize: render,
    displaySize: DISPLAY,
  });
  const { max } = maxAbsDiff(first.history.data, cpu.history.data);
  assert.ok(max < 1e-3, `history vs CPU ${max}`);
  resolver.destroy();
});

test('neural model loading: .uplift bytes load; a graph without the 12-in / 9-out contract is an InputError', async () => {
  const bytes = encodeWeights({ graph: NETWORK_V2, parameters: PARAMETERS });
  const loaded = await loadNeuralModel(bytes);
  assert.equal(loaded.graph.name, NETWORK_V2.name);
  const tiny = (inChannels: number, outChannels: number) => ({
    name: 'tiny',
    version: 1,
    inputs: [{ name: 'x', channels: inChannels }],
    outputs: ['y'],
    nodes: [{ op: 'conv1x1' as const, name: 'y', inputs: ['x'], output: 'y', outChannels }],
  });
  for (const [inChannels, outChannels, message] of [
    [4, RAW_CHANNELS, /input of 12 channels/],
    [FEATURE_CHANNELS, 3, /output of 9 channels/],
  ] as const) {
    const graph = tiny(inChannels, outChannels);
    await assert.rejects(
      loadNeuralModel({ graph, parameters: initWeights(graph, 1) }),
      (e: Error) => e instanceof InputError && message.test(e.message),
    );
  }
  await assert.rejects(loadNeuralModel(bytes.slice(0, 40)), InputError);
});

/** One frame of a fresh neural resolver on `inputs`; its new history, read back. */
async function resolveOneFrame(
  device: GPUDevice,
  options: NeuralResolverOptions,
  inputs: ReturnType<typeof randomFrameInputs>,
  render: Size,
) {
  const resolver = await createNeuralResolver(device, options);
  const encoder = device.createCommandEncoder();
  const out = resolver.resolve(encoder, {
    prepared: {
      color: uploadGpuImage(device, inputs.color),
      motion: uploadGpuImage(device, inputs.motion),
    },
    reprojected: {
      history: uploadGpuImage(device, inputs.history),
      state: uploadGpuImage(device, inputs.state),
    },
    jitter: [0.2, -0.1],
    reset: false,
    renderSize: render,
    displaySize: DISPLAY,
  });
  device.queue.submit([encoder.finish()]);
  const history = await readGpuImage(device, out.history);
  resolver.destroy();
  return history;
}

test('neural resolver with f16 network intermediates: close to f32 where the adapter has shader-f16, else a clear error', async () => {
  const { device } = await testGpu();
  if (!device.features.has('shader-f16')) {
    await assert.rejects(
      createNeuralResolver(device, { model: MODEL, precision: 'f16' }),
      /shader-f16/,
    );
    return;
  }
  const render = renderSizeOf(2);
  const inputs = randomFrameInputs(render, 50);
  const resolveWith = (precision: 'f32' | 'f16') =>
    resolveOneFrame(device, { model: MODEL, precision }, inputs, render);
  const { max } = maxAbsDiff((await resolveWith('f16')).data, (await resolveWith('f32')).data);
  assert.ok(max < 1e-2, `f16 vs f32 history ${max}`);
});

test('neural resolver in INT8: the shipped INT8 weights resolve close to their f32 simulation; an f32 model is refused', async () => {
  const { device } = await testGpu();
  const int8Model = await loadNeuralModel('weights/uplift-v2-int8.uplift');
  const render = renderSizeOf(2);
  const inputs = randomFrameInputs(render, 51);
  const resolveWith = (precision: 'f32' | 'int8') =>
    resolveOneFrame(device, { model: int8Model, precision }, inputs, render);
  const int8 = await resolveWith('int8');
  const simulated = await resolveWith('f32');
  assert.ok(int8.data.every(Number.isFinite));
  const { max } = maxAbsDiff(int8.data, simulated.data);
  let sum = 0;
  for (let i = 0; i < int8.data.length; i++) sum += Math.abs(int8.data[i]! - simulated.data[i]!);
  const mean = sum / int8.data.length;
  // Tonemapped history in [0, 1): the two differ by the int8 roundings only.
  assert.ok(mean < 5e-3 && max < 0.1, `int8 vs simulated history: mean ${mean}, max ${max}`);
  await assert.rejects(
    createNeuralResolver(device, { model: MODEL, precision: 'int8' }),
    /int8 plan of/,
  );
});

test("features with int8 copies: the same words the INT8 network's own quantization writes", async () => {
  const { device } = await testGpu();
  const inputs = randomFrameInputs(renderSizeOf(2), 77);
  const gpu = {
    color: uploadGpuImage(device, inputs.color),
    motion: uploadGpuImage(device, inputs.motion),
    history: uploadGpuImage(device, inputs.history),
    state: uploadGpuImage(device, inputs.state),
  };
  const [pw, ph] = paddedSize(DISPLAY);
  const features = createGpuTensor(device, { channels: FEATURE_CHANNELS, height: ph, width: pw });
  // Two copies as network v2's plan has them: alone, and at channel 8 of a 20-channel tensor
  // (staged, stageInt8Copies); the first alone, as network v3a's (each thread its own words).
  const v2Copies = [
    { channels: 12, offset: 0, scale: 0.03 },
    { channels: 20, offset: 8, scale: 0.11 },
  ];
  const params = { jitter: [0.31, -0.27] as const, reset: false };
  for (const [copies, staged] of [
    [v2Copies, true],
    [v2Copies.slice(0, 1), false],
  ] as const) {
    const fused: Int8InputTarget[] = copies.map((c) => ({
      output: createGpuInt8Tensor(device, { channels: c.channels, height: ph, width: pw }),
      scale: c.scale,
      outChannelOffset: c.offset,
    }));
    assert.equal(stageInt8Copies(fused, FEATURE_CHANNELS), staged);
    const separate = copies.map((c) =>
      createGpuInt8Tensor(device, { channels: c.channels, height: ph, width: pw }),
    );
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeFeatures(device, pass, gpu, params, features, fused);
    pass.end();
    const pass2 = encoder.beginComputePass();
    copies.forEach((c, i) =>
      encodeQuantizeInt8(device, pass2, features, c.scale, separate[i]!, c.offset),
    );
    pass2.end();
    device.queue.submit([encoder.finish()]);
    for (const [i, c] of copies.entries()) {
      const a = new Uint32Array((await readBuffer(device, fused[i]!.output.buffer)).buffer);
      const b = new Uint32Array((await readBuffer(device, separate[i]!.buffer)).buffer);
      assert.deepEqual(a, b, `${copies.length} copies, copy at channel ${c.offset}`);
      assert.ok(
        a.some((w) => w !== 0),
        'the copy holds values',
      );
    }
  }
  const pass = device.createCommandEncoder().beginComputePass();
  const copy = { output: createGpuInt8Tensor(device, { channels: 12, height: ph, width: pw }) };
  const three = [0, 1, 2].map(() => ({ ...copy, scale: 0.03, outChannelOffset: 0 }));
  assert.throws(
    () => encodeFeatures(device, pass, gpu, params, features, three),
    /at most 2 int8 copies/,
  );
});

test("neural resolver precision 'auto': INT8 for INT8-ready weights on a device that passes the INT8 self-check, f32 otherwise", async () => {
  const { device } = await testGpu();
  const sizes = { renderSize: [32, 24] as const, displaySize: [64, 48] as const };
  const int8 = await createNeuralResolver(device, {
    model: 'weights/uplift-v2-int8.uplift',
    ...sizes,
  });
  assert.equal(int8.precision, 'int8');
  assert.equal(await int8RunsExactly(device), true, 'this adapter computes INT8 exactly');
  const f32 = await createNeuralResolver(device, { model: 'weights/uplift-v2.uplift', ...sizes });
  assert.equal(f32.precision, 'f32');
  const asked = await createNeuralResolver(device, {
    model: 'weights/uplift-v2-int8.uplift',
    precision: 'f32',
    ...sizes,
  });
  assert.equal(asked.precision, 'f32');
  for (const r of [int8, f32, asked]) r.destroy();
});
