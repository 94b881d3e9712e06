// The `.uplift` header is covered by the checksum and read strictly (issue 16, item 4): one flipped
// bit anywhere in a file is refused; behind the checksum, unknown keys, non-finite or out-of-range
// numbers and deep nesting are InputErrors naming the key path; format 1 files still read, with the
// same strict schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resignWeights, weightsHeaderText, withWeightsHeader } from './helpers/weights-bytes.ts';
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { InputError } from '../src/core/errors.ts';
import { shippedWeightsPath } from '../src/eval/shipped-weights.ts';
import { TINY_NETWORK } from '../src/train/tiny-network.ts';
import {
  decodeWeights,
  encodeWeights,
  initWeights,
  WEIGHTS_FORMAT_VERSION,
} from '../src/nn/weights.ts';

const INT8_WEIGHTS = shippedWeightsPath('uplift-v2-int8.uplift');

function refuses(bytes: Uint8Array, pattern: RegExp, what = ''): void {
  assert.throws(
    () => decodeWeights(bytes, { name: 'w.uplift' }),
    (error: unknown) => {
      assert.ok(error instanceof InputError, `${what}: InputError, got ${String(error)}`);
      assert.match(error.message, /^w\.uplift: /);
      assert.match(error.message, pattern, what);
      return true;
    },
    what,
  );
}

/** Replaces the first occurrence of `from` by `to` (same length) in the file's bytes. */
function replaceText(bytes: Uint8Array, from: string, to: string): Uint8Array {
  assert.equal(from.length, to.length);
  const at = Buffer.from(bytes).indexOf(from);
  assert.ok(at > 0, `${from} occurs`);
  const out = bytes.slice();
  out.set(new TextEncoder().encode(to), at);
  return out;
}

/** The same weights as a format-1 file: no trailer, the data's CRC-32 in the header. */
function asFormat1(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const headerBytes = view.getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerBytes)));
  const data = bytes.subarray(16 + headerBytes, bytes.length - 4);
  header.crc32 = crc32(data) >>> 0;
  let json = new TextEncoder().encode(JSON.stringify(header));
  json = Uint8Array.from({ length: Math.ceil(json.length / 4) * 4 }, (_, i) => json[i] ?? 0x20);
  const out = new Uint8Array(16 + json.length + data.length);
  out.set(bytes.subarray(0, 16));
  new DataView(out.buffer).setUint32(8, 1, true);
  new DataView(out.buffer).setUint32(12, json.length, true);
  out.set(json, 16);
  out.set(data, 16 + json.length);
  return out;
}

test('format 2: the trailer is the CRC-32 of magic, version, header and data', () => {
  const bytes = encodeWeights({
    graph: TINY_NETWORK,
    parameters: initWeights(TINY_NETWORK, 3),
    qualityRatio: 1.5,
  });
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  assert.equal(view.getUint32(8, true), WEIGHTS_FORMAT_VERSION);
  assert.equal(WEIGHTS_FORMAT_VERSION, 2);
  const end = bytes.length - 4;
  assert.equal(view.getUint32(end, true), crc32(bytes.subarray(0, end)) >>> 0);
  // Every single bit flipped in the prefix, the header or the trailer, and every 7th in the data.
  const headerEnd = 16 + view.getUint32(12, true);
  let flips = 0;
  for (let bit = 0; bit < bytes.length * 8; bit++) {
    const byte = bit >> 3;
    if (byte >= headerEnd && byte < end && bit % 7 !== 0) continue;
    const flipped = bytes.slice();
    flipped[byte]! ^= 1 << (bit & 7);
    assert.throws(() => decodeWeights(flipped), InputError, `bit ${bit}`);
    flips++;
  }
  assert.ok(flips > headerEnd * 8, `${flips} flips`);
});

