import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu } from './helpers/gpu.ts';
import { createGpuImage, readGpuImage } from '../src/gpu/gpu-image.ts';
import { createSceneRasterizer } from '../src/scene/rasterizer.ts';
import { packBuffers } from '../src/scene/rasterizer-resources.ts';
import { readBuffer } from '../src/gpu/resources.ts';
import type { InputImages } from '../src/scene/raster-view.ts';
import { deviceDepth, unprojectPixel, type Camera } from '../src/scene/camera.ts';
import { planeMesh } from '../src/scene/geometry.ts';
import { translation, type Vec3 } from '../src/scene/math.ts';
import { material, type Scene } from '../src/scene/types.ts';
import { proceduralTexture } from '../src/scene/texture.ts';
import { mulberry32 } from '../src/core/random.ts';
import { proceduralScene } from '../src/scene/procedural/scenes.ts';

const W = 32;
const H = 24;
const camera: Camera = { position: [0, 0, 0], target: [0, 0, -1], fovY: 1, near: 0.5, far: 50 };

/** A black wall at distance 6 and a white one at distance 5 covering the screen left of pixel x = edgeX (or above y = edgeY). */
function edgeScene(edge: { x?: number; y?: number }): Scene {
  const d = 5;
  // Corners of the white region in world space at distance d.
  const a = unprojectPixel(camera, -40, -40, d, W, H);
  const b = unprojectPixel(camera, edge.x ?? W + 40, edge.y ?? H + 40, d, W, H);
  const center: Vec3 = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, -d];
  return {
    name: 'edge',
    meshes: [planeMesh(1000, 1000), planeMesh(Math.abs(b[0] - a[0]), Math.abs(b[1] - a[1]))],
    materials: [
      material({ baseColor: [0, 0, 0, 1], unlit: true }),
      material({ baseColor: [1, 1, 1, 1], unlit: true }),
    ],
    textures: [],
    objects: [
      { mesh: 0, material: 0, transform: () => translation([0, 0, -6]) },
      { mesh: 1, material: 1, transform: () => translation(center) },
    ],
    light: { direction: [0, 1, 0], color: [1, 1, 1], ambient: [0, 0, 0] },
    focus: { center: [0, 0, -5], radius: 5 },
    lens: { fovY: 1, near: 0.5, far: 50 },
    defaultPath: 'static',
    shadowExtent: 0,
  };
}

async function renderInputs(
  scene: Scene,
  jitter: [number, number],
  depthInverted = false,
  mipBias = 0,
) {
  const { device } = await testGpu();
  const raster = createSceneRasterizer(device, scene);
  const out: InputImages = {
    color: createGpuImage(device, W, H),
    depth: createGpuImage(device, W, H),
    motion: createGpuImage(device, W, H),
    reactive: createGpuImage(device, W, H),
  };
  const view = { camera, time: 0, depthInverted, mipBias };
  raster.renderInputs(view, { camera, time: 0 }, jitter, out);
  const reference = createGpuImage(device, W, H);
  raster.renderReference(view, 64, reference);
  const result = {
    color: await readGpuImage(device, out.color, 3),
    depth: await readGpuImage(device, out.depth, 1),
    reference: await readGpuImage(device, reference, 1),
  };
  raster.destroy();
  return result;
}

test('jitter: render pixel (x, y) sees the unjittered screen point (x + 0.5 + jx, y + 0.5 + jy)', async () => {
  // Vertical edge at screen x = 10.3: pixel 10 is white iff 10.5 + jx < 10.3.
  const vertical = edgeScene({ x: 10.3 });
  for (const jx of [-0.45, -0.25, -0.15, 0.1, 0.4]) {
    const { color } = await renderInputs(vertical, [jx, 0.3]);
    const at = (x: number) => color.data[(12 * W + x) * 3]!;
    assert.equal(at(10), 10.5 + jx < 10.3 ? 1 : 0, `jx = ${jx}`);
    assert.equal(at(9), 1);
    assert.equal(at(11), 0);
  }
  // Horizontal edge at screen y = 7.6 (y down): row 7 is white iff 7.5 + jy < 7.6.
  const horizontal = edgeScene({ y: 7.6 });
  for (const jy of [-0.4, 0.05, 0.15, 0.45]) {
    const { color } = await renderInputs(horizontal, [0.2, jy]);
    const at = (y: number) => color.data[(y * W + 5) * 3]!;
    assert.equal(at(7), 7.5 + jy < 7.6 ? 1 : 0, `jy = ${jy}`);
    assert.equal(at(6), 1);
    assert.equal(at(8), 0);
  }
});

