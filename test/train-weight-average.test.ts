// The weights' moving average (adam.averageDecay): the GPU update against its CPU reference,
// validation scoring the average with the parameters restored afterwards, the checkpoint that
// carries it (round trip, corruption), a split run equal to a straight one with it on, the
// weights files holding the average, and the config refusing a decay of 1 by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { testGpu, rng } from './helpers/gpu.ts';
import { InputError } from '../src/core/errors.ts';
import { averageDecayAt, averageStepCpu, DEFAULT_ADAM } from '../src/train/adam-cpu.ts';
import { createWeightAverage } from '../src/train/weight-average.ts';
import { createTrainableNetwork } from '../src/train/trainable.ts';
import { TINY_NETWORK } from '../src/train/tiny-network.ts';
import { initWeights, decodeWeights } from '../src/nn/weights.ts';
import { createStorageBuffer } from '../src/gpu/resources.ts';
import { decodeCheckpoint, encodeCheckpoint, loadCheckpoint } from '../src/train/checkpoint.ts';
import { resolveTrainConfig } from '../src/train/config.ts';
import { resolveFramegenConfig } from '../src/train/framegen/config.ts';
import { train } from '../src/train/trainer.ts';
import { TINY_TEACHER_CONFIG } from './helpers/teacher-config.ts';

const random = (n: number, next: () => number) =>
  Float32Array.from({ length: n }, () => next() * 2 - 1);

for (const averageWarmup of [0, 10]) {
  test(`weight average on the GPU equals its CPU reference over several updates (warm-up ${averageWarmup})`, async () => {
    const { device } = await testGpu();
    const next = rng(5);
    const sizes = [1000, 37];
    const config = { averageDecay: 0.9, averageWarmup };
    const params = sizes.map((n) => random(n, next));
    const tensors = sizes.map((size, k) => ({
      name: `t${k}`,
      size,
      param: createStorageBuffer(device, params[k]!),
      grad: createStorageBuffer(device, new Float32Array(size)),
    }));
    const average = createWeightAverage(device, tensors, config);
    const expected = params.map((p) => Float32Array.from(p)); // it starts at the parameters
    for (let step = 1; step <= 4; step++) {
      // New parameters, as an optimizer step would leave them, then one update.
      tensors.forEach((t, k) => {
        params[k] = random(t.size, next);
        device.queue.writeBuffer(t.param, 0, params[k]!);
      });
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      average.encodeUpdate(pass, step);
      pass.end();
      device.queue.submit([encoder.finish()]);
      expected.forEach((e, k) => averageStepCpu(e, params[k]!, averageDecayAt(config, step)));
    }
    const got = await average.read();
    got.forEach((values, k) => {
      for (let i = 0; i < values.length; i++) {
        // One rounding apart at most (the GPU may fuse the multiply-add).
        assert.ok(
          Math.abs(values[i]! - expected[k]![i]!) <=
            2 ** -22 * Math.max(1, Math.abs(expected[k]![i]!)),
          `tensor ${k}[${i}]: GPU ${values[i]}, CPU ${expected[k]![i]}`,
        );
      }
    });
    // The reference is not the identity: the average differs from the last parameters.
    assert.ok(got[0]!.some((v, i) => Math.abs(v - params[0]![i]!) > 1e-3));
    assert.throws(
      () => createWeightAverage(device, tensors, { averageDecay: 1, averageWarmup }),
      /decay must be in \(0, 1\), got 1/,
    );
    average.destroy();
    for (const t of tensors) [t.param, t.grad].forEach((b) => b.destroy());
  });
}

