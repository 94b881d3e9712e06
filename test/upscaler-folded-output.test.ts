// The output pass folded into the resolve (no sharpening): TAAU's resolve, the neural filter +
// blend pass (INT8 network v2, a conv3x3 head), the INT8 last layer + filter + blend (v3a) and a
// caller's resolver built from uplift/gpu's exports write the output image and texture bit for
// bit as the resolve followed by the output pass does (the same resolvers with `foldOutput:
// false`), over frames with resets, exposure changes (a number and a texture), every output
// format, with and without the caller's texture, and a frame with sharpening (the output pass
// again); the folded frames record no output pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rng, testGpu } from './helpers/gpu.ts';
import { requestGpu } from '../src/gpu/device.ts';
import { createImage } from '../src/core/image.ts';
import type { Size } from '../src/core/quality.ts';
import { defaultFrameParams } from '../src/core/frame.ts';
import { readGpuImage } from '../src/gpu/gpu-image.ts';
import { uploadImage } from '../src/gpu/resources.ts';
import {
  createKernel,
  foldedOutputResources,
  uniformBlock,
  wgslFoldedOutput,
  wgslImages,
  type Resolver,
} from '../src/gpu/index.ts';
import { createUpscaler, createTaauResolver, type DispatchInputs } from '../src/upscaler.ts';
import { createNeuralResolver } from '../src/nn/resolve/neural-resolver.ts';
import { randomInt8Model } from '../src/nn/networks.ts';
import { NETWORK_V2 } from '../src/nn/network-v2.ts';
import { NETWORK_V3_CANDIDATES } from '../src/nn/network-v3.ts';

const DISPLAY: Size = [21, 13];
const RENDER: Size = [11, 7];
const TEXEL_BYTES: Record<string, number> = { rgba32float: 16, rgba16float: 8, rgba8unorm: 4 };

/** The raw bytes of a texture, row by row. */
async function textureBytes(device: GPUDevice, texture: GPUTexture): Promise<Uint8Array> {
  const rowBytes = texture.width * TEXEL_BYTES[texture.format]!;
  const bytesPerRow = Math.ceil(rowBytes / 256) * 256;
  const buffer = device.createBuffer({
    size: bytesPerRow * texture.height,
    usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
  });
  const encoder = device.createCommandEncoder();
  encoder.copyTextureToBuffer({ texture }, { buffer, bytesPerRow }, [
    texture.width,
    texture.height,
  ]);
  device.queue.submit([encoder.finish()]);
  await buffer.mapAsync(GPUMapMode.READ);
  const mapped = new Uint8Array(buffer.getMappedRange());
  const out = new Uint8Array(rowBytes * texture.height);
  for (let y = 0; y < texture.height; y++) {
    out.set(mapped.subarray(y * bytesPerRow, y * bytesPerRow + rowBytes), y * rowBytes);
  }
  buffer.unmap();
  buffer.destroy();
  return out;
}

const bits = (data: Float32Array) => new Uint32Array(data.buffer, data.byteOffset, data.length);

type Kind =
  | 'taau'
  | 'neural int8 v2 (filter + blend pass)'
  | 'neural int8 v3a (last layer)'
  | 'a caller resolver (uplift/gpu)';

const CALLER_PARAMS = uniformBlock({ width: 'u32', height: 'u32' });

/** The kernel of `callerResolver` writing the output from the new history to `format`. */
const callerOutputKernel = (format: GPUTextureFormat) => ({
  label: `caller output ${format}`,
  code: /* wgsl */ `
${CALLER_PARAMS.wgsl}
${wgslImages([{ binding: 1, name: 'history', access: 'read', format: 'rgba16float' }])}
${wgslFoldedOutput(2, format, 'rgba16float')}
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x >= u.width || id.y >= u.height) { return; }
  let o = id.y * u.width + id.x;
  foldOutput(id.xy, o, historyAt(o));
}
`,
});

/**
 * A resolver as an app writes it with the exports of `uplift/gpu` alone: TAAU's resolve, then
 * (with `writesOutput`) its own kernel writing the output from the new history.
 */
