/**
 * The `.uplift` weights file and deterministic initialisation.
 *
 * Layout: 8 bytes magic "UPLIFTNN", u32 format version, u32 header length, the header (UTF-8 JSON,
 * padded with spaces to a multiple of 4 bytes), then the parameter data as little-endian f32 in
 * header order. The header holds the graph, the quality ratio, each tensor's name, shape, dtype,
 * byte offset into the data and length, the data size and its CRC-32, and free-form metadata.
 * Anything wrong (magic, version, truncation, checksum, shapes that do not match the graph, another
 * architecture than expected) throws InputError before anything is returned: never half-loaded.
 * The module also runs in browsers (files are read only in Node, URLs fetched in a browser).
 */
import { InputError } from '../core/errors.ts';
import { mulberry32 } from '../core/random.ts';
import {
  parameterSpecs,
  validateGraph,
  type GraphDescription,
  checkParameters,
  type Parameters,
} from '../core/graph.ts';

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
/** Version of the container format (not of the network). */
export const WEIGHTS_FORMAT_VERSION = 1;
const PREFIX_BYTES = 16;

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
  crc32: number;
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
    crc32: crc32(data),
    metadata: weights.metadata ?? {},
  };
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 4) * 4;
  if (padded !== json.length) {
    const bytes = new Uint8Array(padded).fill(0x20);
    bytes.set(json);
    json = bytes;
  }
  const out = new Uint8Array(PREFIX_BYTES + json.length + data.length);
  const outView = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  outView.setUint32(8, WEIGHTS_FORMAT_VERSION, true);
  outView.setUint32(12, json.length, true);
  out.set(json, PREFIX_BYTES);
  out.set(data, PREFIX_BYTES + json.length);
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
  if (version !== WEIGHTS_FORMAT_VERSION) {
    bad(`format version ${version} is not supported (this build reads ${WEIGHTS_FORMAT_VERSION})`);
  }
  const headerBytes = view.getUint32(12, true);
  if (PREFIX_BYTES + headerBytes > bytes.length) bad('truncated header');
  let header: Header;
  try {
    header = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(16, 16 + headerBytes)),
    );
  } catch {
    return bad('header is not valid JSON');
  }
  if (typeof header !== 'object' || header === null || !Array.isArray(header.tensors)) {
    bad('header has no tensor list');
  }
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
  const data = bytes.subarray(dataStart);
  if (data.length < header.dataBytes)
    bad(`truncated data (${data.length} of ${header.dataBytes} bytes)`);
  if (data.length > header.dataBytes)
    bad(`${data.length - header.dataBytes} unexpected bytes after the data`);
  if (crc32(data) !== header.crc32) bad('checksum mismatch (the data is corrupt)');
  const specs = parameterSpecs(header.graph);
  if (header.tensors.length !== specs.length) {
    bad(`${header.tensors.length} tensors, the graph needs ${specs.length}`);
  }
  const parameters = new Map<string, Float32Array>();
  specs.forEach((spec, i) => {
    const t = header.tensors[i]!;
    if (t.name !== spec.name) bad(`tensor ${i} is "${t.name}", the graph needs "${spec.name}"`);
    if (t.dtype !== 'f32') bad(`tensor ${t.name} has dtype ${t.dtype}, only f32 is supported`);
    if (
      !Array.isArray(t.shape) ||
      t.shape.join(',') !== spec.shape.join(',') ||
      t.length !== spec.length
    ) {
      bad(`tensor ${t.name} has shape [${t.shape}], the graph needs [${spec.shape.join(', ')}]`);
    }
    if (!Number.isInteger(t.offset) || t.offset < 0 || t.offset + t.length * 4 > header.dataBytes) {
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
    ...(typeof header.qualityRatio === 'number' ? { qualityRatio: header.qualityRatio } : {}),
    metadata: header.metadata ?? {},
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
