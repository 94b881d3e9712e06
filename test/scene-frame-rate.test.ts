// The same path and seed at two frame rates describe the same instants (frame i at time i / fps,
// the cut and the fast turn at the same instant for the same duration), so a sequence at 60 fps
// is the in-between ground truth of one at 30 fps with half the frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAMERA_PATHS, cameraPath } from '../src/scene/paths.ts';
import { createSceneRenderer } from '../src/scene/renderer.ts';
import { readGpuImage } from '../src/gpu/gpu-image.ts';
import { testGpu } from './helpers/gpu.ts';

const focus = { center: [0, 1, 0] as [number, number, number], radius: 5 };

test('paths: frame k at 30 fps is frame 2k at 60 fps (and 3k at 90 fps), cuts included', () => {
  for (const name of Object.keys(CAMERA_PATHS)) {
    for (const frames of [12, 13, 32]) {
      const slow = cameraPath(name, { focus, frames, fps: 30, seed: 1007 });
      for (const factor of [2, 3]) {
        const fast = cameraPath(name, {
          focus,
          frames: frames * factor,
          fps: 30 * factor,
          seed: 1007,
        });
        let cuts = 0;
        for (let k = 0; k < frames; k++) {
          const a = slow(k);
          const b = fast(k * factor);
          for (let c = 0; c < 3; c++) {
            assert.ok(Math.abs(a.position[c]! - b.position[c]!) < 1e-9, `${name} ${frames} ${k}`);
            assert.ok(Math.abs(a.target[c]! - b.target[c]!) < 1e-9, `${name} ${frames} ${k}`);
          }
          // A cut at frame k of the slow rate lies between its frames k − 1 and k at the fast rate.
          const fastCut = Array.from({ length: factor }, (_, j) => fast(k * factor - j).cut);
          if (k > 0) assert.equal(a.cut, fastCut.some(Boolean), `${name} ${frames} cut at ${k}`);
          if (a.cut) cuts++;
        }
        if (name === 'cut') assert.equal(cuts, 1, `${name} ${frames}: one cut`);
      }
    }
  }
});

test('renderer: references at 30 fps equal every other reference at 60 fps', async () => {
  const { device } = await testGpu();
  const render = (fps: number, frames: number) =>
    createSceneRenderer(device, {
      scene: 'mix',
      path: 'cut',
      displaySize: [32, 24],
      seed: 1003,
      samples: 4,
      frames,
      fps,
    });
  const slow = render(30, 4);
  const fast = render(60, 8);
  for (const k of [1, 2, 3]) {
    const a = await readGpuImage(device, (await slow.renderFrame(k)).gpu.reference!, 3);
    const b = await readGpuImage(device, (await fast.renderFrame(2 * k)).gpu.reference!, 3);
    assert.deepEqual(a.data, b.data, `frame ${k}`);
    assert.equal(
      slow.frameParams(k).reset,
      fast.frameParams(2 * k - 1).reset || fast.frameParams(2 * k).reset,
    );
  }
  slow.destroy();
  fast.destroy();
});
