/**
 * The `.uplift` weights file and deterministic initialisation.
 *
 * Layout (format version 2): 8 bytes magic "UPLIFTNN", u32 format version, u32 header length, the
 * header (UTF-8 JSON, padded with spaces to a multiple of 4 bytes), the parameter data as
 * little-endian f32 in header order, then a u32 CRC-32 of every byte before it: magic, version,
 * header and data, so a flipped bit anywhere is caught. The header holds the graph, the quality
 * ratio, each tensor's name, shape, dtype, byte offset into the data and length, the data size,
 * and free-form metadata; it is read strictly (nesting limited, unknown keys rejected, numbers
 * finite and in range: errors name the key path). Version 1 (no trailer, a CRC-32 of the data alone
 * in the header, the header itself unprotected) is still read, with the same strict schema.
 * Anything wrong (magic, version, truncation, checksum, shapes that do not match the graph, another
 * architecture than expected) throws InputError before anything is returned: never half-loaded.
 * The module also runs in browsers (files are read only in Node, URLs fetched in a browser).
 */
import { InputError } from '../core/errors.ts';
import { mulberry32 } from '../core/random.ts';
import {
  parameterSpecs,
  QUANT_BITS,
  validateGraph,
  type GraphDescription,
  checkParameters,
  type Parameters,
} from '../core/graph.ts';
import {
  checkedNumber,
  checkFreeForm,
  isRecord,
  parseJsonDocument,
  rejectUnknownKeys,
  showValue,
} from '../core/strict-json.ts';

/** A network's weights as loaded from or saved to a `.uplift` file. */
export interface NetworkWeights {
  readonly graph: GraphDescription;
  /** Parameter tensors by name, in `parameterSpecs(graph)` order. */
  readonly parameters: Parameters;
  /** Display / render ratio these weights were trained for (FSR 4 ships one set per mode). */
  readonly qualityRatio?: number;
  /** Free-form: training info, data, steps, device… (JSON-serialisable). */
  readonly metadata?: Record<string, unknown>;
}

/** Options of decoding / loading. */
export interface LoadWeightsOptions {
  /** Reject files whose graph differs from this one (another architecture). */
  readonly graph?: GraphDescription;
  /** Name of the source in error messages (default: the path, or "weights"). */
  readonly name?: string;
}

const MAGIC = 'UPLIFTNN';
/** Version of the container format written (not of the network). */
export const WEIGHTS_FORMAT_VERSION = 2;
/** The first format: header outside the checksum (read, never written). */
const LEGACY_FORMAT_VERSION = 1;
const PREFIX_BYTES = 16;
/** The CRC-32 trailer of format 2. */
const TRAILER_BYTES = 4;

/** Keys of the header (format 2; format 1 adds crc32) and of its parts. */
const HEADER_KEYS = ['graph', 'qualityRatio', 'tensors', 'dataBytes', 'metadata'] as const;
const LEGACY_HEADER_KEYS = [...HEADER_KEYS, 'crc32'] as const;
const GRAPH_KEYS = [
  'name',
  'version',
  'inputs',
  'outputs',
  'nodes',
  'historyGuard',
  'coverageBlend',
] as const;
const INPUT_KEYS = ['name', 'channels'] as const;
const NODE_KEYS = [
  'op',
  'name',
  'inputs',
  'output',
  'outChannels',
  'activation',
  'weightBits',
  'scale',
  'bits',
] as const;
const TENSOR_KEYS = ['name', 'shape', 'dtype', 'offset', 'length'] as const;
/** Most channels of any tensor, and longest name, a header may declare. */
const MAX_CHANNELS = 4096;
const MAX_NAME_LENGTH = 256;
/** Display / render ratios a file may be trained for (DESIGN §4: any ratio in [1, 3]). */
const QUALITY_RATIO = { min: 1, max: 3 } as const;

interface HeaderTensor {
  name: string;
  shape: number[];
  dtype: 'f32';
  offset: number;
  length: number;
}

interface Header {
  graph: GraphDescription;
  qualityRatio?: number;
  tensors: HeaderTensor[];
  dataBytes: number;
  /** Format 1 only: CRC-32 of the data. */
  crc32?: number;
  metadata: Record<string, unknown>;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, as zip and PNG use). */
