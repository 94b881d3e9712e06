// Hand-edited checkpoints for tests of the reader's checks: the header JSON read and replaced, the
// SHA-256 trailer of version 2 recomputed (so the checks behind the hash are reached), and version
// 1 files (hash of the payload inside the header) as runs before version 2 wrote them.
import { createHash } from 'node:crypto';
import { encodeCheckpoint, type Checkpoint } from '../../src/train/checkpoint.ts';

const HASH_BYTES = 32;
const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const isVersion2 = (bytes: Uint8Array) =>
  bytes.length >= 16 && view(bytes).getUint32(8, true) === 2;

/** A version 2 file with its SHA-256 trailer recomputed (other versions unchanged). */
export function resignCheckpoint(bytes: Uint8Array): Uint8Array {
  if (!isVersion2(bytes) || bytes.length < 16 + HASH_BYTES) return bytes;
  const out = bytes.slice();
  const end = out.length - HASH_BYTES;
  out.set(createHash('sha256').update(out.subarray(0, end)).digest(), end);
  return out;
}

/** The header JSON text of a checkpoint. */
export function checkpointHeaderText(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes.subarray(16, 16 + view(bytes).getUint32(12, true)));
}

/** The checkpoint with header `text`, the same payload, re-signed (version 2). */
export function withCheckpointHeader(bytes: Uint8Array, text: string): Uint8Array {
  const headerLength = view(bytes).getUint32(12, true);
  const json = new TextEncoder().encode(text);
  const rest = bytes.subarray(16 + headerLength);
  const out = new Uint8Array(16 + json.length + rest.length);
  out.set(bytes.subarray(0, 16));
  view(out).setUint32(12, json.length, true);
  out.set(json, 16);
  out.set(rest, 16 + json.length);
  return resignCheckpoint(out);
}

/** `c` as version 1 wrote it: no trailer, `version` and the payload's `sha256` in the header. */
export function encodeCheckpointV1(c: Checkpoint): Uint8Array {
  const v2 = encodeCheckpoint(c);
  const header = JSON.parse(checkpointHeaderText(v2)) as Record<string, unknown>;
  const payload = v2.subarray(16 + view(v2).getUint32(12, true), v2.length - HASH_BYTES);
  const sha256 = createHash('sha256').update(payload).digest('hex');
  const untrailed = v2.slice(0, v2.length - HASH_BYTES);
  view(untrailed).setUint32(8, 1, true);
  return withCheckpointHeader(untrailed, JSON.stringify({ version: 1, ...header, sha256 }));
}
