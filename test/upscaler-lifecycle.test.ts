// The upscaler's life around its frames: ready() compiles every pipeline asynchronously (the
// first frame then compiles none, and computes what an upscaler without ready() computes),
// memoryBytes counts what it allocated, and a lost device is reported and refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requestGpu } from '../src/gpu/device.ts';
import { defaultFrameParams } from '../src/core/frame.ts';
import { DeviceLostError } from '../src/core/errors.ts';
import { createTaauResolver, createUpscaler, type UpscalerOptions } from '../src/upscaler.ts';
import { rng } from './helpers/gpu.ts';
import { createNeuralResolver } from '../src/nn/resolve/neural-resolver.ts';

/** A fresh device (an empty pipeline cache) whose pipeline compilations and allocations are counted. */
async function countingDevice() {
  const { device } = await requestGpu();
  const counts = { sync: 0, async: 0, liveBytes: 0 };
  const createPipeline = device.createComputePipeline.bind(device);
  const createPipelineAsync = device.createComputePipelineAsync.bind(device);
  const createBuffer = device.createBuffer.bind(device);
  const createTexture = device.createTexture.bind(device);
  device.createComputePipeline = (d: GPUComputePipelineDescriptor) => {
    counts.sync++;
    return createPipeline(d);
  };
  device.createComputePipelineAsync = (d: GPUComputePipelineDescriptor) => {
    counts.async++;
    return createPipelineAsync(d);
  };
  device.createBuffer = (d: GPUBufferDescriptor) => {
    const buffer = createBuffer(d);
    counts.liveBytes += d.size;
    const destroy = buffer.destroy.bind(buffer);
    let destroyed = false;
    buffer.destroy = () => {
      if (!destroyed) counts.liveBytes -= d.size;
      destroyed = true;
      destroy();
    };
    return buffer;
  };
  device.createTexture = (d: GPUTextureDescriptor) => {
    const [w, h] = d.size as number[];
    assert.equal(d.format, 'rgba32float', 'the upscaler creates only its rgba32float output');
    counts.liveBytes += w! * h! * 16;
    return createTexture(d);
  };
  return { device, counts, createTexture };
}

/** Random render-size input textures (made with the device's own createTexture, not counted). */
function inputTextures(
  device: GPUDevice,
  createTexture: (d: GPUTextureDescriptor) => GPUTexture,
  [w, h]: readonly [number, number],
  seed: number,
) {
  const random = rng(seed);
  const texture = (format: GPUTextureFormat, channels: number, scale: number) => {
    const t = createTexture({
      size: [w, h],
      format,
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
    });
    const data = new Float32Array(w * h * channels).map(() => random() * scale);
    device.queue.writeTexture({ texture: t }, data, { bytesPerRow: w * channels * 4 }, [w, h]);
    return t;
  };
  return {
    color: texture('rgba32float', 4, 2),
    depth: texture('r32float', 1, 1),
    motion: texture('rg32float', 2, 0.01),
  };
}

