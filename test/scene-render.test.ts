import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu } from './helpers/gpu.ts';
import type { FrameImages } from '../src/core/frame.ts';
import type { Image } from '../src/core/image.ts';
import {
  createSceneRenderer,
  sceneFrameSource,
  type SceneRendererOptions,
} from '../src/scene/renderer.ts';
import { boxMesh, planeMesh } from '../src/scene/geometry.ts';
import { axisAngle, composeTRS, translation } from '../src/scene/math.ts';
import { proceduralTexture } from '../src/scene/texture.ts';
import { material, type Scene } from '../src/scene/types.ts';
import type { CameraPath } from '../src/scene/paths.ts';

const W = 48;
const H = 32;

/** A smooth texture: bilinear resampling of it is accurate, so warping errors show motion errors. */
const smooth = (phase: number) =>
  proceduralTexture(64, true, (u, v) => [
    0.5 + 0.4 * Math.sin(2 * Math.PI * (u + phase)),
    0.5 + 0.4 * Math.sin(2 * Math.PI * v),
    0.5 + 0.4 * Math.sin(2 * Math.PI * (u + v)),
    1,
  ]);

/** A textured wall and a textured box that moves and turns in front of it (unlit: view-independent). */
function wallAndBox(boxMotion: boolean): Scene {
  return {
    name: 'wall-and-box',
    meshes: [planeMesh(40, 30, [2, 2]), boxMesh([2.4, 2.4, 2.4])],
    textures: [smooth(0), smooth(0.3)],
    materials: [
      material({ baseColorTexture: 0, unlit: true }),
      material({ baseColorTexture: 1, unlit: true }),
    ],
    objects: [
      { mesh: 0, material: 0, transform: () => translation([0, 0, -10]) },
      {
        mesh: 1,
        material: 1,
        transform: (t) =>
          boxMotion
            ? composeTRS([-1 + 6 * t, 0.2, -6], axisAngle([0.3, 1, 0], 0.4 + 3 * t), [1, 1, 1])
            : translation([0, 0, -6]),
      },
    ],
    light: { direction: [0, 1, 0], color: [1, 1, 1], ambient: [0, 0, 0] },
    focus: { center: [0, 0, -8], radius: 4 },
    lens: { fovY: 0.9, near: 0.5, far: 60 },
    defaultPath: 'static',
    shadowExtent: 0,
  };
}

const still: CameraPath = () => ({ position: [0, 0, 0], target: [0, 0, -1], cut: false });
/** Camera translating and turning: parallax between the box and the wall. */
const moving: CameraPath = (i) => ({
  position: [0.12 * i, 0.05 * i, 0],
  target: [0.12 * i + 0.04 * i, 0.05 * i, -1],
  cut: false,
});

async function frames(options: Omit<SceneRendererOptions, 'displaySize'>, indices: number[]) {
  const { device } = await testGpu();
  const renderer = createSceneRenderer(device, { displaySize: [W, H], ...options });
  const source = sceneFrameSource(renderer);
  const out: FrameImages[] = [];
  for (const i of indices) out.push(await source.readFrame(i));
  renderer.destroy();
  return out;
}

function bilinear(image: Image, x: number, y: number, c: number): number {
  const fx = Math.min(image.width - 1, Math.max(0, x - 0.5));
  const fy = Math.min(image.height - 1, Math.max(0, y - 0.5));
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  const x1 = Math.min(image.width - 1, x0 + 1);
  const y1 = Math.min(image.height - 1, y0 + 1);
  const tx = fx - x0;
  const ty = fy - y0;
  const at = (xx: number, yy: number) => image.data[(yy * image.width + xx) * image.channels + c]!;
  return (
    (1 - ty) * ((1 - tx) * at(x0, y0) + tx * at(x1, y0)) +
    ty * ((1 - tx) * at(x0, y1) + tx * at(x1, y1))
  );
}

