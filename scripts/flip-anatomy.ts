/**
 * Why does a method's ꟻLIP come out where it does? Plays a sequence with each method (as `uplift
 * eval` does) and, over the steady frames (8 of warm-up from the start and from every cut), splits
 * each frame's error into parts that point at a cause:
 *
 * - ꟻLIP, and its colour term alone (ΔE_c, as if edges and points agreed): the gap between the two
 *   is what the feature pipeline adds.
 * - Edge and point magnitudes of the output over the reference's (ꟻLIP's own detectors): below 1 a
 *   blurrier output, above 1 a crisper or noisier one.
 * - By the reference's luma (bins): each bin's share of the pixels, its part of the mean ꟻLIP and
 *   the PSNR within it — L*a*b* is steep near black, so ꟻLIP weighs dark errors more than PSNR.
 * - The mean signed error of each channel (display domain) and ꟻLIP with it taken away.
 * - A band split at a Gaussian of σ pixels (`--sigma`, default 1.5) of the display-domain images:
 *   ꟻLIP with the output's low band replaced by the reference's ("low fixed", what is left is the
 *   fine detail's error) and with its high band replaced ("high fixed"); the share of the squared
 *   error in the high band; and the texture gain k = <out_h, ref_h> / <ref_h, ref_h> of the luma
 *   high band (1: the detail at full contrast; below: attenuated) with the residual
 *   |out_h − k·ref_h|² / |ref_h|² (detail that is not the reference's: aliasing, noise, ringing).
 *
 *   npx tsx scripts/flip-anatomy.ts <sequence dir> <method>... [--sigma 1.5] [--json out.json]
 *     [--picture out.png [--gain 20] [--crop x,y,w,h,zoom]]
 * `--picture` writes the last steady frame's reference and each method's low-band error (grey
 * none, full colour at ±1/gain of the display range).
 * e.g. the 720p tile orbit (QUALITY §4):
 *   npx tsx scripts/flip-anatomy.ts v720/tile-orbit-1022 taau neural --json tile.json
 * Methods are named as `uplift eval --methods` names them (neural:<file.uplift>, @zero-state…).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { writePng } from '../src/io/png.ts';
import { requestGpu } from '../src/gpu/device.ts';
import { openSequence } from '../src/io/sequence.ts';
import { parseMethod, runMethod } from '../src/eval/run-method.ts';
import { lumaPlane, toDisplayPair, type DisplayPair } from '../src/metrics/display.ts';
import { flipAgainst } from '../src/metrics/flip.ts';
import { convolveSeparable, gaussianKernel } from '../src/metrics/filter.ts';
import { sequenceSteadyFrames } from '../src/metrics/sequence.ts';

const WARMUP = 8;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    sigma: { type: 'string', default: '1.5' },
    json: { type: 'string' },
    picture: { type: 'string' },
    gain: { type: 'string', default: '20' },
    crop: { type: 'string' },
  },
});
const sigma = Number(values.sigma);
if (!(sigma > 0)) {
  console.error(`--sigma: a positive number of pixels, got ${values.sigma}`);
  process.exit(2);
}
const [dir, ...methods] = positionals;
if (!dir || methods.length === 0) {
  console.error(
    'usage: flip-anatomy.ts <sequence dir> <method>... [--sigma 1.5] [--json out.json] [--picture out.png [--gain 20] [--crop x,y,w,h,zoom]]',
  );
  process.exit(2);
}

/** Each channel of interleaved RGB low-passed with the Gaussian of σ pixels. */
function lowPass(rgb: Float32Array, width: number, height: number): Float32Array {
  const k = gaussianKernel(sigma, Math.ceil(3 * sigma));
  const n = width * height;
  const plane = new Float32Array(n);
  const low = new Float32Array(n);
  const out = new Float32Array(n * 3);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n; i++) plane[i] = rgb[i * 3 + c]!;
    convolveSeparable(plane, width, height, k, k, low);
    for (let i = 0; i < n; i++) out[i * 3 + c] = low[i]!;
  }
  return out;
}

/**
 * Reference luma bins (display domain) the error is also split by: dark errors weigh more in
 * ꟻLIP's L*a*b* than in the linear squared error.
 */
const BINS = [0, 0.02, 0.08, 0.25, 1.01];

/** The last steady frame's low-band error of each method, for --picture. */
const lowErrors: Float32Array[] = [];
let lastLowError: Float32Array | undefined;
let lastRef: Float32Array | undefined;