function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Canonical JSON of a graph (key order fixed by the interface), for architecture comparison. */
function graphKey(graph: GraphDescription): string {
  return JSON.stringify({
    name: graph.name,
    version: graph.version,
    inputs: graph.inputs.map((i) => ({ name: i.name, channels: i.channels })),
    outputs: [...graph.outputs],
    nodes: graph.nodes.map((n) => ({
      op: n.op,
      name: n.name,
      inputs: [...n.inputs],
      output: n.output,
      outChannels: n.outChannels,
      activation: n.activation ?? 'none',
      weightBits: n.weightBits,
      scale: n.scale,
      bits: n.bits,
    })),
  });
}

/** True when two graphs describe the same architecture (names, ops, shapes, quantization). */
export function sameGraph(a: GraphDescription, b: GraphDescription): boolean {
  return graphKey(a) === graphKey(b);
}

/** Serialises weights to the `.uplift` format (checks them against the graph first). */
export function encodeWeights(weights: NetworkWeights): Uint8Array {
  validateGraph(weights.graph);
  checkParameters(weights.graph, weights.parameters);
  const specs = parameterSpecs(weights.graph);
  const tensors: HeaderTensor[] = [];
  let offset = 0;
  for (const spec of specs) {
    tensors.push({
      name: spec.name,
      shape: [...spec.shape],
      dtype: 'f32',
      offset,
      length: spec.length,
    });
    offset += spec.length * 4;
  }
  const data = new Uint8Array(offset);
  const view = new DataView(data.buffer);
  for (const t of tensors) {
    const values = weights.parameters.get(t.name)!;
    for (let i = 0; i < t.length; i++) view.setFloat32(t.offset + i * 4, values[i]!, true);
  }
  const header: Header = {
    graph: weights.graph,
    ...(weights.qualityRatio !== undefined ? { qualityRatio: weights.qualityRatio } : {}),
    tensors,
    dataBytes: data.length,
    metadata: weights.metadata ?? {},
  };
  // What is written must read back: the same strict checks as decoding.
  checkHeader(header, 'weights (encoding)', WEIGHTS_FORMAT_VERSION);
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 4) * 4;
  if (padded !== json.length) {
    const bytes = new Uint8Array(padded).fill(0x20);
    bytes.set(json);
    json = bytes;
  }
  const out = new Uint8Array(PREFIX_BYTES + json.length + data.length + TRAILER_BYTES);
  const outView = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  outView.setUint32(8, WEIGHTS_FORMAT_VERSION, true);
  outView.setUint32(12, json.length, true);
  out.set(json, PREFIX_BYTES);
  out.set(data, PREFIX_BYTES + json.length);
  const end = out.length - TRAILER_BYTES;
  outView.setUint32(end, crc32(out.subarray(0, end)), true);
  return out;
}

/** Parses and validates a `.uplift` file's bytes. Throws InputError naming the problem. */
export function decodeWeights(
  source: ArrayBuffer | Uint8Array,
  options: LoadWeightsOptions = {},
): NetworkWeights {
  const name = options.name ?? 'weights';
  try {
    return decodeChecked(source, options, name);
  } catch (e) {
    if (e instanceof InputError) throw e;
    // A header of the wrong shape (e.g. a tensor entry that is not an object) fails somewhere
    // unplanned: still a bad file, never a crash.
    throw new InputError(`${name}: malformed header (${(e as Error).message})`);
  }
}

/** A name: a non-empty string of at most MAX_NAME_LENGTH characters. */
function checkName(value: unknown, path: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME_LENGTH) {
    throw new InputError(
      `${path} must be a name (1 to ${MAX_NAME_LENGTH} characters), got ${showValue(value)}`,
    );
  }
}

function checkArray(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value))
    throw new InputError(`${path} must be an array, got ${showValue(value)}`);
  return value;
}

function checkObject(
  value: unknown,
  path: string,
  keys: readonly string[],
): Record<string, unknown> {
  if (!isRecord(value)) throw new InputError(`${path} must be an object, got ${showValue(value)}`);
  rejectUnknownKeys(value, keys, path);
  return value;
}

