// Engine input formats: the load pass reads color in 8-bit, sRGB, 10-bit, 16-bit and packed float
// formats, and depth from depth textures, as the values each format holds (the CPU reference
// quantizes the same float values to the format); the frame API accepts them in a dispatch and
// refuses formats it does not read and textures it cannot bind, naming the input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu, rng } from './helpers/gpu.ts';
import { encodeLoadTexture } from '../src/gpu/passes/load-texture.ts';
import { createGpuImage, readGpuImage } from '../src/gpu/gpu-image.ts';
import { createUpscaler, type DispatchInputs } from '../src/upscaler.ts';
import { readImage, uploadImage } from '../src/gpu/resources.ts';
import { analyticSequence } from '../src/scene/analytic.ts';

const W = 8;
const H = 4;

/** Renders `values` (W×H rgba, or depth in .r) into a new texture of `format`. */
function renderInto(
  device: GPUDevice,
  format: GPUTextureFormat,
  values: Float32Array<ArrayBuffer>,
) {
  const depth = format.startsWith('depth');
  const texture = device.createTexture({
    size: [W, H],
    format,
    usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.RENDER_ATTACHMENT,
  });
  const buffer = device.createBuffer({
    size: values.byteLength,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(buffer, 0, values);
  const code = /* wgsl */ `
@group(0) @binding(0) var<storage, read> values: array<vec4f>;
@vertex fn vs(@builtin(vertex_index) i: u32) -> @builtin(position) vec4f {
  return vec4f(f32(i & 1u) * 4.0 - 1.0, f32(i >> 1u) * 4.0 - 1.0, 0.0, 1.0);
}
${
  depth
    ? `@fragment fn fs(@builtin(position) p: vec4f) -> @builtin(frag_depth) f32 {
  return values[u32(p.y) * ${W}u + u32(p.x)].r;
}`
    : `@fragment fn fs(@builtin(position) p: vec4f) -> @location(0) vec4f {
  return values[u32(p.y) * ${W}u + u32(p.x)];
}`
}`;
  const module = device.createShaderModule({ code });
  const pipeline = device.createRenderPipeline({
    layout: 'auto',
    vertex: { module, entryPoint: 'vs' },
    fragment: { module, entryPoint: 'fs', targets: depth ? [] : [{ format }] },
    ...(depth
      ? { depthStencil: { format, depthWriteEnabled: true, depthCompare: 'always' as const } }
      : {}),
  });
  const encoder = device.createCommandEncoder();
  const view = texture.createView();
  const pass = encoder.beginRenderPass(
    depth
      ? {
          colorAttachments: [],
          depthStencilAttachment: {
            view,
            depthClearValue: 0,
            depthLoadOp: 'clear',
            depthStoreOp: 'store',
            ...(format.includes('stencil')
              ? { stencilLoadOp: 'clear' as const, stencilStoreOp: 'store' as const }
              : {}),
          },
        }
      : { colorAttachments: [{ view, loadOp: 'clear', storeOp: 'store' }] },
  );
  pass.setPipeline(pipeline);
  pass.setBindGroup(
    0,
    device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer } }],
    }),
  );
  pass.draw(3);
  pass.end();
  device.queue.submit([encoder.finish()]);
  return texture;
}

async function load(device: GPUDevice, texture: GPUTexture): Promise<Float32Array> {
  const out = createGpuImage(device, W, H);
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encodeLoadTexture(device, pass, texture, out);
  pass.end();
  device.queue.submit([encoder.finish()]);
  return (await readGpuImage(device, out)).data;
}

const toSrgb = (v: number) => (v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055);
const fromSrgb = (v: number) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);

/** A texture of `format` holding exactly `words` (4 bytes per texel). */
function writeInto(device: GPUDevice, format: GPUTextureFormat, words: Uint32Array<ArrayBuffer>) {
  const texture = device.createTexture({
    size: [W, H],
    format,
    usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
  });
  device.queue.writeTexture({ texture }, words, { bytesPerRow: W * 4 }, [W, H]);
  return texture;
}

