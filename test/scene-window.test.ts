// A view window (src/scene/camera.ts ViewWindow): rendering the part of a larger virtual display
// equals cropping a render of that display — the inputs, the depth, the motion (in the window's
// UV: the crop's times the scale) and the reference — so training clips can see the scenes at a
// larger display's pixel density for the cost of the crop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu } from './helpers/gpu.ts';
import { readGpuImage } from '../src/gpu/gpu-image.ts';
import { createSceneRenderer } from '../src/scene/renderer.ts';
import { checkViewWindow, perspective, windowProjection } from '../src/scene/camera.ts';
import type { Image } from '../src/core/image.ts';

/** The w×h block of `image` at (x0, y0). */
function crop(image: Image, x0: number, y0: number, w: number, h: number): Float32Array {
  const c = image.channels;
  const out = new Float32Array(w * h * c);
  for (let y = 0; y < h; y++) {
    const from = ((y0 + y) * image.width + x0) * c;
    out.set(image.data.subarray(from, from + w * c), y * w * c);
  }
  return out;
}

/** Share of values within `tolerance` of each other. */
function agreement(a: Float32Array, b: Float32Array, tolerance: number): number {
  assert.equal(a.length, b.length);
  let close = 0;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) <= tolerance) close++;
  return close / a.length;
}

test('view window: the rendered window equals the crop of the larger render (color, depth, motion × scale, reference)', async () => {
  const { device } = await testGpu();
  const options = { scene: 'fence' as const, frames: 3, samples: 4, ratio: 2, seed: 3 };
  const large = createSceneRenderer(device, { ...options, displaySize: [64, 48] });
  const small = createSceneRenderer(device, { ...options, displaySize: [32, 24] });
  // The bottom-right quadrant, and a window of a third off-centre.
  for (const window of [
    { scale: 2, offset: [0.5, 0.5] as const, at: [16, 12] },
    { scale: 2, offset: [0.25, 0] as const, at: [8, 0] },
  ]) {
    const whole = await large.renderFrame(1);
    const images = {
      color: await readGpuImage(device, whole.gpu.color, 3),
      depth: await readGpuImage(device, whole.gpu.depth, 1),
      motion: await readGpuImage(device, whole.gpu.motion, 2),
      reference: await readGpuImage(device, whole.gpu.reference!, 3),
    };
    const part = await small.renderFrame(1, { window });
    assert.deepEqual(part.params.jitter, whole.params.jitter, 'the same jitter');
    const [x, y] = window.at;
    const what = `window at ${window.offset.join(', ')}`;
    const color = await readGpuImage(device, part.gpu.color, 3);
    // Color within a binary16 step or two (the shading rounds as the stored inputs do).
    const colorAgreement = agreement(color.data, crop(images.color, x, y, 16, 12), 1e-3);
    assert.ok(colorAgreement > 0.99, `${what}: color (${colorAgreement})`);
    const depth = await readGpuImage(device, part.gpu.depth, 1);
    assert.ok(
      agreement(depth.data, crop(images.depth, x, y, 16, 12), 1e-5) > 0.99,
      `${what}: depth`,
    );
    // Motion is in the target's UV: the window's is the crop's times the scale.
    const motion = await readGpuImage(device, part.gpu.motion, 2);
    const scaled = crop(images.motion, x, y, 16, 12).map((v) => v * window.scale);
    assert.ok(agreement(motion.data, scaled, 1e-5) > 0.99, `${what}: motion`);
    assert.ok(
      scaled.some((v) => Math.abs(v) > 1e-3),
      `${what}: the camera moves`,
    );
    const reference = await readGpuImage(device, part.gpu.reference!, 3);
    const refCrop = crop(images.reference, 2 * x, 2 * y, 32, 24);
    assert.ok(agreement(reference.data, refCrop, 1e-3) > 0.98, `${what}: reference`);
    // Not trivially equal: the window differs from the small renderer's whole view.
    const plain = await small.renderFrame(1);
    const plainColor = await readGpuImage(device, plain.gpu.color, 3);
    assert.ok(agreement(color.data, plainColor.data, 1e-3) < 0.9, `${what}: not the whole view`);
  }
  large.destroy();
  small.destroy();
});

test('view window: a scale below 1 or an offset outside the room is a RangeError naming it', () => {
  assert.throws(
    () => checkViewWindow({ scale: 0.5, offset: [0, 0] }),
    /scale must be a finite number ≥ 1/,
  );
  assert.throws(
    () => checkViewWindow({ scale: 2, offset: [0.6, 0] }),
    /offset 0.6, 0 must lie in \[0, 0.5\]/,
  );
  const p = perspective(1, 1.5, 0.1, 100);
  // Scale 1 at offset 0: the projection itself.
  assert.deepEqual(Array.from(windowProjection(p, { scale: 1, offset: [0, 0] })), Array.from(p));
});
