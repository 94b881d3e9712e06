import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Image } from '../src/core/image.ts';
import {
  createSequenceMetrics,
  flicker,
  flip,
  meanPsnr,
  mse,
  psnr,
  PSNR_CAP_DB,
  ssim,
  tpsnr,
} from '../src/metrics/index.ts';
import { toDisplayPair } from '../src/metrics/display.ts';
import { sequenceSteadyFrames, steadyFrames } from '../src/metrics/sequence.ts';
import { displayTemporalMse } from '../src/metrics/temporal.ts';
import { addNoise, analyticReferences, blurImage, flatImage } from './helpers/metrics-images.ts';

// Linear 1 tonemaps to 0.5, linear 1.5 to 0.6 (grey, so luma too).
const half = () => flatImage(12, 12, [1, 1, 1]);
const sixTenths = () => flatImage(12, 12, [1.5, 1.5, 1.5]);

test('tpsnr: a change of 0.1 the reference does not make is 20 dB', () => {
  assert.ok(Math.abs(tpsnr(half(), sixTenths(), half(), half()) - 20) < 1e-4);
  // Same change in both: +Infinity. The static image against a static reference too.
  assert.equal(tpsnr(half(), sixTenths(), half(), sixTenths()), Infinity);
  assert.equal(tpsnr(half(), half(), half(), half()), Infinity);
  // Missing the reference's change is as bad as making one it does not have.
  assert.ok(Math.abs(tpsnr(half(), half(), half(), sixTenths()) - 20) < 1e-4);
});

test('flicker: a steady error does not flicker; an error that comes and goes does', () => {
  // Error +0.1 in both frames: 0.
  assert.ok(flicker(sixTenths(), sixTenths(), half(), half()) < 1e-7);
  // Error 0 then +0.1 everywhere: 0.1.
  assert.ok(Math.abs(flicker(half(), sixTenths(), half(), half()) - 0.1) < 1e-6);
  // Only in the left half of the pixels: 0.05.
  const partly = half();
  for (let y = 0; y < 12; y++)
    for (let x = 0; x < 6; x++) partly.data.fill(1.5, (y * 12 + x) * 3, (y * 12 + x) * 3 + 3);
  assert.ok(Math.abs(flicker(half(), partly, half(), half()) - 0.05) < 1e-6);
  // Symmetric in time.
  assert.equal(flicker(half(), partly, half(), half()), flicker(partly, half(), half(), half()));
  const small = () => flatImage(12, 11, [0, 0, 0]);
  assert.throws(() => flicker(half(), small(), half(), small()), /previous frame is 12x12.*12x11/);
});

test('on the analytic sequence: temporal noise flickers more than a steady blur', () => {
  const refs = analyticReferences(4, [32, 24]);
  const blurred = refs.map((r) => blurImage(r, 1));
  const noisy = refs.map((r, i) => addNoise(r, 0.05, 100 + i));
  const frozen = refs.map(() => refs[0]!);
  const temporal = (tests: Image[], f: typeof tpsnr) =>
    [1, 2, 3].map((i) => f(tests[i - 1]!, tests[i]!, refs[i - 1]!, refs[i]!));
  for (let k = 0; k < 3; k++) {
    assert.ok(temporal(noisy, flicker)[k]! > temporal(blurred, flicker)[k]!);
    assert.ok(temporal(noisy, tpsnr)[k]! < temporal(blurred, tpsnr)[k]!);
    // A frozen image misses all motion: worse tPSNR than a blurred but moving one.
    assert.ok(temporal(frozen, tpsnr)[k]! < temporal(blurred, tpsnr)[k]!);
  }
});

