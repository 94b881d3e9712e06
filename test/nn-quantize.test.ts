// Fake quantization of the weights (post-training, per-tensor symmetric), `uplift quantize`, and
// CPU fake quantization of the activations that weighted ops read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mulberry32 } from '../src/core/random.ts';
import { NETWORK_V2 } from '../src/nn/network-v2.ts';
import { runNetworkCpu } from '../src/reference/nn/network.ts';
import {
  calibrateActivationScales,
  fakeQuantizeTensor,
  fakeQuantizeWeights,
  runNetworkCpuFakeQuant,
  weightedInputs,
  baseGraph,
  graphQuantization,
} from '../src/nn/quantize.ts';
import type { Tensor } from '../src/core/tensor.ts';
import { TINY_NETWORK } from '../src/train/tiny-network.ts';
import { initWeights, loadWeights, saveWeights } from '../src/nn/weights.ts';

function randomTensor(n: number, seed: number, amplitude: number): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: n }, () => (next() * 2 - 1) * amplitude);
}

for (const bits of [8, 6, 4]) {
  test(`${bits}-bit: weights land on the grid within s/2, the extreme maps to ±qmax, biases kept`, () => {
    const w = randomTensor(500, bits, 0.3);
    w[17] = -0.45; // the largest magnitude, negative
    const bias = randomTensor(8, 99, 0.1);
    const { parameters, scales } = fakeQuantizeWeights(
      new Map([
        ['conv.weight', w],
        ['conv.bias', bias],
      ]),
      bits,
    );
    const qmax = 2 ** (bits - 1) - 1;
    const s = scales.get('conv.weight')!;
    assert.ok(Math.abs(s - Math.fround(0.45) / qmax) < 1e-12, `scale ${s}`);
    assert.equal(scales.has('conv.bias'), false);
    const q = parameters.get('conv.weight')!;
    for (let i = 0; i < w.length; i++) {
      const k = q[i]! / s;
      assert.ok(Math.abs(k - Math.round(k)) < 1e-4, `value ${i} off the grid (${k})`);
      assert.ok(Math.abs(Math.round(k)) <= qmax);
      assert.ok(Math.abs(q[i]! - w[i]!) <= s / 2 + 1e-7, `value ${i}: error above s/2`);
    }
    assert.ok(Math.abs(q[17]! / s + qmax) < 1e-4, 'the extreme is -qmax');
    assert.deepEqual(parameters.get('conv.bias'), bias);
    assert.notEqual(parameters.get('conv.bias'), bias, 'a copy, not the caller’s array');
    // At most 2·qmax + 1 distinct levels.
    assert.ok(new Set(Array.from(q, (v) => Math.round(v / s))).size <= 2 * qmax + 1);
  });
}

test('an all-zero weight tensor has scale 0 and stays zeros (no NaN)', () => {
  const { parameters, scales } = fakeQuantizeWeights(new Map([['z.weight', new Float32Array(9)]]));
  assert.equal(scales.get('z.weight'), 0);
  assert.deepEqual(Array.from(parameters.get('z.weight')!), new Array(9).fill(0));
});

test('bits outside 2…16 or not an integer throw a RangeError naming the value', () => {
  const p = new Map([['a.weight', new Float32Array([1, -1])]]);
  for (const bad of [1, 17, 7.5, NaN]) {
    assert.throws(
      () => fakeQuantizeWeights(p, bad),
      (e: Error) => e instanceof RangeError && e.message.includes(String(bad)),
    );
  }
});

function uplift(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/uplift.mjs', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('uplift quantize writes grid weights with metadata, refuses to overwrite without --force', async () => {
  const root = mkdtempSync(join(tmpdir(), 'uplift-quantize-'));
  const input = join(root, 'in.uplift');
  const out = join(root, 'q.uplift');
  const original = initWeights(NETWORK_V2, 7);
  await saveWeights(input, { graph: NETWORK_V2, parameters: original, qualityRatio: 2 });

  const r = uplift('quantize', input, out, '--bits', '6');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).bits, 6);
  const q = await loadWeights(out, { graph: NETWORK_V2 });
  assert.equal(q.qualityRatio, 2);
  const meta = q.metadata!.quantization as { bits: number; scales: Record<string, number> };
  assert.equal(meta.bits, 6);
  const expected = fakeQuantizeWeights(original, 6).parameters;
  for (const [name, values] of q.parameters) {
    assert.deepEqual(values, expected.get(name), name);
    if (name.endsWith('.bias')) assert.deepEqual(values, original.get(name), name);
    else assert.ok(meta.scales[name]! > 0, `scale of ${name}`);
  }

  const before = readFileSync(out);
  const again = uplift('quantize', input, out);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /exists: pass --force/);
  assert.deepEqual(readFileSync(out), before, 'the file is untouched');
  assert.equal(uplift('quantize', input, out, '--force').status, 0);
  assert.equal(((await loadWeights(out)).metadata!.quantization as { bits: number }).bits, 8);

  const badBits = uplift('quantize', input, join(root, 'b.uplift'), '--bits', '1');
  assert.equal(badBits.status, 1);
  assert.match(badBits.stderr, /--bits .*"1"/);
  const missing = uplift('quantize', join(root, 'none.uplift'), join(root, 'c.uplift'));
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /none\.uplift: cannot read weights/);
});

