import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  analyticMotion,
  analyticSequence,
  shadeAnalytic,
  type AnalyticHit,
} from '../src/scene/analytic.ts';
import { jitterOffset, jitterPhaseCount } from '../src/core/jitter.ts';

test('analytic sequence: sizes, jitter, reset and determinism', () => {
  const a = analyticSequence({ displaySize: [64, 48], ratio: 2, frames: 4, referenceSamples: 4 });
  const b = analyticSequence({ displaySize: [64, 48], ratio: 2, frames: 4, referenceSamples: 4 });
  assert.deepEqual(a.header.renderSize, [32, 24]);
  assert.equal(a.frames.length, 4);
  const phases = jitterPhaseCount(32, 64);
  a.frames.forEach((f, i) => {
    assert.deepEqual(f.params.jitter, jitterOffset(i, phases));
    assert.equal(f.params.reset, i === 0);
    assert.equal(f.images.color.width, 32);
    assert.equal(f.images.reference!.width, 64);
    assert.deepEqual(f.images.color.data, b.frames[i]!.images.color.data);
    for (const v of f.images.depth.data) assert.ok(v > 0 && v < 1);
  });
  const other = analyticSequence({
    displaySize: [64, 48],
    frames: 2,
    seed: 7,
    referenceSamples: 4,
  });
  assert.notDeepEqual(other.frames[1]!.images.color.data, a.frames[1]!.images.color.data);
});

test('analytic sequence: motion vectors point at the same surface point in the previous frame', () => {
  const displaySize = [64, 48] as const;
  const seq = analyticSequence({ displaySize, ratio: 2, frames: 4, referenceSamples: 1, seed: 3 });
  const motion = analyticMotion(3);
  const [rw, rh] = seq.header.renderSize;
  const hit: AnalyticHit = { r: 0, g: 0, b: 0, z: 0, layer: 0 };
  for (let t = 1; t < 4; t++) {
    const { color, motion: mv } = seq.frames[t]!.images;
    const [jx, jy] = seq.frames[t]!.params.jitter;
    let same = 0;
    for (let y = 0; y < rh; y++) {
      for (let x = 0; x < rw; x++) {
        const i = y * rw + x;
        // The jittered sample's surface point, looked up in frame t−1 at prevUV = uv + m.
        const u = (x + 0.5 + jx) / rw + mv.data[i * 2]!;
        const v = (y + 0.5 + jy) / rh + mv.data[i * 2 + 1]!;
        shadeAnalytic(u, v, t - 1, displaySize, motion, hit);
        if (
          Math.abs(hit.r - color.data[i * 3]!) < 1e-5 &&
          Math.abs(hit.b - color.data[i * 3 + 2]!) < 1e-5
        )
          same++;
      }
    }
    // Only samples that were hidden in the previous frame (disocclusion) may differ.
    assert.ok(same / (rw * rh) > 0.95, `frame ${t}: ${same} of ${rw * rh} samples match`);
  }
});

test('analytic sequence: camera cut sets reset and zero motion', () => {
  const seq = analyticSequence({ displaySize: [32, 24], frames: 4, cutAt: 2, referenceSamples: 1 });
  assert.deepEqual(
    seq.frames.map((f) => f.params.reset),
    [true, false, true, false],
  );
  assert.ok(seq.frames[2]!.images.motion.data.every((m) => m === 0));
});
