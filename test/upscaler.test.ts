// The frame API: GPU upscaler vs the CPU reference upscaler over real frames, poisoned inputs,
// resizes and dynamic resolution, input validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu } from './helpers/gpu.ts';
import { gpuFrame, relativeError } from './helpers/frames.ts';
import { createImage, type Image } from '../src/core/image.ts';
import type { FrameImages } from '../src/core/frame.ts';
import { uploadImage, readImage } from '../src/gpu/resources.ts';
import { uploadGpuImage } from '../src/gpu/gpu-image.ts';
import { createUpscaler } from '../src/upscaler.ts';
import { createReferenceUpscaler, type ReferenceUpscaler } from '../src/reference/upscaler.ts';
import { analyticSequence, type AnalyticFrame } from '../src/scene/analytic.ts';
import { prepareFrameCpu } from '../src/reference/prepare.ts';
import { TRANSPARENCY_WEIGHT } from '../src/core/pass-constants.ts';

const small = analyticSequence({ displaySize: [32, 24], ratio: 2, frames: 8, referenceSamples: 4 });

function allFinite(image: Image): boolean {
  return image.data.every(Number.isFinite);
}

for (const [method, sharpness] of [
  ['bilinear', undefined],
  ['lanczos', undefined],
  ['taau', undefined],
  ['taau', 0.6],
] as const) {
  test(`GPU upscaler matches the CPU reference upscaler: ${method}${sharpness !== undefined ? ' + RCAS' : ''}`, async () => {
    const { device } = await testGpu();
    const options = { displaySize: small.header.displaySize, quality: 2, method, sharpness };
    const gpu = await createUpscaler(device, options);
    const cpu = createReferenceUpscaler(options);
    assert.deepEqual(gpu.renderSize, small.header.renderSize);
    for (const frame of small.frames) {
      const expected = cpu.dispatch(frame.images, frame.params);
      const actual = await gpuFrame(device, gpu, frame.images, frame.params);
      // f32 vs float64, compounded over frames through the history: 1e-3 relative.
      assert.ok(relativeError(actual, expected) < 1e-3, `error ${relativeError(actual, expected)}`);
    }
    gpu.destroy();
  });
}

function poison(frame: AnalyticFrame): FrameImages {
  const color = { ...frame.images.color, data: new Float32Array(frame.images.color.data) };
  const depth = { ...frame.images.depth, data: new Float32Array(frame.images.depth.data) };
  const motion = { ...frame.images.motion, data: new Float32Array(frame.images.motion.data) };
  for (let i = 0; i < color.data.length; i += 7) color.data[i] = i % 3 ? NaN : Infinity;
  for (let i = 0; i < color.data.length; i += 11) color.data[i] = -Infinity;
  for (let i = 0; i < depth.data.length; i += 13) depth.data[i] = NaN;
  for (let i = 0; i < motion.data.length; i += 17) motion.data[i] = i % 2 ? NaN : 1e20;
  return { ...frame.images, color, depth, motion };
}

test('a frame of NaN/Inf pixels does not poison history: outputs stay finite and converge back', async () => {
  const { device } = await testGpu();
  const options = { displaySize: small.header.displaySize, quality: 2, method: 'taau' } as const;
  const clean = await createUpscaler(device, options);
  const poisoned = await createUpscaler(device, options);
  const differences: number[] = [];
  for (let i = 0; i < small.frames.length; i++) {
    const frame = small.frames[i]!;
    const a = await gpuFrame(device, clean, frame.images, frame.params);
    const b = await gpuFrame(
      device,
      poisoned,
      i === 2 ? poison(frame) : frame.images,
      frame.params,
    );
    assert.ok(allFinite(b), `frame ${i} output has non-finite values`);
    if (i >= 2) {
      let sum = 0;
      for (let k = 0; k < a.data.length; k++) sum += Math.abs(a.data[k]! - b.data[k]!);
      differences.push(sum / a.data.length);
    }
  }
  // The poisoned frame differs; the difference then fades as new frames replace history.
  assert.ok(differences[0]! > 1e-3);
  assert.ok(differences.at(-1)! < differences[0]! / 4, `differences ${differences.join(', ')}`);
  clean.destroy();
  poisoned.destroy();
});