test('uplift quantize --activation-bits: a calibrated quantized network that eval runs', async () => {
  const root = mkdtempSync(join(tmpdir(), 'uplift-quantize-'));
  const input = join(root, 'tiny.uplift');
  await saveWeights(input, { graph: TINY_NETWORK, parameters: initWeights(TINY_NETWORK, 3) });
  const out = join(root, 'w6a8.uplift');
  const r = uplift(
    'quantize',
    input,
    out,
    '--bits',
    '6',
    '--activation-bits',
    '8',
    '--calibration-clips',
    '1',
    '--size',
    '16x16',
    '--quiet',
  );
  assert.equal(r.status, 0, r.stderr);
  const q = await loadWeights(out);
  const read = graphQuantization(q.graph)!;
  assert.equal(read.weightBits, 6);
  assert.equal(read.activationBits, 8);
  assert.deepEqual(baseGraph(q.graph), TINY_NETWORK);
  const printed = JSON.parse(r.stdout).activationScales as Record<string, number>;
  for (const name of weightedInputs(TINY_NETWORK)) {
    assert.ok(printed[name]! > 0, `scale of ${name}`);
    assert.equal(read.activationScales!.get(name), Math.fround(printed[name]!));
  }
  // The f32 weights are kept as they were: the graph says how to round them.
  assert.deepEqual(
    q.parameters.get('conv.weight'),
    initWeights(TINY_NETWORK, 3).get('conv.weight'),
  );
  const twice = uplift('quantize', out, join(root, 'again.uplift'), '--activation-bits', '8');
  assert.equal(twice.status, 1);
  assert.match(twice.stderr, /quantized already/);
  const bad = uplift('quantize', input, join(root, 'b.uplift'), '--activation-bits', '20');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--activation-bits must be an integer from 2 to 16, got "20"/);
});

function features(seed: number): Tensor {
  return { channels: 12, height: 8, width: 10, data: randomTensor(12 * 8 * 10, seed, 1.5) };
}

/** Largest |a − b| relative to the largest |b|. */
function relativeMaxError(a: Float32Array, b: Float32Array): number {
  let err = 0;
  let peak = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
    peak = Math.max(peak, Math.abs(b[i]!));
  }
  return err / peak;
}

test('activation scales cover every weighted-op input; 8-bit fake-quant output stays close to f32, fewer bits drift more', () => {
  const params = initWeights(TINY_NETWORK, 3);
  const input = features(5);
  assert.deepEqual(weightedInputs(TINY_NETWORK), ['features', 'down', 'res', 'mix', 'join']);
  const f32 = runNetworkCpu(TINY_NETWORK, params, input);
  const scales = calibrateActivationScales(TINY_NETWORK, params, [input]);
  for (const [name, s] of scales) {
    let maxAbs = 0;
    for (const v of f32.tensors.get(name)!.data) maxAbs = Math.max(maxAbs, Math.abs(v));
    assert.ok(s > 0 && Math.abs(s * 127 - maxAbs) < 1e-6 * maxAbs, `${name}: scale ${s}`);
  }
  const errors = [16, 8, 4].map((bits) => {
    const s = calibrateActivationScales(TINY_NETWORK, params, [input], bits);
    const q = runNetworkCpuFakeQuant(TINY_NETWORK, params, input, s, bits);
    // The kept tensors are the unrounded ones (only weighted ops see the rounded copy).
    assert.equal(q.tensors.get('features'), input);
    return relativeMaxError(q.output.data, f32.output.data);
  });
  const [e16, e8, e4] = errors as [number, number, number];
  assert.ok(e8 > 0 && e8 < 0.03, `8-bit error ${e8}`);
  assert.ok(e16 < e8 / 50 && e8 < e4, `errors 16/8/4 bits: ${errors}`);
});

test('a huge activation scale rounds the inputs to zero: the output differs coarsely', () => {
  const params = initWeights(TINY_NETWORK, 4);
  const input = features(6);
  const f32 = runNetworkCpu(TINY_NETWORK, params, input).output.data;
  const scales = calibrateActivationScales(TINY_NETWORK, params, [input, features(7)]);
  const huge = new Map([...scales].map(([name, s]) => [name, s * 1000]));
  const coarse = runNetworkCpuFakeQuant(TINY_NETWORK, params, input, huge).output.data;
  const fine = runNetworkCpuFakeQuant(TINY_NETWORK, params, input, scales).output.data;
  assert.ok(relativeMaxError(coarse, f32) > 0.2, `coarse ${relativeMaxError(coarse, f32)}`);
  assert.ok(relativeMaxError(fine, f32) < 0.03, `fine ${relativeMaxError(fine, f32)}`);
  // Values beyond ±qmax·s clamp; scale 0 leaves a copy.
  const t: Tensor = { channels: 1, height: 1, width: 3, data: new Float32Array([5, -0.26, 0.034]) };
  assert.deepEqual(
    Array.from(fakeQuantizeTensor(t, 0.01, 4).data),
    [0.07, -0.07, 0.03].map(Math.fround),
  );
  assert.deepEqual(fakeQuantizeTensor(t, 0).data, t.data);
});

test('activation quantization validates bits, calibration inputs and scales', () => {
  const params = initWeights(TINY_NETWORK, 1);
  const input = features(2);
  for (const bad of [1, 17, 7.5, NaN]) {
    assert.throws(
      () => calibrateActivationScales(TINY_NETWORK, params, [input], bad),
      (e: Error) => e instanceof RangeError && e.message.includes(String(bad)),
    );
    assert.throws(
      () => runNetworkCpuFakeQuant(TINY_NETWORK, params, input, new Map(), bad),
      RangeError,
    );
  }
  assert.throws(() => calibrateActivationScales(TINY_NETWORK, params, []), /at least one input/);
  const scales = calibrateActivationScales(TINY_NETWORK, params, [input]);
  scales.delete('mix');
  assert.throws(() => runNetworkCpuFakeQuant(TINY_NETWORK, params, input, scales), /mix/);
});
