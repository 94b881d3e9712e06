// Debug views of the neural frame: ellipses where the kernel says, heat map and diverging maps
// that follow the values, the disocclusion cue; and the GPU read-back path of the neural resolver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu } from './helpers/gpu.ts';
import { createImage } from '../src/core/image.ts';
import { readGpuImage, uploadGpuImage } from '../src/gpu/gpu-image.ts';
import { NETWORK_V2 } from '../src/nn/network-v2.ts';
import { initWeights } from '../src/nn/weights.ts';
import { createNeuralResolver, type NeuralResolver } from '../src/nn/resolve/neural-resolver.ts';
import {
  debugViews,
  divergingColor,
  heatColor,
  readDebugViews,
} from '../src/nn/resolve/debug-views.ts';
import { FEATURE_CHANNELS, RAW_CHANNELS, SIGMA_MIN } from '../src/core/neural-frame.ts';

const W = 24;
const H = 16;

/** Raw outputs with the same values everywhere (channels not given are 0). */
function constantRaw(values: number[]) {
  const data = new Float32Array(RAW_CHANNELS * W * H);
  values.forEach((v, k) => data.fill(v, k * W * H, (k + 1) * W * H));
  return { channels: RAW_CHANNELS, height: H, width: W, data };
}

function pixel(image: { width: number; data: Float32Array }, x: number, y: number): number[] {
  const o = (y * image.width + x) * 3;
  return [image.data[o]!, image.data[o + 1]!, image.data[o + 2]!];
}

const softplusInverse = (y: number) => Math.log(Math.expm1(y));

test('debug views: an axis-aligned kernel draws its ellipse along x; maps follow α, state and the cue', () => {
  // σ1 = 3, σ2 = SIGMA_MIN + 0.2, θ = 0; α = sigmoid(0) = 0.5; recurrent tanh(±2), 0; β = sigmoid(−3).
  const raw = constantRaw([
    softplusInverse(3 - SIGMA_MIN),
    softplusInverse(0.2),
    0,
    0,
    2,
    -2,
    0,
    0.5,
    -3,
  ]);
  const features = {
    channels: FEATURE_CHANNELS,
    height: H,
    width: W,
    data: new Float32Array(FEATURE_CHANNELS * W * H),
  };
  features.data.fill(1, 7 * W * H + 3 * W, 7 * W * H + 4 * W); // cue = 1 on row 3
  const output = createImage(W, H, 4);
  output.data.fill(0.25);
  const views = debugViews({ output, raw, features }, { spacing: 16, ellipseScale: 1 });
  assert.deepEqual(Object.keys(views).sort(), [
    'alpha',
    'beta',
    'disocclusion',
    'kernels',
    'recurrent0',
    'recurrent1',
    'recurrent2',
    'recurrent3',
  ]);
  for (const view of Object.values(views)) {
    assert.equal(view.width, W);
    assert.equal(view.channels, 3);
  }
  // Kernel centre (8.5, 8.5): the 1σ ellipse passes through (11.5, 8.5) and (5.5, 8.5), not
  // through (8.5, 10.5) or (8.5, 11.5) (σ2 = 0.5).
  const green = [0, 1, 0];
  assert.deepEqual(pixel(views.kernels!, 11, 8), green);
  assert.deepEqual(pixel(views.kernels!, 5, 8), green);
  assert.notDeepEqual(pixel(views.kernels!, 8, 11), green);
  assert.notDeepEqual(pixel(views.kernels!, 8, 10), green);
  // Background: sRGB-encoded output.
  assert.ok(Math.abs(pixel(views.kernels!, 0, 0)[0]! - 0.537) < 0.01);
  assert.deepEqual(pixel(views.alpha!, 3, 3), heatColor(0.5).map(Math.fround));
  const beta = 1 / (1 + Math.exp(3));
  assert.deepEqual(pixel(views.beta!, 3, 3), heatColor(beta).map(Math.fround));
  assert.deepEqual(pixel(views.recurrent0!, 3, 3), divergingColor(Math.tanh(2)).map(Math.fround));
  assert.ok(pixel(views.recurrent1!, 3, 3)[2]! > 0.9, 'negative state is blue');
  assert.deepEqual(pixel(views.recurrent2!, 3, 3), [0, 0, 0]);
  assert.deepEqual(pixel(views.disocclusion!, 5, 3), [1, 1, 1]);
  assert.deepEqual(pixel(views.disocclusion!, 5, 4), [0, 0, 0]);
});

