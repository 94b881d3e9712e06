// The fused KPN filter + blend pass (inference) against its CPU reference and against the two
// passes training runs (filter, then blend through the filtered image), on random inputs with
// invalid and non-finite history; its size checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maxAbsDiff, rng, testGpu } from './helpers/gpu.ts';
import { storedImage, type Image } from '../src/core/image.ts';
import {
  historyFill,
  randomImage,
  randomPreparedColor,
  withNonFinite,
} from './helpers/frame-images.ts';
import { assertHalvesClose, halfStep } from './helpers/half-images.ts';
import { storedHistory } from '../src/reference/upscaler.ts';
import type { Vec4Image } from '../src/reference/nn/frame.ts';
import type { Size } from '../src/core/quality.ts';
import { createGpuImage, readGpuImage, uploadGpuImage } from '../src/gpu/gpu-image.ts';
import { BISECT_NEVER } from '../src/gpu/wgsl.ts';
import { uploadTensor } from '../src/nn/tensor.ts';
import { encodeKpnFilter } from '../src/nn/resolve/kpn-filter.ts';
import { encodeBlend } from '../src/nn/resolve/blend.ts';
import {
  encodeKpnFilterBlend,
  FILTER_BLEND_BISECTS,
  filterBlendKernel,
} from '../src/nn/resolve/filter-blend.ts';
import { kpnFilterBlendCpu } from '../src/reference/nn/frame.ts';
import { paddedSize, RAW_CHANNELS } from '../src/core/neural-frame.ts';

/** A CPU frame image as an Image. */
function imageOf(image: Vec4Image): Image {
  return { ...image, channels: 4, data: Float32Array.from(image.data) };
}

// Not multiples of 8: the raw output is padded to 24×16.
const DISPLAY: Size = [22, 13];

/** Prepared color (a = luma), history (30 % invalid, a few non-finite values), raw outputs. */
function randomInputs(render: Size, seed: number) {
  const color = randomPreparedColor(render, seed);
  const history = withNonFinite(randomImage(DISPLAY, seed + 1, historyFill));
  const [pw, ph] = paddedSize(DISPLAY);
  const random = rng(seed + 2);
  // σ from ~0.35 to ~3 pixels, any angle, α, β and tanh away from saturation and into it.
  const raw = {
    channels: RAW_CHANNELS,
    height: ph,
    width: pw,
    data: Float32Array.from({ length: RAW_CHANNELS * ph * pw }, () => random() * 6 - 3),
  };
  return { color, history, raw };
}

