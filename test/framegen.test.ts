// Frame generation: every GPU pass against its CPU reference on random inputs (the dilation, the
// splat and the resolve exactly, the compose within f32 rounding: 1e-4 relative + 2e-5 absolute), the whole
// frame generator against generateFrameCpu, its input checks, resets, and on a moving square
// with a known in-between frame, that it beats a blend and gets the square where it belongs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu, rng } from './helpers/gpu.ts';
import { createImage, type Image } from '../src/core/image.ts';
import { readGpuImage, uploadGpuImage, createGpuImage } from '../src/gpu/gpu-image.ts';
import { readBuffer, readImage, uploadImage } from '../src/gpu/resources.ts';
import { encodeFrameGenerationDilate } from '../src/gpu/passes/framegen-dilate.ts';
import { encodeFrameGenerationSplat, splatBytes } from '../src/gpu/passes/framegen-splat.ts';
import { encodeFrameGenerationResolve } from '../src/gpu/passes/framegen-resolve.ts';
import { encodeFrameGenerationCompose } from '../src/gpu/passes/framegen-compose.ts';
import {
  closenessKey,
  composeFrameCpu,
  dilateMotionCpu,
  generateFrameCpu,
  resolveMotionCpu,
  splatCpu,
  type SplatCpu,
} from '../src/reference/frame-generation.ts';
import type { FrameGenerationParams } from '../src/core/frame-generation.ts';
import { createFrameGenerator } from '../src/frame-generator.ts';
import { psnr } from '../src/metrics/psnr.ts';
import { halfTexture, loadedImage, unormTexture } from './helpers/format-textures.ts';

const RENDER = [24, 16] as const;
const DISPLAY = [48, 32] as const;

function randomImage(w: number, h: number, c: number, random: () => number, hi = 1): Image {
  const image = createImage(w, h, c);
  for (let i = 0; i < image.data.length; i++) image.data[i] = hi * random();
  return image;
}

/**
 * Motion and depth in blocks of one surface each (so surfaces overlap and tear apart), with
 * per-pixel noise, a few non-finite values, and positions kept 1e-3 px away from pixel edges at
 * every scale the splat uses (a fused multiply-add on the GPU may round an edge case otherwise).
 */
function randomMotionAndDepth(seed: number, scales: number[]): { motion: Image; depth: Image } {
  const random = rng(seed);
  const [w, h] = RENDER;
  const motion = createImage(w, h, 2);
  const depth = createImage(w, h, 1);
  const blocks = Array.from({ length: 12 }, () => ({
    mx: (random() - 0.5) * 0.5,
    my: (random() - 0.5) * 0.5,
    d: random(),
  }));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const b = blocks[Math.floor(x / 6) + 4 * Math.floor(y / 6)]!;
      for (;;) {
        const mx = b.mx + (random() - 0.5) * 0.02;
        const my = b.my + (random() - 0.5) * 0.02;
        const nearEdge = scales.some((s) =>
          [x + 0.5 + s * mx * w, y + 0.5 + s * my * h].some(
            (p) => Math.abs(p - Math.round(p)) < 1e-3,
          ),
        );
        if (nearEdge) continue;
        motion.data[i * 2] = mx;
        motion.data[i * 2 + 1] = my;
        break;
      }
      depth.data[i] = Math.min(1, Math.max(0, b.d + (random() - 0.5) * 0.02));
    }
  }
  motion.data[5] = NaN;
  depth.data[40] = NaN;
  depth.data[41] = -0;
  return { motion, depth };
}

const PARAMS: FrameGenerationParams[] = [
  { t: 0.5, motionScale: [1, 1], cameraNear: 0.1, cameraFar: 100, reset: false },
  {
    t: 1 / 3,
    motionScale: [1, -0.5],
    depthInverted: true,
    cameraNear: 0.5,
    cameraFar: Infinity,
    reset: false,
  },
  { t: 0.75, motionScale: [-1, 1], cameraNear: 1, cameraFar: 10, reset: false },
];

