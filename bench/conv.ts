/**
 * Convolution benchmark: one conv3x3 layer, f32 (the network's kernel, src/nn/ops/conv3x3.ts)
 * against INT8 on dot4I8Packed (src/nn/ops/int8/conv3x3.ts), at the sizes and widths network v2
 * runs: 16 channels at full and half resolution, 32 at a quarter, 64 at an eighth of 1920×1080.
 * Random inputs and weights. A frame runs the layer LAYERS_PER_FRAME times (about 20 GMAC),
 * ping-ponging between two tensors as a network's layers do: a single short dispatch per frame,
 * waited for alone, measured the GPU at whatever clock the idle gaps left it (on the H200 the same
 * layer read 0.65 ms and 3.1 ms in one run), while a network keeps it busy. Reported: GPU ms per
 * layer (`perLayerMs`), achieved tera-ops per second (2 per multiply-accumulate) and the bytes a
 * layer must move at least (input read once, output written once).
 */
import { mulberry32 } from '../src/core/random.ts';
import { createTensor } from '../src/core/tensor.ts';
import { packInt8, requantMultiplier } from '../src/core/int8.ts';
import { createGpuTimer } from '../src/gpu/profiler.ts';
import { createStorageBuffer } from '../src/gpu/resources.ts';
import { prepareConv3x3 } from '../src/nn/ops/conv3x3.ts';
import { uploadInt8Op } from '../src/nn/ops/int8/common.ts';
import { encodeInt8Op } from '../src/nn/ops/int8/encode.ts';
import {
  createGpuInt8Tensor,
  createGpuTensor,
  writeGpuTensor,
  type GpuTensor,
  type GpuInt8Tensor,
} from '../src/nn/tensor.ts';
import { measureFrames, measuredCase } from './measure.ts';
import { runCases, type BenchCase, type BenchSettings } from './stats.ts';

/** One layer to measure. */
export interface ConvCase {
  precision: 'f32' | 'int8';
  channels: number;
  width: number;
  height: number;
  /** Layers a frame runs. */
  layers: number;
}

/** The cases of a full run, or tiny ones for the smoke test. */
export function convCases(quick: boolean): ConvCase[] {
  const shapes: Array<[number, number, number]> = quick
    ? [[8, 16, 12]]
    : [
        [16, 1920, 1080],
        [16, 960, 540],
        [32, 480, 270],
        [64, 240, 135],
      ];
  return shapes.flatMap(([channels, width, height]) =>
    (['f32', 'int8'] as const).map((precision) => {
      const shape = { precision, channels, width, height, layers: 2 };
      return quick ? shape : { ...shape, layers: layersPerFrame(shape) };
    }),
  );
}

export function convCaseName(c: ConvCase): string {
  return `${c.precision} conv3x3 ${c.channels}→${c.channels} ${c.width}x${c.height}`;
}

/** Multiply-accumulates a frame aims at (layers per frame = this / the layer's). */
const MACS_PER_FRAME = 20e9;

function layersPerFrame(c: ConvCase): number {
  // Even, so that the frame ends where it started.
  return Math.max(2, 2 * Math.round(MACS_PER_FRAME / (2 * convMacs(c))));
}

function convMacs(c: ConvCase): number {
  return c.width * c.height * c.channels * c.channels * 9;
}

