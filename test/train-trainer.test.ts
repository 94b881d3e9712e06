// The training run around the steps: files written (checkpoint, weights, JSONL log, SVG curve,
// config), a run split in two calls (stop at step 4, resume) ending bit-identical to a straight
// run, the time limit stopping cleanly with a checkpoint, and config / output-directory errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGpu } from './helpers/gpu.ts';
import { InputError } from '../src/core/errors.ts';
import { train } from '../src/train/trainer.ts';
import { startRun } from '../src/train/run-start.ts';
import {
  betterCheckpoint,
  validationEntryCount,
  worstClipMargin,
} from '../src/train/run-directory.ts';
import { VALIDATION } from '../src/train/splits.ts';
import { resolveTrainConfig } from '../src/train/config.ts';
import { scheduleOf } from '../src/train/schedule.ts';
import { learningRateAt } from '../src/train/adam-cpu.ts';
import { decodeWeights } from '../src/nn/weights.ts';
import { analyticSequence } from '../src/scene/analytic.ts';
import { createSequenceWriter } from '../src/io/index.ts';
import { TINY_FRAMES_CONFIG, TINY_TEACHER_CONFIG } from './helpers/teacher-config.ts';

const config = TINY_TEACHER_CONFIG;

test('a run split by stop/resume ends bit-identical to a straight run, with its files', async () => {
  const { device } = await testGpu();
  const straightDir = await mkdtemp(join(tmpdir(), 'uplift-train-'));
  const splitDir = await mkdtemp(join(tmpdir(), 'uplift-train-'));
  const straight = await train(device, config, { out: straightDir });
  assert.equal(straight.step, 8);
  assert.ok(straight.finished);
  assert.equal(straight.log.length, 4);
  assert.ok(straight.log.at(-1)!.loss < straight.log[0]!.loss, 'loss falls');

  const part = await train(device, config, { out: splitDir, stopAtStep: 4 });
  assert.equal(part.step, 4);
  assert.equal(part.finished, false);
  await assert.rejects(
    train(device, config, { out: splitDir }),
    InputError,
    'refuses to overwrite',
  );
  const rest = await train(device, {}, { out: splitDir, resume: true });
  assert.equal(rest.step, 8);
  assert.ok(rest.finished);

  const read = (dir: string, name: string) => readFile(join(dir, name));
  assert.ok(
    (await read(straightDir, 'weights.uplift')).equals(await read(splitDir, 'weights.uplift')),
  );
  const losses = async (dir: string) =>
    (await read(dir, 'log.jsonl'))
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).loss);
  assert.deepEqual(await losses(splitDir), await losses(straightDir));
  assert.deepEqual((await readdir(splitDir)).sort(), [
    'checkpoint.ckpt',
    'config.json',
    'log.jsonl',
    'loss.svg',
    'weights.uplift',
  ]);
  assert.match((await read(splitDir, 'loss.svg')).toString(), /<svg/);
  // Fine-tuning from the trained weights starts where they ended; another architecture is refused.
  const tuned = await train(
    device,
    { ...config, steps: 2 },
    {
      out: await mkdtemp(join(tmpdir(), 'uplift-train-')),
      initWeights: join(splitDir, 'weights.uplift'),
    },
  );
  assert.ok(
    tuned.log[0]!.loss < straight.log[0]!.loss,
    'fine-tuning starts from the trained weights',
  );
  await assert.rejects(
    train(
      device,
      { ...config, network: 'v2' },
      {
        out: await mkdtemp(join(tmpdir(), 'uplift-train-')),
        initWeights: join(splitDir, 'weights.uplift'),
      },
    ),
    InputError,
  );
  const weights = decodeWeights(await read(splitDir, 'weights.uplift'));
  assert.equal(weights.graph.name, 'uplift-tiny');
  assert.equal(weights.metadata?.step, 8);
});