const scalesOf = (p: FrameGenerationParams) =>
  [Math.fround(1 - p.t), Math.fround(p.t), 1].flatMap((s) => [
    s * p.motionScale[0],
    s * p.motionScale[1],
  ]);

/** The GPU passes' image of surfaces: xy = motion, z = depth (as the dilation pass writes it). */
function surfacesOf(motion: Image, depth: Image): Image {
  const out = createImage(motion.width, motion.height, 4);
  for (let i = 0; i < motion.width * motion.height; i++) {
    out.data.set([motion.data[i * 2]!, motion.data[i * 2 + 1]!, depth.data[i]!, 0], i * 4);
  }
  return out;
}

/** Motion (xy) and depth (z) of an image of surfaces as 2- and 1-channel images. */
function splitSurfaces(surfaces: Image): { motion: Image; depth: Image } {
  const motion = createImage(surfaces.width, surfaces.height, 2);
  const depth = createImage(surfaces.width, surfaces.height, 1);
  for (let i = 0; i < surfaces.width * surfaces.height; i++) {
    motion.data[i * 2] = surfaces.data[i * 4]!;
    motion.data[i * 2 + 1] = surfaces.data[i * 4 + 1]!;
    depth.data[i] = surfaces.data[i * 4 + 2]!;
  }
  return { motion, depth };
}

async function gpuSplat(device: GPUDevice, motion: Image, depth: Image, p: FrameGenerationParams) {
  const surfaces = uploadGpuImage(device, surfacesOf(motion, depth));
  const splat = device.createBuffer({
    size: splatBytes(motion.width, motion.height),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encodeFrameGenerationSplat(device, pass, surfaces, p, splat);
  pass.end();
  device.queue.submit([encoder.finish()]);
  const planes = new Uint32Array((await readBuffer(device, splat)).buffer);
  return { surfaces, splat, planes };
}

function planesOf(splat: SplatCpu): Uint32Array<ArrayBuffer> {
  const n = splat.keysAtT.length;
  const out = new Uint32Array(3 * n);
  out.set(splat.keysAtT, 0);
  out.set(splat.sourcesAtT, n);
  out.set(splat.keysAtPrevious, 2 * n);
  return out;
}

function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): string | undefined {
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) return `at ${i}: GPU ${a[i]}, CPU ${b[i]}`;
  }
  return undefined;
}

test('framegen dilate: GPU = CPU exactly (motion and depth of the closest surface in 3x3)', async () => {
  const { device } = await testGpu();
  for (const [k, p] of PARAMS.entries()) {
    const { motion, depth } = randomMotionAndDepth(500 + k, []);
    // Equally close neighbours (the first in row order wins) and a non-finite motion copied along.
    depth.data.fill(0.05, 50, 54);
    motion.data[52 * 2] = Infinity;
    const cpu = dilateMotionCpu(motion, depth, p);
    const surfaces = createGpuImage(device, motion.width, motion.height);
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    const m = uploadGpuImage(device, motion);
    encodeFrameGenerationDilate(device, pass, m, uploadGpuImage(device, depth), p, surfaces);
    pass.end();
    device.queue.submit([encoder.finish()]);
    const gpu = splitSurfaces(await readGpuImage(device, surfaces));
    const [gpuMotion, gpuDepth] = [gpu.motion, gpu.depth];
    assert.equal(
      firstDifference(gpuMotion.data, cpu.motion.data),
      undefined,
      `motion, params ${k}`,
    );
    assert.equal(firstDifference(gpuDepth.data, cpu.depth.data), undefined, `depth, params ${k}`);
    // Every pixel got a surface at least as close as its own; block edges took the nearer block's.
    const inverted = p.depthInverted ?? false;
    let taken = 0;
    for (let i = 0; i < depth.data.length; i++) {
      const own = closenessKey(depth.data[i]!, inverted);
      const got = closenessKey(cpu.depth.data[i]!, inverted);
      assert.ok(got <= own, `pixel ${i}: dilated to a farther surface`);
      if (got < own) taken++;
    }
    assert.ok(taken > depth.data.length * 0.3, `params ${k}: only ${taken} pixels dilated`);
  }
});

