/**
 * The peer comparison of docs/QUALITY.md: builds the example, renders its scene with every method
 * in headless Chromium (SwiftShader), prints each method's PSNR / SSIM against the 4×4
 * supersampled render and its frame times as a Markdown table, and writes the last frames side by
 * side (reference, Uplift neural, Uplift TAAU, three's TAAUNode, bilinear, native) as a PNG.
 *
 *   npx tsx examples/three/compare.ts [--size 256x192] [--frames 16] [--png out.png]
 *     [--crop x,y,w,h --zoom 2]   (a region of each frame, each pixel zoom × zoom)
 */
import { parseArgs } from 'node:util';
import { writePng } from '../../src/io/png.ts';
import { buildExample, cropZoom, decodeImage, runExample, score, sideBySide } from './harness.ts';
import { METHODS } from './pipelines.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '256x192' },
    frames: { type: 'string', default: '16' },
    png: { type: 'string' },
    crop: { type: 'string' },
    zoom: { type: 'string', default: '2' },
  },
});

buildExample();
const { measurement: m, errors } = await runExample(
  `measure&size=${values.size}&frames=${values.frames}&methods=${METHODS.join(',')}`,
  900_000,
);
if (m.error) throw new Error(m.error);
if (errors.length) console.warn(`page errors: ${errors.join('; ')}`);

const fmt = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
console.log(`${m.displaySize.join('x')}, ${m.frames} frames, adapter ${JSON.stringify(m.adapter)}`);
console.log(`timestamp-query: ${m.timestampQuery}`);
console.log('| method | PSNR (dB) | SSIM | GPU ms/frame | wall ms/frame |');
console.log('| ------ | --------: | ---: | -----------: | ------------: |');
for (const s of score(m)) {
  console.log(
    `| ${s.method} | ${fmt(s.psnr, 2)} | ${fmt(s.ssim, 4)} | ${fmt(s.gpuMs, 1)} | ${fmt(s.wallMs, 1)} |`,
  );
}
if (values.png) {
  const images = [m.reference, ...Object.values(m.methods).map((r) => r.image)];
  const crop = values.crop?.split(',').map(Number);
  const decoded = images.map((b64) => decodeImage(b64, m.displaySize));
  const shown = crop ? decoded.map((im) => cropZoom(im, crop, Number(values.zoom))) : decoded;
  writePng(values.png, sideBySide(shown));
  console.log(`wrote ${values.png}`);
}
