// A run started from another architecture's weights (`uplift train --init <w> --init-matching`):
// the parameters that match by name and shape are copied, the rest initialised as a fresh run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../src/core/errors.ts';
import { parameterSpecs } from '../src/core/graph.ts';
import { NETWORK_V3A, NETWORK_V3B, NETWORK_V3E, NETWORK_V3F } from '../src/nn/network-v3.ts';
import { NETWORK_V2 } from '../src/nn/network-v2.ts';
import { initWeights, loadWeights, saveWeights } from '../src/nn/weights.ts';
import { runNetworkCpu } from '../src/reference/nn/network.ts';
import { createTensor } from '../src/core/tensor.ts';
import { mulberry32 } from '../src/core/random.ts';
import { matchingParameters } from '../src/train/run-start.ts';
import { train } from '../src/train/trainer.ts';
import { TINY_NETWORK } from '../src/train/tiny-network.ts';
import { testGpu } from './helpers/gpu.ts';

test("matchingParameters: v3b from v3a's weights copies the shared layers and initialises the rest", () => {
  const v3a = { graph: NETWORK_V3A, parameters: initWeights(NETWORK_V3A, 11) };
  for (const p of v3a.parameters.values()) p.fill(0.25); // unlike any fresh value
  const { parameters, copied, passThrough } = matchingParameters(NETWORK_V3B, v3a, 3, 'v3a.uplift');
  assert.deepEqual(passThrough, []); // v3b's head reads v3b's own new layer, not a taken one
  const fresh = initWeights(NETWORK_V3B, 3);
  const v3aNames = new Set(parameterSpecs(NETWORK_V3A).map((s) => s.name));
  for (const spec of parameterSpecs(NETWORK_V3B)) {
    const value = parameters.get(spec.name)!;
    assert.equal(value.length, spec.length, spec.name);
    if (v3aNames.has(spec.name)) {
      assert.ok(copied.includes(spec.name), `${spec.name} copied`);
      assert.ok(
        value.every((v) => v === 0.25),
        `${spec.name} holds v3a's values`,
      );
    } else {
      assert.ok(!copied.includes(spec.name));
      assert.deepEqual(value, fresh.get(spec.name), `${spec.name} as a fresh run`);
    }
  }
  // v3a's encoder and decoder (down1 … skip1u) are v3b's too; its `out` layer is not.
  assert.ok(copied.includes('down1.weight') && copied.includes('skip1u.bias'));
  assert.ok(!copied.includes('out.weight') && parameters.has('head.weight'));
});

test("matchingParameters: v3e from v3a's weights starts computing v3a's outputs (its 1×1 refinement the identity on them)", () => {
  const v3a = { graph: NETWORK_V3A, parameters: initWeights(NETWORK_V3A, 4) };
  const { parameters, copied, fresh, passThrough } = matchingParameters(
    NETWORK_V3E,
    v3a,
    9,
    'v3a.uplift',
  );
  // Every v3a tensor is v3e's (its `out` too); only the full-resolution 1×1 is new.
  assert.equal(copied.length, parameterSpecs(NETWORK_V3A).length);
  assert.deepEqual(fresh, []);
  assert.deepEqual(passThrough, ['fix.weight', 'fix.bias']);
  const random = mulberry32(21);
  const input = createTensor({ channels: 12, height: 16, width: 24 });
  for (let i = 0; i < input.data.length; i++) input.data[i] = random() * 4 - 2;
  const expected = runNetworkCpu(NETWORK_V3A, v3a.parameters, input).output;
  const started = runNetworkCpu(NETWORK_V3E, parameters, input).output;
  assert.deepEqual(started.data, expected.data);
  // v3e's own fresh weights (a run from scratch) compute something else.
  const other = runNetworkCpu(NETWORK_V3E, initWeights(NETWORK_V3E, 9), input).output;
  assert.notDeepEqual(other.data, expected.data);
});

test("matchingParameters: v3f from v3a's weights starts computing v3a's outputs (its new block's last layer at zero)", () => {
  const v3a = { graph: NETWORK_V3A, parameters: initWeights(NETWORK_V3A, 5) };
  const { parameters, copied, fresh, passThrough, zeroed } = matchingParameters(
    NETWORK_V3F,
    v3a,
    8,
    'v3a.uplift',
  );
  assert.equal(copied.length, parameterSpecs(NETWORK_V3A).length);
  assert.deepEqual(fresh, ['res3bn.weight', 'res3bn.bias']);
  assert.deepEqual(passThrough, []);
  assert.deepEqual(zeroed, ['res3bx.weight', 'res3bx.bias']);
  assert.ok(parameters.get('res3bx.weight')!.every((v) => v === 0));
  assert.ok(
    parameters.get('res3bn.weight')!.some((v) => v !== 0),
    'the branch input is random',
  );
  const random = mulberry32(22);
  const input = createTensor({ channels: 12, height: 16, width: 24 });
  for (let i = 0; i < input.data.length; i++) input.data[i] = random() * 4 - 2;
  const expected = runNetworkCpu(NETWORK_V3A, v3a.parameters, input).output;
  assert.deepEqual(runNetworkCpu(NETWORK_V3F, parameters, input).output.data, expected.data);
  const other = runNetworkCpu(NETWORK_V3F, initWeights(NETWORK_V3F, 8), input).output;
  assert.notDeepEqual(other.data, expected.data);
  // v3b's and v3e's new layers are no residual branch: nothing of theirs starts at zero.
  assert.deepEqual(matchingParameters(NETWORK_V3B, v3a, 3, 'v3a.uplift').zeroed, []);
  assert.deepEqual(matchingParameters(NETWORK_V3E, v3a, 3, 'v3a.uplift').zeroed, []);
});

