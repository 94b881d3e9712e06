/**
 * INT8 activations (and weights) against f32 with the CPU reference neural frame, on central
 * 192×128 display crops of held-out 2× sequences (docs/QUALITY.md §3, INT8). Per-tensor symmetric
 * activation scales are calibrated on frames 4, 12 and 20 of the first sequence named.
 *
 *   npx tsx bench/int8-activations.ts <validation dir> <calibration sequence> <sequence>...
 * e.g. after `uplift dataset --split validation --frames 24 --out data/val`:
 *   npx tsx bench/int8-activations.ts data/val city-orbit-1001 fence-orbit-1004 tile-orbit-1022
 */
import { loadWeights } from '../src/nn/weights.ts';
import { runNetworkCpu } from '../src/reference/nn/network.ts';
import type { Real, Tensor } from '../src/core/tensor.ts';
import {
  calibrateActivationScales,
  fakeQuantizeWeights,
  runNetworkCpuFakeQuant,
} from '../src/nn/quantize.ts';
import { neuralCpuResolver } from '../src/reference/nn/neural-resolver.ts';
import { createReferenceUpscaler } from '../src/reference/upscaler.ts';
import { openSequence } from '../src/io/sequence.ts';
import { cropFrameImages, type CropRect } from '../src/train/data/crop.ts';
import { mse, meanPsnr } from '../src/metrics/psnr.ts';
import type { FrameImages, FrameParams } from '../src/core/frame.ts';

type Run = (f: Tensor<Real>) => Tensor<Real>;
const rect: CropRect = {
  renderOffset: [48, 32],
  renderSize: [96, 64],
  displayOffset: [96, 64],
  displaySize: [192, 128],
};
async function load(dir: string) {
  const src = await openSequence(dir);
  const frames: { images: FrameImages; params: FrameParams }[] = [];
  for (let i = 0; i < src.frameCount; i++)
    frames.push({
      images: cropFrameImages(await src.readFrame(i), src.header, rect),
      params: src.frameParams(i),
    });
  return frames;
}
const WARMUP = 8;
function play(frames: Awaited<ReturnType<typeof load>>, run: Run, seen?: Tensor<Real>[]) {
  const up = createReferenceUpscaler({
    displaySize: rect.displaySize,
    renderSize: rect.renderSize,
    method: 'neural',
    resolver: neuralCpuResolver(model, (x) => {
      seen?.push(x);
      return run(x);
    }),
  });
  const mses: number[] = [];
  frames.forEach((f, t) => {
    const out = up.dispatch(f.images, f.params);
    if (t >= WARMUP) mses.push(mse(out, f.images.reference!));
  });
  return meanPsnr(mses);
}
const [valdir, calibName, ...evalNames] = process.argv.slice(2);
const model = await loadWeights('weights/uplift-v2.uplift');
const { graph } = model;
const p32 = model.parameters;
const p8 = fakeQuantizeWeights(p32, 8).parameters;
const t0 = Date.now();
const seen: Tensor<Real>[] = [];
const calibF32 = play(
  await load(`${valdir}/${calibName}`),
  (x) => runNetworkCpu(graph, p32, x).output,
  seen,
);
const pick = [4, 12, 20].map((i) => seen[i]!);
const a8 = calibrateActivationScales(graph, p32, pick, 8);
const wa8 = calibrateActivationScales(graph, p8, pick, 8);
console.log(
  `calibrated on ${calibName} frames 4,12,20 (f32 ${calibF32.toFixed(3)} dB), ${((Date.now() - t0) / 1000).toFixed(0)} s`,
);
for (const name of evalNames) {
  const frames = await load(`${valdir}/${name}`);
  const f32 = play(frames, (x) => runNetworkCpu(graph, p32, x).output);
  const r = {
    W8: play(frames, (x) => runNetworkCpu(graph, p8, x).output),
    A8: play(frames, (x) => runNetworkCpuFakeQuant(graph, p32, x, a8).output),
    W8A8: play(frames, (x) => runNetworkCpuFakeQuant(graph, p8, x, wa8).output),
  };
  const d = (v: number) => (v - f32 >= 0 ? '+' : '') + (v - f32).toFixed(3);
  console.log(
    `${name}: f32 ${f32.toFixed(3)} | ` +
      Object.entries(r)
        .map(([k, v]) => `${k} ${v.toFixed(3)} (${d(v)})`)
        .join(' | ') +
      `  [${((Date.now() - t0) / 1000).toFixed(0)} s]`,
  );
}
