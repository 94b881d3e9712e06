/**
 * What storing history and recurrent state as rgba16float (the frame API's default) changes in
 * the output, against rgba32float storage (what training's frames keep): every method runs each
 * sequence twice on the same device, once with its resolver in each format, and every frame's
 * outputs are compared in the tonemapped display domain (largest absolute difference; PSNR of
 * the f16 output against the f32 one; PSNR of each against the reference where there is one).
 * JSON on stdout.
 *
 *   npx tsx bench/history-format.ts <sequence dir>... [--frames n]
 * e.g. after `uplift dataset --split validation --only city-orbit-1001 --display 192x128
 *   --frames 16 --samples 16 --out data/val-small`:
 *   npx tsx bench/history-format.ts data/val-small/city-orbit-1001
 */
import { requestGpu } from '../src/gpu/device.ts';
import { createTaauResolver } from '../src/upscaler.ts';
import { createNeuralResolver } from '../src/nn/resolve/neural-resolver.ts';
import { runMethod, type MethodSpec } from '../src/eval/run-method.ts';
import { openSequence } from '../src/io/sequence.ts';
import type { Image } from '../src/core/image.ts';
import type { FrameSource } from '../src/core/frame.ts';
import { tonemapImage } from '../src/core/tonemap.ts';
import { mse, meanPsnr } from '../src/metrics/psnr.ts';
import type { Resolver } from '../src/gpu/resolver.ts';

const args = process.argv.slice(2);
const framesAt = args.indexOf('--frames');
const frameLimit = framesAt >= 0 ? Number(args[framesAt + 1]) : Infinity;
const dirs = args.filter((a, i) => !a.startsWith('--') && (framesAt < 0 || i !== framesAt + 1));
if (dirs.length === 0) {
  console.error('usage: npx tsx bench/history-format.ts <sequence dir>... [--frames n]');
  process.exit(2);
}
const { device, adapterName } = await requestGpu();

/** The methods, each with the resolver that keeps its history in rgba32float. */
const cases: { spec: MethodSpec; f32Resolver: () => Promise<Resolver> }[] = [
  { spec: { name: 'taau', method: 'taau' }, f32Resolver: async () => taauF32() },
  neuralCase('neural@f32', 'weights/uplift-v2.uplift', 'f32'),
  neuralCase('neural@int8', 'weights/uplift-v2-int8.uplift', 'int8'),
];

function taauF32(): Resolver {
  return createTaauResolver(device, {}, 'rgba32float');
}

function neuralCase(name: string, model: string, precision: 'f32' | 'int8') {
  return {
    spec: { name, method: 'neural' as const, model, precision },
    f32Resolver: () =>
      createNeuralResolver(device, { model, precision, historyFormat: 'rgba32float' }),
  };
}

/** The first `limit` frames of a source. */
function firstFrames(source: FrameSource, limit: number): FrameSource {
  return {
    name: source.name,
    header: source.header,
    frameCount: Math.min(source.frameCount, limit),
    frameParams: (i) => source.frameParams(i),
    readFrame: (i) => source.readFrame(i),
    frameNumber: (i) => source.frameNumber(i),
  };
}

/** Every frame's linear output (rgb) and reference. */
async function outputs(source: FrameSource, spec: MethodSpec) {
  const frames: { output: Image; reference: Image | undefined }[] = [];
  await runMethod(device, source, spec, {
    onFrame: (_i, output, inputs) => void frames.push({ output, reference: inputs.reference }),
  });
  return frames;
}

function maxAbsTonemapped(a: Image, b: Image): number {
  const [ta, tb] = [tonemapImage(a), tonemapImage(b)];
  let max = 0;
  for (let i = 0; i < ta.data.length; i++) max = Math.max(max, Math.abs(ta.data[i]! - tb.data[i]!));
  return max;
}

const results = [];
for (const dir of dirs) {
  const source = firstFrames(await openSequence(dir), frameLimit);
  for (const c of cases) {
    const f16 = await outputs(source, c.spec);
    const f32 = await outputs(source, { ...c.spec, resolver: await c.f32Resolver() });
    const perFrame = f16.map((frame, i) => ({
      maxAbs: maxAbsTonemapped(frame.output, f32[i]!.output),
      mse: mse(frame.output, f32[i]!.output),
    }));
    const withReference = f16.every((f) => f.reference);
    const refPsnr = (run: typeof f16) =>
      withReference ? meanPsnr(run.map((f) => mse(f.output, f.reference!))) : undefined;
    results.push({
      sequence: dir.replace(/\/$/, '').split('/').pop(),
      method: c.spec.name,
      frames: f16.length,
      maxAbsTonemapped: Math.max(...perFrame.map((f) => f.maxAbs)),
      maxAbsPerFrame: perFrame.map((f) => +f.maxAbs.toExponential(2)),
      psnrF16VsF32: meanPsnr(perFrame.map((f) => f.mse)),
      minFramePsnrF16VsF32: Math.min(...perFrame.map((f) => -10 * Math.log10(f.mse))),
      psnrVsReference: { f16: refPsnr(f16), f32: refPsnr(f32) },
    });
    console.error(JSON.stringify(results.at(-1)));
  }
}
console.log(JSON.stringify({ adapter: adapterName, results }, null, 1));
process.exit(0);