test('framegen dilate: motion and depth read from textures (rg16float, r32float) = CPU on the values held, = the image path bit for bit', async () => {
  const { device } = await testGpu();
  const p = PARAMS[1]!;
  const { motion, depth } = randomMotionAndDepth(510, []);
  depth.data.fill(0.05, 50, 54);
  const half = halfTexture(device, motion);
  const cpu = dilateMotionCpu(half.held, depth, p);
  const run = async (m: GPUTexture | ReturnType<typeof uploadGpuImage>, d: typeof m) => {
    const surfaces = createGpuImage(device, motion.width, motion.height);
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeFrameGenerationDilate(device, pass, m, d, p, surfaces);
    pass.end();
    device.queue.submit([encoder.finish()]);
    return splitSurfaces(await readGpuImage(device, surfaces));
  };
  const depthTexture = uploadImage(device, depth);
  const fromTextures = await run(half.texture, depthTexture);
  // The path before textures were read in place: the load pass, then the images.
  const fromImages = await run(
    loadedImage(device, half.texture),
    loadedImage(device, depthTexture),
  );
  for (const k of ['motion', 'depth'] as const) {
    assert.equal(firstDifference(fromTextures[k].data, fromImages[k].data), undefined, k);
  }
  assert.equal(firstDifference(fromTextures.motion.data, cpu.motion.data), undefined);
  assert.equal(firstDifference(fromTextures.depth.data, cpu.depth.data), undefined);
});

test('framegen splat: GPU = CPU exactly (keys at t, sources at t, keys at time 0)', async () => {
  const { device } = await testGpu();
  for (const [k, p] of PARAMS.entries()) {
    const { motion, depth } = randomMotionAndDepth(100 + k, scalesOf(p));
    const cpu = splatCpu(motion, depth, p);
    const { planes } = await gpuSplat(device, motion, depth, p);
    assert.equal(firstDifference(planes, planesOf(cpu)), undefined, `params ${k}`);
    // The inputs do make surfaces collide and leave holes.
    const n = motion.width * motion.height;
    const filled = cpu.sourcesAtT.filter((v) => v !== 0).length;
    assert.ok(filled > n * 0.4 && filled < n * 0.95, `params ${k}: ${filled} of ${n} splatted`);
  }
});