// Every setting at 2× and 1.5×; the plain one also at 3× and 1× (the window starts differently).
for (const ratio of [2, 1.5, 3, 1]) {
  const settings = [
    [false, 0, 0],
    [true, 0, 0],
    [false, 1, 0],
    [false, 1, 1],
  ] as const;
  for (const [reset, historyGuard, coverageBlend] of ratio === 2 || ratio === 1.5
    ? settings
    : settings.slice(0, 1)) {
    test(`fused filter + blend: GPU matches the CPU reference and the two passes (ratio ${ratio}, reset ${reset}, history guard ${historyGuard}, coverage blend ${coverageBlend})`, async () => {
      const { device } = await testGpu();
      const render: Size = [Math.round(DISPLAY[0] / ratio), Math.round(DISPLAY[1] / ratio)];
      const { color, history, raw } = randomInputs(render, 50 + 10 * ratio);
      const params = { jitter: [0.37, -0.22] as const, reset, historyGuard, coverageBlend };
      const expected = kpnFilterBlendCpu(raw, color, history, params);
      const gpu = {
        raw: uploadTensor(device, raw),
        color: uploadGpuImage(device, color),
        history: uploadGpuImage(device, history),
      };
      const image = () => createGpuImage(device, ...DISPLAY);
      const fused = { history: image(), state: image() };
      const twoPass = { filtered: image(), history: image(), state: image() };
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      encodeKpnFilterBlend(device, pass, gpu.raw, { ...gpu, ...params }, fused);
      encodeKpnFilter(device, pass, gpu.raw, gpu.color, params.jitter, twoPass, coverageBlend);
      encodeBlend(
        device,
        pass,
        twoPass.filtered,
        gpu.history,
        { color: gpu.color, raw: gpu.raw, reset, historyGuard },
        twoPass.history,
      );
      pass.end();
      device.queue.submit([encoder.finish()]);
      const [history1, state1, history2, state2] = await Promise.all(
        [fused.history, fused.state, twoPass.history, twoPass.state].map((i) =>
          readGpuImage(device, i),
        ),
      );
      assert.ok(history1.data.every(Number.isFinite), 'non-finite history reached the output');
      // The filter's f32 exp of quadratic forms up to ~10²: 2e-4 on [0, 1] colors (its own
      // test's bound), which the blend carries through.
      const h = maxAbsDiff(history1.data, expected.history.data);
      assert.ok(h.max < 2e-4, `history: max |GPU − CPU| ${h.max} at ${h.at}`);
      const s = maxAbsDiff(state1.data, expected.filter.state.data);
      assert.ok(s.max < 1e-5, `state: max |GPU − CPU| ${s.max} at ${s.at}`);
      // The same arithmetic as the two passes, the filtered color kept in registers instead of
      // a buffer: equal up to the compiler's freedom to contract multiply-adds.
      const d = maxAbsDiff(history1.data, history2.data);
      assert.ok(d.max < 1e-6, `history: fused vs two passes ${d.max} at ${d.at}`);
      assert.deepEqual(state1.data, state2.data);
      if (historyGuard > 0) {
        // The guard changed the blend somewhere (it clamps history the network would keep).
        const unguarded = kpnFilterBlendCpu(raw, color, history, { ...params, historyGuard: 0 });
        const moved = maxAbsDiff(unguarded.history.data, expected.history.data);
        assert.ok(moved.max > 1e-3, `the guard changed nothing (${moved.max})`);
      }
      if (coverageBlend > 0) {
        // The coverage blend changed the blend (the current frame's share moves with coverage).
        const plain = kpnFilterBlendCpu(raw, color, history, { ...params, coverageBlend: 0 });
        const moved = maxAbsDiff(plain.history.data, expected.history.data);
        assert.ok(moved.max > 1e-2, `the coverage blend changed nothing (${moved.max})`);
      }
      // Where the history is valid the blend moved the output off the filtered color somewhere.
      if (!reset) {
        const filtered = expected.filter.filtered.data;
        assert.ok(
          expected.history.data.some((v, i) => i % 4 < 3 && Math.abs(v - filtered[i]!) > 1e-3),
        );
      } else {
        for (let i = 0; i < history1.data.length; i += 4) {
          assert.ok(Math.abs(history1.data[i]! - expected.filter.filtered.data[i]!) < 2e-4);
        }
      }
    });
  }
}

for (const ratio of [2, 1.5]) {
  test(`fused filter + blend in rgba16float: the binary16 rounding of the two f32 passes, bit for bit (ratio ${ratio})`, async () => {
    const { device } = await testGpu();
    const render: Size = [Math.round(DISPLAY[0] / ratio), Math.round(DISPLAY[1] / ratio)];
    const inputs = randomInputs(render, 70 + 10 * ratio);
    const { color, raw } = inputs;
    // The reprojected history as the resolver holds it (the NaN and Infinity survive as halves).
    const history = storedImage(inputs.history, 'rgba16float');
    const params = { jitter: [-0.41, 0.13] as const, reset: false };
    const gpu = { raw: uploadTensor(device, raw), color: uploadGpuImage(device, color) };
    const half = () => createGpuImage(device, ...DISPLAY, undefined, 'rgba16float');
    const image = () => createGpuImage(device, ...DISPLAY);
    const fused = { history: half(), state: half() };
    const twoPass = { filtered: image(), history: image(), state: image() };
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    const halfHistory = uploadGpuImage(device, history, undefined, 'rgba16float');
    encodeKpnFilterBlend(device, pass, gpu.raw, { ...gpu, ...params, history: halfHistory }, fused);
    encodeKpnFilter(device, pass, gpu.raw, gpu.color, params.jitter, twoPass);
    const f32History = uploadGpuImage(device, history);
    encodeBlend(
      device,
      pass,
      twoPass.filtered,
      f32History,
      { ...gpu, reset: false },
      twoPass.history,
    );
    pass.end();
    device.queue.submit([encoder.finish()]);
    for (const key of ['history', 'state'] as const) {
      const stored = await readGpuImage(device, fused[key]);
      const f32 = await readGpuImage(device, twoPass[key]);
      assert.deepEqual(stored.data, storedImage(f32, 'rgba16float').data, key);
      // Rounded, not truncated: some values moved up, and never by more than half a step.
      const moved = stored.data.map((v, i) => v - f32.data[i]!);
      assert.ok(moved.some((d) => d > 0) && moved.some((d) => d < 0), key);
      assert.ok(
        moved.every((d, i) => Math.abs(d) <= halfStep(f32.data[i]!) / 2),
        key,
      );
    }
    // Against the CPU reference: its f32 tolerance plus one binary16 step.
    const expected = kpnFilterBlendCpu(raw, color, history, params);
    const stored = storedHistory(
      { history: imageOf(expected.history), state: imageOf(expected.filter.state) },
      'rgba16float',
    );
    const h = await readGpuImage(device, fused.history);
    for (let i = 0; i < h.data.length; i++) {
      const e = stored.history.data[i]!;
      assert.ok(
        Math.abs(h.data[i]! - e) <= 2e-4 + halfStep(e),
        `history ${i}: ${h.data[i]} vs ${e}`,
      );
    }
    assertHalvesClose(await readGpuImage(device, fused.state), stored.state, 'state');
  });
}

