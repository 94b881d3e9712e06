// The caller's device respected: a buffer larger than the device's storage binding limit is a
// thrown DeviceLimitError naming the limit (not a silent uncapturederror and an empty output),
// and a frame the GPU refuses fails the run before its output is handed on (never written); a
// resize to a size the device cannot hold is refused before anything is freed, and a resize inside
// dispatch is covered by the frame's error scope.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu } from './helpers/gpu.ts';
import {
  createTaauResolver,
  createUpscaler,
  type DispatchInputs,
  type Upscaler,
} from '../src/upscaler.ts';
import { withGpuErrorScope } from '../src/gpu/error-scope.ts';
import { DeviceLimitError } from '../src/gpu/kernel.ts';
import { GpuRefusedError } from '../src/core/errors.ts';
import { defaultFrameParams } from '../src/core/frame.ts';
import { runMethod } from '../src/eval/run-method.ts';
import { openSequenceArg } from '../src/cli/sequence-arg.ts';
import type { Resolver } from '../src/gpu/resolver.ts';
import { openSequence } from '../src/io/index.ts';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One more Dawn instance for the file (several in one process crash Dawn now and then). */
let defaultLimitsGpu: GPU | undefined;

/** A device with WebGPU's default limits (as a browser page or three.js creates one). */
async function defaultLimitsDevice(): Promise<GPUDevice> {
  const { create } = await import('webgpu');
  defaultLimitsGpu ??= create([]) as GPU;
  const adapter = await defaultLimitsGpu.requestAdapter();
  return adapter!.requestDevice();
}

// History and state are f32 by default (141.6 MB each at 4096×2160, as is the display-size
// output image): the first pass to bind one, the reprojection, is refused. As binary16 they fit
// (70.8 MB), and then the output image the resolve writes is what does not.
test('TAAU at 4096×2160 on a default-limits device: a DeviceLimitError naming the image and maxStorageBufferBindingSize, nothing uncaptured', async () => {
  await testGpu(); // installs the WebGPU globals
  const device = await defaultLimitsDevice();
  const uncaptured: string[] = [];
  device.addEventListener('uncapturederror', (e) =>
    uncaptured.push((e as GPUUncapturedErrorEvent).error.message),
  );
  assert.equal(device.limits.maxStorageBufferBindingSize, 134217728);
  const up = await createUpscaler(device, {
    displaySize: [4096, 2160],
    quality: 'performance',
    method: 'taau',
  });
  const inputs = zeroInputs(device, up.renderSize);
  assert.throws(
    () => up.dispatch(device.createCommandEncoder(), inputs),
    (error: Error) =>
      error instanceof DeviceLimitError &&
      error instanceof GpuRefusedError &&
      /^reproject binds reprojected history of 141557760 bytes; this device allows 134217728 \(maxStorageBufferBindingSize\)/.test(
        error.message,
      ),
  );
  // Binary16 history and state fit; the output image is refused.
  const half = await createUpscaler(device, {
    displaySize: [4096, 2160],
    quality: 'performance',
    method: 'taau',
    resolver: createTaauResolver(device, {}, 'rgba16float'),
  });
  assert.throws(
    () => half.dispatch(device.createCommandEncoder(), inputs),
    /taau resolve \+ output rgba32float binds output of 141557760 bytes; this device allows 134217728/,
  );
  await device.queue.onSubmittedWorkDone();
  assert.deepEqual(uncaptured, []);
  up.destroy();
  half.destroy();
  device.destroy();
});

