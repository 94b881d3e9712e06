// The parameter-by-parameter mean of networks (scripts/average-weights.ts): values, metadata,
// and the refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { averageWeights } from '../src/nn/average-weights.ts';
import { initWeights, type NetworkWeights } from '../src/nn/weights.ts';
import { ARCHITECTURES } from '../src/nn/networks.ts';
import { InputError } from '../src/core/errors.ts';

const v3a = ARCHITECTURES['v3a']!;
const v2 = ARCHITECTURES['v2']!;
const network = (seed: number, graph = v3a): NetworkWeights => ({
  graph,
  parameters: initWeights(graph, seed),
  qualityRatio: 2,
});

test('averageWeights: every parameter the element-wise mean, in f32, the sources named', () => {
  const [a, b, c] = [network(1), network(2), network(3)];
  const mean = averageWeights([a, b, c], ['a.uplift', 'b.uplift', 'c.uplift']);
  assert.equal(mean.graph, a.graph);
  assert.equal(mean.qualityRatio, 2);
  assert.deepEqual(mean.metadata, { averageOf: ['a.uplift', 'b.uplift', 'c.uplift'] });
  assert.deepEqual([...mean.parameters.keys()], [...a.parameters.keys()]);
  let moved = 0;
  for (const [name, values] of mean.parameters) {
    const [x, y, z] = [a, b, c].map((n) => n.parameters.get(name)!);
    values.forEach((v, i) => {
      assert.equal(v, Math.fround((x![i]! + y![i]! + z![i]!) / 3), `${name}[${i}]`);
      if (v !== x![i]) moved++;
    });
  }
  assert.ok(moved > 0);
  // The inputs are not touched.
  assert.deepEqual(network(1).parameters, a.parameters);
});

test('averageWeights: one network, or networks of two architectures, is an InputError naming them', () => {
  assert.throws(() => averageWeights([network(1)]), InputError);
  assert.throws(
    () => averageWeights([network(1), network(2, v2)], ['g4.uplift', 'v2.uplift']),
    (e: Error) => e instanceof InputError && /v2\.uplift is another architecture/.test(e.message),
  );
});
