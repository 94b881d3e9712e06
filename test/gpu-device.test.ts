import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu } from './helpers/gpu.ts';
import { readImage, uploadImage, createStorageBuffer, readBuffer } from '../src/gpu/resources.ts';
import { createImage } from '../src/core/image.ts';

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
});