test('framegen resolve: GPU = CPU exactly (motion at t, previous and current visibility)', async () => {
  const { device } = await testGpu();
  for (const [k, p] of PARAMS.entries()) {
    const { motion, depth } = randomMotionAndDepth(200 + k, scalesOf(p));
    const cpuSplat = splatCpu(motion, depth, p);
    const expected = resolveMotionCpu(cpuSplat, motion, depth, p);
    const surfaces = uploadGpuImage(device, surfacesOf(motion, depth));
    const splat = device.createBuffer({
      size: splatBytes(motion.width, motion.height),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(splat, 0, planesOf(cpuSplat));
    const field = createGpuImage(device, motion.width, motion.height);
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeFrameGenerationResolve(device, pass, surfaces, splat, p, field);
    pass.end();
    device.queue.submit([encoder.finish()]);
    const actual = await readGpuImage(device, field);
    assert.equal(firstDifference(actual.data, expected.data), undefined, `params ${k}`);
    // Every case occurs: hidden at time 0, holes with and without a depth edge, no neighbour.
    const flags = new Set<string>();
    for (let i = 0; i < expected.data.length; i += 4) {
      flags.add(`${expected.data[i + 2]}${expected.data[i + 3]}`);
    }
    for (const f of ['11', '01', '10']) assert.ok(flags.has(f), `params ${k}: no ${f} pixel`);
  }
});

function assertClose(actual: Image, expected: Image, what: string): void {
  for (let i = 0; i < actual.data.length; i++) {
    const a = actual.data[i]!;
    const e = expected.data[i]!;
    if (!(Math.abs(a - e) <= 2e-5 + 1e-4 * Math.abs(e))) {
      const px = Math.floor(i / actual.channels);
      assert.fail(
        `${what}: pixel ${px % actual.width},${Math.floor(px / actual.width)} channel ${i % actual.channels}: GPU ${a}, CPU ${e}`,
      );
    }
  }
}

test('framegen compose: GPU = CPU on random frames, fields and reactive masks, and on a reset', async () => {
  const { device } = await testGpu();
  const random = rng(300);
  const [w, h] = RENDER;
  const [W, H] = DISPLAY;
  const previous = randomImage(W, H, 4, random, 4);
  const current = randomImage(W, H, 4, random, 4);
  previous.data[17] = NaN;
  const field = createImage(w, h, 4);
  for (let i = 0; i < w * h; i++) {
    field.data.set(
      [
        (random() - 0.5) * 0.4,
        (random() - 0.5) * 0.4,
        random() < 0.8 ? 1 : 0,
        random() < 0.8 ? 1 : 0,
      ],
      i * 4,
    );
  }
  const reactive = randomImage(w, h, 1, random);
  for (let i = 0; i < reactive.data.length; i++) if (random() < 0.7) reactive.data[i] = 0;
  const texture = device.createTexture({
    size: [W, H],
    format: 'rgba32float',
    usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_SRC,
  });
  for (const [p, withReactive] of [
    [{ t: 0.5, reset: false }, false],
    [{ t: 0.25, reset: false }, true],
    [{ t: 0.6, reset: true }, true],
  ] as const) {
    const image = createGpuImage(device, W, H);
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeFrameGenerationCompose(
      device,
      pass,
      {
        previous: uploadGpuImage(device, previous),
        current: uploadGpuImage(device, current),
        field: uploadGpuImage(device, field),
        reactive: withReactive ? uploadGpuImage(device, reactive) : undefined,
      },
      p,
      { image, texture },
    );
    pass.end();
    device.queue.submit([encoder.finish()]);
    const expected = composeFrameCpu(
      previous,
      current,
      field,
      withReactive ? reactive : undefined,
      p,
    );
    assertClose(await readGpuImage(device, image), expected, `t ${p.t} reset ${p.reset}`);
    assertClose(await readImage(device, texture), expected, `texture, t ${p.t}`);
  }
});

test('framegen compose: frames and mask read from textures (rgba16float, rgba32float, r8unorm) = CPU on the values held, = the image path bit for bit', async () => {
  const { device } = await testGpu();
  const random = rng(310);
  const [w, h] = RENDER;
  const [W, H] = DISPLAY;
  const previous = halfTexture(device, randomImage(W, H, 4, random, 4));
  const current = randomImage(W, H, 4, random, 4);
  const field = createImage(w, h, 4);
  for (let i = 0; i < w * h; i++) {
    field.data.set(
      [(random() - 0.5) * 0.4, (random() - 0.5) * 0.4, random() < 0.8 ? 1 : 0, 1],
      i * 4,
    );
  }
  const reactive = unormTexture(device, randomImage(w, h, 1, random));
  const p = { t: 0.4, reset: false };
  const run = async (frames: Parameters<typeof encodeFrameGenerationCompose>[2]) => {
    const image = createGpuImage(device, W, H);
    const texture = device.createTexture({
      size: [W, H],
      format: 'rgba16float',
      usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_SRC,
    });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeFrameGenerationCompose(device, pass, frames, p, { image, texture });
    pass.end();
    device.queue.submit([encoder.finish()]);
    return readGpuImage(device, image);
  };
  const gpuField = uploadGpuImage(device, field);
  const currentTexture = uploadImage(device, current);
  const fromTextures = await run({
    previous: previous.texture,
    current: currentTexture,
    field: gpuField,
    reactive: reactive.texture,
  });
  // The path before textures were read in place: the load pass, then the images.
  const fromImages = await run({
    previous: loadedImage(device, previous.texture),
    current: loadedImage(device, currentTexture),
    field: gpuField,
    reactive: loadedImage(device, reactive.texture),
  });
  assert.equal(firstDifference(fromTextures.data, fromImages.data), undefined);
  const expected = composeFrameCpu(previous.held, current, field, reactive.held, p);
  assertClose(fromTextures, expected, 'textures');
});

test('frame generator: texture inputs, several t in one encoder, = generateFrameCpu', async () => {
  const { device } = await testGpu();
  const random = rng(400);
  const [W, H] = DISPLAY;
  const fg = await createFrameGenerator(device, { displaySize: [W, H], method: 'heuristic' });
  const p = PARAMS[1]!;
  const { motion, depth } = randomMotionAndDepth(401, [
    ...scalesOf(p),
    ...scalesOf({ ...p, t: 0.25 }),
  ]);
  const images = {
    previous: randomImage(W, H, 4, random, 2),
    current: randomImage(W, H, 4, random, 2),
    motion,
    depth,
    reactive: randomImage(RENDER[0], RENDER[1], 1, random),
  };
  const textures = {
    previous: uploadImage(device, images.previous),
    current: uploadImage(device, images.current),
    motion: uploadImage(device, motion),
    depth: uploadImage(device, depth),
    reactive: uploadImage(device, images.reactive),
  };
  const quarter = device.createTexture({
    size: [W, H],
    format: 'rgba32float',
    usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_SRC,
  });
  const encoder = device.createCommandEncoder();
  fg.dispatch(encoder, { ...p, ...textures, t: 0.25, output: quarter });
  fg.dispatch(encoder, { ...p, ...textures });
  device.queue.submit([encoder.finish()]);
  assertClose(
    await readImage(device, quarter),
    generateFrameCpu(images, { ...p, t: 0.25 }),
    't 0.25',
  );
  assertClose(await readImage(device, fg.output), generateFrameCpu(images, p), `t ${p.t}`);
  assertClose(await readGpuImage(device, fg.outputImage), generateFrameCpu(images, p), 'image');
  // A reset repeats the previous frame exactly.
  const reset = device.createCommandEncoder();
  fg.dispatch(reset, { ...p, ...textures, reset: true });
  device.queue.submit([reset.finish()]);
  const repeated = await readImage(device, fg.output);
  for (let i = 0; i < W * H * 4; i++) {
    const expected = i % 4 === 3 ? 1 : images.previous.data[i];
    assert.equal(repeated.data[i], expected, `reset: value ${i}`);
  }
  // The output image and texture; at render size the dilated surfaces and the field (vec4 f32
  // each) and the splat's three u32 planes. The inputs are read in place: no copies.
  const [w, h] = RENDER;
  assert.equal(fg.memoryBytes, W * H * 16 * 2 + w * h * (2 * 16 + 3 * 4));
  fg.destroy();
});

test('frame generator: texture inputs give the frame GpuImage inputs give, bit for bit (16-bit and 8-bit formats)', async () => {
  const { device } = await testGpu();
  const random = rng(420);
  const [W, H] = DISPLAY;
  const p = PARAMS[0]!;
  const { motion, depth } = randomMotionAndDepth(421, scalesOf(p));
  const previous = halfTexture(device, randomImage(W, H, 4, random, 2));
  const current = halfTexture(device, randomImage(W, H, 4, random, 2));
  const moved = halfTexture(device, motion);
  const reactive = unormTexture(device, randomImage(RENDER[0], RENDER[1], 1, random));
  const fg = await createFrameGenerator(device, { displaySize: [W, H] });
  const run = async (
    inputs: Pick<
      Parameters<typeof fg.dispatch>[1],
      'previous' | 'current' | 'motion' | 'depth' | 'reactive'
    >,
  ) => {
    const encoder = device.createCommandEncoder();
    fg.dispatch(encoder, { ...p, ...inputs });
    device.queue.submit([encoder.finish()]);
    return readGpuImage(device, fg.outputImage);
  };
  const textures = {
    previous: previous.texture,
    current: current.texture,
    motion: moved.texture,
    depth: uploadImage(device, depth),
    reactive: reactive.texture,
  };
  const fromTextures = await run(textures);
  // The frame generator before it read textures in place: the load pass, then the images.
  const fromImages = await run(
    Object.fromEntries(
      Object.entries(textures).map(([k, texture]) => [k, loadedImage(device, texture)]),
    ) as never,
  );
  const images = {
    previous: previous.held,
    current: current.held,
    motion: moved.held,
    depth,
    reactive: reactive.held,
  };
  assert.equal(firstDifference(fromTextures.data, fromImages.data), undefined);
  assertClose(fromTextures, generateFrameCpu(images, p), 'textures');
  // The pass that writes the frame reads the inputs in place: none may be the output.
  const target = device.createTexture({
    size: [W, H],
    format: 'rgba32float',
    usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.TEXTURE_BINDING,
  });
  const encoder = device.createCommandEncoder();
  const inputs = {
    ...p,
    ...images,
    previous: target,
    current: target,
    motion: moved.texture,
    depth: moved.texture,
    reactive: undefined,
  };
  assert.throws(
    () => fg.dispatch(encoder, { ...inputs, output: target }),
    /previous is the texture or image the frame is written to/,
  );
  assert.throws(
    () => fg.dispatch(encoder, { ...inputs, current: fg.outputImage }),
    /current is the texture or image the frame is written to/,
  );
  fg.destroy();
});

test('frame generator: bad inputs are errors naming them', async () => {
  const { device } = await testGpu();
  const [W, H] = DISPLAY;
  const [w, h] = RENDER;
  await assert.rejects(
    createFrameGenerator(device, { displaySize: [W, H], method: 'learned' as 'heuristic' }),
    /method must be one of heuristic, neural, got learned/,
  );
  const fg = await createFrameGenerator(device, { displaySize: [W, H] });
  const display = createGpuImage(device, W, H);
  const render = createGpuImage(device, w, h);
  const good = {
    previous: display,
    current: display,
    motion: render,
    depth: render,
    motionScale: [1, 1] as [number, number],
    cameraNear: 0.1,
    cameraFar: 100,
    t: 0.5,
    reset: false,
  };
  const attempt = (change: object) => () =>
    fg.dispatch(device.createCommandEncoder(), { ...good, ...change });
  assert.doesNotThrow(attempt({}));
  assert.throws(attempt({ t: 0 }), /t must be a number in \(0, 1\).*got 0/);
  assert.throws(attempt({ t: 1 }), /t must be a number in \(0, 1\)/);
  assert.throws(attempt({ t: NaN }), /t must be/);
  assert.throws(
    attempt({ current: render }),
    /current is 24x16, expected 48x32 \(the display size\)/,
  );
  assert.throws(attempt({ depth: display }), /depth is 48x32, expected 24x16 \(the motion size\)/);
  assert.throws(
    attempt({ motion: createGpuImage(device, W + 2, H) }),
    /motion is 50x32, larger than the display size/,
  );
  const r8 = device.createTexture({
    size: [w, h],
    format: 'r8unorm',
    usage: GPUTextureUsage.TEXTURE_BINDING,
  });
  assert.throws(
    attempt({ motion: r8, depth: r8 }),
    /motion needs 2\+ channels, got a r8unorm texture/,
  );
  assert.throws(attempt({ motionScale: [1] }), /motionScale must be two finite numbers/);
  assert.throws(attempt({ cameraFar: 0.05 }), /cameraFar must be greater than cameraNear/);
  const small = device.createTexture({
    size: [W, H],
    format: 'rgba32float',
    usage: GPUTextureUsage.TEXTURE_BINDING,
  });
  assert.throws(
    attempt({ output: small }),
    /output: the texture needs GPUTextureUsage.STORAGE_BINDING/,
  );
  fg.destroy();
});

/**
 * A textured background at depth 0.8 and a bright square at depth 0.2 moving `speed` display
 * pixels right per frame, at time `time` (frames); display 2× the render size.
 */
function movingSquare(time: number, speed: number) {
  const [W, H] = DISPLAY;
  const color = createImage(W, H, 3);
  const left = 8 + speed * time;
  const inSquare = (x: number, y: number) => x >= left && x < left + 12 && y >= 8 && y < 22;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = inSquare(x + 0.5, y + 0.5)
        ? [3, 2.5, 2]
        : [0.2 + 0.15 * Math.sin(x * 0.9) * Math.cos(y * 0.7), 0.3, 0.25 + 0.01 * x];
      color.data.set(v, (y * W + x) * 3);
    }
  }
  const [w, h] = RENDER;
  const motion = createImage(w, h, 2);
  const depth = createImage(w, h, 1);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const square = inSquare(2 * x + 1, 2 * y + 1);
      motion.data[(y * w + x) * 2] = square ? -speed / W : 0;
      depth.data[y * w + x] = square ? 0.2 : 0.8;
    }
  }
  return { color, motion, depth };
}

