// Fuzz targets of the parsers (issue 16): valid seed files, mutations as fast-check arbitraries,
// and the property every mutated input must satisfy — it parses, or it throws InputError; never
// another exception, never longer than MAX_INPUT_MS, never an image beyond the reader's limit.
// Used by test/fuzz-parsers.test.ts (a short budget) and scripts/fuzz.mjs (long runs).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { InputError } from '../../src/core/errors.ts';
import { createImage } from '../../src/core/image.ts';
import { defaultFrameParams } from '../../src/core/frame.ts';
import { mulberry32 } from '../../src/core/random.ts';
import { decodeExr } from '../../src/io/exr/decode.ts';
import { encodeExr } from '../../src/io/exr/encode.ts';
import { MAX_IMAGE_SAMPLES, type ImageSizeLimit } from '../../src/io/limits.ts';
import { decodePng, encodePng } from '../../src/io/png.ts';
import { formatSequenceJson, parseSequenceJson } from '../../src/io/sequence-json.ts';
import { quantizeGraph, weightedInputs } from '../../src/nn/quantize.ts';
import { decodeWeights, encodeWeights, initWeights } from '../../src/nn/weights.ts';
import { TINY_NETWORK } from '../../src/train/tiny-network.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/train/checkpoint.ts';
import {
  DEFAULT_TRAIN_CONFIG,
  parseTrainConfigText,
  resolveTrainConfig,
} from '../../src/train/config.ts';
import {
  checkpointHeaderText,
  encodeCheckpointV1,
  resignCheckpoint,
  withCheckpointHeader,
} from './checkpoint-bytes.ts';
import { adam7ImageData, buildPng, pngChunk } from './png-bytes.ts';
import { resignWeights, weightsHeaderText, withWeightsHeader } from './weights-bytes.ts';
import { crc32 } from 'node:zlib';

/** Longest a parser may take on one input. */
export const MAX_INPUT_MS = 2000;

export const PARSERS = ['png', 'exr', 'uplift', 'sequence', 'checkpoint', 'config'] as const;
export type ParserName = (typeof PARSERS)[number];

/** One mutated input: which seed, the edits, whether to repair checksums afterwards. */
export interface FuzzInput {
  readonly seed: number;
  /** Edits of the JSON document (sequence.json, a config, a header) before the byte edits. */
  readonly jsonEdits: readonly JsonEdit[];
  readonly edits: readonly Edit[];
  /** Recompute checksums (PNG chunk CRCs, .uplift and checkpoint trailers) to reach deeper checks. */
  readonly repair: boolean;
  /** Decode with the seed's size as the expected size (the role readers' path). */
  readonly expectSize: boolean;
}

type Edit =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'u32'; at: number; value: number; little: boolean }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'remove'; at: number; length: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'copy'; from: number; at: number; length: number }
  | { kind: 'text'; at: number; text: string };

/** An edit of a parsed JSON document at one of its values (chosen by index, modulo their count). */
export interface JsonEdit {
  readonly at: number;
  readonly action: 'replace' | 'delete' | 'add' | 'rename' | 'wrap';
  readonly key: string;
  /** A JSON value, or one of JSON_TOKENS written raw (numbers that overflow, deep nesting). */
  readonly value: unknown;
  readonly raw?: string;
}

/** 32-bit values that sit on boundaries of sizes and counts. */
const INTERESTING_U32 = [
  0,
  1,
  2,
  3,
  4,
  7,
  8,
  15,
  16,
  31,
  32,
  64,
  255,
  256,
  4096,
  16383,
  16384,
  16385,
  65535,
  65536,
  2 ** 24,
  2 ** 28,
  268435456,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32 - 1,
];

/** Tokens that stress JSON readers: huge, non-finite-by-overflow, negative, nested, odd keys. */
const JSON_TOKENS = [
  '1e999',
  '-1e999',
  '-1',
  '0',
  '1.5',
  '16385',
  '2147483647',
  'null',
  'true',
  '"x"',
  '[]',
  '{}',
  '[[[[[[[[',
  ']]]]',
  '"__proto__"',
  '"constructor"',
  ',"extra":1',
  '\\u0000',
];

/** Positions, biased to the first bytes, where the headers are. */
const position = fc.oneof(fc.nat({ max: 63 }), fc.nat({ max: 2047 }), fc.nat({ max: 2 ** 30 }));

const RAW_TOKENS = [
  '1e999',
  '-1e999',
  '1e308',
  '-0',
  '5e-324',
  '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
];