test('ground truth: a display pixel straddling an edge holds the covered fraction', async () => {
  // Edge at x = 10.3: pixel 10 spans [10, 11), 0.3 of it white; 64 samples on an 8×8 grid.
  const { reference } = await renderInputs(edgeScene({ x: 10.3 }), [0, 0]);
  const at = (x: number) => reference.data[12 * W + x]!;
  assert.ok(Math.abs(at(10) - 0.3) < 1 / 16, `coverage ${at(10)}`);
  assert.equal(at(9), 1);
  assert.equal(at(11), 0);
});

test('depth: device depth in [0, 1], near = 0, matching the projection; inverted when asked', async () => {
  const scene = edgeScene({ x: 16 });
  for (const inverted of [false, true]) {
    const { depth } = await renderInputs(scene, [0, 0], inverted);
    const near = deviceDepth(5, camera.near, camera.far, inverted);
    const far = deviceDepth(6, camera.near, camera.far, inverted);
    const left = depth.data[12 * W + 4]!;
    const right = depth.data[12 * W + 28]!;
    assert.ok(Math.abs(left - near) < 1e-6, `white wall depth ${left} vs ${near}`);
    assert.ok(Math.abs(right - far) < 1e-6, `black wall depth ${right} vs ${far}`);
    assert.ok(inverted ? left > right : left < right, 'nearer is smaller (larger when inverted)');
    for (const v of depth.data) assert.ok(v >= 0 && v <= 1);
  }
});

test('mip bias: a negative bias samples finer mips (more detail), a positive one coarser', async () => {
  // White noise, one value per texel: each coarser mip level has less variance (1/4 for box
  // filtering alone; less contrast between levels through bilinear and trilinear blending).
  const noise = mulberry32(9);
  const values = Array.from({ length: 256 * 256 }, () => noise());
  const texture = proceduralTexture(256, false, (u, v) => {
    const g = values[Math.floor(v * 256) * 256 + Math.floor(u * 256)]!;
    return [g, g, g, 1];
  });
  // A wall covering the view, about 8 texels per pixel at bias 0.
  const d = 5;
  const a = unprojectPixel(camera, 0, 0, d, W, H);
  const b = unprojectPixel(camera, W, H, d, W, H);
  const scene: Scene = {
    ...edgeScene({}),
    meshes: [planeMesh(b[0] - a[0], a[1] - b[1], [W / 32, H / 32])],
    textures: [texture],
    materials: [material({ baseColorTexture: 0, unlit: true })],
    objects: [{ mesh: 0, material: 0, transform: () => translation([0, 0, -d]) }],
  };
  const variance = async (bias: number) => {
    const { color } = await renderInputs(scene, [0, 0], false, bias);
    const g = Array.from({ length: W * H }, (_, i) => color.data[i * 3]!);
    const mean = g.reduce((s, v) => s + v, 0) / g.length;
    return g.reduce((s, v) => s + (v - mean) ** 2, 0) / g.length;
  };
  const [finer, normal, coarser] = [await variance(-1), await variance(0), await variance(1)];
  assert.ok(finer > 1.3 * normal, `variance at bias −1 ${finer} vs 0 ${normal}`);
  assert.ok(normal > 1.3 * coarser, `variance at bias 0 ${normal} vs +1 ${coarser}`);
});

test('reference: draws recorded once in a render bundle give the same pixels as every draw issued per sample', async () => {
  const { device } = await testGpu();
  // Particles: alpha-blended objects drawn back to front, an order that changes with the camera.
  const scene = proceduralScene('particles', 3);
  const [w, h] = [40, 24];
  const renders = [];
  for (const referenceBundles of [true, false]) {
    const raster = createSceneRasterizer(device, scene, { referenceBundles });
    const frames = [];
    for (const [time, depthInverted] of [
      [0, false],
      [0.5, true],
    ] as const) {
      const eye = scene.focus.center;
      const view = {
        camera: {
          ...scene.lens,
          position: [eye[0] + 6, eye[1] + 2, eye[2] + 6 - time * 4] as Vec3,
          target: eye,
        },
        time,
        depthInverted,
        mipBias: 0,
      };
      const reference = createGpuImage(device, w, h);
      raster.renderReference(view, 4, reference);
      frames.push(await readGpuImage(device, reference, 3));
    }
    raster.destroy();
    renders.push(frames);
  }
  const [bundled, direct] = renders;
  for (const [k, frame] of bundled!.entries()) {
    assert.ok(
      frame.data.some((v) => v > 0.01),
      `frame ${k} shows the scene`,
    );
    assert.deepEqual(frame.data, direct![k]!.data, `frame ${k}`);
  }
  assert.notDeepEqual(bundled![0]!.data, bundled![1]!.data, 'the two frames differ');
});

