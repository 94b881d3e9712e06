/**
 * Training checkpoints: everything a run needs to continue bit-for-bit — the weights (as the bytes
 * of a `.uplift` file, so a checkpoint's weights load like any model), Adam moments, the step,
 * the data seed (per-step randomness is derived from seed and step, so no hidden RNG state) and
 * the run config. One file (version 2):
 *
 *   "UPLFCKPT" | u32 version | u32 header length | header JSON | weights bytes
 *   | [average weights bytes] | moments (f32 LE) | SHA-256 of every byte before it
 *
 * The hash covers the header too: a changed step, seed or config is a corrupt file, not a run that
 * silently skips its training or trains something else. Version 1 (a SHA-256 of the payload inside
 * the header, the header itself unprotected) is still read, with the same strict header checks, so
 * runs checkpointed before version 2 resume. Written atomically (temp file, fsync, rename): a run
 * killed mid-write leaves the previous checkpoint intact. Node only.
 */
import { createHash } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { InputError } from '../core/errors.ts';
import {
  checkedNumber,
  isRecord,
  parseJsonDocument,
  rejectUnknownKeys,
  showValue,
} from '../core/strict-json.ts';
import { MAX_SEED, MAX_STEPS, resolveTrainConfig } from './config.ts';

const MAGIC = 'UPLFCKPT';
const VERSION = 2;
const HASH_BYTES = 32;

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
  /** The run configuration: a TrainConfig (read back resolved over the defaults). */
  readonly config: unknown;
  /** A complete `.uplift` weights file. */
  readonly weights: Uint8Array;
  /**
   * The weights' moving average as a complete `.uplift` file, in runs with `adam.averageDecay`
   * (./weight-average.ts); absent otherwise.
   */
  readonly averageWeights?: Uint8Array;
  readonly moments: readonly TensorMoments[];
}

/**
 * The header's keys (`averageWeightsBytes` only with a weight average; version 1 also held
 * `version` and `sha256`, the payload's hash).
 */
const HEADER_KEYS = ['step', 'seed', 'config', 'weightsBytes', 'averageWeightsBytes', 'moments'];
const HEADER_KEYS_V1 = [...HEADER_KEYS, 'version', 'sha256'];

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest();

/** Serialises a checkpoint. */
export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const header = {
    step: c.step,
    seed: c.seed,
    config: c.config,
    weightsBytes: c.weights.byteLength,
    ...(c.averageWeights ? { averageWeightsBytes: c.averageWeights.byteLength } : {}),
    moments: c.moments.map((t) => ({ name: t.name, size: t.m.length })),
  };
  const average = c.averageWeights ?? new Uint8Array(0);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const momentBytes = c.moments.reduce((s, t) => s + 8 * t.m.length, 0);
  const body = 16 + json.byteLength + c.weights.byteLength + average.byteLength + momentBytes;
  const out = new Uint8Array(body + HASH_BYTES);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(8, VERSION, true);
  view.setUint32(12, json.byteLength, true);
  out.set(json, 16);
  out.set(c.weights, 16 + json.byteLength);
  out.set(average, 16 + json.byteLength + c.weights.byteLength);
  let offset = 16 + json.byteLength + c.weights.byteLength + average.byteLength;
  for (const t of c.moments) {
    if (t.m.length !== t.v.length) throw new RangeError(`moments of ${t.name} differ in length`);
    for (const a of [t.m, t.v]) {
      for (let i = 0; i < a.length; i++, offset += 4) view.setFloat32(offset, a[i]!, true);
    }
  }
  out.set(sha256(out.subarray(0, body)), body);
  return out;
}

/** What a checkpoint's config must resolve to: its run's seed and total steps. */
export type ResolveRunConfig = (config: unknown) => {
  readonly seed: number;
  readonly steps: number;
};

/**
 * Parses and verifies a checkpoint; anything wrong → InputError naming `source`. `resolveConfig`
 * validates the header's config (default: the upscaler's TrainConfig; frame generation has its
 * own).
 */
