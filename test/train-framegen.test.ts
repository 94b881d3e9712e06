// Frame-generation training: the config's checks, the clips (training split only, dev apart),
// mirrored samples, the samples file, and a tiny run on the GPU whose loss falls, that resumes
// bit for bit, and whose weights the frame generator loads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGpu } from './helpers/gpu.ts';
import { createImage } from '../src/core/image.ts';
import {
  DEFAULT_FRAMEGEN_CONFIG,
  resolveFramegenConfig,
  trainingInstants,
  type FramegenDataConfig,
} from '../src/train/framegen/config.ts';
import {
  clipName,
  decodeSamples,
  drawClips,
  encodeSamples,
  mirrorSample,
  renderClipSamples,
  type FramegenSample,
} from '../src/train/framegen/samples.ts';
import { sampleParams } from '../src/train/framegen/gpu-samples.ts';
import { createSceneRenderer, sceneFrameSource } from '../src/scene/renderer.ts';
import { trainFramegen } from '../src/train/framegen/trainer.ts';
import { isHeldOut, VALIDATION_SEED_BASE } from '../src/train/splits.ts';
import { decodeWeights } from '../src/nn/weights.ts';
import { createFrameGenerator } from '../src/frame-generator.ts';

test('framegen config: defaults resolve; bad keys and values are refused by name', () => {
  assert.deepEqual(resolveFramegenConfig({}), DEFAULT_FRAMEGEN_CONFIG);
  const bad: [unknown, RegExp][] = [
    [{ stepz: 1 }, /unknown key "stepz"/],
    [{ data: { size: [95, 64] } }, /data.size must be multiples of 2/],
    [{ data: { ratio: 4 } }, /data.ratio must be a ratio in \[1, 3\]/],
    [{ batch: 0 }, /batch must be a positive integer/],
    [{ network: 'v2' }, /network must be one of framegen-v1/],
    [{ data: { clipFrames: 1 } }, /clipFrames must be at least 2/],
    [{ data: { mirror: 'yes' } }, /data.mirror must be true or false/],
    [{ data: { factors: [5] } }, /data.factors must be distinct rate factors from 2, 3, 4/],
    [{ data: { factors: [] } }, /data.factors must be distinct/],
    [{ data: { factors: [3, 3] } }, /data.factors must be distinct/],
    [[], /must be a JSON object/],
  ];
  for (const [overrides, message] of bad) {
    assert.throws(() => resolveFramegenConfig(overrides), message);
  }
  // A run stored before data.factors existed trained at t = 0.5.
  const { factors: _, ...older } = DEFAULT_FRAMEGEN_CONFIG.data;
  const base = { ...DEFAULT_FRAMEGEN_CONFIG, data: older as FramegenDataConfig };
  assert.deepEqual(resolveFramegenConfig({}, base).data.factors, [2]);
});

test('framegen instants: the distinct j / f of the factors, each from its smallest factor', () => {
  const at = (factors: number[]) => trainingInstants(factors).map((i) => [i.t, i.factor, i.j]);
  assert.deepEqual(at([2]), [[0.5, 2, 1]]);
  assert.deepEqual(at([4, 2, 3]), [
    [1 / 4, 4, 1],
    [1 / 3, 3, 1],
    [1 / 2, 2, 1],
    [2 / 3, 3, 2],
    [3 / 4, 4, 3],
  ]);
  assert.deepEqual(at([4]), [
    [1 / 4, 4, 1],
    [1 / 2, 4, 2],
    [3 / 4, 4, 3],
  ]);
});

test('framegen clips: training-split pairs and seeds only, dev clips apart, pure in the seed', () => {
  const { train, dev } = drawClips(3, { clips: 200, devClips: 40 });
  assert.equal(train.length, 200);
  assert.equal(dev.length, 40);
  for (const clip of [...train, ...dev]) {
    assert.ok(!isHeldOut(clip.scene, clip.path), clipName(clip));
    assert.ok(clip.seed >= 1 && clip.seed < VALIDATION_SEED_BASE, clipName(clip));
  }
  const trainNames = new Set(train.map(clipName));
  assert.ok(dev.every((c) => !trainNames.has(clipName(c))));
  assert.deepEqual(drawClips(3, { clips: 200, devClips: 40 }), { train, dev });
  assert.notDeepEqual(drawClips(4, { clips: 200, devClips: 40 }).train, train);
});

function randomSample(seed: number): FramegenSample {
  let s = seed;
  const next = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 0.5;
  const image = (w: number, h: number, c: number) => {
    const out = createImage(w, h, c);
    out.data.forEach((_, i) => (out.data[i] = next()));
    return out;
  };
  return {
    clip: `fence-orbit-${seed}`,
    pair: 3,
    t: [0.25, 1 / 3, 0.5][seed % 3]!,
    mirrored: false,
    cameraNear: 0.1,
    cameraFar: 400,
    previous: image(8, 4, 3),
    current: image(8, 4, 3),
    truth: image(8, 4, 3),
    motion: image(4, 2, 2),
    depth: image(4, 2, 1),
    reactive: image(4, 2, 1),
  };
}