const jsonEdit: fc.Arbitrary<JsonEdit> = fc.record(
  {
    at: fc.nat({ max: 2 ** 20 }),
    action: fc.constantFrom('replace', 'replace', 'replace', 'delete', 'add', 'rename', 'wrap'),
    key: fc.oneof(
      fc.constantFrom(
        'activatIon',
        'weightBats',
        'exposre',
        'extra',
        '__proto__',
        'constructor',
        '',
      ),
      fc.string({ maxLength: 6 }),
    ),
    value: fc.oneof(
      fc.constantFrom(
        0,
        -1,
        1,
        0.5,
        1.5,
        3,
        4,
        7,
        8,
        16,
        4096,
        4097,
        16384,
        16385,
        2 ** 31,
        2 ** 53,
        null,
        true,
        '',
        'relu',
        'leaky',
        'none',
        'f16',
        [],
        {},
      ),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    raw: fc.constantFrom(...RAW_TOKENS),
  },
  { requiredKeys: ['at', 'action', 'key', 'value'] },
);

/** Applies `edits` to JSON text (returned unchanged when it does not parse). */
export function applyJsonEdits(text: string, edits: readonly JsonEdit[]): string {
  if (edits.length === 0) return text;
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    return text;
  }
  const marker = '\u0001raw\u0001';
  const raws: string[] = [];
  for (const e of edits) {
    // Every (container, key) slot of the document, breadth first.
    const slots: [Record<string, unknown> | unknown[], string | number][] = [];
    const queue: unknown[] = [root];
    while (queue.length > 0 && slots.length < 10000) {
      const v = queue.shift();
      if (Array.isArray(v)) v.forEach((x, i) => (slots.push([v, i]), queue.push(x)));
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v))
          (slots.push([v as Record<string, unknown>, k]), queue.push(x));
      }
    }
    if (slots.length === 0) continue;
    const [container, key] = slots[e.at % slots.length]!;
    const value = e.raw !== undefined ? (raws.push(e.raw), marker) : e.value;
    const record = container as Record<string, unknown>;
    switch (e.action) {
      case 'replace':
        record[key as string] = value;
        break;
      case 'delete':
        if (Array.isArray(container)) container.splice(key as number, 1);
        else delete record[key as string];
        break;
      case 'add':
        if (Array.isArray(container)) container.push(value);
        else
          Object.defineProperty(record, e.key, {
            value,
            enumerable: true,
            configurable: true,
            writable: true,
          });
        break;
      case 'rename':
        if (!Array.isArray(container) && e.key !== key) {
          Object.defineProperty(record, e.key, {
            value: record[key as string],
            enumerable: true,
            configurable: true,
            writable: true,
          });
          delete record[key as string];
        }
        break;
      case 'wrap':
        record[key as string] = [record[key as string]];
        break;
    }
  }
  let out = JSON.stringify(root) ?? 'null';
  for (const raw of raws) out = out.replace(JSON.stringify(marker), raw);
  return out;
}

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: position, value: fc.nat({ max: 255 }) }),
  fc.record({
    kind: fc.constant('u32' as const),
    at: position,
    value: fc.oneof(fc.constantFrom(...INTERESTING_U32), fc.nat({ max: 2 ** 32 - 1 })),
    little: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: position,
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({
    kind: fc.constant('remove' as const),
    at: position,
    length: fc.integer({ min: 1, max: 64 }),
  }),
  { arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: position }), weight: 1 },
  fc.record({
    kind: fc.constant('copy' as const),
    from: position,
    at: position,
    length: fc.integer({ min: 1, max: 256 }),
  }),
  fc.record({
    kind: fc.constant('text' as const),
    at: position,
    text: fc.oneof(fc.constantFrom(...JSON_TOKENS), fc.string({ maxLength: 8 })),
  }),
);

/** Applies `edits` to a copy of `seed`. */
export function applyEdits(seed: Uint8Array, edits: readonly Edit[]): Uint8Array {
  let bytes = seed.slice();
  for (const e of edits) {
    const n = bytes.length;
    if (n === 0) break;
    const at = e.at % n;
    switch (e.kind) {
      case 'flip':
        bytes[at]! ^= 1 << e.bit;
        break;
      case 'set':
        bytes[at] = e.value;
        break;
      case 'u32':
        if (at + 4 <= n) {
          new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, e.value, e.little);
        }
        break;
      case 'insert':
      case 'text': {
        const insert = e.kind === 'insert' ? e.bytes : new TextEncoder().encode(e.text);
        const out = new Uint8Array(n + insert.length);
        out.set(bytes.subarray(0, at));
        out.set(insert, at);
        out.set(bytes.subarray(at), at + insert.length);
        bytes = out;
        break;
      }
      case 'remove': {
        const out = new Uint8Array(n - Math.min(e.length, n - at));
        out.set(bytes.subarray(0, at));
        out.set(bytes.subarray(at + e.length), at);
        bytes = out;
        break;
      }
      case 'truncate':
        bytes = bytes.slice(0, at);
        break;
      case 'copy': {
        const from = e.from % n;
        const piece = bytes.slice(from, Math.min(from + e.length, n));
        bytes.set(piece.subarray(0, Math.min(piece.length, n - at)), at);
        break;
      }
    }
  }
  return bytes;
}

