// The procedural scenes of network v3's failure classes (thin poles under forward motion, fast
// skinned limbs, text and UI detail, foliage in wind, large animals over a bright sky): they
// render, are deterministic for a seed, move where they should, and their motion vectors are the
// motion (checked vertex by vertex, and by reprojecting one frame onto the next).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu } from './helpers/gpu.ts';
import { motionConsistency } from './helpers/motion-consistency.ts';
import { vertexMotion } from './helpers/vertex-motion.ts';
import { createSceneRenderer, sceneFrameSource } from '../src/scene/renderer.ts';
import { HARD_CASE_SCENES } from '../src/scene/procedural/hard-cases.ts';
import { PROCEDURAL_SCENES } from '../src/scene/procedural/scenes.ts';
import type { SceneObject } from '../src/scene/types.ts';

const FPS = 60;

test('the failure-class scenes are registered and deterministic for a seed', async () => {
  const { device } = await testGpu();
  for (const scene of Object.keys(HARD_CASE_SCENES)) {
    assert.ok(scene in PROCEDURAL_SCENES, `${scene} is a built-in scene`);
    const render = async (seed: number) => {
      const renderer = createSceneRenderer(device, {
        scene,
        seed,
        displaySize: [32, 24],
        samples: 1,
        frames: 3,
      });
      const frame = await sceneFrameSource(renderer).readFrame(2);
      renderer.destroy();
      return frame;
    };
    const [a, b, other] = [await render(3), await render(3), await render(4)];
    assert.deepEqual(a.color.data, b.color.data, `${scene}: color`);
    assert.deepEqual(a.motion.data, b.motion.data, `${scene}: motion`);
    assert.deepEqual(a.depth.data, b.depth.data, `${scene}: depth`);
    assert.notDeepEqual(a.color.data, other.color.data, `${scene}: another seed, another layout`);
    for (const v of a.color.data) assert.ok(Number.isFinite(v), scene);
  }
});

/** Objects whose transform differs between two instants, or that have a skin. */
const movesOrSkinned = (t: number) => (o: SceneObject) =>
  !!o.skin || o.transform(t).some((v, i) => v !== o.transform(t - 1 / FPS)[i]);

/**
 * Six frames of `scene` on `path` at 96×64, at display resolution without jitter (`samples`
 * supersamples of the reference): vectors and pixels then line up one to one.
 */
const unjitteredRenderer = (
  device: GPUDevice,
  { scene, path, seed }: { scene: string; path: string; seed: number },
  samples: number,
) =>
  createSceneRenderer(device, {
    scene,
    path,
    seed,
    frames: 6,
    displaySize: [96, 64],
    ratio: 1,
    samples,
    engineInputs: { noJitter: true },
  });

// Each case: the scene, a path, which objects to check, and the frame.
const CASES = [
  { scene: 'poles', path: 'forward', seed: 1, objects: () => true },
  { scene: 'runners', path: 'static', seed: 1, objects: (o: SceneObject) => !!o.skin },
  { scene: 'signs', path: 'static', seed: 1, objects: movesOrSkinned(5 / FPS) },
  { scene: 'meadow', path: 'static', seed: 1, objects: (o: SceneObject) => !!o.skin },
  { scene: 'herd', path: 'static', seed: 1, objects: (o: SceneObject) => !!o.skin },
] as const;

test('motion vectors are the motion of every visible vertex (skins, moving objects, camera)', async () => {
  const { device } = await testGpu();
  for (const { scene, path, seed, objects } of CASES) {
    const renderer = unjitteredRenderer(device, { scene, path, seed }, 0);
    const frame = await sceneFrameSource(renderer).readFrame(5);
    const check = vertexMotion(
      renderer.scene,
      { path, seed, frames: 6, fps: FPS, frame: 5 },
      frame,
      objects,
    );
    renderer.destroy();
    const what = `${scene} × ${path}: ${JSON.stringify(check)}`;
    assert.ok(check.count >= 20 && check.moving >= 10, what);
    assert.ok(check.median < 0.1 && check.p90 < 0.4, what);
  }
});

test('frame t − 1 reprojected with the stored vectors matches frame t on moving geometry', async () => {
  const { device } = await testGpu();
  for (const { scene, path, seed } of [
    { scene: 'runners', path: 'static', seed: 1 },
    { scene: 'poles', path: 'forward', seed: 1 },
  ]) {
    const renderer = unjitteredRenderer(device, { scene, path, seed }, 4);
    const source = sceneFrameSource(renderer);
    const previous = await source.readFrame(4);
    const current = await source.readFrame(5);
    renderer.destroy();
    const c = motionConsistency(previous.reference!, current.reference!, current.motion, 0.25);
    const negated = { ...current.motion, data: current.motion.data.map((v) => -v) };
    const wrong = motionConsistency(previous.reference!, current.reference!, negated, 0.25);
    const what = `${scene} × ${path}: ${c.informative} px, error ${c.meanInformative} (zero motion ${c.meanZeroInformative}, negated ${wrong.meanInformative})`;
    assert.ok(c.informative >= 50, what);
    assert.ok(c.meanInformative < 0.6 * c.meanZeroInformative, what);
    assert.ok(c.meanInformative < 0.6 * wrong.meanInformative, what);
    if (path === 'static') {
      // A still camera: only the figures move; ground and sky keep zero motion.
      let still = 0;
      for (let i = 0; i < current.motion.data.length; i += 2)
        if (current.motion.data[i] === 0 && current.motion.data[i + 1] === 0) still++;
      assert.ok(still > current.motion.data.length / 4, `${scene}: ${still} still pixels`);
    }
  }
});
