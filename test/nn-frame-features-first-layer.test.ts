// The features pass and the INT8 network's first layer in one kernel
// (src/nn/resolve/features-first-layer.ts) against the two passes it replaces (the features pass
// writing its int8 copy, then the first layer's dot4I8Packed kernel: bit for bit) and against the
// CPU reference (assembleFeaturesCpu, the quantization, int8OpCpu), on networks v3a, v3c and v3d
// with random quantized weights, odd and even display sizes, both history formats; where it does
// not apply; then whole frames of a resolver with and without the fusion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rng, testGpu } from './helpers/gpu.ts';
import { neuralResolverFrames } from './helpers/frames.ts';
import { createImage, storedImage } from '../src/core/image.ts';
import {
  historyFill,
  randomImage,
  randomPreparedColor,
  withNonFinite,
} from './helpers/frame-images.ts';
import type { Size } from '../src/core/quality.ts';
import { FEATURE_CHANNELS, paddedSize } from '../src/core/neural-frame.ts';
import { planInt8 } from '../src/core/int8-plan.ts';
import { quantizeF32, unpackInt8 } from '../src/core/int8.ts';
import { uploadGpuImage, type ImageFormat } from '../src/gpu/gpu-image.ts';
import { readBuffer, uploadImage } from '../src/gpu/resources.ts';
import { createGpuInt8Tensor, createGpuTensor } from '../src/nn/tensor.ts';
import { createInt8Network } from '../src/nn/int8-network.ts';
import { encodeInt8Op } from '../src/nn/ops/int8/encode.ts';
import { NETWORK_V2 } from '../src/nn/network-v2.ts';
import { NETWORK_V3_CANDIDATES } from '../src/nn/network-v3.ts';
import { randomInt8Model } from '../src/nn/networks.ts';
import { encodeFeatures } from '../src/nn/resolve/features.ts';
import {
  encodeFeaturesFirstLayer,
  featuresFirstLayerRefusal,
} from '../src/nn/resolve/features-first-layer.ts';
import { assembleFeaturesCpu } from '../src/reference/nn/frame.ts';
import { int8OpCpu } from '../src/reference/nn/int8-ops.ts';

/** Prepared color and motion (render size), reprojected history (some invalid, non-finite) and state. */
function randomFrame(display: Size, render: Size, seed: number) {
  return {
    color: randomPreparedColor(render, seed),
    motion: randomImage(render, seed + 1, (r, c) =>
      c < 2 ? r() * 0.1 - 0.05 : r() < 0.5 ? 0 : r(),
    ),
    history: withNonFinite(randomImage(display, seed + 2, historyFill)),
    state: randomImage(display, seed + 3, (r) => r() * 2 - 1),
  };
}

// Display sizes: odd (padded to 24×16 and 16×8: the padding's zero features enter down1), and
// already multiples of 8.
const CASES: { network: string; display: Size; ratio: number }[] = [
  { network: 'v3a', display: [21, 13], ratio: 2 },
  { network: 'v3a', display: [21, 13], ratio: 1.5 },
  { network: 'v3a', display: [16, 8], ratio: 1.5 },
  { network: 'v3c', display: [9, 7], ratio: 2 },
  { network: 'v3d', display: [24, 16], ratio: 2 },
];

