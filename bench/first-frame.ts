/**
 * The first frame's hitch: wall time of the first dispatch (encode + submit + done) against a
 * steady frame's, with and without `await up.ready()` before it, each on a fresh device (an empty
 * pipeline cache, as an app starts). JSON on stdout.
 *
 *   npx tsx bench/first-frame.ts [--size 1920x1080] [--frames 20]
 */
import { requestGpu } from '../src/gpu/device.ts';
import { createUpscaler, type UpscalerOptions } from '../src/upscaler.ts';
import { parseSize } from '../src/core/quality.ts';
import { defaultFrameParams } from '../src/core/frame.ts';
import { shippedWeightsPath } from '../src/eval/shipped-weights.ts';
import { summarize } from './stats.ts';

function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1]! : fallback;
}
const displaySize = parseSize(argument('--size', '1920x1080'), '--size');
const frames = Number(argument('--frames', '20'));

async function measure(options: Omit<UpscalerOptions, 'displaySize'>, ready: boolean) {
  const { device, adapterName } = await requestGpu();
  const t0 = performance.now();
  const up = await createUpscaler(device, { ...options, displaySize });
  const createMs = performance.now() - t0;
  const t1 = performance.now();
  if (ready) await up.ready();
  const readyMs = performance.now() - t1;
  const texture = (format: GPUTextureFormat) =>
    device.createTexture({ size: up.renderSize, format, usage: GPUTextureUsage.TEXTURE_BINDING });
  const inputs = {
    color: texture('rgba16float'),
    depth: texture('depth32float'),
    motion: texture('rg16float'),
  };
  const frameMs: number[] = [];
  for (let i = 0; i <= frames; i++) {
    const start = performance.now();
    const encoder = device.createCommandEncoder();
    up.dispatch(encoder, { ...defaultFrameParams(), ...inputs, jitter: up.jitter(i), reset: !i });
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    frameMs.push(performance.now() - start);
  }
  up.destroy();
  device.destroy();
  const steady = summarize(frameMs.slice(1));
  return {
    adapter: adapterName,
    createMs,
    readyMs,
    firstFrameMs: frameMs[0]!,
    steadyFrameMs: steady.median,
    firstOverSteady: frameMs[0]! / steady.median,
  };
}

const results = [];
for (const options of [
  { method: 'taau' },
  { method: 'neural', precision: 'f32' },
  { method: 'neural', precision: 'int8', model: shippedWeightsPath('uplift-v2-int8.uplift') },
] as const) {
  for (const ready of [false, true]) {
    results.push({ case: options, ready, ...(await measure(options, ready)) });
  }
}
console.log(
  JSON.stringify({ date: new Date().toISOString(), displaySize, frames, results }, null, 1),
);
process.exit(0);
