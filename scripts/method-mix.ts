/**
 * How complementary are two methods' errors? Plays each sequence with methods A and B (as
 * `uplift eval` does) and scores fixed mixes of their outputs, (1 − w)·A + w·B in the tonemapped
 * display domain (where the upscalers blend their history), against the reference: the steady
 * PSNR of each mix as the eval computes it (frames after the warm-up, counted from the start and
 * from every camera cut; the dB of the mean MSE). Prints per sequence each mix's margin over A,
 * then the mean margin and the sequences below A per weight, and the mean of each sequence's best
 * weight (an oracle: a per-sequence choice no upscaler could make). With `--dark t` the mix is
 * made only on pixels whose output of A has a luma below t (display domain), A's output elsewhere:
 * what A would gain if it were B in its dark regions. With `--flip`, each mix's mean ꟻLIP too.
 *
 *   npx tsx scripts/method-mix.ts <method A> <method B> <sequence dir>... [--weights 0.25,0.5,0.75]
 *     [--warmup 8] [--dark t] [--flip] [--json out.json]
 * e.g. TAAU and the default network on the held-out split (QUALITY §4):
 *   npx tsx scripts/method-mix.ts taau neural data/val/* --json mix.json
 */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { requestGpu } from '../src/gpu/device.ts';
import { openSequence } from '../src/io/sequence.ts';
import { parseMethod, runMethod } from '../src/eval/run-method.ts';
import { lumaPlane, toDisplayPair } from '../src/metrics/display.ts';
import { meanPsnr } from '../src/metrics/psnr.ts';
import { flipAgainst } from '../src/metrics/flip.ts';
import { sequenceSteadyFrames } from '../src/metrics/sequence.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    weights: { type: 'string', default: '0.25,0.5,0.75' },
    warmup: { type: 'string', default: '8' },
    json: { type: 'string' },
    dark: { type: 'string' },
    flip: { type: 'boolean', default: false },
  },
});
const dark = values.dark === undefined ? Infinity : Number(values.dark);
if (!(dark > 0)) throw new RangeError(`--dark: a positive luma, got ${values.dark}`);
const [methodA, methodB, ...dirs] = positionals;
if (!methodA || !methodB || dirs.length === 0) {
  console.error(
    'usage: method-mix.ts <method A> <method B> <sequence dir>... [--weights 0.25,0.5,0.75] [--warmup 8] [--dark t] [--flip] [--json out.json]',
  );
  process.exit(2);
}
const mixes = values.weights.split(',').map(Number);
if (!mixes.every((w) => w >= 0 && w <= 1)) {
  throw new RangeError(`--weights: numbers in [0, 1], got ${values.weights}`);
}
const weights = [0, ...mixes, 1];
const warmup = Number(values.warmup);
if (!Number.isInteger(warmup) || warmup < 0) {
  throw new RangeError(`--warmup: a non-negative integer, got ${values.warmup}`);
}

const { device } = await requestGpu();
const rows: { sequence: string; psnr: number[]; flip?: number[] }[] = [];
for (const dir of dirs) {
  const source = await openSequence(dir);
  const steady = sequenceSteadyFrames(source, warmup);
  const outputs: Float32Array[][] = [[], []];
  const references: Float32Array[] = [];
  for (const [m, name] of [methodA, methodB].entries()) {
    await runMethod(device, source, parseMethod(name), {
      onFrame(i, output, inputs) {
        if (!steady[i]) return;
        if (!inputs.reference) throw new RangeError(`${dir}: frame ${i} has no reference`);
        const pair = toDisplayPair(output, inputs.reference, name);
        outputs[m]!.push(pair.test);
        if (m === 0) references.push(pair.ref);
      },
    });
  }
  // Each frame's mix at weight w: (1 − w)·A + w·B where A's luma is below --dark, A elsewhere.
  const mix = (f: number, w: number) => {
    const a = outputs[0]![f]!;
    const b = outputs[1]![f]!;
    const lumaA = lumaPlane(a);
    const out = new Float32Array(a.length);
    for (let p = 0; p < lumaA.length; p++) {
      const v = lumaA[p]! < dark ? w : 0;
      for (let c = 3 * p; c < 3 * p + 3; c++) out[c] = (1 - v) * a[c]! + v * b[c]!;
    }
    return out;
  };
  const [width, height] = source.header.displaySize;
  // Each frame's reference analysed for ꟻLIP once, for every weight's mix.
  const flipOf = values.flip ? references.map((ref) => flipAgainst(ref, width, height)) : [];
  const scores = weights.map((w) => {
    const mse: number[] = [];
    let flipSum = 0;
    references.forEach((ref, f) => {
      const m = mix(f, w);
      let sum = 0;
      for (let k = 0; k < ref.length; k++) sum += (m[k]! - ref[k]!) ** 2;
      mse.push(sum / ref.length);
      if (values.flip) flipSum += flipOf[f]!(m).mean;
    });
    return { psnr: meanPsnr(mse), flip: flipSum / references.length };
  });
  const psnr = scores.map((s) => s.psnr);
  const flip = values.flip ? scores.map((s) => s.flip) : undefined;
  rows.push({ sequence: basename(dir), psnr, ...(flip ? { flip } : {}) });
  const margins = psnr.slice(1).map((p) => (p - psnr[0]!).toFixed(2).padStart(6));
  const flips = flip ? `  ꟻLIP ${flip.map((v) => v.toFixed(4)).join(' ')}` : '';
  console.log(`${basename(dir).padEnd(32)} ${psnr[0]!.toFixed(2)} ${margins.join(' ')}${flips}`);
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
console.log(`weight of ${methodB}: mean margin over ${methodA}, sequences below it`);
const summary = weights.slice(1).map((w, j) => {
  const margins = rows.map((r) => r.psnr[j + 1]! - r.psnr[0]!);
  const row = {
    weight: w,
    meanMargin: mean(margins),
    below: margins.filter((d) => d < 0).length,
    ...(values.flip ? { meanFlip: mean(rows.map((r) => r.flip![j + 1]!)) } : {}),
  };
  const flipText = row.meanFlip !== undefined ? `, mean ꟻLIP ${row.meanFlip.toFixed(4)}` : '';
  console.log(`  ${w.toFixed(2)}: ${row.meanMargin.toFixed(3)} dB, ${row.below} below${flipText}`);
  return row;
});
if (values.flip) console.log(`  0.00: mean ꟻLIP ${mean(rows.map((r) => r.flip![0]!)).toFixed(4)}`);
const best = mean(rows.map((r) => Math.max(...r.psnr) - r.psnr[0]!));
console.log(`  each sequence's best weight (an oracle): ${best.toFixed(3)} dB`);
if (values.json) {
  writeFileSync(
    values.json,
    JSON.stringify({
      methods: [methodA, methodB],
      warmup,
      weights,
      ...(values.dark !== undefined ? { dark } : {}),
      summary,
      best,
      rows,
    }),
  );
}
process.exit(0);