function callerResolver(device: GPUDevice, writesOutput: boolean): Resolver {
  const taau = createTaauResolver(device, {}, 'rgba16float', { foldOutput: false });
  return {
    historyFormat: 'rgba16float',
    writesOutput,
    outputKernels: (format) => [callerOutputKernel(format)],
    resolve(encoder, inputs) {
      const resolved = taau.resolve(encoder, inputs);
      if (inputs.output) {
        const [width, height] = inputs.displaySize;
        const kernel = createKernel(device, callerOutputKernel(inputs.output.texture.format));
        const pass = encoder.beginComputePass({ label: 'caller output' });
        kernel.dispatch(
          pass,
          [Math.ceil(width / 8), Math.ceil(height / 8)],
          [
            resolved.history.buffer,
            ...foldedOutputResources('caller output', inputs.output, [width, height]),
          ],
          CALLER_PARAMS.pack({ width, height }),
        );
        pass.end();
      }
      return resolved;
    },
    resize: (render, display) => taau.resize(render, display),
    destroy: () => taau.destroy(),
  };
}

async function resolverOf(device: GPUDevice, kind: Kind, foldOutput: boolean): Promise<Resolver> {
  if (kind === 'taau') return createTaauResolver(device, {}, 'rgba16float', { foldOutput });
  if (kind === 'a caller resolver (uplift/gpu)') return callerResolver(device, foldOutput);
  const network = kind.includes('v3a') ? NETWORK_V3_CANDIDATES['v3a']! : NETWORK_V2;
  // Same seed: both resolvers get the same weights.
  return createNeuralResolver(device, {
    model: randomInt8Model(network),
    precision: 'int8',
    foldOutput,
  });
}

for (const kind of [
  'taau',
  'neural int8 v2 (filter + blend pass)',
  'neural int8 v3a (last layer)',
  'a caller resolver (uplift/gpu)',
] as const) {
  test(`folded output (${kind}): output image and texture bit for bit as the output pass writes them`, async () => {
    const { device } = await testGpu();
    const random = rng(11);
    const input = (channels: number, scale: number) => {
      const i = createImage(...RENDER, channels);
      for (let k = 0; k < i.data.length; k++) i.data[k] = random() * scale;
      return uploadImage(device, i);
    };
    // HDR color up to 3: the tonemap and its inverse matter.
    const frames = [0, 1, 2].map(() => ({
      color: input(4, 3),
      depth: input(1, 1),
      motion: input(2, 0.02),
    }));
    const exposureTexture = device.createTexture({
      size: [1, 1],
      format: 'r32float',
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
    });
    device.queue.writeTexture({ texture: exposureTexture }, new Float32Array([0.6]), {}, [1, 1]);
    const callerTexture = (format: GPUTextureFormat) =>
      device.createTexture({
        size: DISPLAY,
        format,
        usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_SRC,
      });
    // Per frame: reset, exposure, the caller's output format (undefined: the upscaler's own
    // texture), sharpness.
    const plan: {
      reset: boolean;
      exposure: number | GPUTexture;
      format?: GPUTextureFormat;
      sharpness?: number;
    }[] = [
      { reset: true, exposure: 1 },
      { reset: false, exposure: 1, format: 'rgba16float' },
      { reset: false, exposure: 2.5 },
      { reset: false, exposure: 2.5, format: 'rgba8unorm' },
      { reset: false, exposure: exposureTexture, format: 'rgba32float' },
      { reset: false, exposure: 0.6, sharpness: 0.5 },
      { reset: true, exposure: 1.7, format: 'rgba16float' },
      { reset: false, exposure: 1.7 },
    ];
    const run = async (foldOutput: boolean) => {
      const resolver = await resolverOf(device, kind, foldOutput);
      assert.equal(resolver.writesOutput, foldOutput);
      const up = await createUpscaler(device, {
        displaySize: DISPLAY,
        renderSize: RENDER,
        method: kind.startsWith('neural') ? 'neural' : 'taau',
        resolver,
      });
      const results: { image: Float32Array; texture: Uint8Array; passes: string[] }[] = [];
      for (const [i, f] of plan.entries()) {
        const output = f.format ? callerTexture(f.format) : undefined;
        const encoder = device.createCommandEncoder();
        const passes: string[] = [];
        const begin = encoder.beginComputePass.bind(encoder);
        encoder.beginComputePass = (d?: GPUComputePassDescriptor) => {
          passes.push(d?.label ?? '');
          return begin(d);
        };
        const inputs: DispatchInputs = {
          ...defaultFrameParams(),
          ...frames[i % frames.length]!,
          jitter: up.jitter(i),
          reset: f.reset,
          exposure: f.exposure,
          ...(output ? { output } : {}),
          ...(f.sharpness !== undefined ? { sharpness: f.sharpness } : {}),
        };
        up.dispatch(encoder, inputs);
        device.queue.submit([encoder.finish()]);
        results.push({
          image: (await readGpuImage(device, up.outputImage)).data,
          texture: await textureBytes(device, output ?? up.output),
          passes,
        });
        output?.destroy();
      }
      up.destroy();
      return results;
    };
    const folded = await run(true);
    const separate = await run(false);
    for (const [i, f] of plan.entries()) {
      const what = `frame ${i} (${f.format ?? 'own texture'}, sharpness ${f.sharpness})`;
      assert.deepEqual(bits(folded[i]!.image), bits(separate[i]!.image), `${what}: image`);
      assert.deepEqual(folded[i]!.texture, separate[i]!.texture, `${what}: texture`);
      assert.ok(separate[i]!.passes.includes('uplift output'), `${what}: output pass`);
      assert.equal(
        folded[i]!.passes.includes('uplift output'),
        f.sharpness !== undefined,
        `${what}: output pass only with sharpening`,
      );
    }
    // Not a trivial image: varied, finite, above 1 somewhere (HDR), and exposure-dependent.
    const image = folded[2]!.image;
    assert.ok(image.every(Number.isFinite));
    assert.ok(new Set(image).size > 100, 'a varied output');
    assert.ok(
      image.some((v) => v > 0.5),
      'HDR values',
    );
    assert.notDeepEqual(bits(folded[1]!.image), bits(folded[2]!.image));
    exposureTexture.destroy();
  });
}