/** The per-frame parts of one output against its reference (see the file comment). */
function frameParts(pair: DisplayPair) {
  const { width, height, test, ref } = pair;
  // The reference analysed once for the output and its variants.
  const flipOf = flipAgainst(ref, width, height);
  const parts = flipOf(test, pair.invalid);
  const testLow = lowPass(test, width, height);
  const refLow = lowPass(ref, width, height);
  const lowFixed = new Float32Array(test.length);
  const highFixed = new Float32Array(test.length);
  let squared = 0;
  let squaredHigh = 0;
  const lowError = new Float32Array(test.length);
  for (let k = 0; k < test.length; k++) {
    lowFixed[k] = refLow[k]! + test[k]! - testLow[k]!;
    highFixed[k] = testLow[k]! + ref[k]! - refLow[k]!;
    const e = test[k]! - ref[k]!;
    const eHigh = e - (testLow[k]! - refLow[k]!);
    squared += e * e;
    squaredHigh += eHigh * eHigh;
    lowError[k] = testLow[k]! - refLow[k]!;
  }
  lastLowError = lowError;
  lastRef = ref;
  // The mean signed error of each channel, and the output with it taken away.
  const bias = [0, 1, 2].map((c) => {
    let e = 0;
    for (let k = c; k < test.length; k += 3) e += test[k]! - ref[k]!;
    return e / (width * height);
  });
  const unbiased = test.map((v, k) => v - bias[k % 3]!);
  let cross = 0;
  let refEnergy = 0;
  let testEnergy = 0;
  const [testLuma, testLowLuma, refLuma, refLowLuma] = [test, testLow, ref, refLow].map(lumaPlane);
  for (let i = 0; i < width * height; i++) {
    const th = testLuma![i]! - testLowLuma![i]!;
    const rh = refLuma![i]! - refLowLuma![i]!;
    cross += th * rh;
    refEnergy += rh * rh;
    testEnergy += th * th;
  }
  const gain = cross / refEnergy;
  const binned: Record<string, number> = {};
  for (let b = 0; b + 1 < BINS.length; b++) {
    binned[`share${b}`] = 0;
    binned[`flip${b}`] = 0;
    binned[`mse${b}`] = 0;
  }
  for (let i = 0; i < width * height; i++) {
    const y = refLuma![i]!;
    const b = BINS.findIndex((edge, k) => y >= edge && y < BINS[k + 1]!);
    binned[`share${b}`]! += 1 / (width * height);
    binned[`flip${b}`]! += parts.map.data[i]! / (width * height);
    for (let c = 0; c < 3; c++)
      binned[`mse${b}`]! += (test[i * 3 + c]! - ref[i * 3 + c]!) ** 2 / (3 * width * height);
  }
  return {
    ...binned,
    flip: parts.mean,
    flipColor: parts.colorMean,
    edgeRatio: parts.edge.test / parts.edge.ref,
    pointRatio: parts.point.test / parts.point.ref,
    flipLowFixed: flipOf(lowFixed, pair.invalid).mean,
    flipHighFixed: flipOf(highFixed, pair.invalid).mean,
    flipUnbiased: flipOf(unbiased, pair.invalid).mean,
    biasR: bias[0]!,
    biasG: bias[1]!,
    biasB: bias[2]!,
    highShare: squaredHigh / squared,
    psnr: 10 * Math.log10((test.length * 1) / squared),
    textureGain: gain,
    // |t − k·r|² = |t|² − 2k<t, r> + k²|r|² = |t|² − k<t, r> at the least-squares k.
    textureResidual: (testEnergy - gain * cross) / refEnergy,
  };
}
type Parts = Record<string, number> & ReturnType<typeof frameParts>;

const { device } = await requestGpu();
const source = await openSequence(dir);
const steady = sequenceSteadyFrames(source, WARMUP);
const frames = steady.filter(Boolean).length;
if (frames === 0) throw new RangeError(`${dir}: no frame after ${WARMUP} of warm-up`);
const results: Record<string, Parts> = {};
for (const name of methods) {
  const sum: Record<string, number> = {};
  await runMethod(device, source, parseMethod(name), {
    onFrame(i, output, inputs) {
      if (!steady[i]) return;
      if (!inputs.reference) throw new RangeError(`${dir}: frame ${i} has no reference`);
      const parts = frameParts(toDisplayPair(output, inputs.reference, name));
      for (const [key, value] of Object.entries(parts)) sum[key] = (sum[key] ?? 0) + value / frames;
      process.stderr.write('.');
    },
  });
  process.stderr.write('\n');
  results[name] = sum as Parts;
  lowErrors.push(lastLowError!);
}

