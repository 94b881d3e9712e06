import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runInBrowser } from './helpers/browser.ts';
import { testGpu } from './helpers/gpu.ts';
import { createSceneRenderer, sceneFrameSource } from '../src/scene/renderer.ts';

interface BrowserFrame {
  runtime?: string;
  error?: string;
  color: number[];
  depth: number[];
  motion: number[];
  reference: number[];
}

test('the data engine renders the same frame in a browser (Chromium) as in Node', async () => {
  const browser = await runInBrowser<BrowserFrame>('test/scene-browser-entry.ts', 120_000);
  assert.equal(browser.error, undefined, browser.error);
  assert.equal(browser.runtime, 'browser');
  const { device } = await testGpu();
  const renderer = createSceneRenderer(device, {
    scene: 'particles',
    displaySize: [32, 24],
    samples: 2,
    frames: 4,
    seed: 2,
  });
  const node = await sceneFrameSource(renderer).readFrame(2);
  renderer.destroy();
  // Different rasterizers (SwiftShader, lavapipe) may differ on a few edge pixels and in texture
  // filtering: compare mean differences, and geometry (depth, motion) closely.
  const meanDiff = (a: ArrayLike<number>, b: number[]) => {
    let s = 0;
    for (let i = 0; i < b.length; i++) s += Math.abs(a[i]! - b[i]!);
    return s / b.length;
  };
  assert.equal(browser.color.length, node.color.data.length);
  assert.ok(meanDiff(node.depth.data, browser.depth) < 1e-3, 'depth');
  assert.ok(meanDiff(node.motion.data, browser.motion) < 1e-4, 'motion');
  assert.ok(meanDiff(node.color.data, browser.color) < 0.05, 'color');
  assert.ok(meanDiff(node.reference!.data, browser.reference) < 0.02, 'reference');
});
