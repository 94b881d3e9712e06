/** EXR's ZIPS / ZIP compression: the shared predictor, then a zlib stream (fflate). */
import { unzlibSync, zlibSync } from 'fflate';
import { ExrFormatError } from '../byte-reader.ts';
import { applyPredictorAndSplit, undoPredictorAndSplit } from './predictor.ts';

/** Decompresses one ZIP(S) chunk to exactly `rawSize` bytes. */
export function zipDecompress(data: Uint8Array, rawSize: number): Uint8Array {
  let coded: Uint8Array;
  try {
    // One byte of slack: fflate stops silently at the end of `out`, so overlong data shows as rawSize + 1.
    coded = unzlibSync(data, { out: new Uint8Array(rawSize + 1) });
  } catch (error) {
    throw new ExrFormatError(`corrupt zlib data (${(error as Error).message})`);
  }
  if (coded.length !== rawSize) {
    throw new ExrFormatError(`corrupt zlib data (${coded.length} of ${rawSize} bytes)`);
  }
  return undoPredictorAndSplit(coded);
}

/** Compresses one chunk of raw pixel bytes. */
export function zipCompress(raw: Uint8Array): Uint8Array {
  // Level 4: as small as level 6 on pixel data in our measurements, and about 40% faster.
  return zlibSync(applyPredictorAndSplit(raw), { level: 4 });
}
