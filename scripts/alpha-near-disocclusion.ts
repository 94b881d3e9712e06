/**
 * How far a network's history weight α dips around the disocclusion cue it was given (docs/QUALITY.md
 * §4, the fence flythrough): from the `alpha` and `disocclusion` debug views of `uplift upscale
 * --debug-views <dir>` (display size, one PNG per frame), the mean α of the pixels at each
 * chessboard distance 0…12 (display pixels) from the nearest pixel whose cue is above 0.5, and of
 * those farther. Distance 0 is the cue's own strip; where α is back to the far value is how wide
 * the network's band is around it.
 *
 *   npx tsx scripts/alpha-near-disocclusion.ts <views dir> [<views dir> …]
 *     [--from 8] [--region x0,y0,x1,y1] [--json out.json]
 */
import { parseArgs } from 'node:util';
import { readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readPng } from '../src/io/png.ts';
import { heatColor } from '../src/nn/resolve/debug-views.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    from: { type: 'string', default: '8' },
    region: { type: 'string' },
    json: { type: 'string' },
  },
});
if (positionals.length === 0) {
  throw new Error(
    'usage: alpha-near-disocclusion.ts <views dir> … [--from 8] [--region x0,y0,x1,y1] [--json out.json]',
  );
}
const FAR = 12;
const from = Number(values.from);
const region = values.region?.split(',').map(Number);
if (region && (region.length !== 4 || region.some((v) => !Number.isInteger(v) || v < 0))) {
  throw new Error(`--region: four non-negative integers x0,y0,x1,y1, got "${values.region}"`);
}

// The alpha view is heatColor(α) in 8 bits: invert it by the nearest of 1001 levels.
const LEVELS = Array.from({ length: 1001 }, (_, i) => heatColor(i / 1000).map((v) => v * 255));
const inverted = new Map<number, number>();
function alphaOf(r: number, g: number, b: number): number {
  const key = (r << 16) | (g << 8) | b;
  const known = inverted.get(key);
  if (known !== undefined) return known;
  let best = 0;
  let bestDistance = Infinity;
  LEVELS.forEach(([lr, lg, lb], i) => {
    const d = (lr! - r) ** 2 + (lg! - g) ** 2 + (lb! - b) ** 2;
    if (d < bestDistance) [bestDistance, best] = [d, i / 1000];
  });
  inverted.set(key, best);
  return best;
}

/** Chessboard distance of every pixel to the nearest marked one (breadth-first). */
function distances(marked: boolean[], width: number, height: number): Int32Array {
  const dist = new Int32Array(width * height).fill(FAR + 1);
  const queue: number[] = [];
  marked.forEach((m, i) => m && (dist[i] = 0) === 0 && queue.push(i));
  for (let q = 0; q < queue.length; q++) {
    const i = queue[q]!;
    if (dist[i]! >= FAR) continue;
    const x = i % width;
    const y = (i - x) / width;
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const X = x + dx;
        const Y = y + dy;
        if (X < 0 || Y < 0 || X >= width || Y >= height) continue;
        const j = Y * width + X;
        if (dist[j]! > dist[i]! + 1) {
          dist[j] = dist[i]! + 1;
          queue.push(j);
        }
      }
    }
  }
  return dist;
}

const results = [];
for (const views of positionals) {
  const frames = (await readdir(join(views, 'alpha')))
    .filter((f) => f.endsWith('.png'))
    .sort()
    .slice(from);
  const sum = new Float64Array(FAR + 2);
  const count = new Float64Array(FAR + 2);
  for (const frame of frames) {
    const alpha = (await readPng(join(views, 'alpha', frame))).image;
    const cue = (await readPng(join(views, 'disocclusion', frame))).image;
    const { width, height } = alpha;
    const marked = Array.from(
      { length: width * height },
      (_, i) => cue.data[i * cue.channels]! > 0.5,
    );
    const dist = distances(marked, width, height);
    for (let y = region?.[1] ?? 0; y < Math.min(region?.[3] ?? height, height); y++) {
      for (let x = region?.[0] ?? 0; x < Math.min(region?.[2] ?? width, width); x++) {
        const i = y * width + x;
        const [r, g, b] = [0, 1, 2].map((c) =>
          Math.round(alpha.data[i * alpha.channels + c]! * 255),
        );
        sum[dist[i]!] += alphaOf(r!, g!, b!);
        count[dist[i]!]++;
      }
    }
  }
  const meanAlpha = Array.from(sum, (s, d) =>
    count[d] ? Number((s / count[d]!).toFixed(3)) : null,
  );
  const name = basename(views) === 'views' ? basename(dirname(views)) : basename(views);
  results.push({ views: name, frames: frames.length, meanAlpha, pixels: Array.from(count) });
  console.log(
    `${name.padEnd(16)} ${meanAlpha.map((a) => (a === null ? '  -  ' : a.toFixed(2))).join(' ')}`,
  );
}
console.log(`${''.padEnd(16)} distance 0 … ${FAR}, then farther (display pixels from the cue)`);
if (values.json) {
  await writeFile(
    values.json,
    `${JSON.stringify({ from, region: region ?? null, far: FAR, results }, null, 2)}\n`,
  );
}
