/** EXR's RLE compression (decode only): a signed count byte, then a run or literal bytes. */
import { ExrFormatError } from '../byte-reader.ts';
import { undoPredictorAndSplit } from './predictor.ts';

/** Decompresses one RLE chunk to exactly `rawSize` bytes. */
export function rleDecompress(data: Uint8Array, rawSize: number): Uint8Array {
  const coded = new Uint8Array(rawSize);
  let inPos = 0;
  let outPos = 0;
  while (inPos < data.length) {
    const count = (data[inPos++]! << 24) >> 24;
    if (count < 0) {
      // -count literal bytes follow.
      const n = -count;
      if (inPos + n > data.length || outPos + n > rawSize) {
        throw new ExrFormatError('corrupt RLE data (literal run past the end)');
      }
      coded.set(data.subarray(inPos, inPos + n), outPos);
      inPos += n;
      outPos += n;
    } else {
      // One byte repeated count + 1 times.
      const n = count + 1;
      if (inPos >= data.length || outPos + n > rawSize) {
        throw new ExrFormatError('corrupt RLE data (repeat run past the end)');
      }
      coded.fill(data[inPos++]!, outPos, outPos + n);
      outPos += n;
    }
  }
  if (outPos !== rawSize) {
    throw new ExrFormatError(`corrupt RLE data (${outPos} of ${rawSize} bytes)`);
  }
  return undoPredictorAndSplit(coded);
}
