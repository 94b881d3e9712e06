/**
 * The Huffman stage of EXR's PIZ compression (decode only), written from the OpenEXR file-format
 * description. Layout: a 20-byte header (lowest and highest symbol with a code, the packed table's
 * byte length, the number of data bits, a zero word), the code lengths packed as 6-bit values with
 * zero-run escapes, then the MSB-first bit stream. Codes are canonical; the highest symbol is a
 * pseudo-symbol meaning "repeat the previous value n times", n in the next 8 bits.
 */
import { ByteReader, ExrFormatError } from '../byte-reader.ts';

/** Symbols are 16-bit values plus the run-length pseudo-symbol. */
const SYMBOL_COUNT = 65537;
/** Code lengths are 6 bits; 59..62 and 63 are escapes for runs of zero lengths. */
const MAX_CODE_LENGTH = 58;
const SHORT_ZERO_RUN = 59;
const LONG_ZERO_RUN = 63;
const SHORTEST_LONG_RUN = 2 + LONG_ZERO_RUN - SHORT_ZERO_RUN;
/**
 * Codes up to this length decode with one table look-up; longer ones bit by bit. PIZ tables of
 * FLOAT data hold tens of thousands of symbols with codes of 14-16 bits, so the table covers 16.
 */
const TABLE_BITS = 16;

/** MSB-first bit reading over bytes (with a zero tail so peeking near the end is safe). */
class BitReader {
  readonly bytes: Uint8Array;
  pos = 0;

  constructor(
    data: Uint8Array,
    /** Number of valid bits. */
    readonly limit: number,
  ) {
    this.bytes = new Uint8Array(data.length + 4);
    this.bytes.set(data);
  }

  /** The next `n` (≤ 16: 3 bytes cover any bit offset) bits without consuming them; 0 past the end. */
  peek(n: number): number {
    const i = this.pos >> 3;
    const window = (this.bytes[i]! << 16) | (this.bytes[i + 1]! << 8) | this.bytes[i + 2]!;
    return (window >> (24 - (this.pos & 7) - n)) & ((1 << n) - 1);
  }

  read(n: number): number {
    if (this.pos + n > this.limit)
      throw new ExrFormatError('corrupt Huffman data (ran out of bits)');
    const v = this.peek(n);
    this.pos += n;
    return v;
  }
}

interface CodeTable {
  /** Bits of the look-up table's index. */
  bits: number;
  /** Entry per `bits`-bit prefix: symbol * 64 + length, or -1 for longer codes. */
  fast: Int32Array;
  /** Per code length: first canonical code, number of codes, their symbols in code order. */
  first: number[];
  symbols: number[][];
}

/** Reads the packed code lengths of symbols lo..hi and builds the canonical decoding tables. */
function readCodeTable(bits: BitReader, lo: number, hi: number, tableBits: number): CodeTable {
  const lengths = new Uint8Array(SYMBOL_COUNT);
  for (let s = lo; s <= hi; s++) {
    const l = bits.read(6);
    if (l >= SHORT_ZERO_RUN) {
      const run = l === LONG_ZERO_RUN ? bits.read(8) + SHORTEST_LONG_RUN : l - SHORT_ZERO_RUN + 2;
      if (s + run > hi + 1) throw new ExrFormatError('corrupt Huffman table (zero run too long)');
      s += run - 1;
    } else {
      lengths[s] = l;
    }
  }
  // Canonical assignment: longer codes take the numerically smaller values.
  const counts = new Array<number>(MAX_CODE_LENGTH + 1).fill(0);
  for (let s = lo; s <= hi; s++) counts[lengths[s]!]!++;
  const first = new Array<number>(MAX_CODE_LENGTH + 1).fill(0);
  let c = 0;
  for (let l = MAX_CODE_LENGTH; l > 0; l--) {
    first[l] = c;
    c = (c + counts[l]!) >> 1;
  }
  const symbols: number[][] = Array.from({ length: MAX_CODE_LENGTH + 1 }, () => []);
  const fast = new Int32Array(1 << tableBits).fill(-1);
  for (let s = lo; s <= hi; s++) {
    const l = lengths[s]!;
    if (l === 0) continue;
    const code = first[l]! + symbols[l]!.length;
    if (code >= 2 ** l) throw new ExrFormatError('corrupt Huffman table (code lengths overflow)');
    symbols[l]!.push(s);
    if (l <= tableBits) {
      const shift = tableBits - l;
      const start = code << shift;
      const entry = s * 64 + l;
      for (let k = start, end = start + (1 << shift); k < end; k++) fast[k] = entry;
    }
  }
  return { bits: tableBits, fast, first, symbols };
}

