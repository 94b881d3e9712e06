// The reproject pass and feature assembly in one kernel (src/nn/resolve/reproject-features.ts)
// against the two passes it replaces (bit for bit: the reprojected history, the f32 features and
// an int8 copy) and the CPU reference (reprojectCpu, then assembleFeaturesCpu), on random previous
// images with non-finite values, motion leaving the image, an exposure change, both formats and a
// reset; mismatched inputs; then whole frames of resolvers with and without it (v3a INT8, v2 f32).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maxAbsDiff, testGpu } from './helpers/gpu.ts';
import { neuralResolverFrames } from './helpers/frames.ts';
import { storedImage } from '../src/core/image.ts';
import {
  historyFill,
  randomImage,
  randomPreparedColor,
  withNonFinite,
} from './helpers/frame-images.ts';
import type { Size } from '../src/core/quality.ts';
import { FEATURE_CHANNELS, paddedSize } from '../src/core/neural-frame.ts';
import {
  createGpuImage,
  readGpuImage,
  uploadGpuImage,
  type ImageFormat,
} from '../src/gpu/gpu-image.ts';
import { readBuffer, uploadImage } from '../src/gpu/resources.ts';
import { encodeReproject } from '../src/gpu/passes/reproject.ts';
import { createGpuInt8Tensor, createGpuTensor, readGpuTensor } from '../src/nn/tensor.ts';
import { NETWORK_V3_CANDIDATES } from '../src/nn/network-v3.ts';
import { NETWORK_V2 } from '../src/nn/network-v2.ts';
import { randomInt8Model } from '../src/nn/networks.ts';
import { initWeights } from '../src/nn/weights.ts';
import { encodeFeatures } from '../src/nn/resolve/features.ts';
import {
  encodeReprojectAndFeatures,
  REPROJECT_FEATURES_BISECTS,
  type ReprojectFeaturesBisect,
} from '../src/nn/resolve/reproject-features.ts';
import { createNeuralResolver } from '../src/nn/resolve/neural-resolver.ts';
import { assembleFeaturesCpu } from '../src/reference/nn/frame.ts';
import { reprojectCpu } from '../src/reference/reproject.ts';

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

const DISPLAY: Size = [21, 13];
const RENDER: Size = [11, 7];
/** The exposure's history rescale the test's exposure state holds (≠ 1: the rescale runs). */
const HISTORY_SCALE = 1.7;