/**
 * Warps frame t−1's reference to frame t with frame t's motion vectors (ratio 1: render and
 * display pixels coincide) and returns per-pixel errors, skipping pixels flagged as disoccluded:
 * the previous position is off screen, or the previous frame's depth at it differs from this
 * frame's by more than one surface's depth changes between frames here (< 0.003), or by a jump to
 * another surface 1.5 pixels away (the wall and the box differ by more than 0.018).
 */
function warpErrors(
  prev: FrameImages,
  curr: FrameImages,
  useMotion: boolean,
  only: (i: number) => boolean = () => true,
) {
  const errors: number[] = [];
  let flagged = 0;
  const depthAt = (img: Image, x: number, y: number) =>
    img.data[
      Math.min(H - 1, Math.max(0, Math.floor(y))) * W + Math.min(W - 1, Math.max(0, Math.floor(x)))
    ]!;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      if (!only(i)) continue;
      const mx = useMotion ? curr.motion.data[i * 2]! : 0;
      const my = useMotion ? curr.motion.data[i * 2 + 1]! : 0;
      const px = x + 0.5 + mx * W;
      const py = y + 0.5 + my * H;
      let disoccluded = px < 1 || py < 1 || px > W - 1 || py > H - 1;
      if (!disoccluded) {
        const d = curr.depth.data[i]!;
        for (const [dx, dy] of [
          [0, 0],
          [-1.5, 0],
          [1.5, 0],
          [0, -1.5],
          [0, 1.5],
        ] as const) {
          // Same surface: close depth at the point; another surface nearby: a depth jump.
          const limit = dx === 0 && dy === 0 ? 0.003 : 0.012;
          if (Math.abs(depthAt(prev.depth, px + dx, py + dy) - d) > limit) disoccluded = true;
        }
      }
      if (disoccluded) {
        flagged++;
        continue;
      }
      let e = 0;
      for (let c = 0; c < 3; c++) {
        e = Math.max(
          e,
          Math.abs(bilinear(prev.reference!, px, py, c) - curr.reference!.data[i * 3 + c]!),
        );
      }
      errors.push(e);
    }
  }
  errors.sort((a, b) => a - b);
  const mean = errors.reduce((s, e) => s + e, 0) / errors.length;
  return {
    mean,
    p95: errors[Math.floor(errors.length * 0.95)]!,
    flagged: flagged / (flagged + errors.length),
    count: errors.length,
  };
}

test('motion vectors: warping frame t−1 by them reproduces frame t (camera motion)', async () => {
  const [prev, curr] = await frames(
    { scene: wallAndBox(false), path: moving, ratio: 1, samples: 16, frames: 4 },
    [2, 3],
  );
  const warped = warpErrors(prev!, curr!, true);
  const unwarped = warpErrors(prev!, curr!, false);
  // Edges of the box are where bilinear resampling of a box-filtered image is least accurate.
  assert.ok(warped.mean < 0.01, `mean warp error ${warped.mean}`);
  assert.ok(warped.p95 < 0.03, `95th percentile warp error ${warped.p95}`);
  assert.ok(unwarped.mean > 10 * warped.mean, `without motion ${unwarped.mean} vs ${warped.mean}`);
});

test('motion vectors: object motion (translation + rotation), except at disocclusions', async () => {
  const [prev, curr] = await frames(
    { scene: wallAndBox(true), path: still, ratio: 1, samples: 16, frames: 4 },
    [1, 2],
  );
  const m = curr!.motion.data;
  // The wall is static (zero motion); the box's pixels move.
  assert.equal(m[0], 0);
  const onBox = (i: number) => Math.hypot(m[i * 2]!, m[i * 2 + 1]!) > 1e-3;
  const all = warpErrors(prev!, curr!, true);
  const box = warpErrors(prev!, curr!, true, onBox);
  const boxUnwarped = warpErrors(prev!, curr!, false, onBox);
  assert.ok(all.flagged < 0.3, `flagged ${all.flagged}`);
  assert.ok(box.count >= 100, `unflagged moving pixels ${box.count}`);
  assert.ok(all.mean < 0.005, `mean warp error ${all.mean}`);
  assert.ok(box.mean < 0.01, `mean warp error on the box ${box.mean}`);
  assert.ok(box.p95 < 0.03, `95th percentile on the box ${box.p95}`);
  assert.ok(boxUnwarped.mean > 5 * box.mean, `box without motion ${boxUnwarped.mean}`);
});