export interface FuzzTarget {
  readonly name: ParserName;
  /** Valid inputs the mutations start from, with the size each declares (images). */
  readonly seeds: readonly { bytes: Uint8Array; size?: [number, number] }[];
  /** Recomputes checksums after edits, where the format has them. */
  repair?(bytes: Uint8Array): Uint8Array;
  /** Applies JSON edits to the file's JSON document, keeping the file otherwise valid. */
  editJson?(bytes: Uint8Array, edits: readonly JsonEdit[]): Uint8Array;
  /** Parses; returns the number of samples decoded (images) or 0. Throws as the parser does. */
  parse(bytes: Uint8Array, limit: ImageSizeLimit): number;
}

/** Recomputes the CRC of every chunk whose structure is still intact. */
function repairPngCrcs(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  for (let pos = 8; pos + 12 <= out.length;) {
    const length = view.getUint32(pos);
    if (pos + 12 + length > out.length) break;
    view.setUint32(pos + 8 + length, crc32(out.subarray(pos + 4, pos + 8 + length)) >>> 0);
    pos += 12 + length;
  }
  return out;
}

function pngSeeds(): FuzzTarget['seeds'] {
  const random = mulberry32(7);
  const image = (w: number, h: number, c: number) => {
    const out = createImage(w, h, c);
    for (let i = 0; i < out.data.length; i++) out.data[i] = random();
    return out;
  };
  const seeds: { bytes: Uint8Array; size: [number, number] }[] = [
    { bytes: encodePng(image(7, 5, 1)), size: [7, 5] },
    { bytes: encodePng(image(6, 4, 2), { bits: 16 }), size: [6, 4] },
    { bytes: encodePng(image(9, 3, 3)), size: [9, 3] },
    { bytes: encodePng(image(4, 4, 4), { bits: 16 }), size: [4, 4] },
  ];
  // 5×2 palette at 4 bits, and 5×3 RGB interlaced (Adam7), built by hand.
  const plte = pngChunk('PLTE', new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255]));
  seeds.push({
    bytes: buildPng(
      { width: 5, height: 2, colorType: 3, bitDepth: 4 },
      Uint8Array.from([0, 0x01, 0x21, 0x00, 0, 0x22, 0x10, 0x00]),
      [plte],
    ),
    size: [5, 2],
  });
  const pixels = Uint8Array.from({ length: 5 * 3 * 3 }, (_, i) => (i * 53) & 0xff);
  seeds.push({
    bytes: buildPng(
      { width: 5, height: 3, colorType: 2, interlace: 1 },
      adam7ImageData(pixels, 5, 3, 3),
    ),
    size: [5, 3],
  });
  return seeds;
}

function exrSeeds(fixtures: string): FuzzTarget['seeds'] {
  const random = mulberry32(11);
  const image = (w: number, h: number, c: number) => {
    const out = createImage(w, h, c);
    for (let i = 0; i < out.data.length; i++) out.data[i] = random() * 4 - 1;
    return out;
  };
  const seeds: { bytes: Uint8Array; size?: [number, number] }[] = [
    { bytes: encodeExr(image(11, 7, 3), { compression: 'zip' }), size: [11, 7] },
    {
      bytes: encodeExr(image(9, 20, 1), { compression: 'none', pixelType: 'float' }),
      size: [9, 20],
    },
    {
      bytes: encodeExr(image(5, 33, 2), { compression: 'zip', pixelType: 'float' }),
      size: [5, 33],
    },
  ];
  // Files from OpenEXR's own tools (PIZ, RLE, ZIPS, a data window inside the display window).
  for (const name of [
    'base-piz-half.exr',
    'base-rle-half.exr',
    'base-zips-half.exr',
    'crop-piz-half.exr',
  ]) {
    seeds.push({ bytes: new Uint8Array(readFileSync(join(fixtures, name))), size: [37, 71] });
  }
  return seeds;
}