export function decodeCheckpoint(
  bytes: Uint8Array,
  source = 'checkpoint',
  resolveConfig: ResolveRunConfig = resolveTrainConfig,
): Checkpoint {
  const fail = (why: string): never => {
    throw new InputError(`${source}: ${why}`);
  };
  if (bytes.byteLength < 16 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    fail('not an Uplift checkpoint (bad magic)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== 1 && version !== VERSION) {
    fail(`checkpoint version ${version}, this build reads 1 and ${VERSION}`);
  }
  // Version 2: the trailer is checked first, so any damage reads as what it is.
  const end = version === 1 ? bytes.byteLength : bytes.byteLength - HASH_BYTES;
  if (end < 16) fail('truncated file');
  if (version !== 1 && !sha256(bytes.subarray(0, end)).equals(bytes.subarray(end))) {
    fail('checksum mismatch (corrupt file)');
  }
  const headerLength = view.getUint32(12, true);
  if (16 + headerLength > end) fail('truncated header');
  const text = new TextDecoder().decode(bytes.subarray(16, 16 + headerLength));
  const header = parseJsonDocument(text, `${source} (header)`);
  if (!isRecord(header)) return fail('malformed header (not an object)');
  rejectUnknownKeys(header, version === 1 ? HEADER_KEYS_V1 : HEADER_KEYS, `${source}: header`);
  const at = (key: string) => `${source}: ${key}`;
  const step = checkedNumber(header.step, at('step'), { integer: true, min: 0, max: MAX_STEPS });
  const seed = checkedNumber(header.seed, at('seed'), { integer: true, min: 0, max: MAX_SEED });
  const weightsBytes = checkedNumber(header.weightsBytes, at('weightsBytes'), {
    integer: true,
    min: 0,
    max: end,
  });
  const averageWeightsBytes =
    header.averageWeightsBytes === undefined
      ? undefined
      : checkedNumber(header.averageWeightsBytes, at('averageWeightsBytes'), {
          integer: true,
          min: 1,
          max: end,
        });
  if (!Array.isArray(header.moments)) return fail(`moments must be a list`);
  const moments = header.moments.map((t: unknown, i) => {
    const path = at(`moments[${i}]`);
    if (!isRecord(t)) return fail(`moments[${i}] must be an object, got ${showValue(t)}`);
    rejectUnknownKeys(t, ['name', 'size'], path);
    if (typeof t.name !== 'string') fail(`moments[${i}].name must be a string`);
    const size = checkedNumber(t.size, `${path}.size`, { integer: true, min: 0, max: end });
    return { name: t.name as string, size };
  });
  const config = checkedConfig(header.config, source, resolveConfig);
  if (seed !== config.seed) fail(`seed ${seed} differs from the config's seed ${config.seed}`);
  if (step > config.steps) fail(`step ${step} is past the config's ${config.steps} steps`);
  const payload = bytes.subarray(16 + headerLength, end);
  const momentBytes = moments.reduce((s, t) => s + 8 * t.size, 0);
  const averageBytes = averageWeightsBytes ?? 0;
  if (payload.byteLength !== weightsBytes + averageBytes + momentBytes) {
    fail(
      `payload is ${payload.byteLength} bytes, header says ${weightsBytes + averageBytes + momentBytes}`,
    );
  }
  if (version === 1 && sha256(payload).toString('hex') !== header.sha256) {
    fail('checksum mismatch (corrupt file)');
  }
  const data = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let offset = weightsBytes + averageBytes;
  const read = (n: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++, offset += 4) a[i] = data.getFloat32(offset, true);
    return a;
  };
  return {
    step,
    seed,
    config,
    weights: new Uint8Array(payload.subarray(0, weightsBytes)),
    ...(averageWeightsBytes === undefined
      ? {}
      : {
          averageWeights: new Uint8Array(
            payload.subarray(weightsBytes, weightsBytes + averageBytes),
          ),
        }),
    moments: moments.map(({ name, size }) => ({ name, m: read(size), v: read(size) })),
  };
}

/** The header's config, validated; its errors name the checkpoint. */
function checkedConfig(config: unknown, source: string, resolveConfig: ResolveRunConfig) {
  try {
    return resolveConfig(config);
  } catch (error) {
    if (error instanceof InputError) throw new InputError(`${source}: ${error.message}`);
    throw error;
  }
}

/**
 * Writes `bytes` to `path` atomically (temp file in the same directory, fsync, rename). A file
 * system refusal is an InputError naming `path` (not the temp file).
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  try {
    const file = await open(temp, 'w');
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    throw new InputError(`cannot write ${path}: ${(error as Error).message}`);
  }
}

/** Saves a checkpoint atomically. */
export async function saveCheckpoint(path: string, c: Checkpoint): Promise<void> {
  await writeFileAtomic(path, encodeCheckpoint(c));
}

/** Loads and verifies a checkpoint file (`resolveConfig` as decodeCheckpoint's). */
export async function loadCheckpoint(
  path: string,
  resolveConfig: ResolveRunConfig = resolveTrainConfig,
): Promise<Checkpoint> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new InputError(`cannot read checkpoint ${path}: ${(error as Error).message}`);
  }
  return decodeCheckpoint(bytes, path, resolveConfig);
}