test('folded output: a caller resolver without writesOutput is given no output and keeps the output pass', async () => {
  const { device } = await testGpu();
  const own = createTaauResolver(device);
  let given: unknown = 'not called';
  const caller: Resolver = {
    resolve(encoder, inputs) {
      given = inputs.output;
      return own.resolve(encoder, inputs);
    },
    resize: (r, d) => own.resize(r, d),
    destroy: () => own.destroy(),
    historyFormat: 'rgba16float',
  };
  const up = await createUpscaler(device, {
    displaySize: DISPLAY,
    renderSize: RENDER,
    resolver: caller,
  });
  const color = uploadImage(device, createImage(...RENDER, 4));
  const depth = uploadImage(device, createImage(...RENDER, 1));
  const motion = uploadImage(device, createImage(...RENDER, 2));
  const encoder = device.createCommandEncoder();
  const labels: string[] = [];
  const begin = encoder.beginComputePass.bind(encoder);
  encoder.beginComputePass = (d?: GPUComputePassDescriptor) => {
    labels.push(d?.label ?? '');
    return begin(d);
  };
  up.dispatch(encoder, { ...defaultFrameParams(), color, depth, motion });
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
  assert.equal(given, undefined, 'no output given to a resolver that does not write it');
  assert.ok(labels.includes('uplift output'));
  up.destroy();
});

// Network v3a (the filter + blend and the output in its last layer) and v2 (its 3×3 head with
// them, computing its input in its halo).
for (const [method, network] of [
  ['taau', undefined],
  ['neural', 'v3a'],
  ['neural', 'v2'],
] as const) {
  test(`folded output (${method}${network ? ` ${network}` : ''}): ready() compiles the resolve writing each output format`, async () => {
    // A device of its own, whose pipeline cache is empty.
    const { device } = await requestGpu();
    const sync: string[] = [];
    const createComputePipeline = device.createComputePipeline.bind(device);
    device.createComputePipeline = (d: GPUComputePipelineDescriptor) => {
      sync.push(d.label ?? '');
      return createComputePipeline(d);
    };
    const up = await createUpscaler(device, {
      displaySize: [19, 11],
      method,
      ...(network === 'v3a'
        ? { model: randomInt8Model(NETWORK_V3_CANDIDATES['v3a']!), precision: 'int8' as const }
        : network === 'v2'
          ? { model: 'weights/uplift-v2-int8.uplift', precision: 'int8' as const }
          : {}),
    });
    await up.ready();
    const [w, h] = up.renderSize;
    const zero = (c: number) => uploadImage(device, createImage(w, h, c));
    for (const format of ['rgba16float', 'rgba8unorm', undefined] as const) {
      for (const sharpness of [undefined, 0.3]) {
        const output = format
          ? device.createTexture({ size: [19, 11], format, usage: GPUTextureUsage.STORAGE_BINDING })
          : undefined;
        const encoder = device.createCommandEncoder();
        up.dispatch(encoder, {
          ...defaultFrameParams(),
          color: zero(4),
          depth: zero(1),
          motion: zero(2),
          ...(output ? { output } : {}),
          ...(sharpness !== undefined ? { sharpness } : {}),
        });
        device.queue.submit([encoder.finish()]);
        await device.queue.onSubmittedWorkDone();
        output?.destroy();
      }
    }
    assert.deepEqual(sync, [], 'pipelines compiled after ready()');
    up.destroy();
    device.destroy();
  });
}