function weightSeeds(): FuzzTarget['seeds'] {
  const parameters = initWeights(TINY_NETWORK, 21);
  const quantized = quantizeGraph(TINY_NETWORK, {
    weightBits: 8,
    activationBits: 8,
    activationScales: new Map(weightedInputs(TINY_NETWORK).map((name) => [name, 0.05])),
  });
  return [
    {
      bytes: encodeWeights({
        graph: TINY_NETWORK,
        parameters,
        qualityRatio: 2,
        metadata: { step: 3, note: 'seed' },
      }),
    },
    {
      bytes: encodeWeights({
        graph: quantized,
        parameters: initWeights(quantized, 22),
        metadata: {},
      }),
    },
  ];
}

function sequenceSeeds(): FuzzTarget['seeds'] {
  const frames = [0, 1, 2].map((i) => ({
    ...defaultFrameParams(),
    jitter: [0.25 - i * 0.1, -0.125] as [number, number],
    reset: i === 0,
    frameTimeDelta: 1 / 60,
  }));
  const header = {
    renderSize: [64, 32] as [number, number],
    displaySize: [128, 64] as [number, number],
    depthInverted: false,
    colorSpace: 'srgb' as const,
    source: { generator: 'fuzz seed', license: 'CC0', settings: { samples: [1, 2], on: true } },
  };
  const text = formatSequenceJson({ header, frames }, 'seed.json');
  return [
    { bytes: new TextEncoder().encode(text) },
    { bytes: new TextEncoder().encode(JSON.stringify(JSON.parse(text))) },
  ];
}

function checkpointSeeds(): FuzzTarget['seeds'] {
  const weights = weightSeeds()[0]!.bytes;
  const moments = (name: string, n: number) => ({
    name,
    m: Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 1e-3),
    v: Float32Array.from({ length: n }, (_, i) => (i % 7) * 1e-6),
  });
  const checkpoint = {
    step: 40,
    seed: 3,
    config: { ...DEFAULT_TRAIN_CONFIG, network: 'tiny', seed: 3, steps: 100, size: [32, 32] },
    weights,
    moments: [moments('conv.weight', 24), moments('conv.bias', 4)],
  };
  return [
    { bytes: encodeCheckpoint(checkpoint) },
    { bytes: encodeCheckpoint({ ...checkpoint, step: 0, moments: [] }) },
    { bytes: encodeCheckpointV1(checkpoint) },
  ];
}

function configSeeds(): FuzzTarget['seeds'] {
  const texts = [
    readFileSync(join('weights', 'uplift-v2.train.json'), 'utf8'),
    readFileSync(join('weights', 'uplift-v2-int8.train.json'), 'utf8'),
    '{"network":"tiny","task":"teacher","size":[32,32],"steps":20,"adam":{"beta1":0.8}}',
    JSON.stringify({ data: { source: 'sequences', paths: ['a', 'b'], ratio: 1.5 }, qat: true }),
  ];
  return texts.map((text) => ({ bytes: new TextEncoder().encode(text) }));
}

/** The targets; `fixtures` is test/fixtures/exr. */
export function fuzzTarget(
  name: ParserName,
  fixtures = join('test', 'fixtures', 'exr'),
): FuzzTarget {
  switch (name) {
    case 'png':
      return {
        name,
        seeds: pngSeeds(),
        repair: repairPngCrcs,
        parse: (bytes, limit) => {
          const { image } = decodePng(bytes, 'fuzz.png', limit);
          return image.data.length;
        },
      };
    case 'exr':
      return {
        name,
        seeds: exrSeeds(fixtures),
        parse: (bytes, limit) => {
          const exr = decodeExr(bytes, 'fuzz.exr', limit);
          return exr.width * exr.height * exr.channels.length;
        },
      };
    case 'uplift':
      return {
        name,
        seeds: weightSeeds(),
        repair: (bytes) => (bytes.length < 4 ? bytes : resignWeights(bytes)),
        // A new header (padded, its length updated), the same data, a fresh trailer.
        editJson: (bytes, edits) =>
          withWeightsHeader(bytes, applyJsonEdits(weightsHeaderText(bytes).trimEnd(), edits)),
        parse: (bytes) => {
          decodeWeights(bytes, { name: 'fuzz.uplift' });
          return 0;
        },
      };
    case 'sequence':
      return {
        name,
        seeds: sequenceSeeds(),
        editJson: editJsonText,
        parse: (bytes) => {
          parseSequenceJson(new TextDecoder().decode(bytes), 'fuzz/sequence.json');
          return 0;
        },
      };
    case 'checkpoint':
      return {
        name,
        seeds: checkpointSeeds(),
        repair: resignCheckpoint,
        editJson: (bytes, edits) =>
          withCheckpointHeader(bytes, applyJsonEdits(checkpointHeaderText(bytes), edits)),
        // What `train --resume` and `export-weights` read: the checkpoint, then its weights.
        parse: (bytes) => {
          const checkpoint = decodeCheckpoint(bytes, 'fuzz.ckpt');
          decodeWeights(checkpoint.weights, { name: 'fuzz.ckpt (weights)' });
          return 0;
        },
      };
    case 'config':
      return {
        name,
        seeds: configSeeds(),
        editJson: editJsonText,
        parse: (bytes) => {
          const text = new TextDecoder().decode(bytes);
          resolveTrainConfig(parseTrainConfigText(text, 'fuzz.json'));
          return 0;
        },
      };
  }
}

