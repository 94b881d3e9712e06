/**
 * Decoding a single-part scanline OpenEXR file into float planes, one per channel. Any problem in
 * the bytes (bad magic, truncation, bad offsets, corrupt compressed data, unsupported features)
 * becomes an `InputError` whose message starts with the file name; no partial image is returned.
 */
import { InputError } from '../../core/errors.ts';
import { ByteReader, ExrFormatError } from './byte-reader.ts';
import { halfToFloat } from '../../core/half.ts';
import {
  LINES_PER_CHUNK,
  readHeader,
  type ExrBox,
  type ExrHeader,
  type ExrPixelType,
} from './header.ts';
import { checkDeclaredSize, MAX_IMAGE_SIDE, type ImageSizeLimit } from '../limits.ts';
import { pizDecompress } from './compression/piz.ts';
import { rleDecompress } from './compression/rle.ts';
import { zipDecompress } from './compression/zip.ts';

/** One decoded channel: width × height floats, row-major. */
export interface ExrChannelData {
  name: string;
  /** The type stored in the file (UINT values are converted to float exactly up to 2^24). */
  pixelType: ExrPixelType;
  data: Float32Array;
}

export interface DecodedExr {
  /** Size of the display window: the image's full frame. */
  width: number;
  height: number;
  header: ExrHeader;
  /** In file order (sorted by name), covering the display window (0 outside the data window). */
  channels: ExrChannelData[];
}

/** Bytes per sample of each pixel type. */
export const PIXEL_TYPE_SIZE: Record<ExrPixelType, number> = { uint: 4, half: 2, float: 4 };

/**
 * Largest data window, as a multiple of the display window's pixels: room for overscan, while the
 * data a file makes us decompress stays bounded by the image it declares.
 */
const MAX_DATA_WINDOW_RATIO = 4;

function decompressChunk(
  header: ExrHeader,
  data: Uint8Array,
  rawSize: number,
  width: number,
  lines: number,
): Uint8Array {
  // Writers store a chunk uncompressed when compressing would not make it smaller.
  if (data.length === rawSize) return data;
  if (data.length > rawSize) {
    throw new ExrFormatError(
      `chunk holds ${data.length} bytes, more than its ${rawSize} raw bytes`,
    );
  }
  switch (header.compression) {
    case 'none':
      throw new ExrFormatError(`uncompressed chunk holds ${data.length} of ${rawSize} bytes`);
    case 'rle':
      return rleDecompress(data, rawSize);
    case 'zips':
    case 'zip':
      return zipDecompress(data, rawSize);
    case 'piz':
      return pizDecompress(data, rawSize, {
        width,
        lines,
        sampleSizes: header.channels.map((c) => PIXEL_TYPE_SIZE[c.pixelType]),
      });
    default:
      throw new ExrFormatError(`${header.compression.toUpperCase()} compression not supported`);
  }
}

function boxSize(box: ExrBox): [number, number] {
  return [box.xMax - box.xMin + 1, box.yMax - box.yMin + 1];
}

/**
 * Checks the declared windows before anything is allocated: the display window (the image) against
 * `limit`, the data window against MAX_IMAGE_SIDE and MAX_DATA_WINDOW_RATIO (so one chunk's buffer
 * and the whole decompressed data stay bounded by the declared image).
 */
function checkWindows(header: ExrHeader, fileName: string, limit: ImageSizeLimit): void {
  const channels = header.channels.length;
  const [displayWidth, displayHeight] = boxSize(header.displayWindow);
  checkDeclaredSize(displayWidth, displayHeight, channels, fileName, limit);
  const [width, height] = boxSize(header.dataWindow);
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) {
    throw new ExrFormatError(
      `data window ${width}x${height} is more than ${MAX_IMAGE_SIDE} pixels per side`,
    );
  }
  if (width * height > MAX_DATA_WINDOW_RATIO * displayWidth * displayHeight) {
    throw new ExrFormatError(
      `data window ${width}x${height} is more than ${MAX_DATA_WINDOW_RATIO} times the ${displayWidth}x${displayHeight} display window`,
    );
  }
}

/**
 * Decodes every chunk of the data window and keeps the samples inside the display window (what
 * the image means): samples outside it are dropped, display pixels without data are 0.
 */
