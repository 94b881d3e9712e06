// The INT8 network's last layer with the KPN filter + blend as its epilogue
// (src/nn/resolve/last-layer-filter-blend.ts) against the two kernels it replaces (the last op to
// f32, then the filter + blend pass: bit for bit) and against the CPU reference
// (runInt8NetworkCpu, then kpnFilterBlendCpu), on networks v3a (last op up2x2), v3b (conv1x1) and
// v2 (its 3×3 head on the tiled conv3x3 kernel) with random quantized weights; then whole frames of a resolver with and without the fusion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maxAbsDiff, rng, testGpu } from './helpers/gpu.ts';
import { createImage, storedImage } from '../src/core/image.ts';
import {
  historyFill,
  randomImage,
  randomPreparedColor,
  withNonFinite,
} from './helpers/frame-images.ts';
import type { GraphDescription } from '../src/core/graph.ts';
import { createTensor } from '../src/core/tensor.ts';
import type { Size } from '../src/core/quality.ts';
import { defaultFrameParams } from '../src/core/frame.ts';
import { FEATURE_CHANNELS, paddedSize } from '../src/core/neural-frame.ts';
import { planInt8 } from '../src/core/int8-plan.ts';
import { createGpuImage, readGpuImage, uploadGpuImage } from '../src/gpu/gpu-image.ts';
import type { ImageFormat } from '../src/gpu/gpu-image.ts';
import { uploadImage } from '../src/gpu/resources.ts';
import { readGpuTensor, uploadTensor } from '../src/nn/tensor.ts';
import { createInt8Network } from '../src/nn/int8-network.ts';
import { subgroupMatricesUsable } from '../src/nn/ops/int8/matrix.ts';
import { NETWORK_V2 } from '../src/nn/network-v2.ts';
import { NETWORK_V3_CANDIDATES } from '../src/nn/network-v3.ts';
import { randomInt8Model } from '../src/nn/networks.ts';
import {
  encodeKpnFilterBlend,
  FILTER_BLEND_BISECTS,
  type FilterBlendBisect,
} from '../src/nn/resolve/filter-blend.ts';
import {
  encodeLastLayerFilterBlend,
  lastLayerFilterBlendRefusal,
} from '../src/nn/resolve/last-layer-filter-blend.ts';
import { createNeuralResolver, type NeuralResolver } from '../src/nn/resolve/neural-resolver.ts';
import { kpnFilterBlendCpu } from '../src/reference/nn/frame.ts';
import { runInt8NetworkCpu } from '../src/reference/nn/int8-network.ts';
import { createUpscaler } from '../src/upscaler.ts';

// Odd sizes: the network runs at 24×16 and the padding's threads must write nothing.
const DISPLAY: Size = [21, 13];

const LAST_OPS = { v3a: 'up2x2', v3b: 'conv1x1', v2: 'conv3x3' } as const;
const GRAPHS: Readonly<Record<string, GraphDescription>> = {
  ...NETWORK_V3_CANDIDATES,
  v2: NETWORK_V2,
};

/** Features (padded size), prepared color (a = luma), history (30 % invalid, some non-finite). */
function randomFrame(render: Size, seed: number) {
  const [pw, ph] = paddedSize(DISPLAY);
  const random = rng(seed);
  const features = createTensor({ channels: FEATURE_CHANNELS, height: ph, width: pw });
  for (let i = 0; i < features.data.length; i++) features.data[i] = random() * 2 - 0.5;
  const color = randomPreparedColor(render, seed + 1);
  const history = withNonFinite(randomImage(DISPLAY, seed + 2, historyFill));
  return { features, color, history };
}

/** Three frames of random render-size color, depth and small motion. */
function randomFrameInputs(device: GPUDevice, render: Size, seed: number) {
  const random = rng(seed);
  const input = (channels: number) => {
    const i = createImage(...render, channels);
    for (let k = 0; k < i.data.length; k++) i.data[k] = random() * (channels === 2 ? 0.02 : 1);
    return uploadImage(device, i);
  };
  return [0, 1, 2].map(() => ({ color: input(4), depth: input(1), motion: input(2) }));
}

