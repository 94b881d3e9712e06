// The pieces of frame-generation evaluation: the blend baseline, method names, the crop of the
// largest error and the dots on the stream's curves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createImage } from '../src/core/image.ts';
import { blendFrames, parseInterpolationMethods } from '../src/eval/interpolation-methods.ts';
import { byInstant, type StreamFrameMetrics } from '../src/eval/evaluate-interpolation.ts';
import { largestErrorCrop } from '../src/report/compose.ts';
import { linePlotSvg } from '../src/report/line-plot.ts';

const random = (width: number, height: number, channels: number, seed: number) => {
  const image = createImage(width, height, channels);
  let s = seed;
  for (let i = 0; i < image.data.length; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    image.data[i] = (s / 2 ** 31) * 4;
  }
  return image;
};

test('blendFrames is (1 − t)·previous + t·current per pixel, RGB of RGBA inputs', () => {
  const previous = random(5, 3, 4, 1);
  const current = random(5, 3, 3, 2);
  const blend = blendFrames(previous, current, 0.25);
  assert.equal(blend.channels, 3);
  for (let p = 0; p < 15; p++) {
    for (let c = 0; c < 3; c++) {
      const expected = 0.75 * previous.data[p * 4 + c]! + 0.25 * current.data[p * 3 + c]!;
      assert.ok(Math.abs(blend.data[p * 3 + c]! - expected) < 1e-6, `pixel ${p} channel ${c}`);
    }
  }
});

test('frame generation methods: names, weights files, refusals naming the method', () => {
  assert.deepEqual(parseInterpolationMethods('heuristic, neural:dir/my-fg.uplift,blend,repeat'), [
    { name: 'heuristic', kind: 'heuristic' },
    { name: 'neural:my-fg', kind: 'neural', weights: 'dir/my-fg.uplift' },
    { name: 'blend', kind: 'blend' },
    { name: 'repeat', kind: 'repeat' },
  ]);
  assert.throws(
    () => parseInterpolationMethods('heuristic,taau'),
    /unknown frame generation method "taau"/,
  );
  assert.throws(() => parseInterpolationMethods('neural:'), /needs a weights file/);
  assert.throws(() => parseInterpolationMethods(' , '), /give at least one method/);
  assert.throws(() => parseInterpolationMethods('repeat,repeat'), /names repeat twice/);
});

test('largestErrorCrop finds the region where the test differs from the reference', () => {
  const reference = random(40, 30, 3, 3);
  const test = { ...reference, data: reference.data.slice() };
  for (let y = 4; y < 10; y++) for (let x = 30; x < 36; x++) test.data[(y * 40 + x) * 3 + 1] += 2;
  const r = largestErrorCrop(test, reference, 8, 8);
  assert.ok(r.x <= 30 && r.x + 8 >= 36 && r.y <= 4 && r.y + 8 >= 10, JSON.stringify(r));
  assert.deepEqual([r.width, r.height], [8, 8]);
});

test('line plot dots the marked points only', () => {
  const svg = linePlotSvg(
    [
      {
        name: 'heuristic',
        values: [30, 20, 30, NaN, 30],
        marked: [false, true, false, true, false],
      },
    ],
    { title: 'stream', xLabel: 'frame', yLabel: 'dB' },
  );
  // Point 3 is missing: no dot for it.
  assert.equal((svg.match(/<circle /g) ?? []).length, 1);
});

test('byInstant groups generated frames by t, ascending, and leaves displayed frames out', () => {
  const frame = (n: number, t?: number): StreamFrameMetrics =>
    ({ frame: n, generated: t !== undefined, t, psnr: 30 }) as unknown as StreamFrameMetrics;
  // ×3 over three input frames: 0, 1/3, 2/3, 3, 1/3, 2/3, 6.
  const stream = [frame(0), frame(1, 2 / 3), frame(2, 1 / 3), frame(3), frame(4, 1 / 3)];
  stream.push(frame(5, 2 / 3), frame(6));
  const groups = byInstant(stream);
  assert.deepEqual(
    groups.map(([t, frames]) => [t, frames.map((f) => f.frame)]),
    [
      [1 / 3, [2, 4]],
      [2 / 3, [1, 5]],
    ],
  );
  assert.deepEqual(byInstant([frame(0), frame(3)]), []);
});