test('fused filter + blend, the bisection (benchmarks): each variant keeps its part behind the never-met condition, runs, and leaves only that part out', async () => {
  assert.ok(!filterBlendKernel('rgba32float', 'rgba32float').code.includes(BISECT_NEVER));
  const { device } = await testGpu();
  const render: Size = [11, 7];
  const { color, history, raw } = randomInputs(render, 95);
  const params = { jitter: [0.37, -0.22] as const, reset: false };
  const gpu = {
    raw: uploadTensor(device, raw),
    color: uploadGpuImage(device, color),
    history: uploadGpuImage(device, history),
  };
  const run = async (bisect?: (typeof FILTER_BLEND_BISECTS)[number]) => {
    const targets = {
      history: createGpuImage(device, ...DISPLAY),
      state: createGpuImage(device, ...DISPLAY),
    };
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeKpnFilterBlend(device, pass, gpu.raw, { ...gpu, ...params, bisect }, targets);
    pass.end();
    device.queue.submit([encoder.finish()]);
    const [h, st] = await Promise.all(
      [targets.history, targets.state].map((i) => readGpuImage(device, i)),
    );
    return { history: h!.data, state: st!.data };
  };
  const whole = await run();
  for (const bisect of FILTER_BLEND_BISECTS) {
    assert.ok(
      filterBlendKernel('rgba32float', 'rgba32float', undefined, bisect).code.includes(
        BISECT_NEVER,
      ),
      bisect,
    );
    const part = await run(bisect);
    if (bisect === 'no-writes') {
      // Nothing stored: the targets keep their zeros.
      assert.ok(part.history.every((v) => v === 0) && part.state.every((v) => v === 0), bisect);
      continue;
    }
    // The state does not depend on the parts left out; the history does.
    assert.deepEqual(part.state, whole.state, bisect);
    assert.ok(maxAbsDiff(part.history, whole.history).max > 1e-3, `${bisect}: history unchanged`);
  }
});

test('fused filter + blend: a raw output, history or state of another size is a RangeError naming it', async () => {
  const { device } = await testGpu();
  const { color, history, raw } = randomInputs([11, 7], 90);
  const gpu = { color: uploadGpuImage(device, color), history: uploadGpuImage(device, history) };
  const targets = {
    history: createGpuImage(device, ...DISPLAY),
    state: createGpuImage(device, ...DISPLAY),
  };
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  const inputs = { ...gpu, jitter: [0, 0] as const, reset: false };
  const small = createGpuImage(device, 8, 8);
  assert.throws(
    () =>
      encodeKpnFilterBlend(
        device,
        pass,
        uploadTensor(device, raw),
        { ...inputs, history: small },
        targets,
      ),
    /filter \+ blend: reprojected history is 8x8, the history target 22x13/,
  );
  assert.throws(
    () =>
      encodeKpnFilterBlend(device, pass, uploadTensor(device, raw), inputs, {
        ...targets,
        state: small,
      }),
    /filter \+ blend: state target is 8x8/,
  );
  const wrongRaw = { ...raw, channels: 8, data: raw.data.subarray(0, 8 * raw.width * raw.height) };
  assert.throws(
    () => encodeKpnFilterBlend(device, pass, uploadTensor(device, wrongRaw), inputs, targets),
    /raw network output must be 9x16x24/,
  );
  pass.end();
});