/** Decodes one symbol whose code is longer than the look-up table covers. */
function decodeLong(bits: BitReader, table: CodeTable): number {
  let v = bits.read(table.bits);
  for (let l = table.bits + 1; l <= MAX_CODE_LENGTH; l++) {
    v = v * 2 + bits.read(1);
    const index = v - table.first[l]!;
    if (index >= 0 && index < table.symbols[l]!.length) return table.symbols[l]![index]!;
  }
  throw new ExrFormatError('corrupt Huffman data (no code matches)');
}

/**
 * Decodes a PIZ Huffman block into exactly `count` 16-bit values. `tableBits` (1..16) sizes the
 * look-up table; tests lower it to exercise the bit-by-bit path for long codes.
 */
export function huffmanDecompress(
  data: Uint8Array,
  count: number,
  tableBits = TABLE_BITS,
): Uint16Array {
  const out = new Uint16Array(count);
  if (data.length === 0) {
    if (count !== 0) throw new ExrFormatError('corrupt PIZ data (empty Huffman block)');
    return out;
  }
  const header = new ByteReader(data, 0, 'Huffman header');
  const lo = header.u32();
  const hi = header.u32();
  header.u32(); // byte length of the packed table (we measure it while reading)
  const bitCount = header.u32();
  header.u32();
  if (lo > hi || hi >= SYMBOL_COUNT) {
    throw new ExrFormatError(`corrupt Huffman table (symbol range ${lo}..${hi})`);
  }
  const tableReader = new BitReader(data.subarray(20), (data.length - 20) * 8);
  const table = readCodeTable(tableReader, lo, hi, tableBits);
  const dataStart = 20 + Math.ceil(tableReader.pos / 8);
  if (dataStart + Math.ceil(bitCount / 8) > data.length) {
    throw new ExrFormatError('truncated Huffman data');
  }
  const runSymbol = hi;
  const bits = new BitReader(data.subarray(dataStart), bitCount);
  // The hot loop peeks tableBits bits inline (same as BitReader.peek) and only calls out for
  // long codes and runs.
  const bytes = bits.bytes;
  const fast = table.fast;
  const mask = (1 << tableBits) - 1;
  let n = 0;
  while (bits.pos < bitCount) {
    const pos = bits.pos;
    const i = pos >> 3;
    const window = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    const entry = fast[(window >> (24 - tableBits - (pos & 7))) & mask]!;
    let symbol: number;
    if (entry >= 0) {
      const length = entry & 63;
      if (pos + length > bitCount) {
        throw new ExrFormatError('corrupt Huffman data (ran out of bits)');
      }
      bits.pos = pos + length;
      symbol = entry >> 6;
    } else {
      symbol = decodeLong(bits, table);
    }
    if (symbol === runSymbol) {
      const run = bits.read(8);
      if (n === 0 || n + run > count) throw new ExrFormatError('corrupt Huffman data (bad run)');
      out.fill(out[n - 1]!, n, n + run);
      n += run;
    } else {
      if (n >= count) throw new ExrFormatError('corrupt Huffman data (too many values)');
      out[n++] = symbol;
    }
  }
  if (n !== count) throw new ExrFormatError(`corrupt Huffman data (${n} of ${count} values)`);
  return out;
}
