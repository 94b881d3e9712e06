// Validation by PSNR during training: the network's and TAAU's held-out PSNR in the log (TAAU the
// same at every validation point, and equal to what eval reports on the same frames), the best
// checkpoint kept (loadable, carried over a resume), and `uplift export-weights`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGpu } from './helpers/gpu.ts';
import { train } from '../src/train/trainer.ts';
import { worstClipMargin, type LogEntry } from '../src/train/run-directory.ts';
import { loadCheckpoint } from '../src/train/checkpoint.ts';
import { createClipSampler } from '../src/train/data/clips.ts';
import { clipFrameSource, methodPsnr, TAAU_SPEC } from '../src/train/validate-psnr.ts';
import { evaluateSource } from '../src/eval/evaluate.ts';
import { decodeWeights, loadWeights } from '../src/nn/weights.ts';
import { clipBytes, keepsValidationClips, VALIDATION_CACHE_BYTES } from '../src/train/tasks.ts';
import { resolveTrainConfig } from '../src/train/config.ts';
import { withFramesTask } from './helpers/frames-task.ts';

const config = {
  network: 'tiny',
  task: 'frames',
  steps: 6,
  size: [16, 16],
  learningRate: 1e-2,
  warmupSteps: 1,
  data: { source: 'analytic', clipFrames: 4, referenceSamples: 4 },
  clipsPerStep: 1,
  validationClips: 2,
  warmup: 1,
  logEvery: 2,
  checkpointEvery: 2,
};

const tempDir = () => mkdtemp(join(tmpdir(), 'uplift-train-val-'));

async function readLog(dir: string): Promise<LogEntry[]> {
  const text = await readFile(join(dir, 'log.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as LogEntry);
}

test('validation points log the network and TAAU PSNR; the best checkpoint is kept and loadable', async () => {
  const { device } = await testGpu();
  const dir = await tempDir();
  const result = await train(device, config, { out: dir });
  const log = await readLog(dir);
  assert.equal(log.length, 3, 'a validation point at every checkpoint (steps 2, 4, 6)');
  for (const e of log) {
    assert.ok(Number.isFinite(e.validationPsnr) && e.validationPsnr! > 5, `${e.validationPsnr}`);
    assert.ok(e.validationSeconds! > 0, `validation timed: ${e.validationSeconds}`);
    assert.ok(Number.isFinite(e.taauPsnr) && e.taauPsnr! > 5, `${e.taauPsnr}`);
    assert.equal(e.validationPsnrClips!.length, 2);
    assert.equal(e.taauPsnrClips!.length, 2);
  }
  // A validation runs between its entry and the next: their times are at least its length apart.
  for (let i = 0; i + 1 < log.length; i++) {
    assert.ok(log[i + 1]!.seconds - log[i]!.seconds >= log[i]!.validationSeconds! - 1e-3);
  }
  // TAAU sees the same held-out clips every time: identical numbers.
  assert.ok(log.every((e) => e.taauPsnr === log[0]!.taauPsnr));
  assert.deepEqual(
    log.map((e) => e.taauPsnrClips),
    log.map(() => log[0]!.taauPsnrClips),
  );
  // The network changes between validation points.
  assert.notEqual(log[0]!.validationPsnr, log[2]!.validationPsnr);

  // best.json / best.ckpt / best.uplift hold the step of the highest PSNR.
  const top = Math.max(...log.map((e) => e.validationPsnr!));
  const bestStep = log.find((e) => e.validationPsnr === top)!.step;
  const best = JSON.parse(await readFile(join(dir, 'best.json'), 'utf8'));
  assert.deepEqual(best, {
    step: bestStep,
    validationPsnr: top,
    taauPsnr: log[0]!.taauPsnr,
    checkpoint: 'best.ckpt',
    weights: 'best.uplift',
    worstClipMargin: worstClipMargin(log.find((e) => e.step === bestStep)!),
  });
  assert.deepEqual(result.best, {
    ...best,
    checkpoint: join(dir, 'best.ckpt'),
    weights: join(dir, 'best.uplift'),
  });
  assert.equal(log.filter((e) => e.best).at(-1)!.step, bestStep, 'the log marks it');
  const checkpoint = await loadCheckpoint(join(dir, 'best.ckpt'));
  assert.equal(checkpoint.step, bestStep);
  assert.ok(Buffer.from(checkpoint.weights).equals(await readFile(join(dir, 'best.uplift'))));
  const weights = await loadWeights(join(dir, 'best.uplift'));
  assert.equal(weights.graph.name, 'uplift-tiny');
  assert.equal(weights.metadata?.step, bestStep);
  assert.match(await readFile(join(dir, 'psnr.svg'), 'utf8'), /<svg[\s\S]*TAAU/);

  // A run split by stop/resume ends with the same log and the same best checkpoint.
  const split = await tempDir();
  await train(device, config, { out: split, stopAtStep: 2 });
  const resumed = await train(device, {}, { out: split, resume: true });
  const untimed = (entries: LogEntry[]) =>
    entries.map(({ seconds: _s, stepsPerSecond: _r, validationSeconds: _v, ...rest }) => rest);
  assert.deepEqual(untimed(await readLog(split)), untimed(log));
  assert.equal(resumed.best?.step, bestStep);
  assert.ok(
    (await readFile(join(split, 'best.ckpt'))).equals(await readFile(join(dir, 'best.ckpt'))),
  );
});

test("validation PSNR is eval's steady-state PSNR of the same frames", async () => {
  const { device } = await testGpu();
  const sampler = createClipSampler(device, {
    displaySize: [16, 16],
    clipLength: 5,
    samples: 4,
    seed: 3,
    sources: [{ kind: 'analytic', weight: 1 }],
  });
  const clip = await sampler.clip(0);
  const source = await clipFrameSource(device, clip, 'clip');
  const ours = await methodPsnr(device, source, TAAU_SPEC, 2);
  const evaluated = await evaluateSource(device, source, [TAAU_SPEC], { warmupFrames: 2 });
  assert.ok(Number.isFinite(ours));
  assert.ok(Math.abs(ours - evaluated.methods[0]!.summary.steady.psnr) < 1e-9);
  clip.destroy();
  sampler.destroy();
});

test('uplift train prints the best checkpoint; uplift export-weights writes its .uplift', async () => {
  const dir = await tempDir();
  const configFile = join(dir, 'config.json');
  await writeFile(configFile, JSON.stringify({ ...config, steps: 2 }));
  const out = join(dir, 'run');
  const uplift = (...args: string[]) =>
    spawnSync(process.execPath, ['bin/uplift.mjs', ...args], { encoding: 'utf8' });
  const run = uplift('train', '--config', configFile, '--out', out);
  assert.equal(run.status, 0, run.stderr);
  const summary = JSON.parse(run.stdout);
  assert.equal(summary.best.checkpoint, join(out, 'best.ckpt'));
  assert.ok(Number.isFinite(summary.validationPsnr) && Number.isFinite(summary.taauPsnr));
  assert.match(
    run.stderr,
    /best checkpoint .*best\.ckpt.*step 2: validation PSNR [\d.]+ dB vs TAAU/,
  );

  const exported = join(dir, 'model.uplift');
  const first = uplift('export-weights', join(out, 'best.ckpt'), exported);
  assert.equal(first.status, 0, first.stderr);
  assert.equal(JSON.parse(first.stdout).step, 2);
  assert.ok((await readFile(exported)).equals(await readFile(join(out, 'best.uplift'))));
  assert.equal(decodeWeights(await readFile(exported)).graph.name, 'uplift-tiny');
  // Never overwrites without --force; a file that is no checkpoint is one clear line.
  const again = uplift('export-weights', join(out, 'best.ckpt'), exported);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /exists: pass --force/);
  assert.equal(uplift('export-weights', join(out, 'best.ckpt'), exported, '--force').status, 0);
  const bad = uplift('export-weights', configFile, join(dir, 'x.uplift'));
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^uplift: .*not an Uplift checkpoint/m);
  assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
});