test('train --init-matching: v3f from v3a trains its zero-started layer (one step moves it off zero)', async () => {
  const { device } = await testGpu();
  const dir = await mkdtemp(join(tmpdir(), 'uplift-init-matching-v3f-'));
  const v3a = join(dir, 'v3a.uplift');
  await saveWeights(v3a, { graph: NETWORK_V3A, parameters: initWeights(NETWORK_V3A, 2) });
  let zeroed: readonly string[] = [];
  const out = join(dir, 'v3f');
  await train(
    device,
    {
      network: 'v3f',
      task: 'frames',
      steps: 1,
      size: [16, 16],
      logEvery: 1,
      validationClips: 0,
      data: { source: 'analytic', clipFrames: 3 },
    },
    { out, initWeights: v3a, initMatching: true, onStart: (_s, _t, m) => (zeroed = m!.zeroed) },
  );
  assert.deepEqual(zeroed, ['res3bx.weight', 'res3bx.bias']);
  const trained = await loadWeights(join(out, 'weights.uplift'));
  assert.ok(
    trained.parameters.get('res3bx.weight')!.some((v) => v !== 0),
    'res3bx moved',
  );
});

test('matchingParameters: a name with another shape is not copied; no match at all is an InputError', () => {
  // v2 and v3a share the first two 2×2 convs; v2's down3 is 64 channels wide, v3a's 48.
  const v2 = { graph: NETWORK_V2, parameters: initWeights(NETWORK_V2, 1) };
  const { copied } = matchingParameters(NETWORK_V3A, v2, 1, 'v2.uplift');
  assert.deepEqual(copied, ['down1.weight', 'down1.bias', 'down2.weight', 'down2.bias']);
  const tiny = { graph: TINY_NETWORK, parameters: initWeights(TINY_NETWORK, 1) };
  assert.throws(
    () => matchingParameters(NETWORK_V3A, tiny, 1, 'tiny.uplift'),
    (e: Error) => e instanceof InputError && /tiny\.uplift: none of its parameters/.test(e.message),
  );
});

test('train --init-matching: refused without --init, with QAT and with nothing to take; the same architecture starts as --init does', async () => {
  const { device } = await testGpu();
  const out = () => mkdtemp(join(tmpdir(), 'uplift-init-matching-'));
  const config = {
    network: 'tiny',
    task: 'teacher',
    steps: 1,
    size: [16, 16],
    logEvery: 1,
    validationClips: 0,
  };
  await assert.rejects(
    train(device, config, { out: await out(), initMatching: true }),
    (e: Error) => e instanceof InputError && /needs weights to start from/.test(e.message),
  );
  const dir = await out();
  const v3a = join(dir, 'v3a.uplift');
  await saveWeights(v3a, { graph: NETWORK_V3A, parameters: initWeights(NETWORK_V3A, 2) });
  // The tiny network shares no layer with v3a.
  await assert.rejects(
    train(device, config, { out: await out(), initWeights: v3a, initMatching: true }),
    (e: Error) => e instanceof InputError && /none of its parameters/.test(e.message),
  );
  const tiny = join(dir, 'tiny.uplift');
  await saveWeights(tiny, { graph: TINY_NETWORK, parameters: initWeights(TINY_NETWORK, 7) });
  await assert.rejects(
    train(
      device,
      { ...config, task: 'frames', data: { source: 'analytic' }, qat: true },
      { out: await out(), initWeights: tiny, initMatching: true },
    ),
    (e: Error) => e instanceof InputError && /no QAT/.test(e.message),
  );
  // Every parameter matches: the run starts where --init starts it, not where a fresh one does.
  let matched: { copied: readonly string[]; fresh: readonly string[] } | undefined;
  const matching = await train(device, config, {
    out: await out(),
    initWeights: tiny,
    initMatching: true,
    onStart: (_step, _total, m) => (matched = m),
  });
  assert.equal(matched?.copied.length, parameterSpecs(TINY_NETWORK).length);
  assert.deepEqual(matched?.fresh, []);
  const init = await train(device, config, { out: await out(), initWeights: tiny });
  const fresh = await train(device, config, { out: await out() });
  assert.equal(matching.log[0]!.loss, init.log[0]!.loss);
  assert.notEqual(matching.log[0]!.loss, fresh.log[0]!.loss);
});