/**
 * The header's schema: known keys only, names, finite numbers in range, free-form metadata with
 * finite numbers. The graph's meaning (ops, tensors, shapes) is `validateGraph`'s to check.
 */
function checkHeader(value: unknown, name: string, version: number): asserts value is Header {
  const path = `${name}: header`;
  const header = checkObject(value, path, version === 1 ? LEGACY_HEADER_KEYS : HEADER_KEYS);
  const graph = checkObject(header.graph, `${path}.graph`, GRAPH_KEYS);
  checkName(graph.name, `${path}.graph.name`);
  checkedNumber(graph.version, `${path}.graph.version`, { integer: true, min: 0, max: 2 ** 31 });
  if (graph.historyGuard !== undefined) {
    checkedNumber(graph.historyGuard, `${path}.graph.historyGuard`, { min: 0, max: 1e6 });
  }
  if (graph.coverageBlend !== undefined) {
    checkedNumber(graph.coverageBlend, `${path}.graph.coverageBlend`, { min: 0, max: 4 });
  }
  checkArray(graph.inputs, `${path}.graph.inputs`).forEach((input, i) => {
    const where = `${path}.graph.inputs[${i}]`;
    const record = checkObject(input, where, INPUT_KEYS);
    checkName(record.name, `${where}.name`);
    checkedNumber(record.channels, `${where}.channels`, {
      integer: true,
      min: 1,
      max: MAX_CHANNELS,
    });
  });
  checkArray(graph.outputs, `${path}.graph.outputs`).forEach((output, i) =>
    checkName(output, `${path}.graph.outputs[${i}]`),
  );
  checkArray(graph.nodes, `${path}.graph.nodes`).forEach((node, i) => {
    const where = `${path}.graph.nodes[${i}]`;
    const record = checkObject(node, where, NODE_KEYS);
    checkName(record.op, `${where}.op`);
    checkName(record.name, `${where}.name`);
    checkName(record.output, `${where}.output`);
    checkArray(record.inputs, `${where}.inputs`).forEach((input, k) =>
      checkName(input, `${where}.inputs[${k}]`),
    );
    if (record.activation !== undefined) checkName(record.activation, `${where}.activation`);
    if (record.outChannels !== undefined) {
      checkedNumber(record.outChannels, `${where}.outChannels`, {
        integer: true,
        min: 1,
        max: MAX_CHANNELS,
      });
    }
    for (const key of ['weightBits', 'bits'] as const) {
      if (record[key] !== undefined) {
        checkedNumber(record[key], `${where}.${key}`, {
          integer: true,
          min: QUANT_BITS.min,
          max: QUANT_BITS.max,
        });
      }
    }
    if (record.scale !== undefined) {
      checkedNumber(record.scale, `${where}.scale`, { min: 0, exclusiveMin: true, max: 1e30 });
    }
  });
  if (header.qualityRatio !== undefined) {
    checkedNumber(header.qualityRatio, `${path}.qualityRatio`, QUALITY_RATIO);
  }
  checkedNumber(header.dataBytes, `${path}.dataBytes`, { integer: true, min: 0, max: 2 ** 32 });
  if (version === 1) {
    checkedNumber(header.crc32, `${path}.crc32`, { integer: true, min: 0, max: 2 ** 32 - 1 });
  }
  checkArray(header.tensors, `${path}.tensors`).forEach((tensor, i) => {
    const where = `${path}.tensors[${i}]`;
    const record = checkObject(tensor, where, TENSOR_KEYS);
    checkName(record.name, `${where}.name`);
    checkArray(record.shape, `${where}.shape`).forEach((d, k) =>
      checkedNumber(d, `${where}.shape[${k}]`, { integer: true, min: 1, max: MAX_CHANNELS }),
    );
    if (record.dtype !== 'f32') {
      throw new InputError(`${where}.dtype is ${showValue(record.dtype)}, only "f32" is supported`);
    }
    checkedNumber(record.offset, `${where}.offset`, { integer: true, min: 0, max: 2 ** 32 });
    checkedNumber(record.length, `${where}.length`, { integer: true, min: 0, max: 2 ** 30 });
  });
  // Free-form (training information), but a JSON object with finite numbers.
  if (!isRecord(header.metadata)) {
    throw new InputError(`${path}.metadata must be an object, got ${showValue(header.metadata)}`);
  }
  checkFreeForm(header.metadata, `${path}.metadata`);
}