test('createUpscaler above the device texture size: a GpuRefusedError, not an upscaler of zeros', async () => {
  await testGpu();
  const device = await defaultLimitsDevice();
  const uncaptured: string[] = [];
  device.addEventListener('uncapturederror', (e) =>
    uncaptured.push((e as GPUUncapturedErrorEvent).error.message),
  );
  assert.equal(device.limits.maxTextureDimension2D, 8192);
  await assert.rejects(
    createUpscaler(device, { displaySize: [16384, 4], quality: 'performance', method: 'taau' }),
    (error: Error) =>
      error instanceof GpuRefusedError &&
      /createUpscaler: the GPU refused it \(.*maximum texture size/.test(error.message),
  );
  assert.deepEqual(uncaptured, []);
  // The scopes were popped: a valid upscaler is made afterwards on the same device.
  const up = await createUpscaler(device, { displaySize: [64, 32], method: 'taau' });
  up.destroy();
  device.destroy();
});

test('a frame the GPU refuses fails the run with GpuRefusedError before its output reaches onFrame', async () => {
  const { device } = await testGpu();
  const source = await openSequenceArg('builtin:analytic:1', {
    displaySize: [32, 24],
    quality: 'performance',
    frames: 3,
  });
  // A resolver that records an invalid copy (past the end of a 4-byte buffer) on frame 2.
  let frame = 0;
  const tiny = device.createBuffer({ size: 4, usage: GPUBufferUsage.COPY_SRC });
  const other = device.createBuffer({ size: 4, usage: GPUBufferUsage.COPY_DST });
  const broken: Resolver = {
    resolve(encoder, inputs) {
      if (++frame === 2) encoder.copyBufferToBuffer(tiny, 0, other, 0, 64);
      return inputs.reprojected;
    },
    resize() {},
    destroy() {},
  };
  const written: number[] = [];
  await assert.rejects(
    runMethod(
      device,
      source,
      { name: 'broken', method: 'taau', resolver: broken },
      { onFrame: (i) => void written.push(i) },
    ),
    (error: Error) =>
      error instanceof GpuRefusedError &&
      /broken: frame \d+ failed, no output was written for it: .*the GPU refused it/.test(
        error.message,
      ),
  );
  assert.deepEqual(written, [0], 'the frame before the refusal only');
  // The device is still usable afterwards: its error scopes were balanced.
  device.pushErrorScope('validation');
  device.queue.submit([device.createCommandEncoder().finish()]);
  assert.equal(await device.popErrorScope(), null);
});

test('uplift render above 8192 pixels wide renders (the device asks for the adapter texture size), references not black', async () => {
  const out = mkdtempSync(join(tmpdir(), 'uplift-wide-'));
  const r = spawnSync(
    process.execPath,
    ['bin/uplift.mjs', 'render', '--scene', 'city', '--display', '8200x16', '--frames', '2'].concat(
      ['--samples', '1', '-o', join(out, 'seq'), '-q'],
    ),
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const source = await openSequence(join(out, 'seq'));
  const { reference } = await source.readFrame(1);
  assert.equal(reference!.width, 8200);
  assert.ok(
    reference!.data.some((v) => v > 0.01),
    'the reference is not all zeros',
  );
});

test('resize to a size the device cannot hold: DeviceLimitError before anything is freed, the upscaler keeps working', async () => {
  await testGpu();
  const device = await defaultLimitsDevice();
  const uncaptured: string[] = [];
  device.addEventListener('uncapturederror', (e) =>
    uncaptured.push((e as GPUUncapturedErrorEvent).error.message),
  );
  const up = await createUpscaler(device, { displaySize: [64, 32], method: 'taau' });
  assert.throws(
    () => up.resize([16384, 4]),
    (error: Error) =>
      error instanceof DeviceLimitError &&
      /resize: 16384x4 .*maxTextureDimension2D 8192/.test(error.message),
  );
  assert.throws(
    () => up.resize([8192, 4320]),
    (error: Error) =>
      error instanceof DeviceLimitError &&
      /resize: 8192x4320 needs images of 566231040 bytes; this device allows 134217728 \(maxStorageBufferBindingSize\)/.test(
        error.message,
      ),
  );
  assert.deepEqual(
    [up.displaySize, up.renderSize],
    [
      [64, 32],
      [32, 16],
    ],
    'sizes kept',
  );
  const output = await frameIn(device, up, up.renderSize);
  assert.equal(output.width, 64);
  assert.deepEqual(uncaptured, []);
  up.destroy();
  device.destroy();
});

test('a resize inside dispatch (new input sizes) is inside the frame: its refused allocation fails that frame', async () => {
  const { device } = await testGpu();
  // Images created while `refuse` is set are invalid buffers (usage 0): a refused allocation.
  // (Small buffers, the kernels' cached uniforms, are left alone: they outlive the frame.)
  let refuse = false;
  const refusing = new Proxy(device, {
    get(target, key) {
      if (key === 'createBuffer') {
        return (descriptor: GPUBufferDescriptor) =>
          target.createBuffer(
            refuse && descriptor.size >= 1024 ? { ...descriptor, usage: 0 } : descriptor,
          );
      }
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  const up = await createUpscaler(refusing, {
    displaySize: [32, 24],
    renderSize: [8, 6],
    method: 'taau',
  });
  refuse = true;
  // Larger inputs than the render images: the dispatch allocates new ones.
  await assert.rejects(
    frameIn(device, up, [16, 12]),
    (error: Error) =>
      error instanceof GpuRefusedError && /the frame: the GPU refused it/.test(error.message),
  );
  assert.deepEqual(up.renderSize, [16, 12], 'the dispatch resized');
  refuse = false;
  up.resize([32, 24], [16, 12]);
  const output = await frameIn(device, up, [16, 12]);
  assert.ok(output.width === 32 && output.height === 24);
  up.destroy();
});

/** One frame of zero inputs of `size` through `up`, inside a per-frame error scope. */
async function frameIn(device: GPUDevice, up: Upscaler, [w, h]: readonly number[]) {
  const inputs = zeroInputs(device, [w!, h!]);
  return withGpuErrorScope(device, 'the frame', async () => {
    const encoder = device.createCommandEncoder();
    up.dispatch(encoder, inputs);
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    return up.output;
  });
}

/** A reset frame's inputs: zero textures of `size` (color rgba16float, depth, motion). */
function zeroInputs(device: GPUDevice, [w, h]: readonly number[]): DispatchInputs {
  const texture = (format: GPUTextureFormat) =>
    device.createTexture({
      size: [w!, h!],
      format,
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
    });
  return {
    ...defaultFrameParams(),
    reset: true,
    color: texture('rgba16float'),
    depth: texture('r32float'),
    motion: texture('rg32float'),
  };
}