/** A JSON document's bytes with `edits` applied. */
function editJsonText(bytes: Uint8Array, edits: readonly JsonEdit[]): Uint8Array {
  return new TextEncoder().encode(applyJsonEdits(new TextDecoder().decode(bytes), edits));
}

/**
 * Mutated inputs for `target`: a seed, up to 3 edits of its JSON (where it has JSON), up to 4 byte
 * edits, with or without checksum repair.
 */
export function fuzzInputs(target: FuzzTarget): fc.Arbitrary<FuzzInput> {
  return fc.record({
    seed: fc.nat({ max: target.seeds.length - 1 }),
    jsonEdits: target.editJson ? fc.array(jsonEdit, { maxLength: 3 }) : fc.constant([]),
    // JSON documents: half the inputs get JSON edits only, so most reach the schema checks.
    edits: target.editJson
      ? fc.oneof(fc.constant([]), fc.array(edit, { minLength: 1, maxLength: 2 }))
      : fc.array(edit, { minLength: 1, maxLength: 4 }),
    repair: fc.boolean(),
    expectSize: fc.boolean(),
  });
}

/** What went wrong with one input (undefined: nothing). */
export interface Finding {
  readonly parser: ParserName;
  readonly problem: 'exception' | 'slow' | 'over-limit';
  readonly message: string;
  readonly ms: number;
  /** The mutated input, base64, to reproduce it. */
  readonly input: string;
}

/** The bytes a `FuzzInput` stands for. */
export function mutatedBytes(target: FuzzTarget, input: FuzzInput): Uint8Array {
  let bytes = target.seeds[input.seed]!.bytes;
  if (target.editJson && input.jsonEdits.length > 0)
    bytes = target.editJson(bytes, input.jsonEdits);
  bytes = applyEdits(bytes, input.edits);
  return input.repair && target.repair ? target.repair(bytes) : bytes;
}

/** What happened to one input. */
export interface Outcome {
  /** The property broken, if any. */
  readonly finding?: Finding;
  /** The InputError's message when the input was refused. */
  readonly refusal?: string;
  readonly ms: number;
}

/** Runs one input through the parser and checks the property. */
export function checkInput(target: FuzzTarget, input: FuzzInput): Outcome {
  const bytes = mutatedBytes(target, input);
  const size = target.seeds[input.seed]!.size;
  const limit: ImageSizeLimit =
    input.expectSize && size ? { expectedSize: size, expectedName: 'the seed size' } : {};
  const start = performance.now();
  let problem: Finding['problem'] | undefined;
  let message = '';
  let refusal: string | undefined;
  try {
    const samples = target.parse(bytes, limit);
    const cap = limit.expectedSize
      ? limit.expectedSize[0] * limit.expectedSize[1] * 4
      : MAX_IMAGE_SAMPLES;
    if (samples > cap) {
      problem = 'over-limit';
      message = `${samples} samples decoded, the limit allows ${cap}`;
    }
  } catch (error) {
    if (error instanceof InputError) refusal = error.message;
    else {
      problem = 'exception';
      message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
  }
  const ms = performance.now() - start;
  if (!problem && ms > MAX_INPUT_MS) {
    problem = 'slow';
    message = `took ${ms.toFixed(0)} ms`;
  }
  if (!problem) return refusal === undefined ? { ms } : { refusal, ms };
  const finding: Finding = {
    parser: target.name,
    problem,
    message: message.slice(0, 300),
    ms,
    input: Buffer.from(bytes).toString('base64'),
  };
  return { finding, ms };
}
