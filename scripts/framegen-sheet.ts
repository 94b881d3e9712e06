/**
 * A contact sheet of one generated frame (docs/QUALITY.md, Frame generation): repeat, blend,
 * generated and the true in-between frame, each with its error map, whole and as a zoomed crop.
 *
 *   npx tsx scripts/framegen-sheet.ts <seq30> <seq60> <interpolate-out> <frame> <out.png> [x y w h]
 *
 * <frame> is an odd output frame number (generated at t = 0.5 between input frames
 * (frame − 1) / 2 and (frame + 1) / 2 of <seq30>; <seq60>'s reference of the same number is the
 * truth). The crop defaults to the 24×16 region where the generated frame is most wrong.
 */
import { join } from 'node:path';
import { createImage, cropImage, type Image } from '../src/core/image.ts';
import { openSequence, writePng } from '../src/io/index.ts';
import { readExr } from '../src/io/exr/file.ts';
import { frameFileName } from '../src/io/sequence.ts';
import { errorHeatmap, hstack, vstack, zoomNearest } from '../src/report/compose.ts';
import { toDisplay } from '../src/report/write-report.ts';
import { tonemapImage } from '../src/core/tonemap.ts';

const [seq30, seq60, outDir, frameText, target, ...rect] = process.argv.slice(2);
if (!target)
  throw new Error('usage: framegen-sheet.ts <seq30> <seq60> <out> <frame> <out.png> [x y w h]');
const frame = Number(frameText);
const k = (frame - 1) / 2;
const slow = await openSequence(seq30!);
const fast = await openSequence(seq60!);
const previous = (await slow.readFrame(k)).reference!;
const current = (await slow.readFrame(k + 1)).reference!;
const truth = (await fast.readFrame(frame)).reference!;
const generated = (await readExr(join(outDir!, frameFileName(frame, 'exr')))).image;
const blend = createImage(truth.width, truth.height, 3);
for (let i = 0; i < blend.data.length; i++) {
  blend.data[i] = 0.5 * previous.data[i]! + 0.5 * current.data[i]!;
}
const shown = [previous, blend, generated, truth];
const worst = (): [number, number, number, number] => {
  const a = tonemapImage(generated);
  const b = tonemapImage(truth);
  let best = [0, 0, -1];
  for (let y = 0; y + 16 <= truth.height; y += 2) {
    for (let x = 0; x + 24 <= truth.width; x += 2) {
      let e = 0;
      for (let j = 0; j < 16; j++) {
        for (let i = 0; i < 24 * 3; i++) {
          const o = ((y + j) * truth.width + x) * 3 + i;
          e += Math.abs(a.data[o]! - b.data[o]!);
        }
      }
      if (e > best[2]!) best = [x, y, e];
    }
  }
  return [best[0]!, best[1]!, 24, 16];
};
const [x, y, w, h] = rect.length === 4 ? rect.map(Number) : worst();
const crop = (image: Image) => cropImage(image, x!, y!, w!, h!);
const row = (images: Image[], zoom: number) => hstack(images.map((i) => zoomNearest(i, zoom)));
const errors = (images: Image[]) => images.map((i) => errorHeatmap(i, truth, 0.1));
const sheet = vstack([
  row(shown.map(toDisplay), 2),
  row([...errors(shown.slice(0, 3)), createImage(truth.width, truth.height, 3)], 2),
  row(
    shown.map((i) => toDisplay(crop(i))),
    8,
  ),
  row(errors(shown.slice(0, 3)).map(crop), 8),
]);
writePng(target, sheet);
console.log(`crop ${x} ${y} ${w} ${h}`);
