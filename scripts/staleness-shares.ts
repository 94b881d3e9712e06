/**
 * Where the loss's stale term puts its weight (docs/QUALITY.md §4): for each sequence, the mean
 * history staleness per pixel over consecutive frame pairs (src/train/losses/staleness-cpu.ts,
 * off-screen history counted 1 as by default), and the part of it from pixels whose history lies
 * off screen (`"loss": { "staleOffscreen": 0 }` leaves those out).
 *
 *   npx tsx scripts/staleness-shares.ts <sequence dir>... [--frames N]
 *
 * Uses frames 1 … N − 1 against their previous frames (default N = 12). The sequences need
 * references (`uplift render`, `uplift dataset` write them).
 */
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { openSequence } from '../src/io/index.ts';
import { forEachReprojectedPixel } from '../src/reference/common.ts';
import { prepareClipCpu } from '../src/train/bptt-cpu.ts';
import { historyStalenessCpu } from '../src/train/losses/staleness-cpu.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { frames: { type: 'string', default: '12' } },
});
const frameLimit = Number(values.frames);
if (positionals.length === 0 || !Number.isInteger(frameLimit) || frameLimit < 2) {
  throw new Error('usage: staleness-shares.ts <sequence dir>... [--frames N ≥ 2]');
}
for (const dir of positionals) {
  const sequence = await openSequence(dir);
  let all = 0;
  let offScreen = 0;
  let pixels = 0;
  for (let f = 1; f < Math.min(sequence.frameCount, frameLimit); f++) {
    const pair = [];
    for (const i of [f - 1, f]) {
      pair.push({ params: sequence.frameParams(i), images: await sequence.readFrame(i) });
    }
    // Frame f as the second of a two-frame clip: prepared as training prepares it.
    const [previous, current] = prepareClipCpu(sequence.header, pair);
    const { width, height, prepared, reference, historyScale } = current!;
    const staleness = historyStalenessCpu(
      width,
      height,
      prepared.motion,
      reference,
      previous!.reference,
      sequence.frameParams(f).reset,
      historyScale,
    );
    const onScreen = new Uint8Array(width * height);
    forEachReprojectedPixel(prepared.motion, width, height, (x, y) => {
      onScreen[y * width + x] = 1;
    });
    staleness.forEach((s, i) => {
      all += s;
      if (!onScreen[i]) offScreen += s;
    });
    pixels += staleness.length;
  }
  const percent = (v: number) => ((100 * v) / pixels).toFixed(2);
  console.log(
    `${basename(dir)}: mean staleness ${percent(all)} %, of it off screen ${percent(offScreen)} %`,
  );
}