async function runFrames(
  device: GPUDevice,
  options: UpscalerOptions,
  createTexture: (d: GPUTextureDescriptor) => GPUTexture,
  ready: boolean,
  onFirstFrame?: () => void,
): Promise<Float32Array> {
  const up = await createUpscaler(device, options);
  if (ready) await up.ready();
  onFirstFrame?.();
  for (let i = 0; i < 3; i++) {
    const encoder = device.createCommandEncoder();
    const inputs = inputTextures(device, createTexture, up.renderSize, 10 + i);
    up.dispatch(encoder, {
      ...defaultFrameParams(),
      ...inputs,
      jitter: up.jitter(i),
      reset: i === 0,
    });
    device.queue.submit([encoder.finish()]);
  }
  const [w, h] = up.displaySize;
  const read = device.createBuffer({
    size: w * h * 16,
    usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
  });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(up.outputImage.buffer, 0, read, 0, w * h * 16);
  device.queue.submit([encoder.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const pixels = new Float32Array(read.getMappedRange().slice(0));
  read.destroy();
  up.destroy();
  return pixels;
}

// Network v2 on INT8 too: its last layer computes its input in its halo (the kernel ready()
// must compile ahead is the frame's).
for (const [name, extra] of [
  ['taau', { method: 'taau' }],
  ['neural', { method: 'neural', precision: 'f32' }],
  [
    'neural v2 int8',
    { method: 'neural', precision: 'int8', model: 'weights/uplift-v2-int8.uplift' },
  ],
] as const) {
  test(`${name}: after ready() the first frames compile no pipeline, and compute what they compute without it`, async () => {
    const { device, counts, createTexture } = await countingDevice();
    const options: UpscalerOptions = { displaySize: [32, 24], ...extra };
    let syncAtFirstFrame = -1;
    const withReady = await runFrames(device, options, createTexture, true, () => {
      syncAtFirstFrame = counts.sync;
    });
    assert.ok(counts.async > 0, 'ready() compiles asynchronously');
    assert.equal(counts.sync, syncAtFirstFrame, 'no pipeline compiled while dispatching');
    // The same frames on the same device without ready(): the same output, bit for bit.
    const without = await runFrames(device, options, createTexture, false);
    assert.deepEqual(new Uint32Array(withReady.buffer), new Uint32Array(without.buffer));
    assert.ok(withReady.some((v) => v > 0.1) && withReady.every(Number.isFinite));
    device.destroy();
  });
}

test('memoryBytes: what the upscaler allocated and still holds, within the uniform blocks', async () => {
  const { device, counts, createTexture } = await countingDevice();
  const held = new Map<string, number>();
  const cases: [string, UpscalerOptions['method'], Partial<UpscalerOptions>, boolean?][] = [
    ['taau', 'taau', {}],
    ['f32', 'neural', { precision: 'f32' }],
    ['int8', 'neural', { precision: 'int8', model: 'weights/uplift-v2-int8.uplift' }],
    // The recurrent-state ablation's resolver binds a zero state image of its own.
    ['f32 zero state', 'neural', { precision: 'f32' }, true],
  ];
  for (const [name, method, options, zeroState] of cases) {
    const before = counts.liveBytes;
    const resolver = zeroState
      ? await createNeuralResolver(device, { model: undefined, precision: 'f32', zeroState })
      : undefined;
    const up = await createUpscaler(device, {
      displaySize: [64, 48],
      method,
      ...options,
      ...(resolver ? { resolver } : {}),
    });
    const encoder = device.createCommandEncoder();
    const inputs = inputTextures(device, createTexture, up.renderSize, 3);
    up.dispatch(encoder, { ...defaultFrameParams(), ...inputs, reset: true });
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    const allocated = counts.liveBytes - before;
    const what = `${name}: memoryBytes ${up.memoryBytes}, allocated ${allocated}`;
    // At least six display-size images of 16 bytes a pixel (history and state, previous and
    // reprojected, are f32 by default; and the output).
    assert.ok(up.memoryBytes > 64 * 48 * 16 * 6, what);
    // Uniform blocks (16–64 bytes per dispatch) are allocated but not counted.
    assert.ok(up.memoryBytes <= allocated && allocated - up.memoryBytes < 8192, what);
    held.set(name, up.memoryBytes);
    up.resize([32, 32]);
    assert.ok(up.memoryBytes < held.get(name)!, 'a smaller size holds less');
    up.destroy();
  }
  // The ablation binds a zero state image of its own and runs the reproject pass, so the
  // upscaler holds a reprojected state too; the default resolver reprojects in its features
  // pass and the upscaler holds a 1×1 placeholder (16 bytes) for it.
  assert.equal(
    held.get('f32 zero state')! - held.get('f32')!,
    2 * 64 * 48 * 16 - 16,
    'the zero state and the reprojected state: two rgba32float display-size images',
  );
  // History and state in rgba16float (an option; f32 is the default): TAAU's four display-size
  // ones (reprojected and resolved) and the two 1×1 ones bound before the first resolve take 8
  // bytes a pixel less each than in rgba32float.
  const taau = await createUpscaler(device, {
    displaySize: [64, 48],
    method: 'taau',
    resolver: createTaauResolver(device, {}, 'rgba16float'),
  });
  const f32 = await createUpscaler(device, { displaySize: [64, 48], method: 'taau' });
  for (const up of [taau, f32]) {
    const encoder = device.createCommandEncoder();
    const inputs = inputTextures(device, createTexture, up.renderSize, 3);
    up.dispatch(encoder, { ...defaultFrameParams(), ...inputs, reset: true });
    device.queue.submit([encoder.finish()]);
  }
  assert.equal(f32.memoryBytes - taau.memoryBytes, 4 * 8 * 64 * 48 + 2 * 8);
  taau.destroy();
  f32.destroy();
  device.destroy();
});

test('a lost device: up.lost resolves, dispatch and ready() throw DeviceLostError', async () => {
  const { device, createTexture } = await countingDevice();
  const up = await createUpscaler(device, { displaySize: [16, 16] });
  const inputs = inputTextures(device, createTexture, up.renderSize, 5);
  device.destroy();
  const info = await up.lost;
  assert.equal(info.reason, 'destroyed');
  const encoder = device.createCommandEncoder();
  assert.throws(
    () => up.dispatch(encoder, { ...defaultFrameParams(), ...inputs, reset: true }),
    (e: unknown) =>
      e instanceof DeviceLostError && /device was lost \(destroyed.*new upscaler/.test(e.message),
  );
  await assert.rejects(up.ready(), DeviceLostError);
  up.destroy();
  // A new device makes a working upscaler again.
  const fresh = await countingDevice();
  const again = await createUpscaler(fresh.device, { displaySize: [16, 16] });
  await again.ready();
  const e2 = fresh.device.createCommandEncoder();
  again.dispatch(e2, {
    ...defaultFrameParams(),
    ...inputTextures(fresh.device, fresh.createTexture, again.renderSize, 6),
    reset: true,
  });
  fresh.device.queue.submit([e2.finish()]);
  await fresh.device.queue.onSubmittedWorkDone();
  again.destroy();
  fresh.device.destroy();
});

test('every method, with every optional input, runs on a device with default limits', async () => {
  const { device } = await requestGpu({ limits: 'default' });
  assert.equal(device.limits.maxStorageBuffersPerShaderStage, 8);
  const errors: string[] = [];
  device.addEventListener('uncapturederror', (e) =>
    errors.push((e as GPUUncapturedErrorEvent).error.message),
  );
  const exposure = device.createTexture({
    size: [1, 1],
    format: 'r32float',
    usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
  });
  device.queue.writeTexture({ texture: exposure }, new Float32Array([2]), {}, [1, 1]);
  for (const options of [
    { method: 'bilinear' },
    { method: 'lanczos', sharpness: 0.5 },
    { method: 'taau', sharpness: 0.5 },
    { method: 'neural', precision: 'f32' },
    { method: 'neural', precision: 'int8', model: 'weights/uplift-v2-int8.uplift' },
  ] as const) {
    const up = await createUpscaler(device, { displaySize: [32, 24], ...options });
    await up.ready();
    const inputs = inputTextures(device, device.createTexture.bind(device), up.renderSize, 7);
    const mask = inputTextures(device, device.createTexture.bind(device), up.renderSize, 8).depth;
    for (let i = 0; i < 2; i++) {
      const encoder = device.createCommandEncoder();
      up.dispatch(encoder, {
        ...defaultFrameParams(),
        ...inputs,
        reactive: mask,
        transparency: mask,
        exposure,
        preExposure: 0.5,
        jitter: up.jitter(i),
        reset: i === 0,
      });
      device.queue.submit([encoder.finish()]);
    }
    await device.queue.onSubmittedWorkDone();
    up.destroy();
  }
  assert.deepEqual(errors, []);
  device.destroy();
});

test('a destroyed input texture fails that submit (WebGPU validation) and leaves history intact', async () => {
  const { device } = await requestGpu();
  const size: [number, number] = [16, 12];
  const frame = (up: Awaited<ReturnType<typeof createUpscaler>>, inputs: object, i: number) => {
    const encoder = device.createCommandEncoder();
    up.dispatch(encoder, {
      ...defaultFrameParams(),
      ...(inputs as ReturnType<typeof inputTextures>),
      jitter: up.jitter(i),
      reset: i === 0,
    });
    device.queue.submit([encoder.finish()]);
  };
  const read = async (up: Awaited<ReturnType<typeof createUpscaler>>) => {
    const buffer = device.createBuffer({
      size: 32 * 24 * 16,
      usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
    });
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(up.outputImage.buffer, 0, buffer, 0, buffer.size);
    device.queue.submit([encoder.finish()]);
    await buffer.mapAsync(GPUMapMode.READ);
    const pixels = new Float32Array(buffer.getMappedRange().slice(0));
    buffer.destroy();
    return pixels;
  };
  const make = () => inputTextures(device, device.createTexture.bind(device), size, 11);
  // Two upscalers see the same frames, except that one gets a destroyed color on frame 2.
  const clean = await createUpscaler(device, { displaySize: [32, 24] });
  const hit = await createUpscaler(device, { displaySize: [32, 24] });
  for (let i = 0; i < 4; i++) {
    const inputs = make();
    frame(clean, inputs, i);
    if (i === 2) {
      const broken = make();
      broken.color.destroy();
      device.pushErrorScope('validation');
      frame(hit, broken, i);
      const error = await device.popErrorScope();
      assert.match(String(error?.message), /destroyed/i, 'the submit is refused');
      continue; // the frame is dropped: the next one starts from frame 1's history
    }
    frame(hit, inputs, i);
  }
  const [a, b] = [await read(clean), await read(hit)];
  assert.ok(b.every(Number.isFinite), 'no garbage in the output');
  // History was not poisoned: the outputs differ only by the missed frame's contribution.
  const meanDifference = a.reduce((sum, v, i) => sum + Math.abs(v - b[i]!), 0) / a.length;
  assert.ok(meanDifference < 0.05, `mean difference ${meanDifference}`);
  clean.destroy();
  hit.destroy();
});

for (const [method, precision] of [
  ['taau', 'f32'],
  ['neural', 'f32'],
  ['neural', 'int8'],
] as const) {
  test(`${method} ${precision}: once a jitter cycle has run, a frame creates no buffer and at most one bind group per pass reading the inputs`, async () => {
    const { device, createTexture } = await countingDevice();
    const up = await createUpscaler(device, {
      displaySize: [32, 24],
      method,
      precision,
      ...(precision === 'int8' ? { model: 'weights/uplift-v2-int8.uplift' } : {}),
    });
    const inputs = [0, 1, 2, 3].map((i) =>
      inputTextures(device, createTexture, up.renderSize, 20 + i),
    );
    const frame = (i: number) => {
      const encoder = device.createCommandEncoder();
      up.dispatch(encoder, {
        ...defaultFrameParams(),
        ...inputs[i % 4]!,
        jitter: up.jitter(i % 4),
        reset: i === 0,
      });
      device.queue.submit([encoder.finish()]);
    };
    for (let i = 0; i < 5; i++) frame(i); // a cycle of 4 jitters, then one more frame
    const made = { buffers: 0, groups: 0 };
    const createBuffer = device.createBuffer.bind(device);
    const createBindGroup = device.createBindGroup.bind(device);
    device.createBuffer = (d) => {
      made.buffers++;
      return createBuffer(d);
    };
    device.createBindGroup = (d) => {
      made.groups++;
      return createBindGroup(d);
    };
    for (let i = 5; i < 9; i++) frame(i);
    device.createBuffer = createBuffer;
    device.createBindGroup = createBindGroup;
    await device.queue.onSubmittedWorkDone();
    // Uniform blocks are kept by content and bind groups by buffers: only the passes that bind
    // the caller's textures (views made per frame) make a group per frame.
    assert.equal(made.buffers, 0, 'buffers created by steady frames');
    assert.ok(made.groups <= 4 * 2, `bind groups in 4 steady frames: ${made.groups}`);
    up.destroy();
    device.destroy();
  });
}
