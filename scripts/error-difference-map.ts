/**
 * Where does one method lose to another on a sequence? Plays the sequence with both methods (as
 * `uplift eval` does), accumulates each pixel's squared error against the reference over the steady
 * frames (as the eval counts them: 8 of warm-up from the start and from every camera cut;
 * tonemapped c / (1 + max c), as the eval's PSNR), and writes one PNG: the
 * reference's last frame, each method's RMS error (white = 0.2), and their difference (red where
 * the first method is worse, blue where the second is; full colour at 0.1). Prints both PSNRs
 * and the 32×32 tiles where the first loses most, with their share of the whole difference. With
 * `--metric flip` the same for each pixel's ꟻLIP error (the eval's, src/metrics/flip.ts) averaged
 * over the steady frames, in place of the RMS error: where a method loses on ꟻLIP.
 *
 *   npx tsx scripts/error-difference-map.ts <sequence dir> <out.png> <method A> <method B>
 *     [--crop x,y,w,h,zoom] [--metric flip] [--white e (the error shown white, default 0.2)]
 * e.g. the default's recurrent state ablated on Fox (QUALITY §4):
 *   npx tsx scripts/error-difference-map.ts data/val/Fox-orbit-1019 fox.png neural neural@zero-state
 * Methods are named as `uplift eval --methods` names them (neural:<file.uplift>, @zero-state…).
 */
import { parseArgs } from 'node:util';
import type { Image } from '../src/core/image.ts';
import { requestGpu } from '../src/gpu/device.ts';
import { openSequence } from '../src/io/sequence.ts';
import { writePng } from '../src/io/png.ts';
import { parseMethod, runMethod } from '../src/eval/run-method.ts';
import { tonemapImage } from '../src/core/tonemap.ts';
import { toDisplayPair } from '../src/metrics/display.ts';
import { displayFlip } from '../src/metrics/flip.ts';
import { sequenceSteadyFrames } from '../src/metrics/sequence.ts';

const WARMUP = 8;
const GAP = 4;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    crop: { type: 'string' },
    metric: { type: 'string', default: 'mse' },
    white: { type: 'string', default: '0.2' },
  },
});
if (values.metric !== 'mse' && values.metric !== 'flip') {
  console.error(`--metric: mse or flip, got ${values.metric}`);
  process.exit(2);
}
const flipMetric = values.metric === 'flip';
// The error shown white (the difference at full colour at half of it).
const white = Number(values.white);
if (!(white > 0)) {
  console.error(`--white: a positive number, got ${values.white}`);
  process.exit(2);
}
const [dir, out, methodA, methodB] = positionals;
if (!dir || !out || !methodA || !methodB) {
  console.error(
    'usage: error-difference-map.ts <sequence dir> <out.png> <method A> <method B> [--crop x,y,w,h,zoom] [--metric flip] [--white e]',
  );
  process.exit(2);
}

const { device } = await requestGpu();
const source = await openSequence(dir);
const [W, H] = source.header.displaySize;
const steady = sequenceSteadyFrames(source, WARMUP);
const frames = steady.filter(Boolean).length;
if (frames === 0) throw new RangeError(`${dir}: no frame after ${WARMUP} of warm-up`);
let reference: Image | undefined;
const errors: Float64Array[] = [];
for (const name of [methodA, methodB]) {
  const error = new Float64Array(W * H);
  await runMethod(device, source, parseMethod(name), {
    onFrame(i, output, inputs) {
      if (!steady[i]) return;
      reference = inputs.reference;
      if (!reference) throw new RangeError(`${dir}: frame ${i} has no reference`);
      // The eval's display domain (tonemapped, non-finite pixels as its metrics count them).
      const pair = toDisplayPair(output, reference, name);
      if (flipMetric) {
        const { map } = displayFlip(pair);
        for (let p = 0; p < W * H; p++) error[p]! += map.data[p]! / frames;
        return;
      }
      for (let k = 0; k < pair.test.length; k++) {
        error[Math.floor(k / 3)]! += (pair.test[k]! - pair.ref[k]!) ** 2 / 3 / frames;
      }
    },
  });
  errors.push(error);
  const mean = error.reduce((sum, e) => sum + e, 0) / (W * H);
  console.log(
    flipMetric
      ? `${name}: mean ꟻLIP ${mean.toFixed(5)}`
      : `${name}: PSNR ${(10 * Math.log10(1 / mean)).toFixed(3)} dB`,
  );
}
const [a, b] = errors as [Float64Array, Float64Array];