test('ground truth converges as samples grow', async () => {
  const scene = wallAndBox(true);
  const reference = async (samples: number) =>
    (await frames({ scene, path: still, ratio: 1, samples, frames: 2 }, [1]))[0]!.reference!;
  const truth = await reference(256);
  const errors: number[] = [];
  for (const n of [1, 4, 16, 64]) {
    const r = await reference(n);
    let sum = 0;
    for (let k = 0; k < r.data.length; k++) sum += Math.abs(r.data[k]! - truth.data[k]!);
    errors.push(sum / r.data.length);
  }
  const message = `errors by samples 1/4/16/64: ${errors.join(', ')}`;
  // A single centred sample is already a fair estimate for smooth content; from 4 samples on,
  // each 4× more samples at least halve the error (edges converge about as 1/N).
  for (let k = 1; k < errors.length; k++) assert.ok(errors[k]! < errors[k - 1]!, message);
  for (let k = 2; k < errors.length; k++) assert.ok(errors[k]! < errors[k - 1]! * 0.5, message);
});

test('determinism: same seed, identical frames; another seed, another layout', async () => {
  const options = {
    scene: 'mix',
    path: 'orbit',
    ratio: 2,
    samples: 2,
    frames: 3,
    seed: 5,
  } as const;
  const [a] = await frames(options, [2]);
  const [b] = await frames(options, [2]);
  const [c] = await frames({ ...options, seed: 6 }, [2]);
  for (const key of ['color', 'depth', 'motion', 'reactive', 'reference'] as const) {
    assert.deepEqual(a![key]!.data, b![key]!.data, key);
  }
  assert.notDeepEqual(a!.color.data, c!.color.data);
});

test('skinning: a skinned mesh moved by its joint renders like the same mesh moved rigidly', async () => {
  const rigid = wallAndBox(true);
  const box = rigid.meshes[1]!;
  const n = box.positions.length / 3;
  // Two joints: every vertex half on each; joint 0 carries the box's motion twice over and
  // joint 1 holds still, so the blend moves the box exactly as the rigid transform does.
  const joints = new Uint32Array(n * 4).map((_, k) => (k % 4 === 1 ? 1 : 0));
  const weights = new Float32Array(n * 4).map((_, k) => (k % 4 < 2 ? 0.5 : 0));
  const skinned: Scene = {
    ...rigid,
    meshes: [rigid.meshes[0]!, { ...box, joints, weights }],
    objects: [
      rigid.objects[0]!,
      {
        ...rigid.objects[1]!,
        transform: () => translation([0, 0, 0]),
        skin: (t) => [translation([2 * (-1 + 6 * t), 0.4, -12]), translation([0, 0, 0])],
      },
    ],
  };
  rigid.objects[1] = { ...rigid.objects[1]!, transform: (t) => translation([-1 + 6 * t, 0.2, -6]) };
  const options = { path: still, ratio: 1, samples: 1, frames: 3 } as const;
  const [a] = await frames({ ...options, scene: rigid }, [2]);
  const [b] = await frames({ ...options, scene: skinned }, [2]);
  for (const key of ['color', 'depth', 'motion'] as const) {
    const diff = Math.max(...a![key].data.map((v, k) => Math.abs(v - b![key].data[k]!)));
    assert.ok(diff < 1e-4, `${key} differs by ${diff}`);
  }
  assert.ok(
    b!.motion.data.some((v) => Math.abs(v) > 1e-3),
    'the skinned box has motion vectors',
  );
});
