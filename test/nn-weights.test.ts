import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resignWeights, weightsHeaderText, withWeightsHeader } from './helpers/weights-bytes.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { countParameters, parameterSpecs, type GraphDescription } from '../src/core/graph.ts';
import { NETWORK_V2 } from '../src/nn/network-v2.ts';
import {
  decodeWeights,
  encodeWeights,
  initWeights,
  loadWeights,
  saveWeights,
  type NetworkWeights,
} from '../src/nn/weights.ts';
import { InputError } from '../src/core/errors.ts';

const weights: NetworkWeights = {
  graph: NETWORK_V2,
  parameters: initWeights(NETWORK_V2, 42),
  qualityRatio: 2,
  metadata: { steps: 10, note: 'test' },
};

function expectInputError(bytes: Uint8Array, pattern: RegExp, graph?: GraphDescription): void {
  assert.throws(
    () => decodeWeights(bytes, graph ? { graph } : {}),
    (e: Error) => e instanceof InputError && pattern.test(e.message),
    `expected InputError matching ${pattern}`,
  );
}

/** Rewrites the JSON header (keeping the data) and re-signs, to build files with a bad header. */
function withHeader(
  bytes: Uint8Array,
  edit: (header: Record<string, unknown>) => void,
): Uint8Array {
  const header = JSON.parse(weightsHeaderText(bytes));
  edit(header);
  return withWeightsHeader(bytes, JSON.stringify(header));
}

test('initWeights: deterministic, He-scaled, zero biases', () => {
  const a = initWeights(NETWORK_V2, 1);
  const b = initWeights(NETWORK_V2, 1);
  const c = initWeights(NETWORK_V2, 2);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.get('res3a.weight'), c.get('res3a.weight'));
  let total = 0;
  for (const values of a.values()) total += values.length;
  assert.equal(total, countParameters(NETWORK_V2));
  assert.ok(a.get('res3a.bias')!.every((v) => v === 0));
  // res3a: relu, fan-in 64·9 → std √2/24 ≈ 0.0589 (36864 samples: within 3%).
  const w = a.get('res3a.weight')!;
  const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
  assert.ok(Math.abs(std / (Math.SQRT2 / 24) - 1) < 0.03, `std ${std}`);
  // up2: transposed, fan-in = Cin = 64 → std √2/8.
  const up = a.get('up2.weight')!;
  const upStd = Math.sqrt(up.reduce((s, v) => s + v * v, 0) / up.length);
  assert.ok(Math.abs(upStd / (Math.SQRT2 / 8) - 1) < 0.05, `up std ${upStd}`);
});

test('weights round trip through bytes and a file', async () => {
  const bytes = encodeWeights(weights);
  const back = decodeWeights(bytes, { graph: NETWORK_V2 });
  assert.deepEqual(back.graph, NETWORK_V2);
  assert.equal(back.qualityRatio, 2);
  assert.deepEqual(back.metadata, { steps: 10, note: 'test' });
  assert.deepEqual(
    [...back.parameters.keys()],
    parameterSpecs(NETWORK_V2).map((s) => s.name),
  );
  for (const [name, values] of weights.parameters)
    assert.deepEqual(back.parameters.get(name), values, name);
  // A copy at an odd byte offset decodes too (the data is read with a DataView).
  const shifted = new Uint8Array(bytes.length + 1);
  shifted.set(bytes, 1);
  assert.deepEqual(decodeWeights(shifted.subarray(1)).parameters, back.parameters);
  const dir = mkdtempSync(join(tmpdir(), 'uplift-weights-'));
  const path = join(dir, 'v1.uplift');
  await saveWeights(path, weights);
  const loaded = await loadWeights(path, { graph: NETWORK_V2 });
  assert.deepEqual(loaded.parameters, back.parameters);
  await assert.rejects(
    loadWeights(join(dir, 'missing.uplift')),
    (e: Error) => e instanceof InputError && /ENOENT/.test(e.message),
  );
});

test("a graph's history guard travels with the weights; a bad one is refused", () => {
  const guarded = { ...weights, graph: { ...NETWORK_V2, historyGuard: 1.5 } };
  const back = decodeWeights(encodeWeights(guarded));
  assert.equal(back.graph.historyGuard, 1.5);
  // Architecture checks compare the layers, not the frame's guard.
  assert.equal(
    decodeWeights(encodeWeights(guarded), { graph: NETWORK_V2 }).graph.historyGuard,
    1.5,
  );
  assert.equal(decodeWeights(encodeWeights(weights)).graph.historyGuard, undefined);
  assert.throws(
    () => decodeWeights(encodeWeights({ ...weights, graph: { ...NETWORK_V2, historyGuard: -1 } })),
    (e: Error) => e instanceof InputError && /historyGuard/.test(e.message),
  );
});

