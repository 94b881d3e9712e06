// Fake quantization of the weights (post-training, per-tensor symmetric) and `uplift quantize`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../src/core/random.ts';
import { fakeQuantizeWeights } from '../src/nn/quantize.ts';

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
