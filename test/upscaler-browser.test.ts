// The frame API in a real browser (headless Chromium): the same frames through TAAU and the neural
// method give what they give in Node, within f32 tolerance (different adapters: SwiftShader there,
// lavapipe or a GPU here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runInBrowser } from './helpers/browser.ts';
import { testGpu, maxAbsDiff } from './helpers/gpu.ts';
import { upscaleAnalyticFrames } from './browser/upscaler-frames.ts';

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
  for (const method of ['taau', 'neural'] as const) {
    const { max, at } = maxAbsDiff(browser[method], node[method]);
    assert.ok(
      max < 1e-3,
      `${method}: browser vs Node differ by ${max} at ${at} (${browser.adapter})`,
    );
    assert.ok(new Set(node[method]).size > 100, `${method}: a varied frame`);
  }
});
