import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu, rng } from './helpers/gpu.ts';
import { createImage } from '../src/core/image.ts';
import { createGpuImage, readGpuImage, uploadGpuImage } from '../src/gpu/gpu-image.ts';
import { createKernel, groupsFor } from '../src/gpu/kernel.ts';
import { uniformBlock } from '../src/gpu/uniforms.ts';

test('GPU image round trip keeps values and pads missing channels', async () => {
  const { device } = await testGpu();
  const random = rng(3);
  const image = createImage(5, 3, 3);
  for (let i = 0; i < image.data.length; i++) image.data[i] = random() * 10 - 5;
  const back = await readGpuImage(device, uploadGpuImage(device, image));
  assert.equal(back.channels, 4);
  for (let i = 0; i < 15; i++) {
    for (let c = 0; c < 3; c++) assert.equal(back.data[i * 4 + c], image.data[i * 3 + c]);
    assert.equal(back.data[i * 4 + 3], 1);
  }
});

test('kernel dispatches with uniforms and buffers in binding order', async () => {
  const { device } = await testGpu();
  const kernel = createKernel(device, {
    label: 'scale',
    code: /* wgsl */ `
      struct U { width: u32, height: u32, scale: f32, pad: f32 }
      @group(0) @binding(0) var<uniform> u: U;
      @group(0) @binding(1) var<storage, read> src: array<vec4f>;
      @group(0) @binding(2) var<storage, read_write> dst: array<vec4f>;
      @compute @workgroup_size(8, 8)
      fn main(@builtin(global_invocation_id) id: vec3u) {
        if (id.x >= u.width || id.y >= u.height) { return; }
        let i = id.y * u.width + id.x;
        dst[i] = src[i] * u.scale;
      }`,
  });
  const image = createImage(9, 7, 4);
  image.data.forEach((_, i) => (image.data[i] = i));
  const src = uploadGpuImage(device, image);
  const dst = createGpuImage(device, 9, 7);
  const uniforms = new ArrayBuffer(16);
  new Uint32Array(uniforms, 0, 2).set([9, 7]);
  new Float32Array(uniforms, 8, 1)[0] = 2;
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  kernel.dispatch(pass, [groupsFor(9, 8), groupsFor(7, 8)], [src.buffer, dst.buffer], uniforms);
  pass.end();
  device.queue.submit([encoder.finish()]);
  const out = await readGpuImage(device, dst);
  for (let i = 0; i < out.data.length; i++) assert.equal(out.data[i], 2 * i);
});

test('kernel uniforms: equal blocks are shared, different blocks never mixed up', async () => {
  const { device } = await testGpu();
  const kernel = createKernel(device, {
    label: 'fill',
    code: /* wgsl */ `
      struct U { value: f32, pad0: f32, pad1: f32, pad2: f32 }
      @group(0) @binding(0) var<uniform> u: U;
      @group(0) @binding(1) var<storage, read_write> dst: array<vec4f>;
      @compute @workgroup_size(1)
      fn main(@builtin(global_invocation_id) id: vec3u) { dst[id.x] = vec4f(u.value); }`,
  });
  const outputs = [1, 2, 1, 3].map(() => createGpuImage(device, 2, 1));
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  [1, 2, 1, 3].forEach((v, i) =>
    kernel.dispatch(pass, [2], [outputs[i]!.buffer], new Float32Array([v, 0, 0, 0])),
  );
  pass.end();
  device.queue.submit([encoder.finish()]);
  for (const [i, v] of [1, 2, 1, 3].entries()) {
    const out = await readGpuImage(device, outputs[i]!);
    assert.deepEqual([...out.data], new Array(8).fill(v));
  }
});

test('uniform blocks: the WGSL struct and the packed bytes come from one field list', async () => {
  const block = uniformBlock({ width: 'u32', flag: 'u32', scale: 'f32' });
  assert.equal(
    block.wgsl,
    'struct Params {\n  width: u32,\n  flag: u32,\n  scale: f32,\n}\n@group(0) @binding(0) var<uniform> u: Params;',
  );
  const bytes = new DataView(block.pack({ width: 7, flag: true, scale: -0.25 }));
  assert.equal(bytes.byteLength, 12);
  assert.equal(bytes.getUint32(0, true), 7);
  assert.equal(bytes.getUint32(4, true), 1);
  assert.equal(bytes.getFloat32(8, true), -0.25);
  assert.throws(() => block.pack({ width: 1, flag: 0 } as never), /uniform scale is missing/);

  // The GPU reads the fields where the struct says they are.
  const { device } = await testGpu();
  const kernel = createKernel(device, {
    label: 'uniform block',
    code: /* wgsl */ `${block.wgsl}
      @group(0) @binding(1) var<storage, read_write> dst: array<vec4f>;
      @compute @workgroup_size(1)
      fn main() { dst[0] = vec4f(f32(u.width), f32(u.flag), u.scale, 0.0); }`,
  });
  const out = createGpuImage(device, 1, 1);
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  kernel.dispatch(pass, [1], [out.buffer], block.pack({ width: 3, flag: false, scale: 1.5 }));
  pass.end();
  device.queue.submit([encoder.finish()]);
  assert.deepEqual([...(await readGpuImage(device, out)).data], [3, 0, 1.5, 0]);
});