test('dynamic resolution keeps history and reuses the render images; resize reallocates; both match the CPU upscaler', async () => {
  const { device } = await testGpu();
  // Allocated for 1.5x (21x16 inputs); the app then renders at 2x (16x12) and back.
  const gpu = await createUpscaler(device, { displaySize: [32, 24], quality: 1.5 });
  const cpu: ReferenceUpscaler = createReferenceUpscaler({ displaySize: [32, 24], quality: 1.5 });
  const check = async (frame: AnalyticFrame) => {
    const expected = cpu.dispatch(frame.images, frame.params);
    const actual = await gpuFrame(device, gpu, frame.images, frame.params);
    assert.equal(actual.width, cpu.displaySize[0]);
    assert.ok(relativeError(actual, expected) < 1e-3);
    return actual;
  };
  const sequence = (ratio: number, frames: number) =>
    analyticSequence({ displaySize: [32, 24], ratio, frames, referenceSamples: 1 }).frames;
  for (const frame of sequence(1.5, 3)) await check(frame);
  const output = gpu.output;
  const held = gpu.memoryBytes;
  // Smaller inputs: the same images, the same memory, history kept (not the reset frame).
  const coarser = sequence(2, 4);
  const kept = await check({ ...coarser[3]!, params: { ...coarser[3]!.params, reset: false } });
  assert.deepEqual(gpu.renderSize, [16, 12]);
  assert.equal(gpu.output, output);
  assert.equal(gpu.memoryBytes, held, 'no new images for a smaller size');
  const fresh = createReferenceUpscaler({ displaySize: [32, 24], quality: 2 });
  const reset = fresh.dispatch(coarser[3]!.images, { ...coarser[3]!.params, reset: true });
  assert.ok(relativeError(kept, reset) > 1e-2, 'history was used, not reset');
  // Back to the allocated size, then larger than it (1.25x: 26x19): new render images only.
  for (const frame of sequence(1.5, 2))
    await check({ ...frame, params: { ...frame.params, reset: false } });
  assert.equal(gpu.memoryBytes, held);
  const finer = sequence(1.25, 2);
  for (const frame of finer) await check({ ...frame, params: { ...frame.params, reset: false } });
  assert.deepEqual(gpu.renderSize, [26, 19]);
  assert.equal(gpu.output, output, 'display images kept');
  assert.ok(gpu.memoryBytes > held);
  // An explicit resize to another display size reallocates everything and resets.
  const bigger = analyticSequence({
    displaySize: [40, 30],
    ratio: 2,
    frames: 3,
    referenceSamples: 1,
  });
  gpu.resize([40, 30], [20, 15]);
  cpu.resize([40, 30], [20, 15]);
  assert.notEqual(gpu.output, output);
  assert.equal(gpu.output.width, 40);
  for (const frame of bigger.frames) await check(frame);
  gpu.destroy();
});

test('dispatch rejects wrong sizes, formats and values with errors naming the input', async () => {
  const { device } = await testGpu();
  const up = await createUpscaler(device, { displaySize: [32, 24], quality: 2 });
  const frame = small.frames[0]!;
  const color = uploadImage(device, frame.images.color);
  const depth = uploadImage(device, frame.images.depth);
  const motion = uploadImage(device, frame.images.motion);
  const base = {
    ...frame.params,
    color,
    depth,
    motion,
    sharpness: undefined as number | undefined,
  };
  const attempt = (inputs: Partial<typeof base>) => () =>
    up.dispatch(device.createCommandEncoder(), { ...base, ...inputs } as typeof base);
  assert.throws(attempt({ depth: uploadImage(device, createImage(8, 6, 1)) }), /depth is 8x6/);
  assert.throws(attempt({ motion: depth }), /motion needs 2\+ channels/);
  // 8-bit color is read now (test/input-formats.test.ts); an integer format is not.
  const integer = device.createTexture({
    size: [16, 12],
    format: 'rgba8uint',
    usage: GPUTextureUsage.TEXTURE_BINDING,
  });
  assert.throws(attempt({ color: integer }), /color: format rgba8uint is not read; use one of/);
  assert.throws(attempt({ jitter: [NaN, 0] }), /jitter/);
  assert.throws(attempt({ exposure: 0 }), /exposure/);
  assert.throws(attempt({ cameraFar: 0.01 }), /cameraFar/);
  assert.throws(attempt({ fovY: NaN }), /fovY must be radians in \(0, π\), got NaN/);
  assert.throws(attempt({ frameTimeDelta: -1 }), /frameTimeDelta must be a positive/);
  assert.throws(attempt({ sharpness: 2 }), /sharpness/);
  const tooBig = uploadImage(device, createImage(64, 48, 4));
  assert.throws(
    () =>
      up.dispatch(device.createCommandEncoder(), {
        ...base,
        color: tooBig,
        depth: uploadImage(device, createImage(64, 48, 1)),
        motion: uploadImage(device, createImage(64, 48, 2)),
      }),
    /renderSize 64x48 is larger than displaySize/,
  );
  await assert.rejects(createUpscaler(device, { displaySize: [0, 5] }), /displaySize/);
  await assert.rejects(
    createUpscaler(device, { displaySize: [32, 24], method: 'magic' as 'taau' }),
    /method/,
  );
  // Without a model, method 'neural' uses the shipped weights.
  const shipped = await createUpscaler(device, { displaySize: [32, 24], method: 'neural' });
  shipped.destroy();
  // GpuImage inputs are accepted as well as textures.
  const encoder = device.createCommandEncoder();
  up.dispatch(encoder, {
    ...base,
    color: uploadGpuImage(device, frame.images.color),
    depth: uploadGpuImage(device, frame.images.depth),
    motion: uploadGpuImage(device, frame.images.motion),
  });
  device.queue.submit([encoder.finish()]);
  assert.ok(allFinite(await readImage(device, up.output)));
  up.destroy();
});

