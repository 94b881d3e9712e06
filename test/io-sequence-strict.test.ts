// sequence.json is read strictly (issue 16, item 4 applied to sequences, and the deep-nesting case
// of item 6): unknown keys, numbers out of range or overflowing to Infinity, and nesting deep enough
// to overflow the stack are InputErrors naming the file and the key path, with values shown short.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../src/core/errors.ts';
import { jsonDepth, parseJsonDocument, showValue } from '../src/core/strict-json.ts';
import { parseSequenceJson, validateSequenceHeader } from '../src/io/sequence-json.ts';

const file = 'seq/sequence.json';
const good = {
  version: 1,
  renderSize: [4, 3],
  displaySize: [8, 6],
  frames: [{ jitter: [0.25, -0.5], exposure: 2 }, {}],
  source: { generator: 'test', nested: { list: [1, 2, { deep: true }] } },
};

function refuses(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseSequenceJson(text, file),
    (error: unknown) => {
      assert.ok(error instanceof InputError, `InputError, got ${String(error)}`);
      assert.ok(error.message.startsWith(`${file}: `), error.message);
      assert.match(error.message, pattern);
      assert.ok(error.message.length < 400, `a short message (${error.message.length} chars)`);
      return true;
    },
    text.slice(0, 200),
  );
}

test('sequence.json: unknown keys are errors naming the key path', () => {
  assert.equal(parseSequenceJson(JSON.stringify(good), file).frames.length, 2);
  refuses(
    JSON.stringify({ ...good, depthInvertd: true }),
    /^seq\/sequence.json: unknown key "depthInvertd" \(allowed: version, renderSize/,
  );
  refuses(
    JSON.stringify({ ...good, frames: [{}, { exposre: 2 }] }),
    /^seq\/sequence.json: frames\[1\]: unknown key "exposre" \(allowed: jitter, reset, exposure/,
  );
  // "source" stays free-form: any keys, but JSON values with finite numbers.
  refuses(
    JSON.stringify({ ...good, source: { a: { b: [0, 1] } } }).replace('[0,1]', '[0,1e999]'),
    /^seq\/sequence.json: source.a.b\[1\] must be finite, got Infinity$/,
  );
});

test('sequence.json: numbers must be finite and in range', () => {
  const frame = (f: object) => JSON.stringify({ ...good, frames: [f] });
  refuses(
    frame({ exposure: 1 }).replace('"exposure":1', '"exposure":1e999'),
    /frames\[0\]\.exposure must be a positive finite number, got Infinity/,
  );
  refuses(
    frame({ jitter: [0.6, 0] }),
    /frames\[0\]\.jitter must be two finite numbers \[x, y\] in \[−0.5, 0.5\], got \[0.6,0\]/,
  );
  refuses(
    frame({ motionScale: [1, 0] }).replace('[1,0]', '[1,-1e400]'),
    /motionScale must be two finite numbers/,
  );
  refuses(
    JSON.stringify({ ...good, renderSize: [16385, 3], displaySize: [16385, 6] }),
    /renderSize must be \[width, height\], positive integers up to 16384, got \[16385,3\]/,
  );
});

test('sequence.json: nesting 50,000 deep is an InputError naming the file, not a stack overflow', () => {
  const deep = '['.repeat(50000) + ']'.repeat(50000);
  const text = JSON.stringify({ ...good, frames: ['FRAME'] }).replace('"FRAME"', deep);
  assert.equal(jsonDepth(text), 50002); // the document, frames, then 50,000
  refuses(text, /^seq\/sequence.json: JSON nested 50002 levels deep, more than 64$/);
  // Brackets inside strings do not count; escaped quotes do not end a string.
  assert.equal(jsonDepth('{"a": "[[[\\"[[[", "b": [[1]]}'), 3);
  assert.deepEqual(parseJsonDocument('{"a": "[[[\\"[[["}', 'x.json'), { a: '[[["[[[' });
  // A header built in memory with a deeply nested source (no JSON text to scan) is refused too.
  let source: Record<string, unknown> = {};
  for (let i = 0; i < 100000; i++) source = { inner: source };
  assert.throws(
    () => validateSequenceHeader({ ...good, frames: undefined, source }, 'mem'),
    /^InputError: mem: source(\.inner)+: nested more than 64 levels$/,
  );
});

test('values in messages are shown short', () => {
  const huge = 'x'.repeat(1_000_000);
  refuses(
    JSON.stringify({ ...good, colorSpace: huge }),
    /colorSpace must be "linear" or "srgb", got "x{59}…$/,
  );
  assert.equal(showValue(NaN), 'NaN');
  assert.equal(showValue([1, 2]), '[1,2]');
  assert.ok(showValue({ a: 'y'.repeat(500) }).length <= 61);
});