for (const { network: name, display, ratio } of CASES) {
  test(`features + first layer (${name}, display ${display.join('x')}, ratio ${ratio}): the two passes bit for bit, the CPU reference within a quantization step's effect`, async () => {
    const { device } = await testGpu();
    const model = randomInt8Model(NETWORK_V3_CANDIDATES[name]!);
    const plan = planInt8(model.graph, model.parameters);
    assert.equal(featuresFirstLayerRefusal(plan, 'dot4'), undefined);
    assert.equal(plan.steps[0]!.op, 'down2x2');
    const network = createInt8Network(device, plan);
    const render: Size = [Math.round(display[0] / ratio), Math.round(display[1] / ratio)];
    const [pw, ph] = paddedSize(display);
    const frame = randomFrame(display, render, 40 + display[0] + 10 * ratio);
    const first = network.firstStep(ph, pw);
    const out = first.targets.output;
    const separate = createGpuInt8Tensor(device, out);
    const f32Features = createGpuTensor(device, {
      channels: FEATURE_CHANNELS,
      height: ph,
      width: pw,
    });
    const read = async (buffer: GPUBuffer) =>
      unpackInt8(
        new Uint32Array((await readBuffer(device, buffer)).buffer),
        out.channels,
        out.height,
        out.width,
      );
    for (const format of ['rgba32float', 'rgba16float'] as ImageFormat[]) {
      const stored = {
        ...frame,
        history: storedImage(frame.history, format),
        state: storedImage(frame.state, format),
      };
      const gpu = {
        color: uploadGpuImage(device, frame.color),
        motion: uploadGpuImage(device, frame.motion),
        history: uploadGpuImage(device, stored.history, undefined, format),
        state: uploadGpuImage(device, stored.state, undefined, format),
      };
      for (const reset of [false, true]) {
        const params = { jitter: [0.31, -0.27] as const, reset };
        const what = `${format} reset ${reset}`;
        const encoder = device.createCommandEncoder();
        let pass = encoder.beginComputePass();
        encodeFeaturesFirstLayer(device, pass, first, gpu, params);
        pass.end();
        // The two passes: features with their int8 copy (into the network's input tensor, which
        // the fused kernel never writes), then down1's own kernel into another tensor.
        pass = encoder.beginComputePass();
        const copies = network.inputQuantizations(ph, pw);
        encodeFeatures(device, pass, gpu, params, f32Features, copies, false);
        pass.end();
        pass = encoder.beginComputePass();
        encodeInt8Op(device, pass, first.weights, first.input, { output: separate });
        pass.end();
        device.queue.submit([encoder.finish()]);
        const [fused, twoPasses] = await Promise.all([read(out.buffer), read(separate.buffer)]);
        assert.deepEqual(fused, twoPasses, `${what}: fused against the two passes`);
        assert.ok(
          new Set(fused).size > 20,
          `${what}: a varied output (${new Set(fused).size} values)`,
        );

        // CPU: features in f64-free f32 arithmetic differ from the GPU's by ≤ 1e-5 (nn-frame's
        // test), so a value on a quantization tie may land one step away; count those.
        const features = assembleFeaturesCpu(stored, params);
        const inverse = Math.fround(1 / first.inputScale);
        const q = {
          ...features,
          data: Int8Array.from(features.data, (v) => quantizeF32(v, inverse)),
        };
        const cpu = int8OpCpu('down2x2', q, plan.steps[0]!.params);
        let differ = 0;
        let worst = 0;
        cpu.data.forEach((v, i) => {
          const d = Math.abs(v - fused[i]!);
          if (d) differ++;
          worst = Math.max(worst, d);
        });
        assert.ok(
          differ <= cpu.data.length / 100,
          `${what}: ${differ} of ${cpu.data.length} differ from the CPU`,
        );
        assert.ok(worst <= 2, `${what}: max |GPU − CPU| ${worst} steps`);
      }
    }
    network.destroy();
  });
}

test('features + first layer: where it does not apply, and mismatched sizes are RangeErrors naming them', async () => {
  const v2 = randomInt8Model(NETWORK_V2);
  // v2 quantizes its features twice (down1's input and the full-resolution concat).
  assert.match(
    featuresFirstLayerRefusal(planInt8(v2.graph, v2.parameters), 'dot4')!,
    /quantized into 2 tensors/,
  );
  const v3b = randomInt8Model(NETWORK_V3_CANDIDATES['v3b']!);
  assert.match(
    featuresFirstLayerRefusal(planInt8(v3b.graph, v3b.parameters), 'dot4')!,
    /quantized into 2 tensors/,
  );
  const v3a = randomInt8Model(NETWORK_V3_CANDIDATES['v3a']!);
  const plan = planInt8(v3a.graph, v3a.parameters);
  assert.match(featuresFirstLayerRefusal(plan, 'emulated-matrix')!, /tiles shared/);
  const { device } = await testGpu();
  const network = createInt8Network(device, plan);
  const display: Size = [21, 13];
  const frame = randomFrame(display, [11, 7], 5);
  const gpu = {
    color: uploadGpuImage(device, frame.color),
    motion: uploadGpuImage(device, frame.motion),
    history: uploadGpuImage(device, frame.history),
    state: uploadGpuImage(device, frame.state),
  };
  const params = { jitter: [0, 0] as const, reset: false };
  const pass = device.createCommandEncoder().beginComputePass();
  assert.throws(
    () => encodeFeaturesFirstLayer(device, pass, network.firstStep(24, 32), gpu, params),
    /nn features \+ int8 down1: the network runs at 32x24, the display 21x13 pads to 24x16/,
  );
  const half = uploadGpuImage(
    device,
    storedImage(frame.state, 'rgba16float'),
    undefined,
    'rgba16float',
  );
  assert.throws(
    () =>
      encodeFeaturesFirstLayer(
        device,
        pass,
        network.firstStep(16, 24),
        { ...gpu, state: half },
        params,
      ),
    /reprojected history \(rgba32float\) and state \(rgba16float\) must share a format/,
  );
  pass.end();
  network.destroy();
  // A network told that its first step's input is computed stores no int8 features and refuses
  // runs that would read them.
  assert.throws(
    () =>
      createInt8Network(device, planInt8(v2.graph, v2.parameters), {
        firstStepInputComputed: true,
      }),
    /firstStepInputComputed, but the input is quantized into 2 tensors/,
  );
  const computed = createInt8Network(device, plan, { firstStepInputComputed: true });
  const features = createGpuTensor(device, { channels: FEATURE_CHANNELS, height: 16, width: 24 });
  assert.equal(computed.firstStep(16, 24).input.buffer.size, 4);
  assert.throws(() => computed.inputQuantizations(16, 24), /no input quantizations/);
  assert.throws(
    () => computed.run(device.createCommandEncoder(), features),
    /run with firstStepDone/,
  );
  computed.destroy();
});

