/**
 * EXR's PIZ compression (decode only), from the OpenEXR file-format description: the chunk's
 * 16-bit words are regrouped per channel, mapped through a lookup table to a dense range (the
 * bitmap of values used is stored), wavelet-transformed, then Huffman-coded.
 */
import { ByteReader, ExrFormatError } from '../byte-reader.ts';
import { huffmanDecompress } from './huffman.ts';
import { waveletDecode } from './wavelet.ts';

const BITMAP_BYTES = 65536 / 8;

/** The shape of a chunk: its width, line count and the byte size of each channel's samples. */
export interface PizChunkLayout {
  width: number;
  lines: number;
  /** Bytes per sample of each channel in file order (2 for HALF, 4 for FLOAT and UINT). */
  sampleSizes: number[];
}

/** The dense index → 16-bit value table from the bitmap of used values (0 is always used). */
function reverseLookup(bitmap: Uint8Array): { table: Uint16Array; maxIndex: number } {
  const table = new Uint16Array(65536);
  let k = 0;
  for (let value = 0; value < 65536; value++) {
    if (value === 0 || bitmap[value >> 3]! & (1 << (value & 7))) table[k++] = value;
  }
  return { table, maxIndex: k - 1 };
}

/** Decompresses one PIZ chunk to exactly `rawSize` bytes in scanline layout. */
export function pizDecompress(
  data: Uint8Array,
  rawSize: number,
  layout: PizChunkLayout,
): Uint8Array {
  const reader = new ByteReader(data, 0, 'PIZ data');
  const minNonZero = reader.u16();
  const maxNonZero = reader.u16();
  if (maxNonZero >= BITMAP_BYTES) throw new ExrFormatError('corrupt PIZ data (bitmap range)');
  const bitmap = new Uint8Array(BITMAP_BYTES);
  if (minNonZero <= maxNonZero) bitmap.set(reader.take(maxNonZero - minNonZero + 1), minNonZero);
  const { table, maxIndex } = reverseLookup(bitmap);
  const length = reader.i32();
  if (length < 0 || length > reader.remaining) {
    throw new ExrFormatError(`corrupt PIZ data (Huffman length ${length})`);
  }
  const { width, lines, sampleSizes } = layout;
  const words = huffmanDecompress(reader.take(length), rawSize / 2);

  // Each channel's words are contiguous; a FLOAT sample is two interleaved 16-bit planes.
  let start = 0;
  const starts: number[] = [];
  for (const size of sampleSizes) {
    const planes = size / 2;
    starts.push(start);
    for (let j = 0; j < planes; j++) {
      waveletDecode(words, start + j, width, planes, lines, width * planes, maxIndex);
    }
    start += width * lines * planes;
  }
  if (start !== words.length) throw new ExrFormatError('corrupt PIZ data (layout mismatch)');
  for (let i = 0; i < words.length; i++) words[i] = table[words[i]!]!;

  const out = new Uint8Array(rawSize);
  let pos = 0;
  for (let line = 0; line < lines; line++) {
    for (let c = 0; c < sampleSizes.length; c++) {
      const n = (width * sampleSizes[c]!) / 2;
      let from = starts[c]!;
      for (let k = 0; k < n; k++) {
        const word = words[from++]!;
        out[pos++] = word & 0xff; // little-endian, as in the file
        out[pos++] = word >> 8;
      }
      starts[c] = from;
    }
  }
  return out;
}