test("a graph's coverage blend travels with the weights; a bad one is refused", () => {
  const covered = { ...weights, graph: { ...NETWORK_V2, coverageBlend: 0.5 } };
  assert.equal(decodeWeights(encodeWeights(covered)).graph.coverageBlend, 0.5);
  assert.equal(
    decodeWeights(encodeWeights(covered), { graph: NETWORK_V2 }).graph.coverageBlend,
    0.5,
  );
  assert.equal(decodeWeights(encodeWeights(weights)).graph.coverageBlend, undefined);
  for (const bad of [-1, 5, Number.NaN]) {
    assert.throws(
      () => encodeWeights({ ...weights, graph: { ...NETWORK_V2, coverageBlend: bad } }),
      (e: Error) => e instanceof InputError && /coverageBlend/.test(e.message),
      String(bad),
    );
  }
});

test('every corruption is an InputError naming the problem', async () => {
  const bytes = encodeWeights(weights);
  const magic = bytes.slice();
  magic[0] = 0x58;
  expectInputError(magic, /bad magic/);
  const version = bytes.slice();
  new DataView(version.buffer).setUint32(8, 99, true);
  expectInputError(version, /format version 99 is not supported \(this build reads 1 and 2\)/);
  expectInputError(bytes.subarray(0, 10), /truncated/);
  expectInputError(bytes.subarray(0, 200), /truncated header/);
  expectInputError(bytes.subarray(0, bytes.length - 4), /truncated data/);
  const extra = new Uint8Array(bytes.length + 4);
  extra.set(bytes);
  expectInputError(extra, /unexpected bytes/);
  const flipped = bytes.slice();
  flipped[flipped.length - 100]! ^= 0x01;
  expectInputError(flipped, /checksum mismatch/);
  const json = bytes.slice();
  json[16] = 0x5d; // ']' in place of the opening brace
  expectInputError(json, /checksum mismatch/);
  expectInputError(resignWeights(json), /not valid JSON/);
  expectInputError(
    withHeader(bytes, (h) => ((h.tensors as { shape: number[] }[])[2]!.shape = [32, 16, 3, 3])),
    /res1a.weight has shape \[32, 16, 3, 3\], the graph needs \[16, 16, 3, 3\]/,
  );
  // Only the length field wrong: the message says so, in the same notation.
  expectInputError(
    withHeader(bytes, (h) => ((h.tensors as { length: number }[])[2]!.length = 999)),
    /res1a.weight has length 999, its shape \[16, 16, 3, 3\] holds 2304/,
  );
  expectInputError(
    withHeader(bytes, (h) => ((h.tensors as { name: string }[])[0]!.name = 'other')),
    /tensor 0 is "other"/,
  );
  expectInputError(
    withHeader(bytes, (h) => (h.tensors as unknown[]).pop()),
    /tensors, the graph needs/,
  );
  expectInputError(
    withHeader(bytes, (h) => ((h.tensors as { dtype: string }[])[1]!.dtype = 'f16')),
    /header.tensors\[1\].dtype is "f16", only "f32" is supported/,
  );
  expectInputError(
    withHeader(bytes, (h) => ((h.graph as { nodes: unknown[] }).nodes = [])),
    /bad graph: .*output "raw"/,
  );
  const other: GraphDescription = {
    ...NETWORK_V2,
    nodes: NETWORK_V2.nodes.map((n) =>
      n.name === 'head' ? { ...n, activation: 'relu' as const } : n,
    ),
  };
  expectInputError(bytes, /differs from the expected/, other);
  // A file whose graph is itself consistent but is not the expected architecture.
  const otherBytes = encodeWeights({ graph: other, parameters: initWeights(other, 1) });
  expectInputError(otherBytes, /differs from the expected/, NETWORK_V2);
  expectInputError(
    withHeader(bytes, (h) => ((h.tensors as unknown[])[4] = null)),
    /header.tensors\[4\] must be an object, got null/,
  );
  const diverged = new Map(weights.parameters);
  diverged.set(
    'res2b.bias',
    Float32Array.from({ length: 32 }, (_, i) => (i === 3 ? NaN : 0)),
  );
  expectInputError(
    encodeWeights({ graph: NETWORK_V2, parameters: diverged }),
    /res2b.bias has a non-finite value \(NaN\) at 3/,
  );
  const dir = mkdtempSync(join(tmpdir(), 'uplift-weights-'));
  writeFileSync(join(dir, 'bad.uplift'), flipped);
  await assert.rejects(loadWeights(join(dir, 'bad.uplift')), /bad.uplift: checksum mismatch/);
  assert.throws(
    () => encodeWeights({ graph: NETWORK_V2, parameters: new Map() }),
    /down1.weight is missing/,
  );
});
