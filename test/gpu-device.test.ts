import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu } from './helpers/gpu.ts';
import {
  createStorageBuffer,
  readBuffer,
  readImage,
  uploadImage,
  writeImage,
} from '../src/gpu/resources.ts';
import { createGpuTimer } from '../src/gpu/profiler.ts';
import { createImage } from '../src/core/image.ts';
import { mergeDawnToggles } from '../src/gpu/device.ts';

test('a WebGPU device exists and reports its features', async () => {
  const gpu = await testGpu();
  assert.ok(gpu.adapterName.length > 0);
  assert.equal(typeof gpu.features.shaderF16, 'boolean');
});

test('images and buffers round-trip through the GPU exactly', async () => {
  const { device } = await testGpu();
  for (const channels of [1, 2, 3, 4]) {
    const img = createImage(67, 5, channels);
    for (let i = 0; i < img.data.length; i++) img.data[i] = Math.sin(i) * 100;
    const back = await readImage(device, uploadImage(device, img));
    for (let i = 0; i < 67 * 5; i++) {
      for (let c = 0; c < channels; c++) {
        assert.equal(back.data[i * back.channels + c], img.data[i * channels + c]);
      }
    }
  }
  const data = new Float32Array([1, 2.5, -3, 1e-30]);
  assert.deepEqual(await readBuffer(device, createStorageBuffer(device, data)), data);
  // f32 values only go to and come from 32-bit float textures.
  const half = device.createTexture({
    size: [2, 2],
    format: 'rgba16float',
    usage: GPUTextureUsage.COPY_DST | GPUTextureUsage.COPY_SRC,
  });
  assert.throws(() => writeImage(device, half, createImage(2, 2, 4)), /got rgba16float/);
  await assert.rejects(readImage(device, half), /got rgba16float/);
  half.destroy();
});

test('the GPU timer measures a pass and names it', async () => {
  const { device } = await testGpu();
  const timer = createGpuTimer(device, 4);
  const module = device.createShaderModule({
    code: `@group(0) @binding(0) var<storage, read_write> o: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) { o[g.x] = sqrt(f32(g.x)); }`,
  });
  const pipeline = device.createComputePipeline({
    layout: 'auto',
    compute: { module, entryPoint: 'main' },
  });
  const buffer = createStorageBuffer(device, new Float32Array(4096));
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: { buffer } }],
  });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass({ timestampWrites: timer.computePass('sqrt') });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(64);
  pass.end();
  timer.resolve(encoder);
  device.queue.submit([encoder.finish()]);
  const times = await timer.read();
  assert.deepEqual([...times.keys()], ['sqrt']);
  const ms = times.get('sqrt')!;
  assert.ok(Number.isFinite(ms) && ms >= 0 && ms < 1000, `time ${ms} ms`);
  assert.equal((await readBuffer(device, buffer))[4095], Math.fround(Math.sqrt(4095)));
  timer.destroy();
});

test('mergeDawnToggles joins the enable and disable lists (Dawn keeps one value per key)', () => {
  assert.deepEqual(
    mergeDawnToggles([
      'enable-dawn-features=allow_unsafe_apis',
      'disable-dawn-features=timestamp_quantization',
      'backend=vulkan',
      'enable-dawn-features=vulkan_use_cooperative_matrix_robust_access,allow_unsafe_apis',
    ]),
    [
      'enable-dawn-features=allow_unsafe_apis,vulkan_use_cooperative_matrix_robust_access',
      'disable-dawn-features=timestamp_quantization',
      'backend=vulkan',
    ],
  );
  assert.deepEqual(mergeDawnToggles([]), []);
});
