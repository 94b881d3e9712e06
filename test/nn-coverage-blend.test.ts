// The coverage blend (src/reference/nn/frame.ts): this frame's coverage of a pixel is 1 on average
// over the jitter; α_c is α without one, moves the right way with coverage, and its slope is the
// derivative; a model that sets it runs it through the whole GPU frame as the CPU reference does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu } from './helpers/gpu.ts';
import { gpuFrame, relativeError } from './helpers/frames.ts';
import type { Size } from '../src/core/quality.ts';
import type { NeuralModel } from '../src/core/neural-frame.ts';
import { coverageAlpha, coverageOf, windowSamples } from '../src/reference/nn/frame.ts';
import { neuralCpuResolver } from '../src/reference/nn/neural-resolver.ts';
import { createReferenceUpscaler } from '../src/reference/upscaler.ts';
import { NETWORK_V3A } from '../src/nn/network-v3.ts';
import { initWeights } from '../src/nn/weights.ts';
import { createUpscaler } from '../src/upscaler.ts';
import { analyticSequence } from '../src/scene/analytic.ts';

for (const [render, display] of [
  [
    [16, 12],
    [32, 24],
  ],
  [
    [16, 12],
    [24, 18],
  ],
  [
    [8, 6],
    [24, 18],
  ],
] as [Size, Size][]) {
  test(`coverage: 1 on average over the jitter, high near a sample and low far from all (render ${render.join('x')}, display ${display.join('x')})`, () => {
    // An interior pixel, jitter on a 32×32 grid over the render pixel.
    const [X, Y] = [Math.floor(display[0] / 2), Math.floor(display[1] / 2)];
    const n = 32;
    let sum = 0;
    let lo = Infinity;
    let hi = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const jitter = [(i + 0.5) / n - 0.5, (j + 0.5) / n - 0.5] as const;
        const c = coverageOf(windowSamples(X, Y, render, display, jitter), render, display);
        sum += c;
        lo = Math.min(lo, c);
        hi = Math.max(hi, c);
      }
    }
    const mean = sum / (n * n);
    assert.ok(Math.abs(mean - 1) < 0.02, `mean coverage ${mean}`);
    assert.ok(hi > 1.5 * mean && lo < 0.5 * mean, `coverage from ${lo} to ${hi}`);
  });
}

test('coverage alpha: α itself without a blend or at coverage 1; less history where a sample is near; its slope is dα_c/dα', () => {
  for (const alpha of [0, 0.03, 0.5, 0.97, 1]) {
    assert.deepEqual(coverageAlpha(alpha, 3.7, 0), { alpha, slope: 1 });
    assert.ok(Math.abs(coverageAlpha(alpha, 1, 0.8).alpha - alpha) < 1e-12);
  }
  for (const power of [0.5, 1, 2]) {
    for (const alpha of [0.1, 0.6, 0.95]) {
      const near = coverageAlpha(alpha, 4, power).alpha;
      const far = coverageAlpha(alpha, 0.05, power).alpha;
      assert.ok(near < alpha && alpha < far && far < 1, `${near} < ${alpha} < ${far}`);
      // No coverage at all (the floor): history almost entirely.
      assert.ok(coverageAlpha(alpha, 0, power).alpha > 0.99);
      const h = 1e-6;
      const numeric =
        (coverageAlpha(alpha + h, 0.3, power).alpha - coverageAlpha(alpha - h, 0.3, power).alpha) /
        (2 * h);
      const { slope } = coverageAlpha(alpha, 0.3, power);
      assert.ok(Math.abs(numeric - slope) < 1e-6 * Math.max(1, slope), `${numeric} vs ${slope}`);
    }
  }
});

test('a model with a coverage blend: the GPU upscaler matches the CPU reference over frames and a reset, and differs from the model without it', async () => {
  const { device } = await testGpu();
  const parameters = initWeights(NETWORK_V3A, 5);
  const covered: NeuralModel = { graph: { ...NETWORK_V3A, coverageBlend: 1 }, parameters };
  const plain: NeuralModel = { graph: NETWORK_V3A, parameters };
  const sequence = analyticSequence({ displaySize: [24, 16], ratio: 2, frames: 5, cutAt: 3 });
  const options = { displaySize: [24, 16] as Size, quality: 2, method: 'neural' as const };
  const gpu = await createUpscaler(device, { ...options, model: covered });
  const cpu = createReferenceUpscaler({ ...options, resolver: neuralCpuResolver(covered) });
  const cpuPlain = createReferenceUpscaler({ ...options, resolver: neuralCpuResolver(plain) });
  let apart = 0;
  for (const frame of sequence.frames) {
    const expected = cpu.dispatch(frame.images, frame.params);
    const actual = await gpuFrame(device, gpu, frame.images, frame.params);
    const error = relativeError(actual, expected);
    assert.ok(error < 2e-3, `frame ${frame.params.reset ? '(reset) ' : ''}error ${error}`);
    apart = Math.max(apart, relativeError(cpuPlain.dispatch(frame.images, frame.params), expected));
  }
  assert.ok(apart > 1e-2, `the coverage blend changed the frames by ${apart} only`);
  gpu.destroy();
});