test('the warm-up: decay (1 + t) / (w + t) until it reaches averageDecay; the start forgotten', () => {
  const config = { averageDecay: 0.999, averageWarmup: 10 };
  assert.equal(averageDecayAt(config, 1), 2 / 11);
  assert.equal(averageDecayAt(config, 900), 901 / 910);
  assert.equal(averageDecayAt(config, 20000), 0.999);
  assert.equal(averageDecayAt({ averageDecay: 0.999, averageWarmup: 0 }, 1), 0.999);
  // The start's share of the average after 900 steps: the product of the decays.
  const share = (c: typeof config) => {
    let s = 1;
    for (let t = 1; t <= 900; t++) s *= averageDecayAt(c, t);
    return s;
  };
  assert.ok(share({ ...config, averageWarmup: 0 }) > 0.4, 'a fixed 0.999 keeps ~40 %');
  assert.ok(share(config) < 1e-15, 'the warm-up keeps none of it (~10⁻²⁰)');
});

test('withAverage runs with the averages as parameters and restores the parameters, also on a throw', async () => {
  const { device } = await testGpu();
  const initial = initWeights(TINY_NETWORK, 3);
  const trainable = createTrainableNetwork(device, TINY_NETWORK, initial, {
    ...DEFAULT_ADAM,
    averageDecay: 0.5,
  });
  const average = trainable.average!;
  assert.ok(average, 'averageDecay > 0 makes an average');
  // Averages different from the parameters.
  const averages = trainable.specs.map((s) =>
    Float32Array.from({ length: s.length }, (_, i) => i * 0.25),
  );
  average.write(averages);
  const before = await trainable.readParams();
  const inside = await average.withAverage(() => trainable.readParams());
  trainable.specs.forEach((s, k) => assert.deepEqual(inside.get(s.name), averages[k]));
  assert.deepEqual(await trainable.readParams(), before);
  await assert.rejects(
    average.withAverage(async () => {
      throw new Error('validation failed');
    }),
    /validation failed/,
  );
  assert.deepEqual(await trainable.readParams(), before, 'restored after a throw');
  trainable.destroy();
  const plain = createTrainableNetwork(device, TINY_NETWORK, initial, DEFAULT_ADAM);
  assert.equal(plain.average, undefined, 'no average by default');
  plain.destroy();
});

test('a checkpoint carries the average weights: exact round trip, sizes checked', () => {
  const config = resolveTrainConfig({ network: 'tiny', seed: 4 });
  const checkpoint = {
    step: 3,
    seed: 4,
    config,
    weights: new Uint8Array([1, 2, 3]),
    averageWeights: new Uint8Array([9, 8, 7, 6]),
    moments: [{ name: 'a', m: new Float32Array([1]), v: new Float32Array([2]) }],
  };
  const bytes = encodeCheckpoint(checkpoint);
  assert.deepEqual(decodeCheckpoint(bytes), checkpoint);
  const without = { ...checkpoint };
  delete (without as { averageWeights?: Uint8Array }).averageWeights;
  assert.deepEqual(decodeCheckpoint(encodeCheckpoint(without)), without);
  assert.ok(encodeCheckpoint(without).length < bytes.length);
  // A header that claims an empty average is refused by name.
  assert.throws(
    () =>
      decodeCheckpoint(
        encodeCheckpoint({ ...checkpoint, averageWeights: new Uint8Array(0) }),
        'x.ckpt',
      ),
    (e: unknown) =>
      e instanceof InputError && /x\.ckpt: averageWeightsBytes/.test((e as Error).message),
  );
});

