import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cameraMatrices,
  deviceDepth,
  perspective,
  projectToPixels,
  unprojectPixel,
  type Camera,
} from '../src/scene/camera.ts';
import {
  axisAngle,
  composeTRS,
  identity,
  invert,
  multiply,
  slerp,
  transformPoint,
} from '../src/scene/math.ts';
import { rng } from './helpers/gpu.ts';

const camera: Camera = {
  position: [1, 2, 3],
  target: [-2, 0.5, -4],
  fovY: 0.8,
  near: 0.2,
  far: 90,
};

test('matrices: inverse, TRS composition, quaternion interpolation', () => {
  const random = rng(4);
  const m = composeTRS(
    [random(), random(), random()],
    axisAngle([random(), random(), 1], 2),
    [2, 3, 0.5],
  );
  const product = multiply(m, invert(m));
  const id = identity();
  for (let k = 0; k < 16; k++) assert.ok(Math.abs(product[k]! - id[k]!) < 1e-12);
  const q = slerp(axisAngle([0, 1, 0], 0), axisAngle([0, 1, 0], 1), 0.25);
  const expected = axisAngle([0, 1, 0], 0.25);
  for (let k = 0; k < 4; k++) assert.ok(Math.abs(q[k]! - expected[k]!) < 1e-12);
  assert.throws(() => invert(new Float64Array(16)), RangeError);
});

test('projection: pixels and depth round-trip; jitter moves the image by −jitter pixels', () => {
  const [w, h] = [64, 48];
  const jitter: [number, number] = [0.3, -0.2];
  const m = cameraMatrices(camera, w, h, jitter);
  const random = rng(5);
  for (let k = 0; k < 20; k++) {
    const [px, py, d] = [random() * w, random() * h, 0.5 + random() * 50];
    const p = unprojectPixel(camera, px, py, d, w, h);
    const back = projectToPixels(m.viewProjection, p, w, h)!;
    assert.ok(Math.abs(back[0] - px) < 1e-9 && Math.abs(back[1] - py) < 1e-9);
    // The jittered camera shows the point at (px − jx, py − jy): render pixel (x, y) sees
    // the unjittered position (x + 0.5 + jx, y + 0.5 + jy).
    const jittered = projectToPixels(m.jitteredViewProjection, p, w, h)!;
    assert.ok(Math.abs(jittered[0] - (px - jitter[0])) < 1e-9);
    assert.ok(Math.abs(jittered[1] - (py - jitter[1])) < 1e-9);
    for (const inverted of [false, true]) {
      const clip = transformPoint(cameraMatrices(camera, w, h, [0, 0], inverted).viewProjection, p);
      const expected = deviceDepth(d, camera.near, camera.far, inverted);
      assert.ok(Math.abs(clip[2] / clip[3] - expected) < 1e-9, `depth ${inverted}`);
    }
  }
  assert.ok(Math.abs(deviceDepth(camera.near, camera.near, camera.far)) < 1e-12);
  assert.ok(Math.abs(deviceDepth(camera.far, camera.near, camera.far) - 1) < 1e-12);
  assert.throws(() => perspective(1, 1, 0, 10), RangeError);
  assert.throws(() => perspective(1, 1, 5, 2), RangeError);
});
