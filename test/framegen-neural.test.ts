// Learned frame generation: the features pass and the blend (both targets) against their CPU
// reference on random inputs (f32 rounding: 1e-4 relative + 2e-5 absolute), the blend's backward
// against its reference and, in float64, against finite differences of the blend; the network's
// shape contract; the frame generator's neural method against the whole CPU reference.
import { test } from 'node:test';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import assert from 'node:assert/strict';
import { testGpu, rng } from './helpers/gpu.ts';
import { createImage, type Image } from '../src/core/image.ts';
import { createGpuImage, readGpuImage, uploadGpuImage } from '../src/gpu/gpu-image.ts';
import { readBuffer, createStorageBuffer, readImage, uploadImage } from '../src/gpu/resources.ts';
import { encodeFramegenFeatures } from '../src/gpu/passes/framegen-features.ts';
import { encodeFramegenBlend } from '../src/gpu/passes/framegen-blend.ts';
import { encodeFramegenBlendBackward } from '../src/nn/backward/framegen-blend.ts';
import {
  framegenBlendBackwardCpu,
  framegenBlendCpu,
  framegenFeaturesCpu,
  framegenOutputCpu,
  generateFrameNeuralCpu,
} from '../src/reference/frame-generation-neural.ts';
import type { FrameGenerationParams } from '../src/core/frame-generation.ts';
import { createFrameGenerator } from '../src/frame-generator.ts';
import { initWeights } from '../src/nn/weights.ts';
import { loadFramegenModel } from '../src/nn/framegen-model.ts';
import {
  FRAMEGEN_CANDIDATES,
  FRAMEGEN_FEATURE_CHANNELS,
  FRAMEGEN_RAW_CHANNELS,
} from '../src/core/framegen-neural.ts';
import { FRAMEGEN_NETWORK_V1 } from '../src/nn/framegen-network.ts';
import { createFramegenNeural, framegenRunsInt8 } from '../src/nn/framegen-neural.ts';
import {
  baseGraph,
  calibrateActivationScales,
  graphQuantization,
  quantizeGraph,
} from '../src/nn/quantize.ts';
import { planInt8 } from '../src/core/int8-plan.ts';
import { runInt8NetworkCpu } from '../src/reference/nn/int8-network.ts';
import { createInt8Network } from '../src/nn/int8-network.ts';
import { splitFramegenHead } from '../src/nn/framegen-head-blend.ts';
import { runNetworkCpu } from '../src/reference/nn/network.ts';
import { countParameters, inferShapes, inputMultiple } from '../src/core/graph.ts';
import type { Size } from '../src/core/quality.ts';
import type { Tensor } from '../src/core/tensor.ts';
import { checkGradient } from '../src/train/grad-check.ts';
import { halfTexture, loadedImage, unormTexture } from './helpers/format-textures.ts';

const DISPLAY: Size = [47, 31];
const PADDED: Size = [48, 32];
const RENDER: Size = [24, 16];

function randomImage(w: number, h: number, c: number, random: () => number, hi = 1): Image {
  const image = createImage(w, h, c);
  for (let i = 0; i < image.data.length; i++) image.data[i] = hi * random();
  return image;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= 2e-5 + 1e-4 * Math.abs(e))) {
      assert.fail(`${what}: value ${i}: GPU ${a}, CPU ${e}`);
    }
  }
}

/** A random time-t motion field: motions up to ±0.3 of the image, visibility flags mixed. */
function randomField(random: () => number): Image {
  const [w, h] = RENDER;
  const field = createImage(w, h, 4);
  for (let i = 0; i < w * h; i++) {
    field.data.set(
      [
        (random() - 0.5) * 0.6,
        (random() - 0.5) * 0.6,
        random() < 0.7 ? 1 : 0,
        random() < 0.7 ? 1 : 0,
      ],
      i * 4,
    );
  }
  return field;
}

