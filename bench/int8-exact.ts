/**
 * Not a timing: checks that the INT8 kernels this device runs — dot4I8Packed, and the
 * subgroup-matrix GEMM where the device has it — equal the CPU reference bit for bit, on random
 * ops (src/nn/int8-self-check.ts) and on the shipped INT8 network at a small size, and that it
 * widens every binary16 pattern exactly (the rgba16float history's reads,
 * src/gpu/half-self-check.ts), and that network v3's first layer computing the features
 * (src/nn/resolve/features-first-layer.ts) writes what the features pass and that layer's own
 * kernel write. A mismatch fails the case, so the benchmark run exits 1. Runs first on the GPU
 * machine, before timing.
 */
import type { GraphDescription } from '../src/core/graph.ts';
import { planInt8 } from '../src/core/int8-plan.ts';
import { mulberry32 } from '../src/core/random.ts';
import { createTensor } from '../src/core/tensor.ts';
import { createInt8Network, type Int8Kernels } from '../src/nn/int8-network.ts';
import { subgroupMatricesUsable } from '../src/nn/ops/int8/matrix.ts';
import { checkInt8Kernels } from '../src/nn/int8-self-check.ts';
import { createGpuTensor, readGpuTensor, writeGpuTensor } from '../src/nn/tensor.ts';
import { runInt8NetworkCpu } from '../src/reference/nn/int8-network.ts';
import { quantizedNetwork } from './quantized-model.ts';
import { runCases, type BenchCase, type BenchSettings } from './stats.ts';
import { checkHalfWidening } from '../src/gpu/half-self-check.ts';
import { createImage, luma, storedImage, type Image } from '../src/core/image.ts';
import { paddedSize } from '../src/core/neural-frame.ts';
import type { Size } from '../src/core/quality.ts';
import { uploadGpuImage, type ImageFormat } from '../src/gpu/gpu-image.ts';
import { readBuffer, uploadImage } from '../src/gpu/resources.ts';
// The tests' loop of neural frames (output, history and state of each, read back).
import { neuralResolverFrames } from '../test/helpers/frames.ts';
import { createGpuInt8Tensor } from '../src/nn/tensor.ts';
import { encodeInt8Op } from '../src/nn/ops/int8/encode.ts';
import { NETWORK_V3A } from '../src/nn/network-v3.ts';
import { encodeFeatures } from '../src/nn/resolve/features.ts';
import { encodeFeaturesFirstLayer } from '../src/nn/resolve/features-first-layer.ts';

/** The binary16 widening check as a case (its mismatches, the first few named, fail it). */
async function halfCase(device: GPUDevice): Promise<BenchCase> {
  const mismatches = await checkHalfWidening(device);
  const named = mismatches
    .slice(0, 8)
    .map((m) => `0x${m.half.toString(16)} ${m.place} -> 0x${m.bits.toString(16)}`);
  return {
    name: 'binary16 widening',
    params: { patterns: 65536 },
    frames: 0,
    gpuMs: {},
    derived: { mismatchedPatterns: mismatches.length },
    ...(mismatches.length > 0
      ? { error: `${mismatches.length} half patterns widen wrongly: ${named.join(', ')}` }
      : {}),
  };
}

/** Values of a quantized network's output (default v2's shape) that differ from the CPU reference. */
async function networkDiffering(
  device: GPUDevice,
  kernels: Int8Kernels,
  graph?: GraphDescription,
): Promise<number> {
  const model = quantizedNetwork(graph);
  const plan = planInt8(model.graph, model.parameters);
  const shape = { channels: model.graph.inputs[0]!.channels, height: 48, width: 72 };
  const features = createTensor(shape);
  const random = mulberry32(3);
  for (let i = 0; i < features.data.length; i++) features.data[i] = random() * 2 - 0.5;
  const want = runInt8NetworkCpu(plan, features).output.data;
  const network = createInt8Network(device, plan, { kernels });
  const input = createGpuTensor(device, shape, 'int8 exact input');
  writeGpuTensor(device, input, features);
  const encoder = device.createCommandEncoder();
  const output = network.run(encoder, input);
  device.queue.submit([encoder.finish()]);
  const got = (await readGpuTensor(device, output)).data;
  network.destroy();
  input.buffer.destroy();
  let differing = 0;
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) differing++;
  return differing;
}