/** Why a format-2 file fails its checksum, as precisely as the (unverified) header tells. */
function checksumProblem(bytes: Uint8Array, headerBytes: number): string {
  const data = bytes.length - PREFIX_BYTES - headerBytes - TRAILER_BYTES;
  try {
    const header = JSON.parse(
      new TextDecoder().decode(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerBytes)),
    ) as { dataBytes?: unknown };
    const expected = header?.dataBytes;
    if (typeof expected === 'number' && Number.isInteger(expected) && expected !== data) {
      return data < expected
        ? `truncated data (${Math.max(data, 0)} of ${expected} bytes)`
        : `${data - expected} unexpected bytes after the data`;
    }
  } catch {
    // An unreadable header: the checksum is all there is to say.
  }
  return 'checksum mismatch (the file is corrupt)';
}

function decodeChecked(
  source: ArrayBuffer | Uint8Array,
  options: LoadWeightsOptions,
  name: string,
): NetworkWeights {
  const bad = (problem: string): never => {
    throw new InputError(`${name}: ${problem}`);
  };
  const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < PREFIX_BYTES) bad(`truncated (${bytes.length} bytes), not an .uplift file`);
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC)
    bad('not an .uplift file (bad magic)');
  const version = view.getUint32(8, true);
  if (version !== WEIGHTS_FORMAT_VERSION && version !== LEGACY_FORMAT_VERSION) {
    bad(
      `format version ${version} is not supported (this build reads ${LEGACY_FORMAT_VERSION} and ${WEIGHTS_FORMAT_VERSION})`,
    );
  }
  const legacy = version === LEGACY_FORMAT_VERSION;
  const trailer = legacy ? 0 : TRAILER_BYTES;
  const headerBytes = view.getUint32(12, true);
  if (PREFIX_BYTES + headerBytes + trailer > bytes.length) bad('truncated header');
  if (!legacy) {
    const end = bytes.length - TRAILER_BYTES;
    if (crc32(bytes.subarray(0, end)) !== view.getUint32(end, true)) {
      bad(checksumProblem(bytes, headerBytes));
    }
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(
      bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerBytes),
    );
  } catch {
    return bad('header is not valid UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = parseJsonDocument(text, name);
  } catch (e) {
    return bad(`header is not valid JSON (${(e as Error).message.slice(name.length + 2)})`);
  }
  checkHeader(parsed, name, version);
  const header = parsed;
  try {
    validateGraph(header.graph);
  } catch (e) {
    bad(`bad graph: ${(e as Error).message}`);
  }
  if (options.graph && graphKey(options.graph) !== graphKey(header.graph)) {
    bad(
      `architecture "${header.graph.name}" v${header.graph.version} differs from the expected "${options.graph.name}" v${options.graph.version}`,
    );
  }
  const dataStart = PREFIX_BYTES + headerBytes;
  const data = bytes.subarray(dataStart, bytes.length - trailer);
  if (data.length < header.dataBytes)
    bad(`truncated data (${data.length} of ${header.dataBytes} bytes)`);
  if (data.length > header.dataBytes)
    bad(`${data.length - header.dataBytes} unexpected bytes after the data`);
  if (legacy && crc32(data) !== header.crc32) bad('checksum mismatch (the data is corrupt)');
  const specs = parameterSpecs(header.graph);
  if (header.tensors.length !== specs.length) {
    bad(`${header.tensors.length} tensors, the graph needs ${specs.length}`);
  }
  const parameters = new Map<string, Float32Array>();
  specs.forEach((spec, i) => {
    const t = header.tensors[i]!;
    if (t.name !== spec.name) bad(`tensor ${i} is "${t.name}", the graph needs "${spec.name}"`);
    if (t.shape.join(',') !== spec.shape.join(',')) {
      bad(
        `tensor ${t.name} has shape [${t.shape.join(', ')}], the graph needs [${spec.shape.join(', ')}]`,
      );
    }
    if (t.length !== spec.length) {
      bad(
        `tensor ${t.name} has length ${t.length}, its shape [${t.shape.join(', ')}] holds ${spec.length}`,
      );
    }
    if (t.offset + t.length * 4 > header.dataBytes) {
      bad(`tensor ${t.name} lies outside the data`);
    }
    const values = new Float32Array(t.length);
    const dataView = new DataView(data.buffer, data.byteOffset + t.offset, t.length * 4);
    for (let k = 0; k < t.length; k++) values[k] = dataView.getFloat32(k * 4, true);
    const nonFinite = values.findIndex((v) => !Number.isFinite(v));
    if (nonFinite >= 0)
      bad(`tensor ${t.name} has a non-finite value (${values[nonFinite]}) at ${nonFinite}`);
    parameters.set(t.name, values);
  });
  return {
    graph: header.graph,
    parameters,
    ...(header.qualityRatio !== undefined ? { qualityRatio: header.qualityRatio } : {}),
    metadata: header.metadata,
  };
}