/** The neural upscaler of `resolver` from `render` to DISPLAY. */
function neuralUpscaler(device: GPUDevice, resolver: NeuralResolver, render: Size) {
  return createUpscaler(device, {
    displaySize: DISPLAY,
    renderSize: render,
    method: 'neural',
    resolver,
  });
}

/** Records and submits frame i of `frames` (the first a reset), then awaits `after(i)`. */
async function runFrames(
  device: GPUDevice,
  up: Awaited<ReturnType<typeof neuralUpscaler>>,
  frames: ReturnType<typeof randomFrameInputs>,
  after: (i: number) => Promise<void> = async () => {},
) {
  for (const [i, f] of frames.entries()) {
    const encoder = device.createCommandEncoder();
    up.dispatch(encoder, { ...defaultFrameParams(), ...f, jitter: up.jitter(i), reset: i === 0 });
    device.queue.submit([encoder.finish()]);
    await after(i);
  }
}

const bits = (data: Float32Array) => new Uint32Array(data.buffer, data.byteOffset, data.length);

// v2's 3×3 layers also on the larger tile (16×16, which they take from 500 K pixels on).
const RUNS = Object.entries(LAST_OPS).flatMap(([name, lastOp]) =>
  (lastOp === 'conv3x3' ? [undefined, 0] : [undefined]).flatMap((largeTileFrom) =>
    [2, 1.5].map((ratio) => ({ name, lastOp, ratio, largeTileFrom })),
  ),
);

for (const { name, lastOp, ratio, largeTileFrom } of RUNS) {
  const tile = largeTileFrom === undefined ? '' : ', 16×16 tiles';
  test(`last layer + filter + blend (${name}, ${lastOp}, ratio ${ratio}${tile}): the two kernels it replaces bit for bit, the CPU reference within the filter's tolerance`, async () => {
    const { device } = await testGpu();
    const model = randomInt8Model(GRAPHS[name]!);
    const plan = planInt8(model.graph, model.parameters);
    assert.equal(plan.steps.at(-1)!.op, lastOp);
    assert.equal(lastLayerFilterBlendRefusal(plan, 'dot4'), undefined);
    const network = createInt8Network(
      device,
      plan,
      largeTileFrom === undefined ? {} : { conv3x3LargeTileFrom: largeTileFrom },
    );
    const render: Size = [Math.round(DISPLAY[0] / ratio), Math.round(DISPLAY[1] / ratio)];
    const frame = randomFrame(render, 90 + 10 * ratio);
    const features = uploadTensor(device, frame.features);
    const color = uploadGpuImage(device, frame.color);
    const [pw, ph] = paddedSize(DISPLAY);
    for (const format of ['rgba32float', 'rgba16float'] as ImageFormat[]) {
      const history = storedImage(frame.history, format);
      const gpuHistory = uploadGpuImage(device, history, undefined, format);
      for (const [reset, coverageBlend] of [
        [false, 0],
        [true, 0],
        [false, 0.6],
      ] as const) {
        const jitter = [0.31, -0.17] as const;
        const inputs = { color, history: gpuHistory, jitter, reset, coverageBlend };
        const image = () => createGpuImage(device, ...DISPLAY, undefined, format);
        const fused = { history: image(), state: image() };
        const twoKernels = { history: image(), state: image() };
        const encoder = device.createCommandEncoder();
        network.runWithoutLastStep(encoder, features);
        let pass = encoder.beginComputePass();
        encodeLastLayerFilterBlend(device, pass, network.lastStep(ph, pw), inputs, fused);
        pass.end();
        const raw = network.run(encoder, features);
        pass = encoder.beginComputePass();
        encodeKpnFilterBlend(device, pass, raw, inputs, twoKernels);
        pass.end();
        device.queue.submit([encoder.finish()]);
        const what = `${name} ratio ${ratio} ${format} reset ${reset} coverage ${coverageBlend}`;
        const [h1, s1, h2, s2, gpuRaw] = await Promise.all([
          readGpuImage(device, fused.history),
          readGpuImage(device, fused.state),
          readGpuImage(device, twoKernels.history),
          readGpuImage(device, twoKernels.state),
          readGpuTensor(device, raw),
        ]);
        assert.deepEqual(bits(h1.data), bits(h2.data), `${what}: history`);
        assert.deepEqual(bits(s1.data), bits(s2.data), `${what}: state`);
        assert.ok(h1.data.every(Number.isFinite), `${what}: non-finite history reached the output`);
        // CPU: the INT8 network's raw output (the GPU's, bit for bit), then the filter + blend
        // within its own test's bounds (the filter's f32 exp; one binary16 step when stored so).
        const cpuRaw = runInt8NetworkCpu(plan, frame.features).output;
        assert.deepEqual(bits(gpuRaw.data), bits(cpuRaw.data), `${what}: raw`);
        assert.ok(new Set(cpuRaw.data).size > 100, `${what}: a varied raw output`);
        const expected = kpnFilterBlendCpu(cpuRaw, frame.color, history, inputs);
        const want = {
          history: storedImage(
            { ...expected.history, channels: 4, data: Float32Array.from(expected.history.data) },
            format,
          ),
          state: storedImage(
            {
              ...expected.filter.state,
              channels: 4,
              data: Float32Array.from(expected.filter.state.data),
            },
            format,
          ),
        };
        const step = (v: number) => (format === 'rgba16float' ? Math.abs(v) / 1024 + 6e-8 : 0);
        for (const [key, got, tolerance] of [
          ['history', h1, 2e-4],
          ['state', s1, 1e-5],
        ] as const) {
          const d = maxAbsDiff(got.data, want[key].data);
          const worst = got.data.reduce(
            (w, v, i) => Math.max(w, Math.abs(v - want[key].data[i]!) - step(want[key].data[i]!)),
            0,
          );
          assert.ok(worst < tolerance, `${what}: ${key} max |GPU − CPU| ${d.max} at ${d.at}`);
        }
      }
    }
    network.destroy();
  });
}