/** A random vec4 image; `fill(random, channel)` gives each value. */
function randomImage([w, h]: Size, seed: number, fill: (r: () => number, c: number) => number) {
  const random = mulberry32(seed);
  const image = createImage(w, h, 4);
  for (let i = 0; i < image.data.length; i++) image.data[i] = fill(random, i % 4);
  return image;
}

/**
 * Words of down1's output that differ between network v3a's first layer computing the features
 * and the features pass followed by down1's own kernel, on a random frame at an odd display size
 * (the padding's zero features enter down1), both history formats, with and without reset.
 */
async function featuresFirstLayerDiffering(device: GPUDevice): Promise<number> {
  const model = quantizedNetwork(NETWORK_V3A);
  const network = createInt8Network(device, planInt8(model.graph, model.parameters));
  const display: Size = [37, 23];
  const render: Size = [19, 12];
  const [pw, ph] = paddedSize(display);
  const color = randomImage(render, 1, (r) => r());
  for (let i = 0; i < color.data.length; i += 4) {
    color.data[i + 3] = luma(color.data[i]!, color.data[i + 1]!, color.data[i + 2]!);
  }
  const motion = randomImage(render, 2, (r, c) => (c < 2 ? r() * 0.1 - 0.05 : r() < 0.5 ? 0 : r()));
  const history = randomImage(display, 3, (r, c) => (c < 3 ? r() : r() < 0.7 ? 1 : 0));
  history.data[5] = NaN;
  history.data[11] = Infinity;
  const state = randomImage(display, 4, (r) => r() * 2 - 1);
  const first = network.firstStep(ph, pw);
  const separate = createGpuInt8Tensor(device, first.targets.output);
  const features = createGpuTensor(device, { channels: 12, height: ph, width: pw });
  const upload = (image: Image, format?: ImageFormat) =>
    uploadGpuImage(device, format ? storedImage(image, format) : image, undefined, format);
  let differing = 0;
  for (const format of ['rgba32float', 'rgba16float'] as const) {
    const inputs = {
      color: upload(color),
      motion: upload(motion),
      history: upload(history, format),
      state: upload(state, format),
    };
    for (const reset of [false, true]) {
      const params = { jitter: [0.31, -0.27] as const, reset };
      const encoder = device.createCommandEncoder();
      let pass = encoder.beginComputePass();
      encodeFeaturesFirstLayer(device, pass, first, inputs, params);
      pass.end();
      pass = encoder.beginComputePass();
      encodeFeatures(
        device,
        pass,
        inputs,
        params,
        features,
        network.inputQuantizations(ph, pw),
        false,
      );
      pass.end();
      pass = encoder.beginComputePass();
      encodeInt8Op(device, pass, first.weights, first.input, { output: separate });
      pass.end();
      device.queue.submit([encoder.finish()]);
      const [a, b] = await Promise.all(
        [first.targets.output, separate].map(
          async (t) => new Uint32Array((await readBuffer(device, t.buffer)).buffer),
        ),
      );
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differing++;
    }
    for (const image of Object.values(inputs)) image.buffer.destroy();
  }
  network.destroy();
  separate.buffer.destroy();
  features.buffer.destroy();
  return differing;
}

/** The features + first layer check as a case. */
async function featuresFirstLayerCase(device: GPUDevice): Promise<BenchCase> {
  const differing = await featuresFirstLayerDiffering(device);
  return {
    name: 'features + first layer',
    params: { network: 'v3a', display: '37x23', render: '19x12' },
    frames: 0,
    gpuMs: {},
    derived: { wordsDiffering: differing },
    ...(differing > 0
      ? { error: `features + first layer: ${differing} words differ from the two passes` }
      : {}),
  };
}