test('a second frame of the same size creates no buffer, and draws what a fresh rasterizer draws', async () => {
  const { device } = await testGpu();
  const scene = proceduralScene('city', 2); // many meshes: they share one vertex and one index buffer
  const [w, h] = [24, 16];
  const viewAt = (time: number) => ({
    camera: { ...scene.lens, position: [8, 3, 8 - time * 4] as Vec3, target: scene.focus.center },
    time,
    depthInverted: false,
    mipBias: 0,
  });
  const inputImages = (): InputImages => ({
    color: createGpuImage(device, w / 2, h / 2),
    depth: createGpuImage(device, w / 2, h / 2),
    motion: createGpuImage(device, w / 2, h / 2),
    reactive: createGpuImage(device, w / 2, h / 2),
  });
  const render = async (raster: ReturnType<typeof createSceneRasterizer>, time: number) => {
    const inputs = inputImages();
    const reference = createGpuImage(device, w, h);
    raster.renderInputs(
      viewAt(time),
      { camera: viewAt(time - 0.1).camera, time: time - 0.1 },
      [0.25, -0.25],
      inputs,
    );
    raster.renderReference(viewAt(time), 4, reference);
    return { inputs, reference };
  };
  const read = async (images: Awaited<ReturnType<typeof render>>) => [
    (await readGpuImage(device, images.reference, 3)).data,
    ...(await Promise.all(
      Object.values(images.inputs).map(async (i) => (await readGpuImage(device, i, 4)).data),
    )),
  ];
  const fresh = createSceneRasterizer(device, scene);
  const expected = await read(await render(fresh, 0.5));
  fresh.destroy();

  const raster = createSceneRasterizer(device, scene);
  await render(raster, 0);
  const second = { inputs: inputImages(), reference: createGpuImage(device, w, h) };
  const createBuffer = device.createBuffer.bind(device);
  let created = 0;
  device.createBuffer = (descriptor) => {
    created++;
    return createBuffer(descriptor);
  };
  try {
    raster.renderInputs(
      viewAt(0.5),
      { camera: viewAt(0.4).camera, time: 0.4 },
      [0.25, -0.25],
      second.inputs,
    );
    raster.renderReference(viewAt(0.5), 4, second.reference);
  } finally {
    device.createBuffer = createBuffer;
  }
  assert.equal(created, 0, 'buffers created by the second frame');
  const got = await read(second);
  got.forEach((data, k) => assert.deepEqual(data, expected[k], `image ${k}`));
  assert.ok(
    got[0]!.some((v) => v > 0.01),
    'the reference shows the scene',
  );
  raster.destroy();
});

test('mesh arrays packed into buffers of at most maxBufferSize: slices in order, contents intact', async () => {
  const { device } = await testGpu();
  const arrays = [10, 5, 8, 16].map((n, k) =>
    Float32Array.from({ length: n }, (_, i) => k * 100 + i),
  );
  const owned: GPUBuffer[] = [];
  const usage = GPUBufferUsage.VERTEX | GPUBufferUsage.COPY_SRC;
  // 40 + 20 bytes fit in 64; 32 starts a second buffer; 64 a third.
  const slices = packBuffers(device, arrays, usage, 'test', owned, 64);
  assert.equal(owned.length, 3);
  assert.deepEqual(
    slices.map((s) => [owned.indexOf(s.buffer), s.offset, s.size]),
    [
      [0, 0, 40],
      [0, 40, 20],
      [1, 0, 32],
      [2, 0, 64],
    ],
  );
  for (const [k, slice] of slices.entries()) {
    const data = await readBuffer(device, slice.buffer);
    assert.deepEqual(data.subarray(slice.offset / 4, (slice.offset + slice.size) / 4), arrays[k]);
  }
  assert.throws(
    () => packBuffers(device, [new Float32Array(17)], usage, 'scene vertices', owned, 64),
    /scene vertices: one mesh array has 68 bytes, more than a buffer may hold \(maxBufferSize 64\)/,
  );
  for (const b of owned) b.destroy();
});