test('the time limit stops a run early with a checkpoint it can resume from', async () => {
  const { device } = await testGpu();
  const dir = await mkdtemp(join(tmpdir(), 'uplift-train-'));
  // A limit below the checkpoint reserve: no step fits, but a resumable checkpoint is written.
  const stopped = await train(device, config, { out: dir, timeLimitSeconds: 1 });
  assert.equal(stopped.step, 0);
  assert.equal(stopped.finished, false);
  const resumed = await train(device, { steps: 2 }, { out: dir, resume: true });
  assert.equal(resumed.step, 2);
});

test('resuming with more steps continues the learning rate where it was, and records the restart', async () => {
  const { device } = await testGpu();
  const dir = await mkdtemp(join(tmpdir(), 'uplift-train-'));
  const first = await train(device, config, { out: dir, stopAtStep: 6 });
  const rateAt = (log: typeof first.log, step: number) =>
    log.find((e) => e.step === step)!.learningRate;
  const longer = await train(device, { steps: 20 }, { out: dir, resume: true, stopAtStep: 8 });
  // Log entry of step s holds the rate of step s - 1 (0-based): step 6's entry ends the first
  // call; under the 8-step schedule the 7th step (index 6) runs at the rate of index 6 there.
  const old = resolveTrainConfig(config);
  const expected = learningRateAt(6, scheduleOf(old));
  const saved = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
  assert.deepEqual(saved.scheduleRestart, { step: 6, learningRate: expected });
  assert.ok(rateAt(longer.log, 8) <= expected, 'no jump up after the restart');
  assert.ok(rateAt(longer.log, 8) < learningRateAt(7, scheduleOf({ ...old, steps: 20 })));
  assert.ok(rateAt(first.log, 6) >= expected);
  // A best scored on other validation clips is not compared with: changing them starts it anew.
  assert.ok(existsSync(join(dir, 'checkpoint.ckpt')));
  const paths = { checkpoint: join(dir, 'checkpoint.ckpt'), resume: true, initWeights: undefined };
  for (const [overrides, changed] of [
    [{}, false],
    [{ steps: 30 }, false],
    [{ validationEntries: 'each' }, true],
    [{ validationClips: 3 }, true],
    [{ bestBy: 'worst' }, true],
  ] as const) {
    const started = await startRun(device, overrides, paths);
    assert.equal(started.validationChanged, changed, JSON.stringify(overrides));
    started.trainable.destroy();
  }
  // Resuming again without a change keeps the same restart.
  const again = await train(device, {}, { out: dir, resume: true, stopAtStep: 10 });
  assert.equal(again.step, 10);
  const kept = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
  assert.deepEqual(kept.scheduleRestart, saved.scheduleRestart);
});

test('frames task (BPTT on the GPU over analytic clips, stale and srgb terms on): a split run equals a straight run, bit for bit', async () => {
  const { device } = await testGpu();
  const frames = { ...TINY_FRAMES_CONFIG, loss: { stale: 4, staleOffscreen: 0.5, srgb: 1 } };
  const straightDir = await mkdtemp(join(tmpdir(), 'uplift-train-'));
  const splitDir = await mkdtemp(join(tmpdir(), 'uplift-train-'));
  const straight = await train(device, frames, { out: straightDir });
  assert.equal(straight.log.length, 2);
  assert.ok(straight.log.every((e) => Number.isFinite(e.loss) && e.loss > 0));
  assert.ok(
    straight.log.every((e) => e.validationLoss! > 0),
    'validated at each checkpoint',
  );
  await train(device, frames, { out: splitDir, stopAtStep: 2 });
  await train(device, {}, { out: splitDir, resume: true });
  const read = (dir: string) => readFile(join(dir, 'weights.uplift'));
  assert.ok((await read(straightDir)).equals(await read(splitDir)));
  const saved = JSON.parse(await readFile(join(splitDir, 'config.json'), 'utf8'));
  assert.equal(saved.loss.stale, 4, 'the resumed run kept the stale weight');
  assert.equal(saved.loss.staleOffscreen, 0.5, 'and the off-screen staleness');
  assert.equal(saved.loss.srgb, 1, 'and the srgb weight');
  const log = async (dir: string) =>
    (await readFile(join(dir, 'log.jsonl')))
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
  const [a, b] = [await log(straightDir), await log(splitDir)];
  assert.deepEqual(
    a.map((e) => [e.loss, e.validationLoss]),
    b.map((e) => [e.loss, e.validationLoss]),
  );
});