// Panels: reference (sRGB-ish for viewing), RMS error (or mean ꟻLIP) A, B, A − B.
const panel = (k: number, x: number, y: number) => (y * 4 * (W + GAP) + k * (W + GAP) + x) * 3;
const picture = new Float32Array(4 * (W + GAP) * H * 3).fill(1);
const shown = tonemapImage(reference!);
for (let y = 0; y < H; y++) {
  for (let x = 0; x < W; x++) {
    const p = y * W + x;
    for (let c = 0; c < 3; c++) {
      picture[panel(0, x, y) + c] = Math.pow(shown.data[p * 3 + c]!, 1 / 2.2);
    }
    const ra = flipMetric ? a[p]! : Math.sqrt(a[p]!);
    const rb = flipMetric ? b[p]! : Math.sqrt(b[p]!);
    for (let c = 0; c < 3; c++) {
      picture[panel(1, x, y) + c] = Math.min(1, ra / white);
      picture[panel(2, x, y) + c] = Math.min(1, rb / white);
    }
    const d = Math.min(1, Math.abs(ra - rb) / (white / 2));
    const rgb = ra > rb ? [1, 1 - d, 1 - d] : [1 - d, 1 - d, 1];
    rgb.forEach((v, c) => (picture[panel(3, x, y) + c] = v));
  }
}
let image: Image = { width: 4 * (W + GAP), height: H, channels: 3, data: picture };
if (values.crop) {
  const [cx, cy, cw, ch, zoom] = values.crop.split(',').map(Number) as number[];
  if (![cx, cy, cw, ch, zoom].every((v) => Number.isInteger(v) && v! >= 0) || !cw || !ch || !zoom) {
    throw new RangeError(`--crop: x,y,w,h,zoom as non-negative integers, got ${values.crop}`);
  }
  const width = 4 * (cw * zoom + GAP);
  const data = new Float32Array(width * ch * zoom * 3).fill(1);
  for (let k = 0; k < 4; k++) {
    for (let y = 0; y < ch * zoom; y++) {
      for (let x = 0; x < cw * zoom; x++) {
        const from = panel(k, cx! + Math.floor(x / zoom), cy! + Math.floor(y / zoom));
        const to = (y * width + k * (cw * zoom + GAP) + x) * 3;
        for (let c = 0; c < 3; c++) data[to + c] = picture[from + c]!;
      }
    }
  }
  image = { width, height: ch * zoom, channels: 3, data };
}
writePng(out, image);

const total = a.reduce((sum, e, p) => sum + e - b[p]!, 0);
const tiles: { x: number; y: number; share: number }[] = [];
for (let y0 = 0; y0 + 32 <= H; y0 += 16) {
  for (let x0 = 0; x0 + 32 <= W; x0 += 16) {
    let d = 0;
    for (let y = y0; y < y0 + 32; y++)
      for (let x = x0; x < x0 + 32; x++) d += a[y * W + x]! - b[y * W + x]!;
    tiles.push({ x: x0, y: y0, share: d / total });
  }
}
tiles.sort((s, t) => (total > 0 ? t.share - s.share : s.share - t.share));
console.log(
  `${methodA} − ${methodB}: summed ${flipMetric ? 'ꟻLIP error' : 'squared error'} ${total.toExponential(3)}; the tiles where it is largest (overlapping 32×32, share of the sum):`,
);
for (const t of tiles.slice(0, 5))
  console.log(`  (${t.x}, ${t.y}) ${(100 * t.share).toFixed(0)} %`);
console.log(`wrote ${out}`);
process.exit(0);