test('color formats load as the values their bytes hold (8-bit, BGRA order, sRGB, 10-bit)', async () => {
  const { device } = await testGpu();
  const random = rng(9);
  const words = Uint32Array.from({ length: W * H }, () => Math.floor(random() * 2 ** 32));
  const byte = (i: number, k: number) => (words[i]! >>> (8 * k)) & 0xff;
  const bits = (i: number, shift: number, n: number) => (words[i]! >>> shift) & (2 ** n - 1);
  const expected: Record<string, (i: number) => number[]> = {
    rgba8unorm: (i) => [0, 1, 2, 3].map((k) => byte(i, k) / 255),
    // Bytes are B, G, R, A: the load returns R, G, B, A.
    bgra8unorm: (i) => [2, 1, 0, 3].map((k) => byte(i, k) / 255),
    'rgba8unorm-srgb': (i) =>
      [0, 1, 2].map((k) => fromSrgb(byte(i, k) / 255)).concat(byte(i, 3) / 255),
    rgb10a2unorm: (i) => [
      bits(i, 0, 10) / 1023,
      bits(i, 10, 10) / 1023,
      bits(i, 20, 10) / 1023,
      bits(i, 30, 2) / 3,
    ],
  };
  for (const [format, want] of Object.entries(expected)) {
    const got = await load(device, writeInto(device, format as GPUTextureFormat, words));
    for (let i = 0; i < W * H; i++) {
      const w = want(i);
      for (let c = 0; c < 4; c++) {
        const value = got[i * 4 + c]!;
        // sRGB decoding: within half an 8-bit step of the exact curve (GPUs use approximations).
        const ok =
          format.endsWith('-srgb') && c < 3
            ? Math.abs(toSrgb(value) - toSrgb(w[c]!)) * 255 <= 0.5
            : Math.abs(value - w[c]!) <= 1e-6;
        assert.ok(ok, `${format} texel ${i} channel ${c}: ${value} vs ${w[c]}`);
      }
    }
  }
});

test('rg11b10ufloat loads its packed floats (exact values, alpha 1)', async () => {
  const { device } = await testGpu();
  // R and G: 5-bit exponent (bias 15), 6-bit mantissa; B: 5-bit exponent, 5-bit mantissa.
  const small = (exponent: number, mantissa: number, bits: number) => (exponent << bits) | mantissa;
  const value = (exponent: number, mantissa: number, bits: number) =>
    2 ** (exponent - 15) * (1 + mantissa / 2 ** bits);
  const texels: [number, number, number][] = [
    [15, 0, 0], // 1
    [14, 32, 16], // 0.75
    [16, 1, 3], // 2.03125 / 2.1875
    [20, 63, 31], // large
  ];
  const words = new Uint32Array(W * H);
  const want: number[] = [];
  for (let i = 0; i < W * H; i++) {
    const [e, mR, mB] = texels[i % texels.length]!;
    words[i] = small(e, mR, 6) | (small(e, mR, 6) << 11) | (small(e, mB, 5) << 22);
    want.push(value(e, mR, 6), value(e, mR, 6), value(e, mB, 5), 1);
  }
  const texture = device.createTexture({
    size: [W, H],
    format: 'rg11b10ufloat',
    usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
  });
  device.queue.writeTexture({ texture }, words, { bytesPerRow: W * 4 }, [W, H]);
  assert.deepEqual([...(await load(device, texture))], want);
});

test('depth formats load their depth (depth32float exactly, 24- and 16-bit to their precision)', async () => {
  const { device } = await testGpu();
  const random = rng(10);
  const values = new Float32Array(W * H * 4);
  for (let i = 0; i < W * H; i++) values[i * 4] = random();
  for (const [format, tolerance] of [
    ['depth32float', 0],
    ['depth24plus', 2 ** -20],
    ['depth16unorm', 1 / 65535],
    ['depth24plus-stencil8', 2 ** -20],
  ] as [GPUTextureFormat, number][]) {
    const got = await load(device, renderInto(device, format, values));
    for (let i = 0; i < W * H; i++) {
      assert.ok(
        Math.abs(got[i * 4]! - values[i * 4]!) <= tolerance,
        `${format} pixel ${i}: ${got[i * 4]} vs ${values[i * 4]}`,
      );
    }
  }
});

test('a dispatch reads engine formats (sRGB color, depth texture, rg16float motion) as their values; bad inputs are named', async () => {
  const { device } = await testGpu();
  const seq = analyticSequence({ displaySize: [16, 8], ratio: 2, frames: 1, referenceSamples: 1 });
  const frame = seq.frames[0]!;
  const options = { displaySize: seq.header.displaySize, quality: 2, method: 'taau' } as const;
  const [rw, rh] = seq.header.renderSize;
  assert.deepEqual([rw, rh], [W, H]);
  // The engine's textures: the same values rendered into its formats.
  const rgba = (image: { data: Float32Array; channels: number }) => {
    const out = new Float32Array(W * H * 4);
    for (let i = 0; i < W * H; i++) {
      for (let c = 0; c < 4; c++) {
        out[i * 4 + c] = c < image.channels ? image.data[i * image.channels + c]! : 1;
      }
    }
    return out;
  };
  const color = renderInto(device, 'rgba8unorm-srgb', rgba(frame.images.color));
  const depth = renderInto(device, 'depth32float', rgba(frame.images.depth));
  const motion = renderInto(device, 'rg16float', rgba(frame.images.motion));
  // The same values, as the load pass reads them, given as rgba32float textures.
  const asFloat = async (t: GPUTexture) =>
    uploadImage(device, { width: W, height: H, channels: 4, data: await load(device, t) });
  const run = async (inputs: Pick<DispatchInputs, 'color' | 'depth' | 'motion'>) => {
    const up = await createUpscaler(device, options);
    const encoder = device.createCommandEncoder();
    up.dispatch(encoder, { ...frame.params, ...inputs });
    device.queue.submit([encoder.finish()]);
    const image = await readImage(device, up.output);
    up.destroy();
    return image.data;
  };
  const engine = await run({ color, depth, motion });
  const float = await run({
    color: await asFloat(color),
    depth: await asFloat(depth),
    motion: await asFloat(motion),
  });
  assert.deepEqual(engine, float);
  assert.ok(engine.every(Number.isFinite) && new Set(engine).size > 20);

  const up = await createUpscaler(device, options);
  const stencil = device.createTexture({
    size: [W, H],
    format: 'stencil8',
    usage: GPUTextureUsage.TEXTURE_BINDING,
  });
  assert.throws(
    () =>
      up.dispatch(device.createCommandEncoder(), {
        ...frame.params,
        color,
        depth: stencil,
        motion,
      }),
    /depth: format stencil8 is not read; use one of .*depth32float/,
  );
  const unbindable = device.createTexture({
    size: [W, H],
    format: 'rgba8unorm',
    usage: GPUTextureUsage.COPY_DST,
  });
  assert.throws(
    () =>
      up.dispatch(device.createCommandEncoder(), {
        ...frame.params,
        color: unbindable,
        depth,
        motion,
      }),
    /color: the texture needs GPUTextureUsage.TEXTURE_BINDING/,
  );
  up.destroy();
});