test('last layer + filter + blend: where it does not apply, and a frame of another size is a RangeError naming it', async () => {
  const v3a = randomInt8Model(NETWORK_V3_CANDIDATES['v3a']!);
  const plan = planInt8(v3a.graph, v3a.parameters);
  assert.match(lastLayerFilterBlendRefusal(plan, 'emulated-matrix')!, /word by word/);
  const { device } = await testGpu();
  const network = createInt8Network(device, plan);
  const [pw, ph] = paddedSize(DISPLAY);
  const color = createGpuImage(device, 11, 7);
  const history = createGpuImage(device, ...DISPLAY);
  const pass = device.createCommandEncoder().beginComputePass();
  const last = network.lastStep(ph + 8, pw);
  assert.throws(
    () =>
      encodeLastLayerFilterBlend(
        device,
        pass,
        last,
        { color, history, jitter: [0, 0], reset: false },
        { history, state: createGpuImage(device, ...DISPLAY) },
      ),
    /int8 up2x2: output 9x16x24 does not hold 9x24x24/,
  );
  assert.throws(
    () =>
      encodeLastLayerFilterBlend(
        device,
        pass,
        network.lastStep(ph, pw),
        { color, history, jitter: [0, 0], reset: false },
        { history, state: createGpuImage(device, 20, 13) },
      ),
    /state target is 20x13, the history target 21x13/,
  );
  pass.end();
  network.destroy();
});

test('neural resolver, INT8 v3a: whole frames with the filter + blend in the last layer equal the two kernels bit for bit, without the raw output allocated', async () => {
  const { device } = await testGpu();
  const model = randomInt8Model(NETWORK_V3_CANDIDATES['v3a']!);
  const render: Size = [11, 7];
  const frames = randomFrameInputs(device, render, 7);
  const run = async (lastLayerFilterBlend: boolean) => {
    const resolver = await createNeuralResolver(device, {
      model,
      precision: 'int8',
      lastLayerFilterBlend,
    });
    const up = await neuralUpscaler(device, resolver, render);
    const outputs: Float32Array[] = [];
    await runFrames(device, up, frames, async () => {
      const last = resolver.lastFrame!;
      assert.equal(last.raw === undefined, lastLayerFilterBlend, 'raw output written');
      for (const image of [up.outputImage, last.history, last.state]) {
        outputs.push((await readGpuImage(device, image)).data);
      }
    });
    const memory = resolver.memoryBytes!();
    up.destroy();
    return { outputs, memory };
  };
  const { outputs: fused, memory } = await run(true);
  const { outputs: twoKernels, memory: twoKernelsMemory } = await run(false);
  // The raw output (9 f32 planes at the padded 24×16) is never allocated.
  assert.equal(twoKernelsMemory - memory, 9 * 4 * 24 * 16);
  assert.equal(fused.length, 9);
  fused.forEach((data, i) => assert.deepEqual(bits(data), bits(twoKernels[i]!), `image ${i}`));
  assert.ok(new Set(fused[6]).size > 50, 'a varied output');
});