test('training with a weight average: a split run equals a straight one (the warm-up counts steps across the resume), and the weights files hold the average', async () => {
  const { device } = await testGpu();
  const config = { ...TINY_TEACHER_CONFIG, adam: { averageDecay: 0.8, averageWarmup: 4 } };
  const straightDir = await mkdtemp(join(tmpdir(), 'uplift-average-'));
  const splitDir = await mkdtemp(join(tmpdir(), 'uplift-average-'));
  await train(device, config, { out: straightDir });
  await train(device, config, { out: splitDir, stopAtStep: 4 });
  await train(device, {}, { out: splitDir, resume: true });
  const read = (dir: string, name: string) => readFile(join(dir, name));
  assert.ok(
    (await read(straightDir, 'checkpoint.ckpt')).equals(await read(splitDir, 'checkpoint.ckpt')),
    'checkpoints equal',
  );
  const checkpoint = await loadCheckpoint(join(straightDir, 'checkpoint.ckpt'));
  assert.ok(checkpoint.averageWeights, 'the checkpoint carries the average');
  const file = await read(straightDir, 'weights.uplift');
  assert.ok(Buffer.from(checkpoint.averageWeights).equals(file), 'weights.uplift is the average');
  const average = decodeWeights(file);
  const raw = decodeWeights(checkpoint.weights);
  assert.equal(average.metadata?.weightAverageDecay, 0.8);
  const name = [...raw.parameters.keys()][0]!;
  assert.notDeepEqual(average.parameters.get(name), raw.parameters.get(name));
  // export-weights writes the average (what validation scored); --raw the optimizer's weights.
  const uplift = (...args: string[]) =>
    spawnSync(process.execPath, ['bin/uplift.mjs', ...args], { encoding: 'utf8' });
  for (const [flag, want] of [
    [[], checkpoint.averageWeights],
    [['--raw'], checkpoint.weights],
  ] as const) {
    const exported = join(straightDir, `exported${flag.join('')}.uplift`);
    const run = uplift('export-weights', join(straightDir, 'checkpoint.ckpt'), exported, ...flag);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).averaged, flag.length === 0);
    assert.ok((await readFile(exported)).equals(want), `export-weights ${flag.join(' ')}`);
  }
  // With a decay near 0 the average follows the weights: it is updated after every step.
  const followDir = await mkdtemp(join(tmpdir(), 'uplift-average-'));
  await train(device, { ...config, adam: { averageDecay: 1e-6 } }, { out: followDir });
  const follow = await loadCheckpoint(join(followDir, 'checkpoint.ckpt'));
  const followRaw = decodeWeights(follow.weights).parameters;
  for (const [key, values] of decodeWeights(follow.averageWeights!).parameters) {
    const want = followRaw.get(key)!;
    values.forEach((v, i) =>
      assert.ok(Math.abs(v - want[i]!) <= 1e-5 * Math.max(1, Math.abs(want[i]!)), `${key}[${i}]`),
    );
  }
  // Turned off at a resume, the files hold the weights again.
  await train(device, { steps: 10 }, { out: splitDir, resume: true });
  await train(device, { steps: 12, adam: { averageDecay: 0 } }, { out: splitDir, resume: true });
  const off = await loadCheckpoint(join(splitDir, 'checkpoint.ckpt'));
  assert.equal(off.averageWeights, undefined);
  assert.ok(Buffer.from(off.weights).equals(await read(splitDir, 'weights.uplift')));
});

test('adam.averageDecay must lie in [0, 1); frame-generation training refuses it', () => {
  for (const bad of [1, 1.5, -0.1]) {
    assert.throws(
      () => resolveTrainConfig({ adam: { averageDecay: bad } }),
      (e: unknown) => e instanceof InputError && /adam\.averageDecay/.test((e as Error).message),
      `averageDecay ${bad}`,
    );
  }
  assert.equal(resolveTrainConfig({ adam: { averageDecay: 0.999 } }).adam.averageDecay, 0.999);
  assert.throws(
    () => resolveFramegenConfig({ adam: { averageDecay: 0.9 } }),
    (e: unknown) => e instanceof InputError && /averageDecay/.test((e as Error).message),
  );
});

test('adam.averageWarmup must be 0 or above 1, named in the error', () => {
  for (const bad of [0.5, 1, -2]) {
    assert.throws(
      () => resolveTrainConfig({ adam: { averageDecay: 0.999, averageWarmup: bad } }),
      (e: unknown) => e instanceof InputError && /adam\.averageWarmup/.test((e as Error).message),
      `averageWarmup ${bad}`,
    );
  }
  assert.equal(resolveTrainConfig({ adam: { averageWarmup: 10 } }).adam.averageWarmup, 10);
  assert.equal(resolveTrainConfig({}).adam.averageWarmup, 0, 'off by default');
});
