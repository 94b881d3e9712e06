import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu } from './helpers/gpu.ts';
import { createSceneRenderer, sceneFrameSource } from '../src/scene/renderer.ts';
import { PROCEDURAL_SCENES, proceduralScene } from '../src/scene/procedural/scenes.ts';
import { CAMERA_PATHS, cameraPath } from '../src/scene/paths.ts';
import { InputError } from '../src/core/errors.ts';
import { vec3 } from '../src/scene/math.ts';

test('camera paths: finite poses, motion between frames, cut sets reset at the middle', () => {
  const context = {
    focus: { center: [0, 1, 0] as [number, number, number], radius: 5 },
    frames: 20,
    fps: 60,
    seed: 3,
  };
  for (const name of Object.keys(CAMERA_PATHS)) {
    const path = cameraPath(name, context);
    let moved = false;
    for (let i = 0; i < 20; i++) {
      const pose = path(i);
      for (const v of [...pose.position, ...pose.target]) assert.ok(Number.isFinite(v), name);
      assert.equal(pose.cut, name === 'cut' && i === 10, `${name} frame ${i}`);
      const prev = path(Math.max(0, i - 1));
      if (
        vec3.length(vec3.sub(pose.target, prev.target)) +
          vec3.length(vec3.sub(pose.position, prev.position)) >
        1e-6
      )
        moved = true;
    }
    assert.equal(moved, name !== 'static', name);
    assert.deepEqual(cameraPath(name, context)(7), path(7), `${name} is deterministic`);
  }
  assert.throws(() => cameraPath('nope', context), InputError);
  assert.throws(() => proceduralScene('nope', 1), InputError);
});

test('every built-in scene renders finite inputs; particles raise the reactive mask', async () => {
  const { device } = await testGpu();
  for (const scene of Object.keys(PROCEDURAL_SCENES)) {
    const renderer = createSceneRenderer(device, {
      scene,
      displaySize: [32, 24],
      samples: 1,
      frames: 12,
      path: 'cut',
    });
    assert.deepEqual(renderer.header.renderSize, [16, 12]);
    assert.equal(renderer.frameParams(0).reset, true);
    assert.equal(renderer.frameParams(6).reset, true);
    assert.equal(renderer.frameParams(5).reset, false);
    const frame = await sceneFrameSource(renderer).readFrame(3);
    for (const image of [frame.color, frame.motion, frame.reference!]) {
      for (const v of image.data) assert.ok(Number.isFinite(v), scene);
    }
    for (const v of frame.depth.data) assert.ok(v > 0 && v < 1, `${scene} depth ${v}`);
    let lit = 0;
    for (const v of frame.color.data) if (v > 0.01) lit++;
    assert.ok(lit > frame.color.data.length / 2, `${scene} is mostly visible`);
    const reactive = frame.reactive!.data;
    for (const v of reactive) assert.ok(v >= 0 && v <= 1);
    if (scene === 'particles')
      assert.ok(
        reactive.some((v) => v > 0.1),
        'particles are flagged reactive',
      );
    if (scene === 'foliage')
      assert.ok(
        reactive.every((v) => v === 0),
        'no blended surfaces in foliage',
      );
    renderer.destroy();
  }
});