test('a run with a coverage blend trains with it, writes it into its weights and keeps it on resume', async () => {
  const { device } = await testGpu();
  const run = (coverageBlend: number | null) => ({
    ...TINY_FRAMES_CONFIG,
    clipsPerStep: 1,
    validationClips: 0,
    coverageBlend,
  });
  const plainDir = await mkdtemp(join(tmpdir(), 'uplift-train-'));
  const coveredDir = await mkdtemp(join(tmpdir(), 'uplift-train-'));
  await train(device, run(null), { out: plainDir });
  await train(device, run(1), { out: coveredDir, stopAtStep: 2 });
  await train(device, {}, { out: coveredDir, resume: true });
  const graphOf = async (dir: string) =>
    decodeWeights(await readFile(join(dir, 'weights.uplift'))).graph;
  assert.equal((await graphOf(coveredDir)).coverageBlend, 1);
  assert.equal((await graphOf(plainDir)).coverageBlend, undefined);
  // The same data and start: the blend is what differs, and the loss sees it from the first step.
  const losses = async (dir: string) =>
    (await readFile(join(dir, 'log.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { step: number; loss: number }).loss);
  const [a, b] = [await losses(plainDir), await losses(coveredDir)];
  assert.equal(a.length, 2);
  assert.equal(b.length, 2);
  assert.ok(a.every((l, i) => Number.isFinite(l) && l !== b[i]));
  // A fine-tune from those weights keeps their blend unless its config sets another (0: off).
  for (const [coverageBlend, kept] of [
    [null, 1],
    [0, 0],
    [0.5, 0.5],
  ] as const) {
    const dir = await mkdtemp(join(tmpdir(), 'uplift-train-'));
    const initWeights = join(coveredDir, 'weights.uplift');
    await train(device, { ...run(coverageBlend), steps: 2 }, { out: dir, initWeights });
    assert.equal((await graphOf(dir)).coverageBlend, kept, `config ${coverageBlend}`);
  }
});

/** A tiny frames run of one clip a step, validated on 2 clips: `overrides` add the rest. */
const tinyValidatedRun = (overrides: Record<string, unknown>) => ({
  network: 'tiny',
  task: 'frames',
  size: [16, 16],
  clipsPerStep: 1,
  validationClips: 2,
  warmup: 1,
  ...overrides,
});

test('best checkpoint by the worst clip: the margin decides, then the mean; a run records and picks by it', async () => {
  // The step-1,025 and step-1,200 validations of v3a on 12-05 (QUALITY §4), in brief: the mean
  // rose while the worst clip (Fox) fell.
  const c = { validationPsnr: 34.79, worstClipMargin: -0.85 };
  const a = { validationPsnr: 34.91, worstClipMargin: -1.32 };
  assert.equal(betterCheckpoint(a, c, 'mean'), true);
  assert.equal(betterCheckpoint(a, c, 'worst'), false);
  assert.equal(betterCheckpoint(c, a, 'worst'), true);
  assert.equal(betterCheckpoint({ ...c, validationPsnr: 35 }, c, 'worst'), true, 'tie: the mean');
  assert.equal(betterCheckpoint(c, { validationPsnr: 40 }, 'worst'), true, 'an old best without');
  assert.equal(betterCheckpoint(c, undefined, 'worst'), true);
  const entry = { step: 1, loss: 0, learningRate: 0, gradNorm: 0, seconds: 0, stepsPerSecond: 0 };
  assert.equal(
    worstClipMargin({ ...entry, validationPsnrClips: [30, 31], taauPsnrClips: [29, 32] }),
    -1,
  );
  assert.equal(worstClipMargin(entry), undefined);
  // Four clips of two entries (clip i shows entry i mod 2): margins 1, −1, 1, −2; the entries'
  // means 1 and −1.5; clip by clip the worst is −2.
  const twice = {
    ...entry,
    validationPsnrClips: [30, 31, 33, 30],
    taauPsnrClips: [29, 32, 32, 32],
  };
  assert.equal(worstClipMargin(twice, 2), -1.5);
  assert.equal(worstClipMargin(twice), -2);
  assert.equal(worstClipMargin(twice, 42), -2, 'fewer clips than entries: each clip alone');
  const each = resolveTrainConfig({ validationEntries: 'each' });
  assert.equal(validationEntryCount(each), VALIDATION.length);
  assert.equal(validationEntryCount(resolveTrainConfig({})), undefined);

  const { device } = await testGpu();
  const dir = await mkdtemp(join(tmpdir(), 'uplift-train-'));
  const result = await train(
    device,
    tinyValidatedRun({
      steps: 6,
      learningRate: 5e-2,
      warmupSteps: 1,
      data: { source: 'analytic', clipFrames: 3, referenceSamples: 2 },
      logEvery: 2,
      checkpointEvery: 2,
      bestBy: 'worst',
    }),
    { out: dir },
  );
  const validated = result.log.filter((e) => e.validationPsnrClips !== undefined);
  assert.equal(validated.length, 3);
  const margins = validated.map((e) => worstClipMargin(e)!);
  const best = JSON.parse(await readFile(join(dir, 'best.json'), 'utf8'));
  assert.equal(best.worstClipMargin, Math.max(...margins));
  const chosen = validated.find((e) => e.step === best.step)!;
  assert.equal(worstClipMargin(chosen), best.worstClipMargin);
  assert.equal(chosen.best, true);
});

test('frames task on rendered procedural scenes, frame on the CPU references, runs (smoke)', async () => {
  const { device } = await testGpu();
  const dir = await mkdtemp(join(tmpdir(), 'uplift-train-'));
  const result = await train(
    device,
    {
      network: 'tiny',
      steps: 2,
      size: [16, 16],
      data: {
        source: 'scenes',
        clipFrames: 2,
        referenceSamples: 4,
      },
      frame: 'cpu',
      clipsPerStep: 1,
      validationClips: 0,
      warmup: 1,
      logEvery: 1,
    },
    { out: dir },
  );
  assert.equal(result.step, 2);
  assert.ok(result.log.every((e) => Number.isFinite(e.loss) && e.loss > 0));
});

test('bad training configs are InputErrors naming the key', () => {
  assert.throws(() => resolveTrainConfig({ stepz: 3 }), /unknown key "stepz"/);
  assert.throws(() => resolveTrainConfig({ steps: 0 }), /steps must be a positive integer/);
  assert.throws(() => resolveTrainConfig({ network: 'huge' }), /network must be one of/);
  assert.throws(() => resolveTrainConfig({ adam: { beta1: 1 } }), /betas/);
  assert.throws(() => resolveTrainConfig([]), InputError);
  assert.throws(() => resolveTrainConfig({ size: [30, 32] }), /multiples of 8/);
  assert.throws(() => resolveTrainConfig({ data: { ratio: [2, 4] } }), /data.ratio/);
  assert.throws(() => resolveTrainConfig({ data: { source: 'sequences' } }), /needs data.paths/);
  assert.throws(() => resolveTrainConfig({ warmup: 6 }), /warmup/);
  assert.throws(() => resolveTrainConfig({ frame: 'tpu' }), /frame must be gpu or cpu/);
  assert.throws(
    () => resolveTrainConfig({ coverageBlend: 5 }),
    /coverageBlend must be null or a number in \[0, 4\], got 5/,
  );
  assert.throws(
    () => resolveTrainConfig({ scheduleRestart: { step: -1, learningRate: 1e-3 } }),
    /scheduleRestart must be null or/,
  );
  assert.throws(() => resolveTrainConfig({ scheduleRestart: 5 }), /scheduleRestart/);
  assert.throws(
    () => resolveTrainConfig({ validationEntries: 'all' }),
    /validationEntries must be grouped or each, got "all"/,
  );
  assert.throws(
    () => resolveTrainConfig({ bestBy: 'median' }),
    /bestBy must be mean or worst, got "median"/,
  );
  // JSON's 1e999 is Infinity: named as such, not "null"; sizes and counts that no run can fit.
  assert.throws(
    () => resolveTrainConfig(JSON.parse('{"learningRate": 1e999}')),
    /learningRate must be a non-negative finite number, got Infinity/,
  );
  assert.throws(
    () => resolveTrainConfig({ size: [100000, 100000] }),
    /size\[0\] must be a positive integer up to 4096, got 100000/,
  );
  assert.throws(
    () => resolveTrainConfig({ clipsPerStep: 1e9 }),
    /clipsPerStep must be a positive integer up to 1024, got 1000000000/,
  );
  assert.equal(resolveTrainConfig({ adam: { weightDecay: 0.1 } }).adam.beta2, 0.999);
  assert.equal(resolveTrainConfig({ data: { ratio: 1.5 } }).data.clipFrames, 6);
});

test("validation 'each': one scored clip per held-out entry, the split's first entries in order", async () => {
  const { device } = await testGpu();
  const dir = await mkdtemp(join(tmpdir(), 'uplift-train-'));
  const result = await train(
    device,
    tinyValidatedRun({
      steps: 1,
      data: { source: 'scenes', clipFrames: 3, referenceSamples: 1 },
      validationEntries: 'each',
      logEvery: 1,
      checkpointEvery: 1,
    }),
    { out: dir },
  );
  const last = result.log.at(-1)!;
  assert.equal(last.validationPsnrClips?.length, 2);
  assert.equal(last.taauPsnrClips?.length, 2);
  for (const v of [...last.validationPsnrClips!, ...last.taauPsnrClips!]) {
    assert.ok(Number.isFinite(v) && v > 5, `${v} dB`);
  }
  // Two different entries (city orbit, city flythrough): their TAAU scores differ.
  assert.notEqual(last.taauPsnrClips![0], last.taauPsnrClips![1]);
});

test('frames task on sequence directories (cropped clips)', async () => {
  const { device } = await testGpu();
  const sequence = analyticSequence({
    displaySize: [32, 24],
    ratio: 2,
    frames: 3,
    seed: 4,
    referenceSamples: 4,
  });
  const dir = await mkdtemp(join(tmpdir(), 'uplift-seq-'));
  const writer = await createSequenceWriter(dir, sequence.header);
  for (const [i, f] of sequence.frames.entries()) await writer.writeFrame(i, f.params, f.images);
  await writer.finish();
  const out = await mkdtemp(join(tmpdir(), 'uplift-train-'));
  const base = {
    network: 'tiny',
    steps: 2,
    clipsPerStep: 1,
    validationClips: 1,
    warmup: 1,
    logEvery: 1,
  };
  const data = { source: 'sequences', paths: [dir], clipFrames: 3 };
  const result = await train(device, { ...base, size: [16, 16], data }, { out });
  assert.equal(result.step, 2);
  assert.ok(result.log.every((e) => e.loss > 0 && Number.isFinite(e.loss)));
  // A missing sequence directory is the user's error.
  const bad = await mkdtemp(join(tmpdir(), 'uplift-train-'));
  await assert.rejects(
    train(
      device,
      { ...base, size: [24, 16], data: { ...data, paths: [join(dir, 'nope')] } },
      { out: bad },
    ),
    InputError,
  );
});
