/**
 * Training checkpoints: everything a run needs to continue bit-for-bit — the weights (as the bytes
 * of a `.uplift` file, so a checkpoint's weights load like any model), Adam moments, the step,
 * the data seed (per-step randomness is derived from seed and step, so no hidden RNG state) and
 * the run config. One file:
 *
 *   "UPLFCKPT" | u32 version | u32 header length | header JSON | weights bytes | moments (f32 LE)
 *
 * The header holds a SHA-256 of everything after it. Written atomically (temp file, fsync,
 * rename): a run killed mid-write leaves the previous checkpoint intact. Node only.
 */
import { createHash } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { InputError } from '../core/errors.ts';

const MAGIC = 'UPLFCKPT';
const VERSION = 1;

/** Adam moments of one parameter tensor. */
export interface TensorMoments {
  readonly name: string;
  readonly m: Float32Array;
  readonly v: Float32Array;
}

/** The contents of a checkpoint. */
export interface Checkpoint {
  /** Optimizer steps completed. */
  readonly step: number;
  /** Seed of the run's data and crops (step k uses a generator derived from seed and k). */
  readonly seed: number;
  /** The run configuration (JSON). */
  readonly config: unknown;
  /** A complete `.uplift` weights file. */
  readonly weights: Uint8Array;
  readonly moments: readonly TensorMoments[];
}

/** The most steps a checkpoint may record (a corrupt step would skip the whole run). */
const MAX_STEP = 1e9;

interface Header {
  readonly version: number;
  readonly step: number;
  readonly seed: number;
  readonly config: unknown;
  readonly weightsBytes: number;
  readonly moments: readonly { name: string; size: number }[];
  readonly sha256: string;
}

/** Serialises a checkpoint. */
export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const momentBytes = c.moments.reduce((s, t) => s + 8 * t.m.length, 0);
  const payload = new Uint8Array(c.weights.byteLength + momentBytes);
  payload.set(c.weights, 0);
  let offset = c.weights.byteLength;
  const view = new DataView(payload.buffer);
  for (const t of c.moments) {
    if (t.m.length !== t.v.length) throw new RangeError(`moments of ${t.name} differ in length`);
    for (const a of [t.m, t.v]) {
      for (let i = 0; i < a.length; i++, offset += 4) view.setFloat32(offset, a[i]!, true);
    }
  }
  const header: Header = {
    version: VERSION,
    step: c.step,
    seed: c.seed,
    config: c.config,
    weightsBytes: c.weights.byteLength,
    moments: c.moments.map((t) => ({ name: t.name, size: t.m.length })),
    sha256: createHash('sha256').update(payload).digest('hex'),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(16 + json.byteLength + payload.byteLength);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const head = new DataView(out.buffer);
  head.setUint32(8, VERSION, true);
  head.setUint32(12, json.byteLength, true);
  out.set(json, 16);
  out.set(payload, 16 + json.byteLength);
  return out;
}

/** Parses and verifies a checkpoint; anything wrong → InputError naming `source`. */
export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): Checkpoint {
  const fail = (why: string): never => {
    throw new InputError(`${source}: ${why}`);
  };
  if (bytes.byteLength < 16 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    fail('not an Uplift checkpoint (bad magic)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== VERSION) fail(`checkpoint version ${version}, this build reads ${VERSION}`);
  const headerLength = view.getUint32(12, true);
  if (16 + headerLength > bytes.byteLength) fail('truncated header');
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerLength))) as Header;
  } catch {
    return fail('unreadable header JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    return fail('malformed header (not an object)');
  }
  const sizesOk =
    Array.isArray(header.moments) &&
    header.moments.every(
      (t) =>
        typeof t === 'object' &&
        t !== null &&
        typeof t.name === 'string' &&
        Number.isInteger(t.size) &&
        t.size >= 0,
    );
  if (!sizesOk || !Number.isInteger(header.weightsBytes) || header.weightsBytes < 0) {
    fail('malformed header');
  }
  if (!Number.isInteger(header.step) || header.step < 0 || header.step > MAX_STEP) {
    fail(`step must be an integer in 0..${MAX_STEP}, got ${String(header.step).slice(0, 40)}`);
  }
  const payload = bytes.subarray(16 + headerLength);
  const momentBytes = header.moments.reduce((s, t) => s + 8 * t.size, 0);
  if (payload.byteLength !== header.weightsBytes + momentBytes) {
    fail(
      `payload is ${payload.byteLength} bytes, header says ${header.weightsBytes + momentBytes}`,
    );
  }
  if (createHash('sha256').update(payload).digest('hex') !== header.sha256) {
    fail('checksum mismatch (corrupt file)');
  }
  const data = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let offset = header.weightsBytes;
  const read = (n: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++, offset += 4) a[i] = data.getFloat32(offset, true);
    return a;
  };
  return {
    step: header.step,
    seed: header.seed,
    config: header.config,
    weights: new Uint8Array(payload.subarray(0, header.weightsBytes)),
    moments: header.moments.map(({ name, size }) => ({ name, m: read(size), v: read(size) })),
  };
}

/** Writes `bytes` to `path` atomically (temp file in the same directory, fsync, rename). */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  const file = await open(temp, 'w');
  try {
    await file.writeFile(bytes);
    await file.sync();
  } catch (error) {
    await file.close();
    await rm(temp, { force: true });
    throw error;
  }
  await file.close();
  await rename(temp, path);
}

/** Saves a checkpoint atomically. */
export async function saveCheckpoint(path: string, c: Checkpoint): Promise<void> {
  await writeFileAtomic(path, encodeCheckpoint(c));
}

/** Loads and verifies a checkpoint file. */
export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new InputError(`cannot read checkpoint ${path}: ${(error as Error).message}`);
  }
  return decodeCheckpoint(bytes, path);
}