test("neural resolver, the filter + blend bisection (benchmarks): every variant builds and runs in v2's and v3a's last layer, and changes its frames", async () => {
  const { device } = await testGpu();
  const render: Size = [11, 7];
  const frames = randomFrameInputs(device, render, 9).slice(0, 2);
  for (const name of ['v2', 'v3a']) {
    const model = randomInt8Model(GRAPHS[name]!);
    // The history after two frames (the second blends the first's).
    const history = async (filterBlendBisect?: FilterBlendBisect) => {
      const resolver = await createNeuralResolver(device, {
        model,
        precision: 'int8',
        ...(filterBlendBisect ? { filterBlendBisect } : {}),
      });
      const up = await neuralUpscaler(device, resolver, render);
      await runFrames(device, up, frames);
      assert.equal(resolver.lastFrame!.raw, undefined, `${name}: the last layer runs the filter`);
      const data = (await readGpuImage(device, resolver.lastFrame!.history)).data;
      up.destroy();
      return data;
    };
    const whole = await history();
    for (const bisect of FILTER_BLEND_BISECTS) {
      assert.notDeepEqual(bits(await history(bisect)), bits(whole), `${name} ${bisect}`);
    }
  }
});

test('neural resolver, INT8 on the matrix kernels and the mixed kernels (emulated multiply): whole frames equal the dot4I8Packed frames bit for bit; the fusions only where no matrix runs', async () => {
  const { device } = await testGpu();
  const render: Size = [11, 7];
  const frames = randomFrameInputs(device, render, 8);
  for (const name of ['v2', 'v3a']) {
    const model = randomInt8Model(GRAPHS[name]!);
    const run = async (int8Kernels: 'dot4' | 'emulated-matrix' | 'emulated-mixed') => {
      const resolver = await createNeuralResolver(device, {
        model,
        precision: 'int8',
        int8Kernels,
      });
      const up = await neuralUpscaler(device, resolver, render);
      const outputs: Float32Array[] = [];
      await runFrames(device, up, frames, async () => {
        // The matrix kernels refuse the fusions: the raw output is written for the separate pass.
        // The mixed kernels run v2's head on matrices (refused there too) and no v3a step, so v3a
        // keeps its fusions there.
        const fused = int8Kernels === 'dot4' || (int8Kernels === 'emulated-mixed' && name !== 'v2');
        assert.equal(resolver.lastFrame!.raw === undefined, fused, `${name} raw`);
        for (const image of [up.outputImage, resolver.lastFrame!.history]) {
          outputs.push((await readGpuImage(device, image)).data);
        }
      });
      up.destroy();
      return outputs;
    };
    const dot4 = await run('dot4');
    for (const kernels of ['emulated-matrix', 'emulated-mixed'] as const) {
      const other = await run(kernels);
      other.forEach((data, i) =>
        assert.deepEqual(bits(data), bits(dot4[i]!), `${name} ${kernels} image ${i}`),
      );
    }
    assert.ok(new Set(dot4[4]).size > 50, `${name}: a varied output`);
  }
  // Asking for the tensor cores where the device has none names the feature.
  if (!subgroupMatricesUsable(device)) {
    await assert.rejects(
      createNeuralResolver(device, {
        model: randomInt8Model(GRAPHS['v3a']!),
        precision: 'int8',
        int8Kernels: 'subgroup-matrix',
      }),
      /chromium-experimental-subgroup-matrix/,
    );
  }
});