test('debug views: a rotated kernel (θ = 90°) draws its long axis along y', () => {
  const raw = constantRaw([softplusInverse(3 - SIGMA_MIN), softplusInverse(0.2), Math.PI / 2]);
  const features = {
    channels: FEATURE_CHANNELS,
    height: H,
    width: W,
    data: new Float32Array(FEATURE_CHANNELS * W * H),
  };
  const views = debugViews(
    { output: createImage(W, H, 4), raw, features },
    { spacing: 16, ellipseScale: 1 },
  );
  assert.deepEqual(pixel(views.kernels!, 8, 11), [0, 1, 0]);
  assert.notDeepEqual(pixel(views.kernels!, 11, 8), [0, 1, 0]);
});

test('debug views: heat and diverging maps are monotonic at the ends, bad options are refused', () => {
  assert.deepEqual(heatColor(0), [0, 0, 0]);
  assert.deepEqual(heatColor(1), [1, 1, 1]);
  assert.deepEqual(divergingColor(0), [0, 0, 0]);
  const raw = constantRaw([0]);
  const inputs = { output: createImage(W, H, 4), raw, features: raw };
  assert.throws(() => debugViews(inputs, { spacing: 0 }), /spacing/);
  assert.throws(() => debugViews(inputs, { ellipseScale: -1 }), /ellipseScale/);
});

/**
 * One reset frame through `resolver`: a render-size color (`shade(i)` per value) used as color and
 * motion, zero history and state. Returns the new history.
 */
function resolveResetFrame(
  device: GPUDevice,
  resolver: NeuralResolver,
  shade: (i: number) => number,
) {
  const color = createImage(12, 8, 4);
  for (let i = 0; i < color.data.length; i++) color.data[i] = shade(i);
  const history = createImage(W, H, 4);
  const encoder = device.createCommandEncoder();
  const out = resolver.resolve(encoder, {
    prepared: { color: uploadGpuImage(device, color), motion: uploadGpuImage(device, color) },
    reprojected: {
      history: uploadGpuImage(device, history),
      state: uploadGpuImage(device, history),
    },
    jitter: [0.1, 0.2],
    reset: true,
    renderSize: [12, 8],
    displaySize: [W, H],
  });
  device.queue.submit([encoder.finish()]);
  return out.history;
}

test('debug views from the GPU neural resolver after one frame', async () => {
  const { device } = await testGpu();
  const resolver = await createNeuralResolver(device, {
    model: { graph: NETWORK_V2, parameters: initWeights(NETWORK_V2, 2) },
  });
  await assert.rejects(readDebugViews(device, resolver), /no neural frame/);
  resolveResetFrame(device, resolver, (i) => (i % 7) / 7);
  const views = await readDebugViews(device, resolver, { spacing: 8 });
  assert.equal(views.kernels!.width, W);
  // After a reset the disocclusion cue is 1 everywhere (history invalid).
  assert.ok(views.disocclusion!.data.every((v) => v === 1));
  assert.ok(
    views.kernels!.data.some((v, i) => i % 3 === 1 && v === 1),
    'ellipses drawn',
  );
  for (const view of Object.values(views)) assert.ok(view.data.every(Number.isFinite));
  resolver.destroy();
});

test('an INT8 resolver skips its f32 features unless made with debugViews: true; same output either way', async () => {
  const { device } = await testGpu();
  const run = async (debug: boolean) => {
    const resolver = await createNeuralResolver(device, {
      model: 'weights/uplift-v2-int8.uplift',
      precision: 'int8',
      debugViews: debug,
    });
    const pixels = await readGpuImage(
      device,
      resolveResetFrame(device, resolver, (i) => (i % 5) / 5),
    );
    return { resolver, pixels };
  };
  const lean = await run(false);
  assert.equal(lean.resolver.lastFrame!.features, undefined);
  await assert.rejects(readDebugViews(device, lean.resolver), /debugViews: true/);
  const full = await run(true);
  const views = await readDebugViews(device, full.resolver);
  assert.ok(views.disocclusion!.data.every((v) => v === 1));
  assert.deepEqual(lean.pixels.data, full.pixels.data);
  assert.ok(new Set(lean.pixels.data).size > 10, 'a varied output');
  lean.resolver.destroy();
  full.resolver.destroy();
});