/** Records a frame's layers (a → b, b → a, …); returns the record function and a cleanup. */
function setUpLayer(
  device: GPUDevice,
  c: ConvCase,
): { record(pass: GPUComputePassEncoder): void; destroy(): void } {
  const { layers } = c;
  const shape = { channels: c.channels, height: c.height, width: c.width };
  const random = mulberry32(3);
  const weightCount = c.channels * c.channels * 9;
  if (c.precision === 'f32') {
    const input = createGpuTensor(device, shape, 'bench conv input');
    const values = createTensor(shape);
    for (let i = 0; i < values.data.length; i++) values.data[i] = random() * 2 - 1;
    writeGpuTensor(device, input, values);
    const output: GpuTensor = createGpuTensor(device, shape, 'bench conv output');
    const weights = Float32Array.from({ length: weightCount }, () => (random() * 2 - 1) * 0.1);
    const weight = createStorageBuffer(device, weights, GPUBufferUsage.STORAGE, 'bench weight');
    const bias = createStorageBuffer(
      device,
      new Float32Array(c.channels),
      GPUBufferUsage.STORAGE,
      'bench bias',
    );
    const forward = prepareConv3x3(device, { input, weight, bias, output, activation: 'relu' });
    const back = prepareConv3x3(device, {
      input: output,
      weight,
      bias,
      output: input,
      activation: 'relu',
    });
    return {
      record: (pass) => {
        for (let k = 0; k < layers; k++) (k % 2 === 0 ? forward : back).encode(pass);
      },
      destroy: () => [input.buffer, output.buffer, weight, bias].forEach((b) => b.destroy()),
    };
  }
  const int8 = (n: number) => Int8Array.from({ length: n }, () => Math.round(random() * 254 - 127));
  const input: GpuInt8Tensor = createGpuInt8Tensor(device, shape, 'bench int8 input');
  const plane = c.width * c.height;
  device.queue.writeBuffer(
    input.buffer,
    0,
    packInt8(int8(c.channels * plane), c.channels, c.height, c.width),
  );
  const output = createGpuInt8Tensor(device, shape, 'bench int8 output');
  const weights = uploadInt8Op(
    device,
    'conv3x3',
    {
      weight: int8(weightCount),
      bias: new Int32Array(c.channels),
      multiplier: requantMultiplier(1 / 127, 1 / 127, 4 / 127),
      activation: 'relu',
    },
    c.channels,
  );
  return {
    record: (pass) => {
      for (let k = 0; k < layers; k++) {
        const [from, to] = k % 2 === 0 ? [input, output] : [output, input];
        encodeInt8Op(device, pass, weights, from, { output: to });
      }
    },
    destroy: () =>
      [input.buffer, output.buffer, weights.weightBuffer, weights.biasBuffer].forEach((b) =>
        b.destroy(),
      ),
  };
}

/** Measures one case on `device`. */
export async function benchConvCase(
  device: GPUDevice,
  c: ConvCase,
  settings: BenchSettings,
): Promise<BenchCase> {
  const layer = setUpLayer(device, c);
  const timer = device.features.has('timestamp-query') ? createGpuTimer(device, 2) : undefined;
  try {
    const samples = await measureFrames(device, timer, settings, (encoder) => {
      const pass = encoder.beginComputePass({ label: 'bench conv' });
      layer.record(pass);
      pass.end();
    });
    const gpuMs = samples.gpu.summaries();
    const macs = convMacs(c);
    const bytesPerValue = c.precision === 'f32' ? 4 : 1;
    const { layers } = c;
    const derived: Record<string, number> = {
      layersPerFrame: layers,
      gmac: macs / 1e9,
      minimumMegabytes: (2 * c.width * c.height * c.channels * bytesPerValue) / 1e6,
    };
    const frameMs = gpuMs['frame']?.median;
    if (frameMs) {
      const ms = frameMs / layers;
      derived['perLayerMs'] = ms;
      derived['teraOpsPerSecond'] = (2 * macs) / (ms * 1e9);
      derived['gigabytesPerSecond'] = (derived['minimumMegabytes']! * 1e6) / (ms * 1e6);
    }
    return measuredCase(convCaseName(c), { ...c }, samples, gpuMs, derived);
  } finally {
    timer?.destroy();
    layer.destroy();
  }
}

/** Every case (a failing case is recorded with its error; the others still run). */
export function benchConv(device: GPUDevice, settings: BenchSettings): Promise<BenchCase[]> {
  return runCases('conv', convCases(settings.quick), convCaseName, settings, (c) =>
    benchConvCase(device, c, settings),
  );
}
