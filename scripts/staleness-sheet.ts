/**
 * Where the loss's stale term weighs (docs/QUALITY.md §4): for each sequence, frame <frame>'s
 * reference beside its history staleness against frame <frame> − 1 (black 0, white 1;
 * src/train/losses/staleness-cpu.ts), one row per sequence; prints each map's mean and the share
 * of fully stale pixels.
 *
 *   npx tsx scripts/staleness-sheet.ts <out.png> <frame> <sequence dir>...
 *
 * The sequences need references (`uplift render` writes them).
 */
import { createImage, type Image } from '../src/core/image.ts';
import { openSequence, writePng } from '../src/io/index.ts';
import { hstack, vstack } from '../src/report/compose.ts';
import { toDisplay } from '../src/report/write-report.ts';
import { prepareClipCpu } from '../src/train/bptt-cpu.ts';
import { historyStalenessCpu } from '../src/train/losses/staleness-cpu.ts';

const [target, frameText, ...dirs] = process.argv.slice(2);
const frame = Number(frameText);
if (!target || !Number.isInteger(frame) || frame < 1 || dirs.length === 0) {
  throw new Error('usage: staleness-sheet.ts <out.png> <frame ≥ 1> <sequence dir>...');
}
const rows: Image[] = [];
for (const dir of dirs) {
  const sequence = await openSequence(dir);
  if (frame >= sequence.frameCount) {
    throw new Error(`${dir} has ${sequence.frameCount} frames, no frame ${frame}`);
  }
  const frames = [];
  for (const i of [frame - 1, frame]) {
    frames.push({ params: sequence.frameParams(i), images: await sequence.readFrame(i) });
  }
  // Frame `frame` as the second of a two-frame clip: prepared as training prepares it.
  const [previous, current] = prepareClipCpu(sequence.header, frames);
  const { width, height } = current!;
  const staleness = historyStalenessCpu(
    width,
    height,
    current!.prepared.motion,
    current!.reference,
    previous!.reference,
    sequence.frameParams(frame).reset,
    current!.historyScale,
  );
  const map = createImage(width, height, 3);
  staleness.forEach((s, i) => map.data.fill(s, i * 3, i * 3 + 3));
  const mean = staleness.reduce((a, b) => a + b, 0) / staleness.length;
  const full = staleness.filter((s) => s >= 1).length / staleness.length;
  console.log(
    `${dir} frame ${frame}: mean staleness ${mean.toFixed(4)}, fully stale ${(100 * full).toFixed(2)} %`,
  );
  rows.push(hstack([toDisplay(frames[1]!.images.reference!), map]));
}
writePng(target, vstack(rows));
console.log(`wrote ${target}`);
