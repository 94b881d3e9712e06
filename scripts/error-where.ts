/**
 * Where one method loses to another on a sequence (docs/QUALITY.md §4, the fence flythrough):
 * the squared error against the reference of two `uplift upscale --format png` outputs, per pixel
 * and per block, over the scored frames. Prints each method's PSNR (of the 8-bit sRGB frames, so
 * not `uplift eval`'s number) and the blocks that hold most of B's extra error; writes a map (red:
 * B worse than A there, green: B better, ×2) and, with --crop, crops of one frame: reference, A,
 * B, and B's debug view (`uplift upscale --debug-views`), e.g. its blend factor α.
 *
 *   npx tsx scripts/error-where.ts <sequence> <A dir> <B dir> --map where.png
 *     [--crop x,y,w,h --frame 23 --view <debug dir>/alpha --crop-out crops.png]
 *     [--warmup 8] [--block 32]
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { openSequence } from '../src/io/sequence.ts';
import { readPng, writePng } from '../src/io/png.ts';
import { linearToSrgb } from '../src/core/tonemap.ts';
import { cropImage, type Image } from '../src/core/image.ts';
import { hstack, zoomNearest } from '../src/report/compose.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    map: { type: 'string' },
    crop: { type: 'string' },
    frame: { type: 'string' },
    view: { type: 'string' },
    'crop-out': { type: 'string' },
    warmup: { type: 'string', default: '8' },
    block: { type: 'string', default: '32' },
  },
});
if (positionals.length !== 3) {
  throw new Error(
    'usage: error-where.ts <sequence> <A dir> <B dir> --map out.png [--crop x,y,w,h --frame n --view dir --crop-out out.png]',
  );
}
const [sequenceDir, dirA, dirB] = positionals as [string, string, string];
const seq = await openSequence(sequenceDir);
const [width, height] = seq.header.displaySize;
const block = Number(values.block);
const warmup = Number(values.warmup);
const frameFile = (dir: string, f: number) => join(dir, `${String(f).padStart(4, '0')}.png`);
/** The linear reference as sRGB values in 0..1, to compare with the upscaled 8-bit PNGs. */
const srgbReference = (image: Image): Image => {
  const data = new Float32Array(width * height * 3);
  for (let i = 0; i < width * height; i++)
    for (let c = 0; c < 3; c++)
      data[i * 3 + c] = linearToSrgb(Math.min(1, Math.max(0, image.data[i * image.channels + c]!)));
  return { width, height, channels: 3, data };
};
const rgbAt = (image: Image, i: number, c: number) =>
  image.data[i * image.channels + Math.min(c, image.channels - 1)]!;

const blocksX = Math.ceil(width / block);
const blocksY = Math.ceil(height / block);
const extra = new Float64Array(blocksX * blocksY);
const map = new Float32Array(width * height * 3);
const total = { a: 0, b: 0 };
const frames = seq.frameCount - warmup;
for (let f = warmup; f < seq.frameCount; f++) {
  const reference = srgbReference((await seq.readFrame(f)).reference!);
  const a = (await readPng(frameFile(dirA, f))).image;
  const b = (await readPng(frameFile(dirB, f))).image;
  for (let i = 0; i < width * height; i++) {
    let ea = 0;
    let eb = 0;
    for (let c = 0; c < 3; c++) {
      ea += (reference.data[i * 3 + c]! - rgbAt(a, i, c)) ** 2;
      eb += (reference.data[i * 3 + c]! - rgbAt(b, i, c)) ** 2;
    }
    total.a += ea;
    total.b += eb;
    const x = i % width;
    const y = Math.floor(i / width);
    extra[Math.floor(y / block) * blocksX + Math.floor(x / block)]! += eb - ea;
    // ×20: a difference of 0.05 in one channel, squared and summed over the frames, shows.
    const d = ((eb - ea) * 20) / frames;
    map[i * 3] += Math.max(0, d);
    map[i * 3 + 1] += Math.max(0, -d);
  }
}
const psnr = (se: number) => 10 * Math.log10((frames * width * height * 3) / se);
console.log(
  `frames ${warmup}–${seq.frameCount - 1}, PSNR of the sRGB frames: A ${psnr(total.a).toFixed(2)} dB, B ${psnr(total.b).toFixed(2)} dB`,
);
const net = total.b - total.a;
const order = [...extra.keys()].sort((i, j) => extra[j]! - extra[i]!);
console.log(`blocks of ${block}×${block} where B loses most (share of B's net extra error):`);
for (const i of order.slice(0, 8)) {
  console.log(
    `  x ${(i % blocksX) * block}, y ${Math.floor(i / blocksX) * block}: ${((100 * extra[i]!) / net).toFixed(0)} %`,
  );
}
console.log('blocks where B gains most:');
for (const i of order.slice(-4).reverse()) {
  console.log(
    `  x ${(i % blocksX) * block}, y ${Math.floor(i / blocksX) * block}: ${((100 * extra[i]!) / net).toFixed(0)} %`,
  );
}

if (values.map) {
  const clamped = map.map((v) => Math.min(1, v));
  writePng(values.map, zoomNearest({ width, height, channels: 3, data: clamped }, 2));
  console.log(`wrote ${values.map}`);
}
if (values.crop && values['crop-out']) {
  const [cx, cy, cw, ch] = values.crop.split(',').map(Number) as [number, number, number, number];
  const f = Number(values.frame ?? seq.frameCount - 1);
  const images = [
    srgbReference((await seq.readFrame(f)).reference!),
    ...(await Promise.all([dirA, dirB].map((d) => readPng(frameFile(d, f))))).map((p) => p.image),
    ...(values.view ? [(await readPng(frameFile(values.view, f))).image] : []),
  ];
  const crops = images.map((im) => cropImage(im, cx, cy, cw, ch));
  writePng(values['crop-out'], zoomNearest(hstack(crops, 2), 3));
  console.log(`wrote ${values['crop-out']} (frame ${f})`);
}