function exposureStateBuffer(device: GPUDevice): GPUBuffer {
  const buffer = device.createBuffer({
    size: 16,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(buffer, 0, new Float32Array([1, HISTORY_SCALE, 1, 0]));
  return buffer;
}

for (const [previousFormat, outputFormat] of [
  ['rgba32float', 'rgba32float'],
  ['rgba16float', 'rgba16float'],
  ['rgba32float', 'rgba16float'],
] as const) {
  test(`reproject + features: the two passes bit for bit, the CPU reference (${previousFormat} → ${outputFormat})`, async () => {
    const { device } = await testGpu();
    const color = randomPreparedColor(RENDER, 3);
    // Motion of up to a third of the image: some pixels reproject from outside it (invalid).
    const motion = randomImage(RENDER, 4, (r, c) =>
      c < 2 ? r() * 0.7 - 0.35 : r() < 0.5 ? 0 : r(),
    );
    // The previous images as the GPU holds them (rounded to binary16 when stored so).
    const finiteHistory = storedImage(randomImage(DISPLAY, 5, historyFill), previousFormat);
    const previousHistory = withNonFinite({ ...finiteHistory, data: finiteHistory.data.slice() });
    const previousState = storedImage(
      randomImage(DISPLAY, 6, (r) => r() * 2 - 1),
      previousFormat,
    );
    const gpuInputs = (history: typeof previousHistory) => ({
      color: uploadGpuImage(device, color),
      motion: uploadGpuImage(device, motion),
      previous: {
        history: uploadGpuImage(device, history, undefined, previousFormat),
        state: uploadGpuImage(device, previousState, undefined, previousFormat),
      },
      exposureState: exposureStateBuffer(device),
    });
    const [pw, ph] = paddedSize(DISPLAY);
    const featureTensor = () =>
      createGpuTensor(device, { channels: FEATURE_CHANNELS, height: ph, width: pw });
    const copy = () => ({
      output: createGpuInt8Tensor(device, { channels: FEATURE_CHANNELS, height: ph, width: pw }),
      scale: 0.05,
      outChannelOffset: 0,
    });
    // With non-finite previous history (the bits of the two passes) and without (the CPU too:
    // min, max and clamp of NaN differ between the GPU and the reference).
    for (const [reset, nonFinite] of [
      [false, true],
      [false, false],
      [true, true],
    ] as const) {
      const gpu = gpuInputs(nonFinite ? previousHistory : finiteHistory);
      const params = { jitter: [0.31, -0.27] as const, reset };
      const image = () => createGpuImage(device, ...DISPLAY, undefined, outputFormat);
      const reprojected = { history: image(), state: image() };
      const [twoPasses, fused] = [featureTensor(), featureTensor()];
      const [twoPassesCopy, fusedCopy] = [copy(), copy()];
      const historyOut = image();
      const encoder = device.createCommandEncoder();
      let pass = encoder.beginComputePass();
      encodeReproject(device, pass, gpu.motion, gpu.previous, reset, reprojected, {
        state: gpu.exposureState,
      });
      pass.end();
      pass = encoder.beginComputePass();
      const featureInputs = { color: gpu.color, motion: gpu.motion, ...reprojected };
      encodeFeatures(device, pass, featureInputs, params, twoPasses, [twoPassesCopy]);
      pass.end();
      pass = encoder.beginComputePass();
      encodeReprojectAndFeatures(device, pass, gpu, params, historyOut, fused, [fusedCopy]);
      pass.end();
      device.queue.submit([encoder.finish()]);

      const what = `reset ${reset}, non-finite ${nonFinite}`;
      const history = await readGpuImage(device, historyOut);
      assert.deepEqual(
        bits(history.data),
        bits((await readGpuImage(device, reprojected.history)).data),
        `${what}: reprojected history`,
      );
      const features = await readGpuTensor(device, fused);
      assert.deepEqual(
        bits(features.data),
        bits((await readGpuTensor(device, twoPasses)).data),
        `${what}: f32 features`,
      );
      const words = new Uint32Array((await readBuffer(device, fusedCopy.output.buffer)).buffer);
      assert.deepEqual(
        words,
        new Uint32Array((await readBuffer(device, twoPassesCopy.output.buffer)).buffer),
        `${what}: int8 copy`,
      );
      assert.ok(
        words.some((w) => w !== 0),
        `${what}: the copy holds values`,
      );
      // Valid and invalid (off-image) history, and non-zero state features, are exercised.
      const valid = Array.from(
        { length: DISPLAY[0] * DISPLAY[1] },
        (_, i) => history.data[i * 4 + 3],
      );
      if (reset)
        assert.ok(
          valid.every((v) => v === 0),
          `${what}: all invalid`,
        );
      else assert.ok(valid.includes(1) && valid.includes(0), `${what}: valid and invalid`);

      // The CPU reference: reproject, store as the format, assemble the features. Stored as
      // halves the CPU and GPU round alike but for rare straddles (test/passes.test.ts), so the
      // features are compared where the reprojected images are f32.
      if (outputFormat === 'rgba32float' && !nonFinite) {
        const cpu = reprojectCpu(motion, finiteHistory, previousState, reset, HISTORY_SCALE);
        const reprojection = maxAbsDiff(history.data, cpu.history.data);
        assert.ok(
          reprojection.max < 1e-4,
          `${what}: reprojected history, max |GPU − CPU| ${reprojection.max} at ${reprojection.at} (GPU ${history.data[reprojection.at]}, CPU ${cpu.history.data[reprojection.at]})`,
        );
        const expected = assembleFeaturesCpu(
          { color, motion, history: cpu.history, state: cpu.state },
          params,
        );
        const { max, at } = maxAbsDiff(features.data, expected.data);
        assert.ok(max < 1e-4, `${what}: max |GPU − CPU| ${max} at ${at}`);
        if (!reset) {
          const plane = pw * ph;
          const state = features.data.subarray(0, plane);
          assert.ok(
            state.some((v) => v !== 0),
            'the reprojected state reaches the features',
          );
        }
      }
    }
  });
}

test('reproject + features, the bisection (benchmarks): each variant runs and leaves out only its part', async () => {
  const { device } = await testGpu();
  const color = randomPreparedColor(RENDER, 13);
  const motion = randomImage(RENDER, 14, (r, c) => (c < 2 ? r() * 0.2 - 0.1 : r() < 0.5 ? 0 : r()));
  const gpu = {
    color: uploadGpuImage(device, color),
    motion: uploadGpuImage(device, motion),
    previous: {
      history: uploadGpuImage(device, randomImage(DISPLAY, 15, historyFill)),
      state: uploadGpuImage(
        device,
        randomImage(DISPLAY, 16, (r) => r() * 2 - 1),
      ),
    },
    exposureState: exposureStateBuffer(device),
  };
  const [pw, ph] = paddedSize(DISPLAY);
  const params = { jitter: [0.31, -0.27] as const, reset: false };
  const run = async (bisect?: ReprojectFeaturesBisect) => {
    const history = createGpuImage(device, ...DISPLAY);
    const features = createGpuTensor(device, { channels: FEATURE_CHANNELS, height: ph, width: pw });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeReprojectAndFeatures(device, pass, gpu, params, history, features, [], true, bisect);
    pass.end();
    device.queue.submit([encoder.finish()]);
    const planes = (await readGpuTensor(device, features)).data;
    return { history: (await readGpuImage(device, history)).data, planes };
  };
  // Features' planes 0–3 are the state's, 4, 6, 9 and 10 read the render neighbourhood.
  const plane = pw * ph;
  const channels = (data: Float32Array, list: number[]) =>
    list.map((c) => Array.from(data.subarray(c * plane, (c + 1) * plane)));
  const whole = await run();
  const others = (list: number[]) =>
    Array.from({ length: FEATURE_CHANNELS }, (_, c) => c).filter((c) => !list.includes(c));
  const changed = {
    'no-history-taps': [5, 10],
    'no-state-taps': [0, 1, 2, 3],
    'no-neighbourhood': [4, 6, 9, 10],
    'no-history-write': [],
    // Every plane: nothing stored (the tensor keeps its zeros, checked below).
    'no-feature-writes': Array.from({ length: FEATURE_CHANNELS }, (_, c) => c),
  } satisfies Record<ReprojectFeaturesBisect, number[]>;
  for (const bisect of REPROJECT_FEATURES_BISECTS) {
    const part = await run(bisect);
    const list = changed[bisect];
    assert.deepEqual(
      channels(part.planes, others(list)),
      channels(whole.planes, others(list)),
      bisect,
    );
    for (const c of list) {
      assert.notDeepEqual(
        channels(part.planes, [c]),
        channels(whole.planes, [c]),
        `${bisect}: feature ${c}`,
      );
    }
    if (bisect === 'no-feature-writes') {
      assert.ok(
        part.planes.every((v) => v === 0),
        `${bisect}: no feature stored`,
      );
    }
    if (bisect === 'no-history-write') {
      assert.ok(
        part.history.every((v) => v === 0),
        `${bisect}: nothing stored`,
      );
    } else if (bisect === 'no-history-taps') {
      assert.notDeepEqual(bits(part.history), bits(whole.history), bisect);
    } else {
      assert.deepEqual(bits(part.history), bits(whole.history), bisect);
    }
  }
});

test("neural resolver, the reproject + features bisection (benchmarks): every variant runs in v3a's INT8 frame and changes it", async () => {
  const { device } = await testGpu();
  const random = (seed: number, channels: number) =>
    uploadImage(
      device,
      randomImage(RENDER, seed, (r) => r() * (channels === 2 ? 0.02 : 1)),
    );
  const frames = [0, 1].map((i) => ({
    color: random(50 + i, 4),
    depth: random(60 + i, 1),
    motion: random(70 + i, 2),
  }));
  const model = randomInt8Model(NETWORK_V3_CANDIDATES['v3a']!);
  const history = async (reprojectFeaturesBisect?: ReprojectFeaturesBisect) => {
    const { outputs } = await neuralResolverFrames(
      device,
      { model, precision: 'int8', ...(reprojectFeaturesBisect ? { reprojectFeaturesBisect } : {}) },
      DISPLAY,
      RENDER,
      frames,
    );
    // The second frame's output (the first is a reset: nothing reprojected).
    return outputs[outputs.length - 3]!;
  };
  const whole = await history();
  for (const bisect of REPROJECT_FEATURES_BISECTS) {
    assert.notDeepEqual(bits(await history(bisect)), bits(whole), bisect);
  }
});

test('reproject + features: mismatched sizes and formats are RangeErrors naming them', async () => {
  const { device } = await testGpu();
  const [pw, ph] = paddedSize(DISPLAY);
  const features = createGpuTensor(device, { channels: FEATURE_CHANNELS, height: ph, width: pw });
  const image = (size: Size, format: ImageFormat = 'rgba32float') =>
    createGpuImage(device, ...size, undefined, format);
  const inputs = {
    color: image(RENDER),
    motion: image(RENDER),
    previous: { history: image(DISPLAY), state: image(DISPLAY) },
    exposureState: exposureStateBuffer(device),
  };
  const params = { jitter: [0, 0] as const, reset: false };
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  const run = (changed: Partial<typeof inputs>, out = features, historyOut = image(DISPLAY)) =>
    encodeReprojectAndFeatures(device, pass, { ...inputs, ...changed }, params, historyOut, out);
  assert.throws(
    () => run({ previous: { history: image(DISPLAY), state: image(DISPLAY, 'rgba16float') } }),
    /reproject \+ features: the previous history \(rgba32float\) and state \(rgba16float\) must share a format/,
  );
  assert.throws(
    () => run({ previous: { history: image([22, 13]), state: image([22, 13]) } }),
    /the previous history and state must be 21x13 \(the display size\), got 22x13/,
  );
  assert.throws(
    () => run({}, createGpuTensor(device, { channels: FEATURE_CHANNELS, height: ph, width: 8 })),
    /the features tensor must be 12x16x24 for display 21x13, got 12x16x8/,
  );
  assert.throws(
    () =>
      encodeReprojectAndFeatures(device, pass, inputs, params, image(DISPLAY), features, [], false),
    /without the f32 planes there must be an int8 copy to write/,
  );
  pass.end();
});

test('neural resolver: whole frames reprojecting in the features pass equal the reproject pass bit for bit, with one pass less (v3a INT8, v2 f32)', async () => {
  const { device } = await testGpu();
  const random = (seed: number, channels: number) => {
    const image = randomImage(RENDER, seed, (r) => r() * (channels === 2 ? 0.02 : 1));
    return uploadImage(device, image);
  };
  const frames = [0, 1, 2].map((i) => ({
    color: random(20 + i, 4),
    depth: random(30 + i, 1),
    motion: random(40 + i, 2),
  }));
  for (const [name, model, precision] of [
    ['v3a INT8', randomInt8Model(NETWORK_V3_CANDIDATES['v3a']!), 'int8'],
    ['v2 f32', { graph: NETWORK_V2, parameters: initWeights(NETWORK_V2, 3) }, 'f32'],
  ] as const) {
    const run = async (reprojectInFeatures: boolean) => {
      const { reprojects, outputs, labels } = await neuralResolverFrames(
        device,
        { model, precision, reprojectInFeatures },
        DISPLAY,
        RENDER,
        frames,
      );
      assert.equal(reprojects, reprojectInFeatures, `${name}: reprojects`);
      return { outputs, labels };
    };
    const fused = await run(true);
    const separate = await run(false);
    assert.equal(fused.outputs.length, 9);
    fused.outputs.forEach((data, i) =>
      assert.deepEqual(bits(data), bits(separate.outputs[i]!), `${name}: image ${i}`),
    );
    assert.ok(new Set(fused.outputs[6]).size > 50, `${name}: a varied output`);
    // The reproject pass ran in the separate frames only, the fused kernel once a frame.
    const count = (labels: string[], prefix: string) =>
      labels.filter((l) => l.startsWith(prefix)).length;
    assert.equal(count(separate.labels, 'reproject'), 3, `${name}: reproject passes`);
    assert.equal(count(fused.labels, 'reproject'), 0, `${name}: no reproject pass`);
    assert.equal(count(fused.labels, 'nn reproject + features'), 3, `${name}: the fused kernel`);
    assert.equal(count(separate.labels, 'nn reproject + features'), 0);
  }
});

test('neural resolver: no reprojecting in the features pass with debug views, the zero-state ablation or the features in the first layer', async () => {
  const { device } = await testGpu();
  const model = randomInt8Model(NETWORK_V3_CANDIDATES['v3a']!);
  for (const options of [{ debugViews: true }, { zeroState: true }, { featuresFirstLayer: true }]) {
    const resolver = await createNeuralResolver(device, {
      model,
      precision: 'int8',
      reprojectInFeatures: true,
      ...options,
    });
    assert.equal(resolver.reprojects, false, JSON.stringify(options));
    resolver.destroy();
  }
});
