// Hand-edited .uplift (format 2) files for tests of the reader's checks: the header JSON read and
// replaced, and the CRC-32 trailer recomputed so that the checks behind the checksum are reached.
import { crc32 } from 'node:zlib';

/** The file with its CRC-32 trailer recomputed over everything before it. */
export function resignWeights(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const end = out.length - 4;
  new DataView(out.buffer).setUint32(end, crc32(out.subarray(0, end)) >>> 0, true);
  return out;
}

/** The header JSON text of a weights file. */
export function weightsHeaderText(bytes: Uint8Array): string {
  const headerBytes = new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, true);
  return new TextDecoder().decode(bytes.subarray(16, 16 + headerBytes));
}

/** The file with header `text` (padded with spaces to whole words), the same data, re-signed. */
export function withWeightsHeader(bytes: Uint8Array, text: string): Uint8Array {
  const headerBytes = new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, true);
  const encoded = new TextEncoder().encode(text);
  const json = Uint8Array.from(
    { length: Math.ceil(encoded.length / 4) * 4 },
    (_, i) => encoded[i] ?? 0x20,
  );
  const data = bytes.subarray(16 + headerBytes);
  const out = new Uint8Array(16 + json.length + data.length);
  out.set(bytes.subarray(0, 16));
  new DataView(out.buffer).setUint32(12, json.length, true);
  out.set(json, 16);
  out.set(data, 16 + json.length);
  return resignWeights(out);
}
