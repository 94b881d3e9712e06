// Exposure in the frame API: a change rescales history at once (FSR's pre-exposure handling),
// pre-exposure keeps input and output in the engine's units, an exposure texture computes what
// the same number computes, and a bad texel keeps the last good exposure. GPU against the CPU
// reference upscaler throughout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu } from './helpers/gpu.ts';
import { createImage, type Image } from '../src/core/image.ts';
import { createUpscaler } from '../src/upscaler.ts';
import { gpuFrame, relativeError, type FrameValues } from './helpers/frames.ts';
import { createReferenceUpscaler } from '../src/reference/upscaler.ts';
import { exposureStepCpu } from '../src/reference/exposure.ts';
import { analyticSequence } from '../src/scene/analytic.ts';

const sequence = analyticSequence({
  displaySize: [32, 24],
  ratio: 2,
  frames: 8,
  referenceSamples: 1,
});

/** Mean |a − b| over RGB. */
function meanError(a: Image, b: Image): number {
  let sum = 0;
  for (let i = 0; i < b.data.length; i++) if (i % 4 !== 3) sum += Math.abs(a.data[i]! - b.data[i]!);
  return sum / ((b.data.length / 4) * 3);
}

function scaled(image: Image, s: number): Image {
  const out = createImage(image.width, image.height, image.channels);
  for (let i = 0; i < image.data.length; i++) out.data[i] = image.data[i]! * s;
  return out;
}

/** A 1×1 r32float exposure texture holding `value`. */
function exposureTexture(device: GPUDevice, value: number): GPUTexture {
  const texture = device.createTexture({
    size: [1, 1],
    format: 'r32float',
    usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
  });
  device.queue.writeTexture({ texture }, new Float32Array([value]), {}, [1, 1]);
  return texture;
}

test('exposure steps and pre-exposure: GPU equals the CPU upscaler frame by frame', async () => {
  const { device } = await testGpu();
  const exposures = [1, 1, 4, 4, 0.5, 2, 2, 2];
  const preExposures = [1, 1, 1, 2, 2, 2, 0.25, 0.25];
  for (const method of ['taau', 'bilinear'] as const) {
    const gpu = await createUpscaler(device, { displaySize: [32, 24], quality: 2, method });
    const cpu = createReferenceUpscaler({ displaySize: [32, 24], quality: 2, method });
    for (const [t, frame] of sequence.frames.entries()) {
      const params = { ...frame.params, exposure: exposures[t]!, preExposure: preExposures[t]! };
      // The engine's color arrives multiplied by its pre-exposure.
      const images = { ...frame.images, color: scaled(frame.images.color, preExposures[t]!) };
      const expected = cpu.dispatch(images, params);
      const actual = await gpuFrame(device, gpu, images, params);
      assert.ok(relativeError(actual, expected) < 1e-3, `${method} frame ${t}`);
    }
    gpu.destroy();
  }
});

test('an exposure step rescales history at once: no fade, unlike history kept in old units', async () => {
  const { device } = await testGpu();
  const frame = sequence.frames[0]!;
  // A still camera: no motion, the same frame under new jitter every frame.
  const still = { ...frame.images, motion: createImage(16, 12, 2) };
  const run = async (exposureAt: (t: number) => number, preExposureAt: (t: number) => number) => {
    const up = await createUpscaler(device, { displaySize: [32, 24], quality: 2 });
    const outputs: Image[] = [];
    for (let t = 0; t < 12; t++) {
      const params = {
        ...frame.params,
        jitter: up.jitter(t),
        reset: t === 0,
        exposure: exposureAt(t),
        preExposure: preExposureAt(t),
      };
      outputs.push(await gpuFrame(device, up, still, params));
    }
    up.destroy();
    return outputs;
  };
  const target = await run(
    () => 4,
    () => 1,
  );
  const stepped = await run(
    (t) => (t < 8 ? 1 : 4),
    () => 1,
  );
  // The same change of the internal scale without the rescale (the exposure is unchanged, so
  // history stays in its old units): what every exposure step did before.
  const unscaled = await run(
    () => 1,
    (t) => (t < 8 ? 1 : 0.25),
  );
  const errors = [8, 9, 10, 11].map((t) => [
    meanError(stepped[t]!, target[t]!),
    meanError(unscaled[t]!, target[t]!),
  ]);
  for (const [t, [withRescale, without]] of errors.entries()) {
    assert.ok(withRescale! < without! / 4, `frame ${t + 8}: ${withRescale} vs ${without} unscaled`);
  }
  assert.equal(exposureStepCpu(1, 4, 1, false).historyScale, 4);
});

test('an exposure texture computes what the number computes; a bad texel keeps the last exposure', async () => {
  const { device } = await testGpu();
  const values = [1, 2, 2, Number.NaN, 0, 3, -1, 3];
  const good = [1, 2, 2, 2, 2, 3, 3, 3]; // what the bad texels fall back to
  const withTexture = await createUpscaler(device, { displaySize: [32, 24], quality: 2 });
  const withNumber = await createUpscaler(device, { displaySize: [32, 24], quality: 2 });
  for (const [t, frame] of sequence.frames.entries()) {
    const texture = exposureTexture(device, values[t]!);
    const a = await gpuFrame(device, withTexture, frame.images, {
      ...frame.params,
      exposure: texture,
    });
    const b = await gpuFrame(device, withNumber, frame.images, {
      ...frame.params,
      exposure: good[t]!,
    });
    assert.deepEqual(new Uint32Array(a.data.buffer), new Uint32Array(b.data.buffer), `frame ${t}`);
    assert.ok(a.data.every(Number.isFinite));
    texture.destroy();
  }
  // The CPU model of the fallback.
  assert.equal(exposureStepCpu(2, Number.NaN, 1, false).exposure, 2);
  assert.equal(exposureStepCpu(undefined, -1, 1, false).exposure, 1);
  withTexture.destroy();
  withNumber.destroy();
});

test('exposure and preExposure errors name the input', async () => {
  const { device } = await testGpu();
  const up = await createUpscaler(device, { displaySize: [32, 24], quality: 2 });
  const frame = sequence.frames[0]!;
  const rgba8 = device.createTexture({
    size: [1, 1],
    format: 'rgba8unorm',
    usage: GPUTextureUsage.TEXTURE_BINDING,
  });
  const noBinding = device.createTexture({
    size: [1, 1],
    format: 'r32float',
    usage: GPUTextureUsage.COPY_DST,
  });
  const cases: [Partial<FrameValues>, RegExp][] = [
    [{ exposure: rgba8 }, /exposure: format rgba8unorm is not read; use one of r32float/],
    [{ exposure: noBinding }, /exposure: the texture needs GPUTextureUsage.TEXTURE_BINDING/],
    [{ exposure: Number.NaN }, /exposure must be a positive finite number/],
    [{ preExposure: 0 }, /preExposure must be a positive finite number, got 0/],
    [{ preExposure: Number.POSITIVE_INFINITY }, /preExposure must be a positive finite number/],
  ];
  for (const [change, message] of cases) {
    await assert.rejects(
      gpuFrame(device, up, frame.images, { ...frame.params, ...change }),
      message,
    );
  }
  up.destroy();
  rgba8.destroy();
  noBinding.destroy();
});