test('a camera cut (reset) drops history: the output equals a fresh upscaler on that frame', async () => {
  const { device } = await testGpu();
  const cut = analyticSequence({
    displaySize: [32, 24],
    ratio: 2,
    frames: 6,
    referenceSamples: 1,
    cutAt: 4,
  });
  const options = { displaySize: [32, 24], quality: 2 } as const;
  const running = await createUpscaler(device, options);
  let atCut: Image | undefined;
  for (const [i, frame] of cut.frames.entries()) {
    const out = await gpuFrame(device, running, frame.images, frame.params);
    if (i === 3) assert.ok(relativeError(out, await fresh(frame)) > 1e-3); // history in use
    if (i === 4) atCut = out;
  }
  async function fresh(frame: AnalyticFrame): Promise<Image> {
    const up = await createUpscaler(device, options);
    const out = await gpuFrame(device, up, frame.images, { ...frame.params, reset: true });
    up.destroy();
    return out;
  }
  assert.equal(cut.frames[4]!.params.reset, true);
  assert.ok(relativeError(atCut!, await fresh(cut.frames[4]!)) < 1e-6);
  running.destroy();
});

test('a reactive mask reaches the resolve: GPU matches the CPU upscaler, masked pixels follow the frame', async () => {
  const { device } = await testGpu();
  const options = { displaySize: small.header.displaySize, quality: 2 } as const;
  const gpu = await createUpscaler(device, options);
  const cpu = createReferenceUpscaler(options);
  const plain = createReferenceUpscaler(options);
  const [rw, rh] = small.header.renderSize;
  const reactive = createImage(rw, rh, 1);
  for (let y = 0; y < rh; y++) for (let x = 0; x < rw / 2; x++) reactive.data[y * rw + x] = 1;
  let differs = 0;
  for (const frame of small.frames) {
    const images = { ...frame.images, reactive };
    const expected = cpu.dispatch(images, frame.params);
    const actual = await gpuFrame(device, gpu, images, frame.params);
    assert.ok(relativeError(actual, expected) < 1e-3);
    const withoutMask = plain.dispatch(frame.images, frame.params);
    if (relativeError(expected, withoutMask) > 1e-3) differs++;
    // Under the mask history is ignored: those pixels equal a fresh start on this frame.
    const fresh = createReferenceUpscaler(options).dispatch(images, {
      ...frame.params,
      reset: true,
    });
    const [dw, dh] = small.header.displaySize;
    for (let y = 0; y < dh; y++) {
      for (let x = 0; x < dw / 2; x++) {
        for (let c = 0; c < 3; c++) {
          const k = (y * dw + x) * 4 + c;
          assert.ok(Math.abs(expected.data[k]! - fresh.data[k]!) < 1e-9, `pixel ${x},${y}`);
        }
      }
    }
  }
  assert.ok(differs >= small.frames.length - 1);
  gpu.destroy();
});

test('a transparency mask weakens history: GPU matches the CPU upscaler, between no mask and reactive', async () => {
  const { device } = await testGpu();
  const options = { displaySize: small.header.displaySize, quality: 2 } as const;
  const gpu = await createUpscaler(device, options);
  const cpu = createReferenceUpscaler(options);
  const plain = createReferenceUpscaler(options);
  const reacting = createReferenceUpscaler(options);
  const [rw, rh] = small.header.renderSize;
  const [dw, dh] = small.header.displaySize;
  const mask = createImage(rw, rh, 1);
  for (let y = 0; y < rh; y++) for (let x = 0; x < rw / 2; x++) mask.data[y * rw + x] = 1;
  // Prepare: half of the mask joins the reactive channel; a larger reactive value wins.
  const frame0 = small.frames[0]!;
  const prepared = prepareFrameCpu({ ...frame0.images, transparency: mask }, undefined, {
    ...frame0.params,
    depthInverted: false,
  });
  assert.equal(prepared.motion.data[3], TRANSPARENCY_WEIGHT);
  assert.equal(prepared.motion.data[(rw - 1) * 4 + 3], 0);
  let between = 0;
  for (const frame of small.frames) {
    const images = { ...frame.images, transparency: mask };
    const expected = cpu.dispatch(images, frame.params);
    const actual = await gpuFrame(device, gpu, images, frame.params);
    assert.ok(relativeError(actual, expected) < 1e-3);
    const none = plain.dispatch(frame.images, frame.params);
    const full = reacting.dispatch({ ...frame.images, reactive: mask }, frame.params);
    // Left quarter (fully masked): strictly between no mask and a reactive mask on some pixels.
    for (let y = 0; y < dh; y++) {
      for (let x = 0; x < dw / 4; x++) {
        const k = (y * dw + x) * 4 + 1;
        const [lo, hi] = [
          Math.min(none.data[k]!, full.data[k]!),
          Math.max(none.data[k]!, full.data[k]!),
        ];
        if (hi - lo > 1e-3 && expected.data[k]! > lo + 1e-6 && expected.data[k]! < hi - 1e-6)
          between++;
      }
    }
  }
  assert.ok(between > 20, `${between} masked pixels between the two`);
  gpu.destroy();
});