test("the issue's cases: a misspelt key is a checksum error, and behind it an unknown key", () => {
  const bytes = new Uint8Array(readFileSync(INT8_WEIGHTS));
  assert.equal(new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true), 2);
  const reference = decodeWeights(bytes);
  const node = reference.graph.nodes.findIndex((n) => n.activation !== undefined);
  const activation = replaceText(bytes, '"activation"', '"activatIon"');
  refuses(activation, /^w\.uplift: checksum mismatch \(the file is corrupt\)$/, 'activatIon');
  refuses(
    resignWeights(activation),
    new RegExp(
      `^w\\.uplift: header\\.graph\\.nodes\\[${node}\\]: unknown key "activatIon" \\(allowed: op, name, inputs`,
    ),
    'activatIon re-signed',
  );
  const weightBits = replaceText(bytes, '"weightBits"', '"weightBats"');
  refuses(weightBits, /checksum mismatch/, 'weightBats');
  refuses(
    resignWeights(weightBits),
    /graph\.nodes\[\d+\]: unknown key "weightBats"/,
    'weightBats re-signed',
  );
  // A digit of a scale: still a valid header, so only the checksum can tell.
  const scale = reference.graph.nodes.find((n) => n.scale !== undefined)!.scale!;
  const text = JSON.stringify(scale);
  const digit = text.at(-1) === '1' ? '2' : '1';
  refuses(replaceText(bytes, text, text.slice(0, -1) + digit), /checksum mismatch/, 'scale digit');
});

test('behind the checksum: non-finite and out-of-range numbers, deep nesting, bad metadata', () => {
  const bytes = encodeWeights({ graph: TINY_NETWORK, parameters: initWeights(TINY_NETWORK, 5) });
  const cases: [string, string, RegExp][] = [
    [
      '"outChannels":8',
      '"outChannels":1e999',
      /header\.graph\.nodes\[0\]\.outChannels must be an integer ≥ 1 and ≤ 4096, got Infinity/,
    ],
    [
      '"outChannels":8',
      '"outChannels":1e6',
      /nodes\[0\]\.outChannels must be an integer ≥ 1 and ≤ 4096, got 1000000/,
    ],
    ['"channels":', '"channels":-', /header\.graph\.inputs\[0\]\.channels must be an integer ≥ 1/],
    ['"version":1', '"version":1.5', /header\.graph\.version must be an integer/],
    [
      '"metadata":{}',
      '"metadata":{"loss":1e999}',
      /header\.metadata\.loss must be finite, got Infinity/,
    ],
    ['"metadata":{}', '"metadata":[1]', /header\.metadata must be an object, got \[1\]/],
    [
      '"metadata":{}',
      '"metadata":{},"qualityRatio":7',
      /header\.qualityRatio must be a finite number ≥ 1 and ≤ 3, got 7/,
    ],
    ['"metadata":{}', '"metadata":{},"crc32":1', /^w\.uplift: header: unknown key "crc32"/],
    ['"dtype":"f32"', '"dtype":"f32","stride":4', /header\.tensors\[0\]: unknown key "stride"/],
    [
      '"name":"uplift-tiny"',
      '"name":"uplift-tiny","extra":0',
      /header\.graph: unknown key "extra"/,
    ],
    [
      '"metadata":{}',
      `"metadata":${'['.repeat(50000)}${']'.repeat(50000)}`,
      /header is not valid JSON \(JSON nested 50001 levels deep, more than 64\)/,
    ],
  ];
  for (const [from, to, pattern] of cases) {
    const header = weightsHeaderText(bytes).trimEnd();
    assert.ok(header.includes(from), from);
    const out = withWeightsHeader(bytes, header.replace(from, to));
    refuses(out, pattern, to.slice(0, 60));
  }
});

test('format 1 files still read, with the same strict schema', () => {
  const weights = {
    graph: TINY_NETWORK,
    parameters: initWeights(TINY_NETWORK, 9),
    qualityRatio: 2,
  };
  const v2 = encodeWeights(weights);
  const v1 = asFormat1(v2);
  const read = decodeWeights(v1);
  assert.deepEqual(read, decodeWeights(v2));
  assert.deepEqual(read.parameters, weights.parameters);
  refuses(
    replaceText(v1, '"activation"', '"activatIon"'),
    /graph\.nodes\[0\]: unknown key "activatIon"/,
  );
  const dataFlip = v1.slice();
  dataFlip[dataFlip.length - 9]! ^= 0x10;
  refuses(dataFlip, /checksum mismatch \(the data is corrupt\)/);
});