test('frame generator: a moving square lands where it is at t and beats a blend', async () => {
  const { device } = await testGpu();
  const [W, H] = DISPLAY;
  const speed = 8;
  const previous = movingSquare(0, speed).color;
  const now = movingSquare(1, speed);
  const fg = await createFrameGenerator(device, { displaySize: [W, H] });
  for (const t of [0.25, 0.5, 0.75]) {
    const encoder = device.createCommandEncoder();
    fg.dispatch(encoder, {
      previous: uploadGpuImage(device, previous),
      current: uploadGpuImage(device, now.color),
      motion: uploadGpuImage(device, now.motion),
      depth: uploadGpuImage(device, now.depth),
      motionScale: [1, 1],
      cameraNear: 0.1,
      cameraFar: 100,
      t,
      reset: false,
    });
    device.queue.submit([encoder.finish()]);
    const generated = await readGpuImage(device, fg.outputImage, 3);
    const truth = movingSquare(t, speed).color;
    const blend = createImage(W, H, 3);
    for (let i = 0; i < blend.data.length; i++) {
      blend.data[i] = (1 - t) * previous.data[i]! + t * now.color.data[i]!;
    }
    const gain = psnr(generated, truth) - psnr(blend, truth);
    assert.ok(
      gain > 10,
      `t ${t}: ${psnr(generated, truth).toFixed(1)} dB vs blend ${psnr(blend, truth).toFixed(1)} dB`,
    );
  }
  fg.destroy();
});

