// The frame API in a real browser (headless Chromium): the same frames through TAAU and the neural
// method give what they give in Node, within f32 tolerance (different adapters: SwiftShader there,
// lavapipe or a GPU here) plus one binary16 step, compared in the tonemapped domain: history and
// state are stored as halves on both sides, and where the two adapters' f32 results straddle a
// rounding boundary they differ by a step (2^-11 below 1 tonemapped), which the linear output
// would magnify by (1 + v)².
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runInBrowser } from './helpers/browser.ts';
import { testGpu, maxAbsDiff } from './helpers/gpu.ts';
import { upscaleAnalyticFrames } from './browser/upscaler-frames.ts';
import { imageFrom } from '../src/core/image.ts';
import { tonemapImage } from '../src/core/tonemap.ts';

test('one upscaled frame (TAAU and neural) agrees between the browser and Node', async () => {
  const browser = await runInBrowser<{
    adapter: string;
    taau: number[];
    neural: number[];
    error?: string;
  }>('test/browser/upscaler-entry.ts', 120_000);
  assert.equal(browser.error, undefined);
  const { device } = await testGpu();
  const node = await upscaleAnalyticFrames(device);
  const tonemapped = (data: number[]) =>
    tonemapImage(imageFrom(32, 24, 4, Float32Array.from(data))).data;
  for (const method of ['taau', 'neural'] as const) {
    const { max, at } = maxAbsDiff(tonemapped(browser[method]), tonemapped(node[method]));
    assert.ok(
      max < 1e-3,
      `${method}: browser vs Node differ by ${max} at ${at} (${browser.adapter})`,
    );
    assert.ok(new Set(node[method]).size > 100, `${method}: a varied frame`);
  }
});