function decodeChecked(bytes: Uint8Array, fileName: string, limit: ImageSizeLimit): DecodedExr {
  const reader = new ByteReader(bytes, 0, 'header');
  const header = readHeader(reader);
  for (const c of header.channels) {
    if (c.xSampling !== 1 || c.ySampling !== 1) {
      throw new ExrFormatError(`subsampled channel '${c.name}' not supported`);
    }
  }
  checkWindows(header, fileName, limit);
  const { xMin, yMin, yMax } = header.dataWindow;
  const [width, height] = boxSize(header.dataWindow);
  const display = header.displayWindow;
  const [displayWidth, displayHeight] = boxSize(display);
  // The columns of the data window inside the display window (x1 < x0 when none).
  const x0 = Math.max(xMin, display.xMin);
  const x1 = Math.min(header.dataWindow.xMax, display.xMax);
  const linesPerChunk = LINES_PER_CHUNK[header.compression];
  const chunkCount = Math.ceil(height / linesPerChunk);
  const table = new ByteReader(bytes, reader.pos, 'chunk offset table');
  table.need(chunkCount * 8);
  const offsets: number[] = [];
  for (let i = 0; i < chunkCount; i++) offsets.push(table.u64());
  const chunksStart = table.pos;

  const channels: ExrChannelData[] = header.channels.map((c) => ({
    name: c.name,
    pixelType: c.pixelType,
    data: new Float32Array(displayWidth * displayHeight),
  }));
  const sampleSizes = header.channels.map((c) => PIXEL_TYPE_SIZE[c.pixelType]);
  const bytesPerLine = width * sampleSizes.reduce((a, b) => a + b, 0);
  const filled = new Uint8Array(chunkCount);

  for (let i = 0; i < chunkCount; i++) {
    const offset = offsets[i]!;
    if (offset < chunksStart || offset + 8 > bytes.length) {
      throw new ExrFormatError(
        `chunk ${i} offset ${offset} out of range (file has ${bytes.length} bytes)`,
      );
    }
    const chunk = new ByteReader(bytes, offset, `chunk ${i}`);
    const y = chunk.i32();
    const size = chunk.i32();
    const index = (y - yMin) / linesPerChunk;
    if (!Number.isInteger(index) || index < 0 || index >= chunkCount) {
      throw new ExrFormatError(
        `chunk ${i} starts at line ${y}, not a chunk start of the data window`,
      );
    }
    if (filled[index]) throw new ExrFormatError(`chunk for line ${y} appears twice`);
    filled[index] = 1;
    if (size < 0) throw new ExrFormatError(`chunk ${i} has negative size ${size}`);
    const lines = Math.min(linesPerChunk, yMax - y + 1);
    const raw = decompressChunk(header, chunk.take(size), lines * bytesPerLine, width, lines);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    let pos = 0;
    for (let line = 0; line < lines; line++) {
      const displayY = y + line - display.yMin;
      const inside = displayY >= 0 && displayY < displayHeight && x0 <= x1;
      const rowStart = displayY * displayWidth - display.xMin;
      for (let c = 0; c < channels.length; c++) {
        const sampleSize = sampleSizes[c]!;
        if (!inside) {
          pos += width * sampleSize;
          continue;
        }
        const out = channels[c]!.data;
        const type = channels[c]!.pixelType;
        let at = pos + (x0 - xMin) * sampleSize;
        for (let x = x0; x <= x1; x++, at += sampleSize) {
          out[rowStart + x] =
            type === 'half'
              ? halfToFloat(view.getUint16(at, true))
              : type === 'float'
                ? view.getFloat32(at, true)
                : view.getUint32(at, true);
        }
        pos += width * sampleSize;
      }
    }
  }
  return { width: displayWidth, height: displayHeight, header, channels };
}

/**
 * Decodes EXR bytes. `fileName` starts every error message (an `InputError`), e.g.
 * "shots/color/0001.exr: truncated chunk 3: needs 5120 bytes at offset 8812". The declared size
 * is checked against `limit` (src/io/limits.ts) before anything is allocated.
 */
export function decodeExr(
  bytes: Uint8Array,
  fileName: string,
  limit: ImageSizeLimit = {},
): DecodedExr {
  try {
    return decodeChecked(bytes, fileName, limit);
  } catch (error) {
    if (error instanceof ExrFormatError) throw new InputError(`${fileName}: ${error.message}`);
    if (error instanceof RangeError) {
      throw new InputError(`${fileName}: corrupt EXR data (${error.message})`);
    }
    throw error;
  }
}