test('frame generator: a highlight the motion does not describe leaves no moved copies', async () => {
  const { device } = await testGpu();
  const [W, H] = DISPLAY;
  const [w, h] = RENDER;
  const speed = 4;
  // A smooth background moving `speed` display pixels right per frame under a highlight that
  // stays put (as a specular one does), whose motion vectors are the background's.
  const frame = (time: number) => {
    const color = createImage(W, H, 3);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const u = x - speed * time;
        const highlight = x >= 20 && x < 22 && y >= 14 && y < 16;
        color.data.set(
          highlight ? [4, 4, 4] : [0.3 + 0.02 * u, 0.3, 0.25 + 0.01 * y],
          (y * W + x) * 3,
        );
      }
    }
    return color;
  };
  const motion = createImage(w, h, 2);
  const depth = createImage(w, h, 1);
  for (let i = 0; i < w * h; i++) {
    motion.data[i * 2] = -speed / W;
    depth.data[i] = 0.5;
  }
  const fg = await createFrameGenerator(device, { displaySize: [W, H] });
  const encoder = device.createCommandEncoder();
  const [previous, current] = [frame(0), frame(1)];
  fg.dispatch(encoder, {
    previous: uploadGpuImage(device, previous),
    current: uploadGpuImage(device, current),
    motion: uploadGpuImage(device, motion),
    depth: uploadGpuImage(device, depth),
    motionScale: [1, 1],
    cameraNear: 0.1,
    cameraFar: 100,
    t: 0.5,
    reset: false,
  });
  device.queue.submit([encoder.finish()]);
  const generated = await readGpuImage(device, fg.outputImage, 3);
  const truth = frame(0.5);
  // Reading along the motion puts half a highlight 2 pixels either side (a value above 2); those
  // reads disagree, the frames in place agree, so the background stays there.
  for (const x of [18, 19, 22, 23]) {
    for (const y of [14, 15]) {
      const i = (y * W + x) * 3;
      const error = Math.abs(generated.data[i]! - truth.data[i]!);
      assert.ok(
        error < 0.05,
        `pixel ${x},${y}: ${generated.data[i]} where the truth is ${truth.data[i]}`,
      );
    }
  }
  fg.destroy();
});
