import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createImage } from '../src/core/image.ts';
import { busiestCrop, errorHeatmap, hstack, vstack, zoomNearest } from '../src/report/compose.ts';
import { linePlotSvg } from '../src/report/line-plot.ts';

test('zoom and stacking keep pixels where they belong', () => {
  const a = createImage(2, 1, 3);
  a.data.set([1, 0, 0, 0, 1, 0]);
  const z = zoomNearest(a, 3);
  assert.equal(z.width, 6);
  assert.equal(z.height, 3);
  assert.deepEqual([...z.data.subarray((2 * 6 + 4) * 3, (2 * 6 + 4) * 3 + 3)], [0, 1, 0]);
  const s = hstack([a, z], 2, 0.5);
  assert.equal(s.width, 2 + 2 + 6);
  assert.equal(s.height, 3);
  assert.equal(s.data[(0 * 10 + 2) * 3], 0.5, 'gap is background');
  assert.equal(s.data[(0 * 10 + 4) * 3], 1, 'second image starts after the gap');
  const v = vstack([a, a], 1, 0);
  assert.equal(v.height, 3);
  assert.equal(v.data[(2 * 2 + 1) * 3 + 1], 1);
});

test('error heat map: zero error is black, NaN is magenta, large error saturates', () => {
  const ref = createImage(3, 1, 3);
  const out = createImage(3, 1, 3);
  out.data.set([0, 0, 0, NaN, 0, 0, 5, 5, 5]);
  const h = errorHeatmap(out, ref, 0.1);
  assert.deepEqual([...h.data.subarray(0, 3)], [0, 0, 0]);
  assert.deepEqual([...h.data.subarray(3, 6)], [1, 0, 1]);
  assert.deepEqual([...h.data.subarray(6, 9)], [1, 1, 1]);
});

test('busiest crop finds the textured corner', () => {
  const img = createImage(40, 30, 3);
  for (let y = 20; y < 30; y++)
    for (let x = 28; x < 40; x++)
      img.data.fill((x + y) & 1, (y * 40 + x) * 3, (y * 40 + x) * 3 + 3);
  const r = busiestCrop(img, 8, 8);
  assert.ok(r.x >= 24 && r.y >= 16, JSON.stringify(r));
});

test('line plot draws every series and breaks lines at missing values', () => {
  const svg = linePlotSvg(
    [
      { name: 'taau', values: [1, 2, NaN, 4] },
      { name: 'bilinear <b>', values: [0.5, 0.7, 0.8, Infinity] },
    ],
    { title: 'PSNR', xLabel: 'frame', yLabel: 'dB', warmup: 2 },
  );
  assert.match(svg, /^<svg/);
  assert.equal((svg.match(/<path /g) ?? []).length, 2);
  assert.match(svg, /M[\d.]+ [\d.]+L[\d.]+ [\d.]+M/, 'a gap starts a new subpath');
  assert.match(svg, /bilinear &lt;b&gt;/);
  assert.match(svg, /warm-up/);
});