test('framegen features: GPU = CPU on random HDR frames, fields and reactive masks (padded size)', async () => {
  const { device } = await testGpu();
  const random = rng(41);
  const [W, H] = DISPLAY;
  const previous = randomImage(W, H, 4, random, 6);
  const current = randomImage(W, H, 4, random, 6);
  previous.data[9] = NaN;
  current.data[30] = Infinity;
  current.data[31] = -2;
  const field = randomField(random);
  const reactive = randomImage(...RENDER, 1, random, 1.5);
  for (const [t, withReactive] of [
    [0.5, true],
    [0.25, false],
  ] as const) {
    const expected = framegenFeaturesCpu(
      previous,
      current,
      field,
      withReactive ? reactive : undefined,
      t,
      PADDED,
    );
    const features = device.createBuffer({
      size: expected.data.length * 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeFramegenFeatures(
      device,
      pass,
      {
        previous: uploadGpuImage(device, previous),
        current: uploadGpuImage(device, current),
        field: uploadGpuImage(device, field),
        ...(withReactive ? { reactive: uploadGpuImage(device, reactive) } : {}),
      },
      t,
      PADDED,
      features,
    );
    pass.end();
    device.queue.submit([encoder.finish()]);
    assertClose(await readBuffer(device, features), expected.data, `t ${t}`);
    // The inputs reach every case: off-image reads, unseen surfaces, candidates that disagree.
    const plane = PADDED[0] * PADDED[1];
    const channel = (c: number) => expected.data.subarray(c * plane, (c + 1) * plane);
    assert.ok(channel(12).some((v) => v === 0) && channel(12).some((v) => v === 1));
    assert.ok(Math.max(...channel(17)) > 0.2, 'warped reads disagree somewhere');
    assert.ok(
      channel(0).every((v) => v >= 0 && v < 1),
      'tonemapped candidates in [0, 1)',
    );
  }
});

test('framegen features: frames and mask read from textures (rgba16float, r8unorm) = CPU on the values held, = the image path bit for bit', async () => {
  const { device } = await testGpu();
  const random = rng(45);
  const [W, H] = DISPLAY;
  const previous = halfTexture(device, randomImage(W, H, 4, random, 6));
  const current = halfTexture(device, randomImage(W, H, 4, random, 6));
  const field = randomField(random);
  const reactive = unormTexture(device, randomImage(...RENDER, 1, random));
  const gpuField = uploadGpuImage(device, field);
  const run = async (frames: Parameters<typeof encodeFramegenFeatures>[2]) => {
    const features = device.createBuffer({
      size: FRAMEGEN_FEATURE_CHANNELS * PADDED[0] * PADDED[1] * 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeFramegenFeatures(device, pass, frames, 0.4, PADDED, features);
    pass.end();
    device.queue.submit([encoder.finish()]);
    return readBuffer(device, features);
  };
  const fromTextures = await run({
    previous: previous.texture,
    current: current.texture,
    field: gpuField,
    reactive: reactive.texture,
  });
  // The path before textures were read in place: the load pass, then the images.
  const fromImages = await run({
    previous: loadedImage(device, previous.texture),
    current: loadedImage(device, current.texture),
    field: gpuField,
    reactive: loadedImage(device, reactive.texture),
  });
  assert.deepEqual(fromTextures, fromImages);
  const expected = framegenFeaturesCpu(
    previous.held,
    current.held,
    field,
    reactive.held,
    0.4,
    PADDED,
  );
  assertClose(fromTextures, expected.data, 'textures');
});

test('framegen head + blend (one pass): = the network, blend and output passes bit for bit, = CPU; the split it runs on', async () => {
  const { device } = await testGpu();
  const random = rng(47);
  const [W, H] = DISPLAY;
  const parameters = initWeights(FRAMEGEN_NETWORK_V1, 9);
  for (const [name, values] of parameters) {
    if (name.endsWith('.bias')) values.forEach((_, i) => (values[i] = random() - 0.5));
  }
  const model = { graph: FRAMEGEN_NETWORK_V1, parameters };
  const split = splitFramegenHead(FRAMEGEN_NETWORK_V1)!;
  assert.deepEqual(split.headInputs, ['up', 'features']);
  assert.deepEqual(split.trunk.outputs, ['up']);
  assert.equal(split.trunk.nodes.length, FRAMEGEN_NETWORK_V1.nodes.length - 2);
  // Graphs the fused pass cannot run keep the separate passes.
  const quantized = {
    ...FRAMEGEN_NETWORK_V1,
    nodes: FRAMEGEN_NETWORK_V1.nodes.map((n) => (n.name === 'head' ? { ...n, weightBits: 8 } : n)),
  };
  assert.equal(splitFramegenHead(quantized), undefined);
  const previous = randomImage(W, H, 4, random, 5);
  const current = randomImage(W, H, 4, random, 5);
  const field = randomField(random);
  const reactive = randomImage(...RENDER, 1, random);
  const frames = {
    previous: uploadGpuImage(device, previous),
    current: uploadGpuImage(device, current),
    field: uploadGpuImage(device, field),
    reactive: uploadGpuImage(device, reactive),
  };
  const run = async (fuseHead: boolean) => {
    const neural = createFramegenNeural(device, model, DISPLAY, { fuseHead });
    const image = createGpuImage(device, W, H);
    const texture = device.createTexture({
      size: [W, H],
      format: 'rgba32float',
      usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_SRC,
    });
    const encoder = device.createCommandEncoder();
    neural.encode(encoder, frames, 0.4, { image, texture });
    device.queue.submit([encoder.finish()]);
    const out = {
      image: await readGpuImage(device, image),
      texture: await readImage(device, texture),
    };
    neural.destroy();
    return out;
  };
  const fused = await run(true);
  const separate = await run(false);
  assert.deepEqual(fused.image.data, separate.image.data);
  assert.deepEqual(fused.texture.data, separate.texture.data);
  const features = framegenFeaturesCpu(previous, current, field, reactive, 0.4, PADDED);
  const raw = runNetworkCpu(model.graph, model.parameters, features).output;
  const expected = framegenOutputCpu(framegenBlendCpu(features, raw, DISPLAY));
  assertClose(fused.image.data, expected.data, 'fused');
  // The candidates do get different weights (the blend is not one candidate everywhere).
  const w = raw.data.slice(0, PADDED[0] * PADDED[1]);
  assert.ok(Math.max(...w) - Math.min(...w) > 0.5, 'logits vary');
});

test('framegen neural, INT8: a quantized model runs on the INT8 kernels = the INT8 CPU oracle, blended and output as the CPU reference does', async () => {
  const { device } = await testGpu();
  const random = rng(48);
  const [W, H] = DISPLAY;
  const parameters = initWeights(FRAMEGEN_NETWORK_V1, 10);
  for (const [name, values] of parameters) {
    if (name.endsWith('.bias')) values.forEach((_, i) => (values[i] = random() - 0.5));
  }
  const previous = randomImage(W, H, 4, random, 5);
  const current = randomImage(W, H, 4, random, 5);
  const field = randomField(random);
  const cpuFeatures = framegenFeaturesCpu(previous, current, field, undefined, 0.5, PADDED);
  const scales = calibrateActivationScales(FRAMEGEN_NETWORK_V1, parameters, [cpuFeatures]);
  const graph = quantizeGraph(FRAMEGEN_NETWORK_V1, {
    weightBits: 8,
    activationBits: 8,
    activationScales: scales,
  });
  const model = { graph, parameters };
  assert.equal(await framegenRunsInt8(device, model), true);
  assert.equal(await framegenRunsInt8(device, { graph: FRAMEGEN_NETWORK_V1, parameters }), false);
  const frames = {
    previous: uploadGpuImage(device, previous),
    current: uploadGpuImage(device, current),
    field: uploadGpuImage(device, field),
  };
  // The GPU's own features (the same pass the generator records), for the oracle.
  const featureBuffer = device.createBuffer({
    size: cpuFeatures.data.length * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const neural = createFramegenNeural(device, model, DISPLAY, { int8: true });
  const image = createGpuImage(device, W, H);
  const texture = device.createTexture({
    size: [W, H],
    format: 'rgba32float',
    usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_SRC,
  });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encodeFramegenFeatures(device, pass, frames, 0.5, PADDED, featureBuffer);
  pass.end();
  neural.encode(encoder, frames, 0.5, { image, texture });
  device.queue.submit([encoder.finish()]);
  const gpuFeatures = { ...cpuFeatures, data: await readBuffer(device, featureBuffer) };
  // The features pass's own int8 copies = what the INT8 network's quantize kernel makes of the
  // f32 features, bit for bit.
  const [byPass, byNetwork] = [
    createInt8Network(device, planInt8(graph, parameters)),
    createInt8Network(device, planInt8(graph, parameters)),
  ];
  const [ph, pw] = [PADDED[1], PADDED[0]];
  const featureTensor = {
    channels: FRAMEGEN_FEATURE_CHANNELS,
    height: ph,
    width: pw,
    buffer: featureBuffer,
  };
  const copies = byPass.inputQuantizations(ph, pw);
  assert.equal(copies.length, 2, 'features and join');
  const copyEncoder = device.createCommandEncoder();
  const copyPass = copyEncoder.beginComputePass();
  encodeFramegenFeatures(device, copyPass, frames, 0.5, PADDED, featureBuffer, {
    copies,
    writeCues: true,
  });
  copyPass.end();
  byNetwork.run(copyEncoder, featureTensor);
  device.queue.submit([copyEncoder.finish()]);
  const theirs = byNetwork.inputQuantizations(ph, pw);
  for (const [k, copy] of copies.entries()) {
    const mine = new Uint32Array((await readBuffer(device, copy.output.buffer)).buffer);
    const want = new Uint32Array((await readBuffer(device, theirs[k]!.output.buffer)).buffer);
    // Only the features' words of each pixel (join's first words are the network's up2x2).
    const groups = Math.ceil(copy.output.channels / 4);
    const first = copy.outChannelOffset / 4;
    const n = Math.ceil(FRAMEGEN_FEATURE_CHANNELS / 4);
    const words = (all: Uint32Array) =>
      Array.from(
        { length: ph * pw * n },
        (_, i) => all[Math.floor(i / n) * groups + first + (i % n)]!,
      );
    assert.deepEqual(words(mine), words(want), `int8 copy ${k}`);
    assert.ok(words(mine).some((w) => w !== 0));
  }
  byPass.destroy();
  byNetwork.destroy();
  const raw = runInt8NetworkCpu(planInt8(graph, parameters), gpuFeatures).output;
  const expected = framegenOutputCpu(framegenBlendCpu(gpuFeatures, raw, DISPLAY));
  assertClose((await readGpuImage(device, image)).data, expected.data, 'int8');
  neural.destroy();
});

function randomTensor(channels: number, [width, height]: Size, random: () => number, scale = 1) {
  const data = new Float32Array(channels * width * height).map(() => scale * (random() * 2 - 1));
  return { channels, height, width, data } as Tensor;
}

test('framegen blend: GPU = CPU into a tensor and into an image; weights are a softmax', async () => {
  const { device } = await testGpu();
  const random = rng(42);
  const features = randomTensor(FRAMEGEN_FEATURE_CHANNELS, PADDED, random);
  features.data.forEach((v, i) => (features.data[i] = Math.abs(v)));
  const logits = randomTensor(FRAMEGEN_RAW_CHANNELS, PADDED, random, 4);
  const expected = framegenBlendCpu(features, logits, DISPLAY);
  const inputs = {
    features: createStorageBuffer(device, features.data),
    logits: createStorageBuffer(device, logits.data),
    size: DISPLAY,
    padded: PADDED,
  };
  const tensor = device.createBuffer({
    size: expected.data.length * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const image = createGpuImage(device, ...DISPLAY);
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encodeFramegenBlend(device, pass, inputs, { tensor });
  encodeFramegenBlend(device, pass, inputs, { image });
  pass.end();
  device.queue.submit([encoder.finish()]);
  assertClose(await readBuffer(device, tensor), expected.data, 'tensor');
  const rgb = await readGpuImage(device, image, 3);
  const plane = DISPLAY[0] * DISPLAY[1];
  const interleaved = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) interleaved[i * 3 + c] = expected.data[c * plane + i]!;
  }
  assertClose(rgb.data, interleaved, 'image');
  // Equal logits give the mean of the candidates.
  const flat = { ...logits, data: new Float32Array(logits.data.length).fill(0.3) };
  const mean = framegenBlendCpu(features, flat, DISPLAY);
  const fPlane = PADDED[0] * PADDED[1];
  let want = 0;
  for (let k = 0; k < FRAMEGEN_CANDIDATES; k++) want += features.data[3 * k * fPlane] ?? 0;
  assert.ok(Math.abs(mean.data[0]! - want / FRAMEGEN_CANDIDATES) < 1e-6);
});

test('framegen blend backward: finite differences (float64) and GPU = CPU', async () => {
  const random = rng(43);
  const size: Size = [5, 3];
  const padded: Size = [6, 4];
  const features64 = randomTensor(FRAMEGEN_FEATURE_CHANNELS, padded, random);
  const f64 = { ...features64, data: Float64Array.from(features64.data, Math.abs) };
  const dOut = {
    channels: 3,
    height: 3,
    width: 5,
    data: new Float64Array(45).map(() => random() - 0.5),
  };
  const z = Float64Array.from(randomTensor(FRAMEGEN_RAW_CHANNELS, padded, random, 3).data);
  const loss = (x: Float64Array) => {
    const out = framegenBlendCpu(f64, { channels: 4, height: 4, width: 6, data: x }, size);
    return out.data.reduce((s, v, i) => s + v * dOut.data[i]!, 0);
  };
  const analytic = framegenBlendBackwardCpu(
    f64,
    { channels: 4, height: 4, width: 6, data: z },
    dOut,
  );
  const check = checkGradient(loss, z, analytic.data);
  assert.ok(check.maxRelativeError < 1e-6, `relative error ${check.maxRelativeError}`);
  // Padding pixels get no gradient.
  assert.equal(analytic.data[5], 0);

  const { device } = await testGpu();
  const features = randomTensor(FRAMEGEN_FEATURE_CHANNELS, PADDED, random);
  features.data.forEach((v, i) => (features.data[i] = Math.abs(v)));
  const logits = randomTensor(FRAMEGEN_RAW_CHANNELS, PADDED, random, 4);
  const g = randomTensor(3, DISPLAY, random);
  const expected = framegenBlendBackwardCpu(features, logits, g);
  const dLogits = device.createBuffer({
    size: logits.data.length * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encodeFramegenBlendBackward(
    device,
    pass,
    {
      features: createStorageBuffer(device, features.data),
      logits: createStorageBuffer(device, logits.data),
      size: DISPLAY,
      padded: PADDED,
    },
    createStorageBuffer(device, g.data),
    dLogits,
  );
  pass.end();
  device.queue.submit([encoder.finish()]);
  assertClose(await readBuffer(device, dLogits), expected.data, 'dLogits');
});

test('framegen network v1: features in, one logit per candidate out at the input size, a few thousand parameters', () => {
  assert.equal(inputMultiple(FRAMEGEN_NETWORK_V1), 2);
  const out = inferShapes(FRAMEGEN_NETWORK_V1, 64, 96).get('logits')!;
  assert.deepEqual([out.channels, out.height, out.width], [FRAMEGEN_RAW_CHANNELS, 64, 96]);
  assert.equal(countParameters(FRAMEGEN_NETWORK_V1), 4824);
});

/** Blocks of one surface each (motion kept off pixel edges at t = 0.5), depths apart. */
function blockMotionAndDepth(random: () => number): { motion: Image; depth: Image } {
  const [w, h] = RENDER;
  const motion = createImage(w, h, 2);
  const depth = createImage(w, h, 1);
  const pixels = () => (Math.floor(random() * 7) - 3 + (random() < 0.5 ? 0.2 : 0.4)) * 2;
  const blocks = Array.from({ length: 12 }, () => [pixels() / w, pixels() / h, random()]);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [mx, my, d] = blocks[Math.floor(x / 6) + 4 * Math.floor(y / 6)]!;
      motion.data.set([mx!, my!], (y * w + x) * 2);
      depth.data[y * w + x] = d!;
    }
  }
  return { motion, depth };
}

/** Frame-generation parameters of the generator tests: halfway, no reset. */
const MID_FRAME: FrameGenerationParams = {
  t: 0.5,
  motionScale: [1, 1],
  cameraNear: 0.1,
  cameraFar: 100,
  reset: false,
};

/** A generated frame against generateFrameNeuralCpu: within f32 tolerance, value by value. */
function assertMatchesCpu(actual: Image, expected: Image): void {
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i]!;
    const e = expected.data[i]!;
    if (!(Math.abs(a - e) <= 5e-5 + 2e-4 * Math.abs(e)))
      assert.fail(`value ${i}: GPU ${a}, CPU ${e}`);
  }
}

test('frame generator, method neural: GPU = generateFrameNeuralCpu with random weights; a reset repeats the previous frame', async () => {
  const { device } = await testGpu();
  const random = rng(44);
  const display: Size = [48, 32];
  const parameters = initWeights(FRAMEGEN_NETWORK_V1, 7);
  for (const [name, values] of parameters) {
    if (name.endsWith('.bias')) values.forEach((_, i) => (values[i] = random() - 0.5));
  }
  const model = { graph: FRAMEGEN_NETWORK_V1, parameters };
  const previous = randomImage(...display, 4, random, 3);
  const current = randomImage(...display, 4, random, 3);
  const { motion, depth } = blockMotionAndDepth(random);
  const reactive = randomImage(...RENDER, 1, random, 0.5);
  const params = MID_FRAME;
  const generator = await createFrameGenerator(device, {
    displaySize: display,
    method: 'neural',
    weights: model,
  });
  assert.equal(generator.method, 'neural');
  const images = { previous, current, motion, depth, reactive };
  const run = async (p: FrameGenerationParams) => {
    const encoder = device.createCommandEncoder();
    const gpu = Object.fromEntries(
      Object.entries(images).map(([k, image]) => [k, uploadGpuImage(device, image)]),
    );
    generator.dispatch(encoder, { ...p, ...gpu } as never);
    device.queue.submit([encoder.finish()]);
    return readGpuImage(device, generator.outputImage);
  };
  const expected = generateFrameNeuralCpu(images, params, model, display);
  const actual = await run(params);
  assertMatchesCpu(actual, expected);
  const reset = await run({ ...params, reset: true });
  for (let i = 0; i < reset.data.length; i += 4) {
    for (let c = 0; c < 3; c++) assert.equal(reset.data[i + c], previous.data[i + c]);
  }
  generator.destroy();
});

test('frame generator, method neural: texture inputs give the frame GpuImage inputs give, bit for bit', async () => {
  const { device } = await testGpu();
  const random = rng(46);
  const display: Size = [48, 32];
  const model = { graph: FRAMEGEN_NETWORK_V1, parameters: initWeights(FRAMEGEN_NETWORK_V1, 8) };
  const previous = halfTexture(device, randomImage(...display, 4, random, 3));
  const current = halfTexture(device, randomImage(...display, 4, random, 3));
  const { motion, depth } = blockMotionAndDepth(random);
  const reactive = unormTexture(device, randomImage(...RENDER, 1, random));
  const params = MID_FRAME;
  const generator = await createFrameGenerator(device, {
    displaySize: display,
    method: 'neural',
    weights: model,
  });
  const run = async (inputs: object) => {
    const encoder = device.createCommandEncoder();
    generator.dispatch(encoder, { ...params, ...inputs } as never);
    device.queue.submit([encoder.finish()]);
    return readGpuImage(device, generator.outputImage);
  };
  const textures = {
    previous: previous.texture,
    current: current.texture,
    motion: uploadImage(device, motion),
    depth: uploadImage(device, depth),
    reactive: reactive.texture,
  };
  const fromTextures = await run(textures);
  const images = {
    previous: previous.held,
    current: current.held,
    motion,
    depth,
    reactive: reactive.held,
  };
  // The frame generator before it read textures in place: the load pass, then the images.
  const fromImages = await run(
    Object.fromEntries(Object.entries(textures).map(([k, v]) => [k, loadedImage(device, v)])),
  );
  assert.deepEqual(fromTextures.data, fromImages.data);
  const expected = generateFrameNeuralCpu(images, params, model, display);
  assertMatchesCpu(fromTextures, expected);
  generator.destroy();
});

test('frame generator, method neural: a model of the wrong shape or a missing file is refused by name', async () => {
  const { device } = await testGpu();
  const wrong = { graph: { ...FRAMEGEN_NETWORK_V1, inputs: [{ name: 'features', channels: 3 }] } };
  await assert.rejects(
    createFrameGenerator(device, {
      displaySize: [16, 16],
      method: 'neural',
      weights: { ...wrong, parameters: new Map() },
    }),
    /one input of 18 channels/,
  );
  await assert.rejects(
    createFrameGenerator(device, {
      displaySize: [16, 16],
      method: 'neural',
      weights: '/nonexistent/framegen.uplift',
    }),
    /nonexistent\/framegen.uplift: cannot read weights/,
  );
});

test('frame generator, method neural: without weights it loads the shipped weights/framegen-v1.uplift', async () => {
  const { device } = await testGpu();
  const shipped = await loadFramegenModel();
  assert.equal(shipped.graph.name, FRAMEGEN_NETWORK_V1.name);
  assert.equal((shipped as { metadata?: { task?: string } }).metadata?.task, 'framegen');
  const generator = await createFrameGenerator(device, { displaySize: [16, 16], method: 'neural' });
  generator.destroy();
});

test('frame generator weights from a file URL whose path needs escaping (a space) load as from the path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'framegen url '));
  try {
    const file = join(dir, 'my weights.uplift');
    copyFileSync('weights/framegen-v1.uplift', file);
    const url = pathToFileURL(file);
    assert.match(url.href, /%20/);
    const fromUrl = await loadFramegenModel(url);
    const fromPath = await loadFramegenModel(file);
    assert.deepEqual(fromUrl.graph, fromPath.graph);
    assert.deepEqual(fromUrl.parameters, fromPath.parameters);
    await assert.rejects(
      loadFramegenModel(pathToFileURL(join(dir, 'absent.uplift'))),
      /absent\.uplift: cannot read weights \(ENOENT\)/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('shipped weights/framegen-v1-w8a8.uplift: framegen v1 quantized 8/8 from the shipped f32 weights, on the INT8 kernels here, close to the f32 frame', async () => {
  const { device } = await testGpu();
  const f32 = await loadFramegenModel();
  const int8 = await loadFramegenModel('weights/framegen-v1-w8a8.uplift');
  const q = graphQuantization(int8.graph)!;
  assert.equal(q.weightBits, 8);
  assert.equal(q.activationBits, 8);
  assert.deepEqual(baseGraph(int8.graph).nodes, f32.graph.nodes);
  for (const [name, values] of f32.parameters) {
    assert.deepEqual(int8.parameters.get(name), values, name);
  }
  assert.equal(await framegenRunsInt8(device, int8), true);
  // One frame of random HDR noise and block motion, where the candidates differ most: the INT8
  // grids move the softmax weights by a few percent, so the frames stay within a few percent of
  // the candidates' spread (> 30 dB, tonemapped). On rendered scenes the PSNR against the truth
  // moves by −0.02…+0.01 dB (docs/QUALITY.md §5).
  const random = rng(49);
  const display: Size = [48, 32];
  const { motion, depth } = blockMotionAndDepth(random);
  const images = {
    previous: randomImage(...display, 4, random, 3),
    current: randomImage(...display, 4, random, 3),
    motion,
    depth,
  };
  const frame = async (weights: string) => {
    const generator = await createFrameGenerator(device, {
      displaySize: display,
      method: 'neural',
      weights,
    });
    const encoder = device.createCommandEncoder();
    const gpu = Object.fromEntries(
      Object.entries(images).map(([k, image]) => [k, uploadGpuImage(device, image)]),
    );
    generator.dispatch(encoder, { ...MID_FRAME, ...gpu } as never);
    device.queue.submit([encoder.finish()]);
    const out = await readGpuImage(device, generator.outputImage);
    generator.destroy();
    return out;
  };
  const [a, b] = [
    await frame('weights/framegen-v1.uplift'),
    await frame('weights/framegen-v1-w8a8.uplift'),
  ];
  let squared = 0;
  let differ = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = a.data[i]! / (1 + a.data[i]!) - b.data[i]! / (1 + b.data[i]!);
    squared += d * d;
    if (d !== 0) differ++;
  }
  const db = 10 * Math.log10(1 / (squared / a.data.length));
  assert.ok(db > 30, `INT8 against f32: ${db.toFixed(1)} dB`);
  assert.ok(differ > 0, 'the INT8 frame is not the f32 one (the grids are in effect)');
});