const columns: [keyof Parts, string, number][] = [
  ['psnr', 'PSNR', 2],
  ['flip', 'ꟻLIP', 4],
  ['flipColor', 'colour term', 4],
  ['flipLowFixed', 'ꟻLIP low fixed', 4],
  ['flipHighFixed', 'ꟻLIP high fixed', 4],
  ['flipUnbiased', 'ꟻLIP unbiased', 4],
  ['biasR', 'bias R', 5],
  ['biasG', 'bias G', 5],
  ['biasB', 'bias B', 5],
  ['edgeRatio', 'edges/ref', 3],
  ['pointRatio', 'points/ref', 3],
  ['highShare', 'high share', 3],
  ['textureGain', 'texture gain', 3],
  ['textureResidual', 'residual', 3],
];
console.log(`${dir}: ${frames} steady frames, band split at σ = ${sigma} px`);
console.log(`| method | ${columns.map((c) => c[1]).join(' | ')} |`);
console.log(`| --- | ${columns.map(() => '---:').join(' | ')} |`);
for (const [name, parts] of Object.entries(results)) {
  console.log(`| ${name} | ${columns.map(([k, , d]) => parts[k].toFixed(d)).join(' | ')} |`);
}
// Per bin: its share of the pixels, each method's share-weighted ꟻLIP (the bins sum to the mean)
// and its PSNR within the bin.
console.log(
  `\nby the reference's luma (display domain): ꟻLIP's contribution to the mean / PSNR in the bin`,
);
console.log(`| luma | pixels | ${methods.map((m) => `${m} ꟻLIP | ${m} PSNR`).join(' | ')} |`);
console.log(`| --- | ---: | ${methods.map(() => '---: | ---:').join(' | ')} |`);
for (let b = 0; b + 1 < BINS.length; b++) {
  const first = Object.values(results)[0]!;
  const share = first[`share${b}`]!;
  const cells = Object.values(results).map((r) =>
    share > 0
      ? `${r[`flip${b}`]!.toFixed(4)} | ${(10 * Math.log10(share / r[`mse${b}`]!)).toFixed(2)}`
      : '– | –',
  );
  console.log(
    `| ${BINS[b]}–${Math.min(1, BINS[b + 1]!)} | ${(100 * share).toFixed(1)} % | ${cells.join(' | ')} |`,
  );
}
if (values.picture) {
  // The reference, then each method's low-band error: grey is none, ±1/gain full colour.
  const gain = Number(values.gain);
  const [W, H] = source.header.displaySize;
  const [cx, cy, cw, ch, zoom] = (values.crop ?? `0,0,${W},${H},1`).split(',').map(Number);
  if (![cx, cy, cw, ch, zoom].every((v) => Number.isInteger(v) && v! >= 0) || !cw || !ch || !zoom) {
    throw new RangeError(`--crop: x,y,w,h,zoom as non-negative integers, got ${values.crop}`);
  }
  const panels = [lastRef!, ...lowErrors];
  const [pw, ph] = [cw * zoom!, ch * zoom!];
  const width = panels.length * (pw + 4) - 4;
  const data = new Float32Array(width * ph * 3).fill(1);
  panels.forEach((plane, p) => {
    for (let y = 0; y < ph; y++) {
      for (let x = 0; x < pw; x++) {
        const from = ((cy! + Math.floor(y / zoom!)) * W + cx! + Math.floor(x / zoom!)) * 3;
        for (let c = 0; c < 3; c++) {
          const v = plane[from + c]!;
          const shown = p === 0 ? Math.pow(v, 1 / 2.2) : 0.5 + 0.5 * gain * v;
          data[(y * width + p * (pw + 4) + x) * 3 + c] = Math.min(1, Math.max(0, shown));
        }
      }
    }
  });
  writePng(values.picture, { width, height: ph, channels: 3, data });
  console.log(
    `wrote ${values.picture} (reference, then ${methods.join(', ')}: low-band error ×${gain})`,
  );
}
if (values.json) {
  writeFileSync(values.json, JSON.stringify({ sequence: dir, frames, sigma, results }, null, 2));
  console.log(`wrote ${values.json}`);
}
process.exit(0);
