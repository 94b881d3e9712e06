// Scene clips as windows of a larger display (src/train/data/zoom-windows.ts, `data.zoom`): the
// draw (a pure function of seed and index, log-uniform scales, windows inside the display), the
// config's checks, and a sampler's scene clip that records its window and shows another view.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../src/core/errors.ts';
import { resolveTrainConfig } from '../src/train/config.ts';
import {
  createClipSampler,
  readClipFrames,
  type ClipSamplerOptions,
} from '../src/train/data/clips.ts';
import { clipWindow, NO_ZOOM } from '../src/train/data/zoom-windows.ts';
import { maxAbsDiff, testGpu } from './helpers/gpu.ts';
import { sceneEntry } from './helpers/split-entry.ts';

test('clipWindow: probability 0 never, 1 always; scales log-uniform in [1, maxScale], windows inside the display; pure in (seed, index)', () => {
  const rates = { probability: 1, maxScale: 4 };
  const scales: number[] = [];
  for (let index = 0; index < 400; index++) {
    assert.equal(clipWindow(NO_ZOOM, 3, index), undefined);
    const w = clipWindow(rates, 3, index)!;
    assert.ok(w.scale >= 1 && w.scale <= 4, `scale ${w.scale}`);
    for (const o of w.offset)
      assert.ok(o >= 0 && o <= 1 - 1 / w.scale, `offset ${o} at ${w.scale}`);
    assert.deepEqual(clipWindow(rates, 3, index), w, 'the same draw again');
    scales.push(w.scale);
  }
  // Log-uniform on [1, 4]: half the scales below 2, a quarter below √2.
  const below = (v: number) => scales.filter((s) => s < v).length / scales.length;
  assert.ok(Math.abs(below(2) - 0.5) < 0.08, `below 2: ${below(2)}`);
  assert.ok(Math.abs(below(Math.SQRT2) - 0.25) < 0.08, `below √2: ${below(Math.SQRT2)}`);
  const half = Array.from({ length: 400 }, (_, i) =>
    clipWindow({ probability: 0.5, maxScale: 4 }, 3, i),
  );
  const share = half.filter(Boolean).length / half.length;
  assert.ok(Math.abs(share - 0.5) < 0.08, `probability 0.5: ${share}`);
});

test('training config: data.zoom merged key by key; a bad probability, scale or key is an InputError naming it', () => {
  assert.deepEqual(resolveTrainConfig({}).data.zoom, NO_ZOOM);
  assert.deepEqual(resolveTrainConfig({ data: { zoom: { probability: 0.5 } } }).data.zoom, {
    probability: 0.5,
    maxScale: 4,
  });
  const fails = (zoom: unknown, message: RegExp) =>
    assert.throws(
      () => resolveTrainConfig({ data: { zoom } }),
      (e: Error) => e instanceof InputError && message.test(e.message),
    );
  fails({ probability: 2 }, /data\.zoom\.probability must be a probability in \[0, 1\], got 2/);
  fails({ maxScale: 0.5 }, /data\.zoom\.maxScale must be a number in \[1, 16\], got 0\.5/);
  fails({ scale: 2 }, /data\.zoom\.scale/);
  fails(3, /data\.zoom must be an object \{ probability, maxScale \}/);
});

const entry = sceneEntry('fence');

test('a scene clip with a window records it and shows another view of the same frames', async () => {
  const { device } = await testGpu();
  const options: ClipSamplerOptions = {
    displaySize: [32, 32],
    ratio: 2,
    clipLength: 2,
    samples: 2,
    seed: 5,
    sources: [{ kind: 'scenes', weight: 1, entries: [entry] }],
  };
  const read = async (zoom?: ClipSamplerOptions['zoom']) => {
    const sampler = createClipSampler(device, { ...options, ...(zoom ? { zoom } : {}) });
    const clip = await sampler.clip(1);
    const frames = await readClipFrames(device, clip);
    const { origin } = clip;
    clip.destroy();
    sampler.destroy();
    return { frames, origin };
  };
  const plain = await read();
  const zoomed = await read({ probability: 1, maxScale: 4 });
  assert.equal(plain.origin.window, undefined);
  const window = zoomed.origin.window!;
  assert.deepEqual(window, clipWindow({ probability: 1, maxScale: 4 }, 5, 1));
  assert.equal(zoomed.origin.startFrame, plain.origin.startFrame, 'the same frames');
  assert.ok(window.scale > 1.01, `a window smaller than the view: scale ${window.scale}`);
  const a = plain.frames[1]!.images.reference.data;
  const b = zoomed.frames[1]!.images.reference.data;
  assert.ok(maxAbsDiff(a, b).max > 0.05, 'another view');
});