// A computed specifier keeps bundlers for the browser from resolving Node's file system module.
const NODE_FS = 'node:fs/promises';
const isNode = () => typeof process !== 'undefined' && Boolean(process.versions?.node);

/** Writes weights to a `.uplift` file (Node), atomically: a temporary file, then a rename. */
export async function saveWeights(path: string, weights: NetworkWeights): Promise<void> {
  if (!isNode()) throw new Error('saveWeights writes files and needs Node; use encodeWeights');
  const fs = (await import(NODE_FS)) as typeof import('node:fs/promises');
  const bytes = encodeWeights(weights);
  const temp = `${path}.${process.pid}.tmp`;
  await fs.writeFile(temp, bytes);
  await fs.rename(temp, path);
}

/**
 * Loads and validates weights from the file's bytes, or from a path: a file in Node, a URL
 * (fetched) in a browser.
 */
export async function loadWeights(
  source: string | ArrayBuffer | Uint8Array,
  options: LoadWeightsOptions = {},
): Promise<NetworkWeights> {
  if (typeof source !== 'string') return decodeWeights(source, options);
  let bytes: Uint8Array;
  try {
    if (isNode()) {
      const fs = (await import(NODE_FS)) as typeof import('node:fs/promises');
      bytes = await fs.readFile(source);
    } else {
      const response = await fetch(source);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      bytes = new Uint8Array(await response.arrayBuffer());
    }
  } catch (e) {
    const reason = (e as { code?: string }).code ?? (e as Error).message;
    throw new InputError(`${source}: cannot read weights (${reason})`);
  }
  return decodeWeights(bytes, { ...options, name: options.name ?? source });
}

/**
 * Deterministic initial parameters: He (Kaiming) normal weights, std = gain / sqrt(fan-in) with
 * gain √2 before relu / leaky and 1 otherwise, fan-in = Cin · taps (Cin for up2x2, whose outputs
 * each see one input pixel); biases zero. Same graph and seed, same values everywhere.
 */
export function initWeights(graph: GraphDescription, seed: number): Map<string, Float32Array> {
  validateGraph(graph);
  const next = mulberry32(seed);
  // Box–Muller; 1 - next() keeps the logarithm finite.
  const normal = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const activations = new Map(graph.nodes.map((n) => [n.name, n.activation ?? 'none']));
  const parameters = new Map<string, Float32Array>();
  for (const spec of parameterSpecs(graph)) {
    const values = new Float32Array(spec.length);
    if (spec.name.endsWith('.weight')) {
      const node = spec.name.slice(0, -'.weight'.length);
      const [a, b, kh, kw] = spec.shape as [number, number, number, number];
      const isUp = graph.nodes.find((n) => n.name === node)!.op === 'up2x2';
      const fanIn = isUp ? a : b * kh * kw;
      const gain = activations.get(node) === 'none' ? 1 : Math.SQRT2;
      const std = gain / Math.sqrt(fanIn);
      for (let i = 0; i < values.length; i++) values[i] = normal() * std;
    }
    parameters.set(spec.name, values);
  }
  return parameters;
}