test('sequence metrics: per-frame values, warm-up apart, means as documented', () => {
  const refs = analyticReferences(5, [32, 24]);
  const tests = refs.map((r, i) => addNoise(blurImage(r, 0.7), 0.02, i));
  const metrics = createSequenceMetrics({ warmupFrames: 2 });
  refs.forEach((r, i) => metrics.addFrame(tests[i]!, r));
  const frames = metrics.perFrame();
  assert.deepEqual(
    frames.map((f) => [f.frame, f.warmup, f.tpsnr !== undefined]),
    [
      [0, true, false],
      [1, true, true],
      [2, false, true],
      [3, false, true],
      [4, false, true],
    ],
  );
  frames.forEach((f, i) => {
    assert.ok(Math.abs(f.psnr - psnr(tests[i]!, refs[i]!)) < 1e-9);
    assert.ok(Math.abs(f.ssim - ssim(tests[i]!, refs[i]!)) < 1e-12);
    assert.ok(Math.abs(f.flip! - flip(tests[i]!, refs[i]!).mean) < 1e-12);
    if (i > 0) {
      assert.ok(
        Math.abs(f.tpsnr! - tpsnr(tests[i - 1]!, tests[i]!, refs[i - 1]!, refs[i]!)) < 1e-9,
      );
      assert.ok(
        Math.abs(f.flicker! - flicker(tests[i - 1]!, tests[i]!, refs[i - 1]!, refs[i]!)) < 1e-12,
      );
    }
  });
  const { warmup, steady } = metrics.summary();
  assert.equal(warmup.frames, 2);
  assert.equal(steady.frames, 3);
  const steadyIdx = [2, 3, 4];
  assert.ok(
    Math.abs(steady.psnr - meanPsnr(steadyIdx.map((i) => mse(tests[i]!, refs[i]!)))) < 1e-9,
  );
  assert.ok(
    Math.abs(steady.ssim - (frames[2]!.ssim + frames[3]!.ssim + frames[4]!.ssim) / 3) < 1e-12,
  );
  assert.ok(
    Math.abs(steady.flip! - (frames[2]!.flip! + frames[3]!.flip! + frames[4]!.flip!) / 3) < 1e-12,
  );
  const tmse = steadyIdx.map((i) =>
    displayTemporalMse(
      toDisplayPair(tests[i - 1]!, refs[i - 1]!),
      toDisplayPair(tests[i]!, refs[i]!),
    ),
  );
  assert.ok(Math.abs(steady.tpsnr! - meanPsnr(tmse)) < 1e-9);
  // Warm-up has one frame with temporal metrics (frame 1).
  assert.ok(Math.abs(warmup.flicker! - frames[1]!.flicker!) < 1e-12);
});

test('sequence metrics: reset restarts warm-up and skips temporal metrics once', () => {
  const refs = analyticReferences(2, [16, 12]);
  const metrics = createSequenceMetrics({ warmupFrames: 1, flip: false });
  metrics.addFrame(refs[0]!, refs[0]!);
  metrics.addFrame(refs[1]!, refs[1]!);
  metrics.reset();
  metrics.addFrame(refs[0]!, refs[0]!);
  metrics.addFrame(refs[1]!, refs[1]!);
  const frames = metrics.perFrame();
  assert.deepEqual(
    frames.map((f) => [f.frame, f.warmup, f.tpsnr]),
    [
      [0, true, undefined],
      [1, false, PSNR_CAP_DB],
      [2, true, undefined],
      [3, false, PSNR_CAP_DB],
    ],
  );
  // Perfect frames: PSNR capped, FLIP skipped.
  assert.ok(frames.every((f) => f.psnr === PSNR_CAP_DB && f.flip === undefined && f.ssim === 1));
  const { steady, warmup } = metrics.summary();
  assert.equal(steady.psnr, PSNR_CAP_DB);
  assert.equal(steady.flicker, 0);
  assert.equal(warmup.tpsnr, undefined);
  assert.ok(!('flip' in steady) && !('flip' in warmup));
});

test('steadyFrames: the warm-up from the start and from every cut, as the metrics count it', () => {
  // Cuts at 0 (the first frame), 4, 5 and 9 of 12 frames, warm-up 2; the metrics reset() at every
  // cut after the first, as the eval does.
  const resets = [0, 4, 5, 9].reduce(
    (r, i) => ((r[i] = true), r),
    new Array<boolean>(12).fill(false),
  );
  const expected = [0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 1].map(Boolean);
  assert.deepEqual(steadyFrames(resets, 2), expected);
  const source = { frameCount: 12, frameParams: (i: number) => ({ reset: resets[i]! }) };
  assert.deepEqual(sequenceSteadyFrames(source, 2), expected);
  const frame = flatImage(12, 12, [0.5, 0.5, 0.5]);
  const metrics = createSequenceMetrics({ warmupFrames: 2, flip: false });
  resets.forEach((reset, i) => {
    if (reset && i > 0) metrics.reset();
    metrics.addFrame(frame, frame);
  });
  assert.deepEqual(
    metrics.perFrame().map((f) => !f.warmup),
    expected,
  );
  assert.deepEqual(steadyFrames(resets, 0), new Array(12).fill(true));
  assert.deepEqual(steadyFrames([], 8), []);
  assert.throws(() => steadyFrames(resets, 1.5), /warmupFrames.*1\.5/);
});

test('sequence metrics: bad input', () => {
  assert.throws(() => createSequenceMetrics({ warmupFrames: -1 }), /warmupFrames/);
  const metrics = createSequenceMetrics();
  metrics.addFrame(flatImage(12, 12, [0, 0, 0]), flatImage(12, 12, [0, 0, 0]));
  assert.throws(
    () => metrics.addFrame(flatImage(13, 12, [0, 0, 0]), flatImage(13, 12, [0, 0, 0])),
    /13x12.*12x12.*reset/,
  );
  metrics.reset();
  metrics.addFrame(flatImage(13, 12, [0, 0, 0]), flatImage(13, 12, [0, 0, 0]));
  const empty = createSequenceMetrics().summary();
  assert.equal(empty.steady.frames, 0);
  assert.ok(Number.isNaN(empty.steady.psnr));
});