test('held-out clips kept across validations give the numbers of clips rendered anew', async () => {
  const { device } = await testGpu();
  const resolved = resolveTrainConfig({ ...config, data: { ...config.data, source: 'scenes' } });
  assert.ok(keepsValidationClips(resolved));
  const schedule = { peak: 1e-2, warmupSteps: 1, totalSteps: 2, finalRatio: 0.1 };
  const runs = [];
  for (const validationCache of [true, false]) {
    runs.push(
      await withFramesTask(device, resolved, { validationCache }, 5, async (task) => {
        const first = await task.validate();
        await task.runSteps(0, 2, schedule);
        return [first, await task.validate()];
      }),
    );
  }
  const [kept, rendered] = runs;
  assert.notDeepEqual(kept![0], kept![1], 'the network changed between the validations');
  assert.deepEqual(kept, rendered);
});

test('held-out clips are kept only while they fit the budget', async () => {
  const at2x = resolveTrainConfig({ size: [256, 256], validationClips: 42 });
  // 8 frames: 4 images at 128×128 and the 256×256 reference, vec4 f32.
  assert.equal(clipBytes(at2x, 8), 8 * 16 * (256 * 256 + 4 * 128 * 128));
  assert.ok(keepsValidationClips(at2x));
  assert.ok(!keepsValidationClips(resolveTrainConfig({ size: [1024, 1024], validationClips: 42 })));
  assert.ok(!keepsValidationClips(resolveTrainConfig({ validationClips: 0 })));
  // The runs it is for: v3a's config (ratios 2 and 1.5) validated on one clip of the 42 entries.
  const v3a = JSON.parse(await readFile('weights/v3-search/v3a.train.json', 'utf8'));
  const v3aRun = resolveTrainConfig({ ...v3a, validationClips: 42 });
  assert.equal(clipBytes(v3aRun, 8), 8 * 16 * (256 * 256 + (4 * 256 * 256) / 2.25));
  assert.ok(keepsValidationClips(v3aRun));
  assert.ok(2 * 42 * clipBytes(v3aRun, 8) <= VALIDATION_CACHE_BYTES);
});
