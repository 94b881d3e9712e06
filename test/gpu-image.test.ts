import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu, rng } from './helpers/gpu.ts';
import { createImage, storedImage } from '../src/core/image.ts';
import { floatToHalf, halfToFloat } from '../src/core/half.ts';
import {
  createGpuImage,
  readGpuImage,
  uploadGpuImage,
  wgslImages,
  WGSL_HALF,
} from '../src/gpu/gpu-image.ts';
import { createStorageBuffer, readBuffer } from '../src/gpu/resources.ts';
import { createKernel, groupsFor } from '../src/gpu/kernel.ts';
import { uniformBlock } from '../src/gpu/uniforms.ts';
import { checkHalfWidening } from '../src/gpu/half-self-check.ts';

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

test('kernel bind groups: the same buffers reuse one, other buffers get their own, results right', async () => {
  const { device } = await testGpu();
  const code = /* wgsl */ `
      struct U { value: f32, pad0: f32, pad1: f32, pad2: f32 }
      @group(0) @binding(0) var<uniform> u: U;
      @group(0) @binding(1) var<storage, read> src: array<vec4f>;
      @group(0) @binding(2) var<storage, read_write> dst: array<vec4f>;
      @compute @workgroup_size(1)
      fn main(@builtin(global_invocation_id) id: vec3u) { dst[id.x] = src[id.x] + vec4f(u.value); }`;
  const sources = [1, 10].map((v) => createStorageBuffer(device, new Float32Array(8).fill(v)));
  const outputs = [0, 1, 2].map(() => createGpuImage(device, 2, 1));
  const createBindGroup = device.createBindGroup.bind(device);
  let made = 0;
  device.createBindGroup = (descriptor) => {
    made++;
    return createBindGroup(descriptor);
  };
  const run = (src: number, dst: number, value: number) => {
    // A kernel object per call, as the passes make them: the cache is the pipeline's.
    const kernel = createKernel(device, { label: 'add', code });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    kernel.dispatch(
      pass,
      [2],
      [sources[src]!, outputs[dst]!.buffer],
      new Float32Array([value, 0, 0, 0]),
    );
    pass.end();
    device.queue.submit([encoder.finish()]);
  };
  try {
    run(0, 0, 1);
    run(0, 0, 1); // the same buffers and uniform block: no new bind group
    assert.equal(made, 1);
    run(1, 0, 1); // another source
    run(0, 1, 1); // another output
    run(0, 0, 2); // another uniform block
    assert.equal(made, 4);
    run(1, 2, 5);
  } finally {
    device.createBindGroup = createBindGroup;
  }
  const values = async (k: number) => [...(await readGpuImage(device, outputs[k]!)).data];
  assert.deepEqual(await values(0), new Array(8).fill(3));
  assert.deepEqual(await values(1), new Array(8).fill(2));
  assert.deepEqual(await values(2), new Array(8).fill(15));
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

/** Runs WGSL `fn convert(x: u32) -> u32` on every value of `input` on the GPU. */
async function convertOnGpu(
  device: GPUDevice,
  fn: string,
  input: Uint32Array,
): Promise<Uint32Array> {
  const kernel = createKernel(device, {
    label: 'half conversion',
    code: /* wgsl */ `
      ${WGSL_HALF}
      ${fn}
      @group(0) @binding(0) var<storage, read> src: array<u32>;
      @group(0) @binding(1) var<storage, read_write> dst: array<u32>;
      @compute @workgroup_size(64)
      fn main(@builtin(global_invocation_id) id: vec3u) {
        if (id.x >= arrayLength(&src)) { return; }
        dst[id.x] = convert(src[id.x]);
      }`,
  });
  const src = createStorageBuffer(device, input);
  const dst = createStorageBuffer(device, new Uint32Array(input.length));
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  kernel.dispatch(pass, [groupsFor(input.length, 64)], [src, dst]);
  pass.end();
  device.queue.submit([encoder.finish()]);
  return new Uint32Array((await readBuffer(device, dst)).buffer);
}

const f32Bits = (v: number) => new Uint32Array(Float32Array.of(v).buffer)[0]!;
const isNanBits = (x: number) => (x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0;

test('WGSL halfBits rounds f32 to binary16 bit for bit as floatToHalf (ties, subnormals, overflow, Inf, NaN)', async () => {
  const { device } = await testGpu();
  const random = rng(17);
  const values: number[] = [];
  // Every f32 exponent, random mantissas (uniform bit patterns).
  for (let i = 0; i < 40000; i++) values.push(Math.floor(random() * 2 ** 32) >>> 0);
  // Exact ties and their neighbours for normal halves (13 dropped bits) and every subnormal
  // shift (exponents 102..112), both signs, odd and even kept mantissas.
  for (let exponent = 100; exponent <= 143; exponent++) {
    for (const kept of [0, 1, 2, 3, 0x3fe, 0x3ff]) {
      for (const rest of [0, 1, 0xfff, 0x1000, 0x1001, 0x1fff]) {
        for (const sign of [0, 0x80000000]) {
          values.push((sign | (exponent << 23) | (kept << 13) | rest) >>> 0);
          if (exponent <= 112) {
            const shift = 14 - (exponent - 112);
            const halfway = 2 ** (shift - 1);
            for (const d of [-1, 0, 1])
              values.push(
                (sign | (exponent << 23) | (((kept << shift) + halfway + d) % 0x800000)) >>> 0,
              );
          }
        }
      }
    }
  }
  for (const v of [
    0,
    -0,
    65504,
    65519.99,
    65520,
    -65520,
    1e9,
    2 ** -24,
    2 ** -25,
    3 * 2 ** -26,
    2 ** -14,
    1e-40,
    Infinity,
    -Infinity,
  ]) {
    values.push(f32Bits(v));
  }
  values.push(0x7fc00000, 0xffc00001, 0x7f800001, 0x7fbfffff);
  const input = Uint32Array.from(values);
  const gpu = await convertOnGpu(
    device,
    'fn convert(x: u32) -> u32 { return halfBits(bitcast<f32>(x)); }',
    input,
  );
  const view = new Float32Array(input.buffer);
  let nans = 0;
  for (let i = 0; i < input.length; i++) {
    const x = input[i]!;
    // A NaN's payload does not survive a JavaScript number: its expected half is spelled out.
    const expected = isNanBits(x)
      ? ((x >>> 16) & 0x8000) | 0x7c00 | 0x200 | ((x & 0x7fffff) >>> 13)
      : floatToHalf(view[i]!);
    if (isNanBits(x)) nans++;
    if (gpu[i] !== expected) {
      assert.fail(
        `f32 0x${x.toString(16)}: GPU half 0x${gpu[i]!.toString(16)}, CPU 0x${expected.toString(16)}`,
      );
    }
  }
  assert.ok(nans >= 4);
});

test('WGSL halfValue widens every binary16 pattern exactly as halfToFloat', async () => {
  const { device } = await testGpu();
  const input = Uint32Array.from({ length: 65536 }, (_, h) => h);
  const gpu = await convertOnGpu(
    device,
    'fn convert(x: u32) -> u32 { return bitcast<u32>(halfValue(x)); }',
    input,
  );
  for (let h = 0; h < 65536; h++) {
    const nan = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
    const expected = nan
      ? (((h & 0x8000) << 16) | 0x7f800000 | ((h & 0x3ff) << 13)) >>> 0
      : f32Bits(halfToFloat(h));
    assert.equal(gpu[h], expected, `half 0x${h.toString(16)}`);
  }
});

test('WGSL halfPair (unpack2x16float) widens every binary16 pattern exactly as halfToFloat, in both places of a word; NaN stays NaN', async () => {
  const { device } = await testGpu();
  assert.deepEqual(await checkHalfWidening(device), []);
});

test('rgba16float GPU images: written, read and kernel-stored values are the binary16 rounding of the CPU (storedImage)', async () => {
  const { device } = await testGpu();
  const random = rng(23);
  const image = createImage(7, 5, 4);
  for (let i = 0; i < image.data.length; i++)
    image.data[i] = (random() - 0.5) * 2 ** (random() * 40 - 20);
  image.data[0] = 1e6; // beyond the half range: Infinity
  const expected = storedImage(image, 'rgba16float');
  assert.equal(expected.data[0], Infinity);
  const half = uploadGpuImage(device, image, 'half image', 'rgba16float');
  assert.equal(half.buffer.size, 7 * 5 * 8);
  assert.deepEqual((await readGpuImage(device, half)).data, expected.data);
  // A kernel that loads f32 pixels and stores them through wgslImages: the same bits.
  const f32 = uploadGpuImage(device, image);
  const stored = createGpuImage(device, 7, 5, 'stored', 'rgba16float');
  const kernel = createKernel(device, {
    label: 'store half',
    code: /* wgsl */ `
      ${wgslImages([
        { binding: 0, name: 'source', access: 'read', format: 'rgba32float' },
        { binding: 1, name: 'stored', access: 'read_write', format: 'rgba16float' },
      ])}
      @compute @workgroup_size(64)
      fn main(@builtin(global_invocation_id) id: vec3u) {
        if (id.x >= 35u) { return; }
        storeStored(id.x, sourceAt(id.x));
      }`,
  });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  kernel.dispatch(pass, [1], [f32.buffer, stored.buffer]);
  pass.end();
  device.queue.submit([encoder.finish()]);
  assert.deepEqual((await readGpuImage(device, stored)).data, expected.data);
  assert.throws(
    () => createGpuImage(device, 2, 2, 'x', 'rgba8unorm' as never),
    /rgba32float or rgba16float, got rgba8unorm/,
  );
});