test("output into the caller's texture (rgba16float, rgba8unorm): the frame up.output would hold, in that format", async () => {
  const { device } = await testGpu();
  const seq = analyticSequence({ displaySize: [16, 8], ratio: 2, frames: 2, referenceSamples: 1 });
  const options = { displaySize: seq.header.displaySize, quality: 2, method: 'taau' } as const;
  const upload = (i: number) => ({
    color: uploadImage(device, seq.frames[i]!.images.color),
    depth: uploadImage(device, seq.frames[i]!.images.depth),
    motion: uploadImage(device, seq.frames[i]!.images.motion),
  });
  const run = async (output?: GPUTexture) => {
    const up = await createUpscaler(device, options);
    for (let i = 0; i < 2; i++) {
      const encoder = device.createCommandEncoder();
      up.dispatch(encoder, {
        ...seq.frames[i]!.params,
        ...upload(i),
        ...(output ? { output } : {}),
      });
      device.queue.submit([encoder.finish()]);
    }
    const own = await readImage(device, up.output);
    up.destroy();
    return own;
  };
  const want = await run();
  const target = (format: GPUTextureFormat, usage = GPUTextureUsage.STORAGE_BINDING) =>
    device.createTexture({
      size: seq.header.displaySize,
      format,
      usage: usage | GPUTextureUsage.TEXTURE_BINDING,
    });
  const readBack = async (texture: GPUTexture) => {
    const image = createGpuImage(device, 16, 8);
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeLoadTexture(device, pass, texture, image);
    pass.end();
    device.queue.submit([encoder.finish()]);
    return (await readGpuImage(device, image)).data;
  };
  const half = target('rgba16float');
  await run(half);
  const got16 = await readBack(half);
  const unorm8 = target('rgba8unorm');
  await run(unorm8);
  const got8 = await readBack(unorm8);
  for (let i = 0; i < want.data.length; i++) {
    const v = want.data[i]!;
    assert.ok(Math.abs(got16[i]! - v) <= 1e-3 * Math.max(1, Math.abs(v)), `f16 ${i}`);
    const clamped = Math.min(Math.max(v, 0), 1);
    assert.ok(
      Math.abs(got8[i]! - clamped) <= 0.5 / 255 + 1e-6,
      `unorm8 ${i}: ${got8[i]} vs ${clamped}`,
    );
  }
  assert.ok(new Set(want.data).size > 20);
  // A texture with mip levels: level 0 is written (a storage binding is one subresource).
  const mipped = device.createTexture({
    size: seq.header.displaySize,
    format: 'rgba16float',
    mipLevelCount: 2,
    usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.TEXTURE_BINDING,
  });
  await run(mipped);
  assert.deepEqual(await readBack(mipped), got16);

  const up = await createUpscaler(device, options);
  const attempt = (output: GPUTexture) => () =>
    up.dispatch(device.createCommandEncoder(), { ...seq.frames[0]!.params, ...upload(0), output });
  assert.throws(attempt(target('rg32float')), /output: format rg32float is not written/);
  assert.throws(
    attempt(target('rgba16float', 0)),
    /output: the texture needs GPUTextureUsage.STORAGE_BINDING/,
  );
  const small = device.createTexture({
    size: [8, 8],
    format: 'rgba16float',
    usage: GPUTextureUsage.STORAGE_BINDING,
  });
  assert.throws(attempt(small), /output is 8x8, expected the display size 16x8/);
  up.destroy();
});