test('framegen samples: mirroring flips images and negates motion x; the file reads back, and only for its config', () => {
  const sample = randomSample(5);
  const m = mirrorSample(sample);
  assert.equal(m.previous.data[0], sample.previous.data[7 * 3]);
  assert.equal(m.motion.data[0], -sample.motion.data[3 * 2]!);
  assert.equal(m.motion.data[1], sample.motion.data[3 * 2 + 1]);
  assert.deepEqual(mirrorSample(m).depth, sample.depth);
  const data: FramegenDataConfig = { ...DEFAULT_FRAMEGEN_CONFIG.data, size: [8, 4] };
  const bytes = encodeSamples(9, data, [sample, m], [randomSample(6)]);
  const read = decodeSamples(bytes, 9, data, 'samples.bin')!;
  assert.equal(read.train.length, 2);
  assert.deepEqual(read.train[1], m);
  assert.deepEqual(read.dev[0], randomSample(6));
  assert.equal(read.dev[0]!.t, 0.25);
  assert.equal(read.train[0]!.t, sample.t);
  assert.equal(decodeSamples(bytes, 10, data, 'samples.bin'), undefined);
  assert.equal(decodeSamples(bytes, 9, { ...data, clips: 3 }, 'samples.bin'), undefined);
  const damaged = Uint8Array.from(bytes);
  damaged[100]! ^= 1;
  assert.throws(() => decodeSamples(damaged, 9, data, 'samples.bin'), /samples.bin: checksum/);
});

const TINY = {
  steps: 12,
  batch: 2,
  learningRate: 0.01,
  warmupSteps: 2,
  logEvery: 3,
  checkpointEvery: 6,
  data: {
    size: [16, 16],
    clips: 2,
    devClips: 1,
    clipFrames: 3,
    pairsPerClip: 2,
    referenceSamples: 2,
  },
};

test('framegen training: the loss falls, a split run resumes bit for bit, and the weights load', async () => {
  const { device } = await testGpu();
  const dir = mkdtempSync(join(tmpdir(), 'uplift-train-framegen-'));
  try {
    const whole = await trainFramegen(device, TINY, { out: join(dir, 'whole') });
    assert.equal(whole.step, 12);
    assert.ok(whole.finished);
    assert.ok(whole.log.at(-1)!.loss < whole.log[0]!.loss, 'loss falls');
    const dev = whole.log.at(-1)!.dev!;
    for (const v of Object.values(dev)) assert.ok(Number.isFinite(v) && v > 10, `dev ${v}`);
    const split = join(dir, 'split');
    const first = await trainFramegen(device, TINY, { out: split, stopAtStep: 6 });
    assert.equal(first.step, 6);
    assert.equal(first.finished, false);
    await assert.rejects(trainFramegen(device, TINY, { out: split }), /pass --resume/);
    const resumed = await trainFramegen(device, {}, { out: split, resume: true });
    assert.equal(resumed.step, 12);
    const a = decodeWeights(readFileSync(whole.weights));
    const b = decodeWeights(readFileSync(resumed.weights));
    for (const [name, values] of a.parameters) assert.deepEqual(b.parameters.get(name), values);
    // Lengthened on resume: the rate goes on from where it was instead of jumping back up.
    const longer = await trainFramegen(device, { steps: 24 }, { out: split, resume: true });
    const rate = (step: number) => longer.log.find((e) => e.step === step)!.learningRate;
    assert.ok(rate(18) <= rate(12), `rate ${rate(18)} after ${rate(12)}`);
    const generator = await createFrameGenerator(device, {
      displaySize: [16, 16],
      method: 'neural',
      weights: whole.weights,
    });
    generator.destroy();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('framegen samples at 3× and 4×: each pair gets a drawn t, its truth is the scene at that instant', async () => {
  const { device } = await testGpu();
  const data: FramegenDataConfig = {
    ...DEFAULT_FRAMEGEN_CONFIG.data,
    size: [16, 16],
    clipFrames: 4,
    pairsPerClip: 3,
    referenceSamples: 2,
    mirror: false,
    factors: [2, 3, 4],
  };
  const clip = { scene: 'mix', path: 'orbit', seed: 5 };
  const samples = await renderClipSamples(device, clip, data, 11);
  const twice = await renderClipSamples(device, clip, { ...data, factors: [2] }, 11);
  // The pairs are those the default factors draw; the instants are the config's.
  assert.deepEqual(
    samples.map((s) => s.pair),
    twice.map((s) => s.pair),
  );
  assert.ok(twice.every((s) => s.t === 0.5));
  const instants = trainingInstants(data.factors).map((i) => i.t);
  assert.ok(samples.every((s) => instants.includes(s.t)));
  // The truth, checked at 12× the rate (every instant of 2×, 3× and 4× is a frame there).
  const fine = createSceneRenderer(device, {
    ...clip,
    displaySize: [16, 16],
    ratio: data.ratio,
    samples: data.referenceSamples,
    frames: 12 * data.clipFrames,
    fps: 12 * data.fps,
  });
  try {
    for (const s of samples) {
      const frame = (s.pair - 1) * 12 + Math.round(12 * s.t);
      const truth = (await sceneFrameSource(fine).readFrame(frame)).reference!;
      let worst = 0;
      truth.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - s.truth.data[i]!))));
      assert.ok(worst < 1e-5, `pair ${s.pair} t ${s.t}: ${worst}`);
      assert.equal(sampleParams(s).t, s.t);
    }
  } finally {
    fine.destroy();
  }
  // Seed 11 draws more than one instant for these three pairs (else this test checks little).
  assert.ok(new Set(samples.map((s) => s.t)).size > 1, samples.map((s) => s.t).join(' '));
});
