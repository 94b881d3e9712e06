/**
 * The byte preprocessing shared by EXR's RLE, ZIPS and ZIP compressions: the bytes are split into
 * two halves (even-indexed bytes, then odd-indexed ones, which groups the high and low bytes of
 * 16-bit values), then delta-coded with a +128 bias so smooth data becomes runs of 128.
 */

/** Undoes the delta coding and the byte split of a decompressed chunk. */
export function undoPredictorAndSplit(coded: Uint8Array): Uint8Array {
  const n = coded.length;
  const t = new Uint8Array(coded);
  for (let i = 1; i < n; i++) t[i] = (t[i - 1]! + t[i]! - 128) & 0xff;
  const out = new Uint8Array(n);
  const half = (n + 1) >> 1;
  for (let i = 0; i < n; i++) out[i] = i & 1 ? t[half + (i >> 1)]! : t[i >> 1]!;
  return out;
}

/** Splits even/odd bytes into two halves and delta-codes them (the inverse of the above). */
export function applyPredictorAndSplit(raw: Uint8Array): Uint8Array {
  const n = raw.length;
  const t = new Uint8Array(n);
  const half = (n + 1) >> 1;
  for (let i = 0; i < n; i++) {
    if (i & 1) t[half + (i >> 1)] = raw[i]!;
    else t[i >> 1] = raw[i]!;
  }
  for (let i = n - 1; i > 0; i--) t[i] = (t[i]! - t[i - 1]! + 128) & 0xff;
  return t;
}
