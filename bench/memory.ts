/**
 * GPU memory an upscaler holds, per display pixel: every buffer and texture created while it is
 * made and runs one frame, tallied by wrapping the device's create calls (a count of what was
 * asked for, not of what a driver reserves). JSON on stdout.
 *
 *   npx tsx bench/memory.ts [--size 1920x1080]
 */
import { requestGpu } from '../src/gpu/device.ts';
import { createUpscaler, type UpscalerOptions } from '../src/upscaler.ts';
import { parseSize } from '../src/core/quality.ts';
import { defaultFrameParams } from '../src/core/frame.ts';
import { shippedWeightsPath } from '../src/eval/shipped-weights.ts';

const sizeArg = process.argv.indexOf('--size');
const displaySize = parseSize(sizeArg > 0 ? process.argv[sizeArg + 1]! : '1920x1080', '--size');
const { device, adapterName } = await requestGpu();

/** Bytes per texel of the formats the upscaler creates. */
const TEXEL_BYTES: Partial<Record<GPUTextureFormat, number>> = {
  rgba32float: 16,
  rgba16float: 8,
  r32float: 4,
  rg32float: 8,
  rgba8unorm: 4,
};

let tally = 0;
const createBuffer = device.createBuffer.bind(device);
const createTexture = device.createTexture.bind(device);
device.createBuffer = (descriptor: GPUBufferDescriptor) => {
  tally += descriptor.size;
  return createBuffer(descriptor);
};
device.createTexture = (descriptor: GPUTextureDescriptor) => {
  const [w, h] = Array.isArray(descriptor.size)
    ? [descriptor.size[0]!, descriptor.size[1] ?? 1]
    : [
        (descriptor.size as GPUExtent3DDict).width,
        (descriptor.size as GPUExtent3DDict).height ?? 1,
      ];
  tally += w * h * (TEXEL_BYTES[descriptor.format] ?? 16);
  return createTexture(descriptor);
};

const cases: { name: string; options: Partial<UpscalerOptions> }[] = [
  { name: 'taau', options: { method: 'taau' } },
  { name: 'neural f32', options: { method: 'neural', precision: 'f32' } },
  {
    name: 'neural int8',
    options: {
      method: 'neural',
      precision: 'int8',
      model: shippedWeightsPath('uplift-v2-int8.uplift'),
    },
  },
];
const results = [];
for (const c of cases) {
  const before = tally;
  const up = await createUpscaler(device, { displaySize, quality: 'performance', ...c.options });
  const [rw, rh] = up.renderSize;
  const texture = (format: GPUTextureFormat) =>
    createTexture({ size: [rw, rh], format, usage: GPUTextureUsage.TEXTURE_BINDING });
  const inputs = {
    color: texture('rgba16float'),
    depth: texture('r32float'),
    motion: texture('rg32float'),
  };
  const encoder = device.createCommandEncoder();
  up.dispatch(encoder, { ...defaultFrameParams(), reset: true, ...inputs });
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
  const bytes = tally - before;
  results.push({
    case: c.name,
    bytes,
    mebibytes: +(bytes / 2 ** 20).toFixed(1),
    bytesPerDisplayPixel: +(bytes / (displaySize[0] * displaySize[1])).toFixed(1),
  });
  up.destroy();
}
console.log(JSON.stringify({ adapter: adapterName, displaySize, results }, null, 1));
process.exit(0);