async function checkCase(device: GPUDevice, kernels: Int8Kernels): Promise<BenchCase> {
  const ops = await checkInt8Kernels(device, kernels);
  const network = await networkDiffering(device, kernels);
  // v3a too: 48 channels (a 64-byte pitch on the matrix kernels) and an up2x2 writing the output.
  const v3a = await networkDiffering(device, kernels, NETWORK_V3A);
  const failed = ops.mismatches.length > 0 || network > 0 || v3a > 0;
  return {
    name: kernels,
    params: { kernels, opCases: ops.cases },
    frames: 0,
    gpuMs: {},
    derived: {
      mismatchedOpCases: ops.mismatches.length,
      networkValuesDiffering: network,
      v3aValuesDiffering: v3a,
    },
    ...(failed
      ? {
          error: `not bit-exact: ${[
            ...ops.mismatches.map(
              (m) => `${m.case} (${m.error ?? `${m.differing} of ${m.values} differ`})`,
            ),
            ...(network > 0 ? [`network (${network} values)`] : []),
            ...(v3a > 0 ? [`network v3a (${v3a} values)`] : []),
          ].join(', ')}`,
        }
      : {}),
  };
}

/**
 * Values that differ between whole frames of network v3a (INT8) reprojecting in its features
 * pass and the same frames with the upscaler's reproject pass: output, history and state of
 * three frames at an odd size (the first a reset), random inputs with motion leaving the image.
 * The same WGSL function reprojects in both kernels; this checks the device compiles it alike.
 */
async function reprojectInFeaturesDiffering(device: GPUDevice): Promise<number> {
  const model = quantizedNetwork(NETWORK_V3A);
  const display: Size = [45, 27];
  const render: Size = [23, 14];
  const texture = (seed: number, channels: number, scale: number) => {
    const random = mulberry32(seed);
    const image = createImage(render[0], render[1], channels);
    for (let i = 0; i < image.data.length; i++) image.data[i] = random() * scale;
    return uploadImage(device, image);
  };
  const frames = [0, 1, 2].map((i) => ({
    color: texture(20 + i, 4, 1),
    depth: texture(30 + i, 1, 1),
    motion: texture(40 + i, 2, 0.05),
  }));
  const run = async (reprojectInFeatures: boolean) =>
    (
      await neuralResolverFrames(
        device,
        { model, precision: 'int8', reprojectInFeatures },
        display,
        render,
        frames,
      )
    ).outputs;
  const fused = await run(true);
  const separate = await run(false);
  for (const f of frames) for (const t of Object.values(f)) t.destroy();
  // A frame of constant or non-finite values would agree trivially.
  const output = fused[6]!;
  if (new Set(output).size < 50 || !output.every(Number.isFinite)) {
    throw new Error('reproject in the features pass: the frames are not varied and finite');
  }
  let differing = 0;
  fused.forEach((a, i) => {
    const b = new Uint32Array(separate[i]!.buffer);
    const w = new Uint32Array(a.buffer);
    for (let k = 0; k < w.length; k++) if (w[k] !== b[k]) differing++;
  });
  return differing;
}

/** The reprojection in the features pass against the reproject pass, as a case. */
async function reprojectInFeaturesCase(device: GPUDevice): Promise<BenchCase> {
  const differing = await reprojectInFeaturesDiffering(device);
  return {
    name: 'reproject in the features pass',
    params: { network: 'v3a', display: '45x27', render: '23x14', frames: 3 },
    frames: 0,
    gpuMs: {},
    derived: { valuesDiffering: differing },
    ...(differing > 0
      ? {
          error: `reproject in the features pass: ${differing} values differ from the reproject pass`,
        }
      : {}),
  };
}

/**
 * dot4I8Packed, subgroup matrices where the device has them, the binary16 widening, the
 * features in network v3's first layer and the reprojection in the features pass.
 */
export function benchInt8Exact(device: GPUDevice, settings: BenchSettings): Promise<BenchCase[]> {
  const kernels: Int8Kernels[] = subgroupMatricesUsable(device)
    ? ['dot4', 'subgroup-matrix', 'mixed']
    : ['dot4'];
  return runCases(
    'int8-exact',
    [
      ...kernels,
      'binary16' as const,
      'features + first layer' as const,
      'reproject in the features pass' as const,
    ],
    (k) => k,
    settings,
    (k) =>
      k === 'reproject in the features pass'
        ? reprojectInFeaturesCase(device)
        : k === 'binary16'
          ? halfCase(device)
          : k === 'features + first layer'
            ? featuresFirstLayerCase(device)
            : checkCase(device, k),
  );
}