const bits = (data: Float32Array) => new Uint32Array(data.buffer, data.byteOffset, data.length);

test('neural resolver, INT8 v3a: whole frames with the features in the first layer equal the two passes bit for bit, without the int8 features allocated', async () => {
  const { device } = await testGpu();
  const model = randomInt8Model(NETWORK_V3_CANDIDATES['v3a']!);
  const display: Size = [21, 13];
  const render: Size = [11, 7];
  const random = rng(11);
  const input = (channels: number) => {
    const i = createImage(...render, channels);
    for (let k = 0; k < i.data.length; k++) i.data[k] = random() * (channels === 2 ? 0.02 : 1);
    return uploadImage(device, i);
  };
  const frames = [0, 1, 2].map(() => ({ color: input(4), depth: input(1), motion: input(2) }));
  const run = async (
    featuresFirstLayer: boolean | undefined,
    historyFormat: ImageFormat,
    lastLayerFilterBlend = true,
  ) => {
    // Which kernels the frames dispatch (the fused one once a frame).
    const { outputs, labels, memory } = await neuralResolverFrames(
      device,
      {
        model,
        precision: 'int8',
        featuresFirstLayer,
        historyFormat,
        lastLayerFilterBlend,
        // Against the features pass as it runs after the reproject pass (the fused kernel reads
        // the reprojected images, so it never reprojects in the features pass).
        reprojectInFeatures: false,
      },
      display,
      render,
      frames,
    );
    const fusedKernel = `nn features (${historyFormat}) + int8 down2x2 block 16`;
    assert.equal(
      labels.filter((l) => l === fusedKernel).length,
      featuresFirstLayer === true ? 3 : 0,
      `${fusedKernel} once a frame`,
    );
    assert.equal(
      labels.some((l) => l.startsWith('nn features (int8 only)')),
      featuresFirstLayer !== true,
      'the features pass',
    );
    return { outputs, memory: memory! };
  };
  for (const format of ['rgba16float', 'rgba32float'] as ImageFormat[]) {
    const { outputs: fused, memory } = await run(true, format);
    const { outputs: twoPasses, memory: twoPassesMemory } = await run(false, format);
    // The int8 features (3 words a pixel at the padded 24×16) are not allocated; a one-word
    // placeholder stands in.
    assert.equal(twoPassesMemory - memory, 3 * 4 * 24 * 16 - 4);
    assert.equal(fused.length, 9);
    fused.forEach((data, i) =>
      assert.deepEqual(bits(data), bits(twoPasses[i]!), `${format} image ${i}`),
    );
    assert.ok(new Set(fused[6]).size > 50, 'a varied output');
  }
  // The default is the features pass (FEATURES_FIRST_LAYER_BY_DEFAULT, it measured faster): the
  // kernel labels asserted in run() say which ran.
  await run(undefined, 'rgba32float');
  // With the filter + blend as its own pass (the network then runs to its raw output).
  const { outputs: fused } = await run(true, 'rgba16float', false);
  const { outputs: twoPasses } = await run(false, 'rgba16float', false);
  fused.forEach((data, i) =>
    assert.deepEqual(bits(data), bits(twoPasses[i]!), `filter + blend pass: image ${i}`),
  );
});
