/**
 * Decoding a single-part scanline OpenEXR file into float planes, one per channel. Any problem in
 * the bytes (bad magic, truncation, bad offsets, corrupt compressed data, unsupported features)
 * becomes an `InputError` whose message starts with the file name; no partial image is returned.
 */
import { InputError } from '../../core/errors.ts';
import { ByteReader, ExrFormatError } from './byte-reader.ts';
import { halfToFloat } from '../../core/half.ts';
import { LINES_PER_CHUNK, readHeader, type ExrHeader, type ExrPixelType } from './header.ts';
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

/** Largest image we agree to allocate (samples over all channels). */
const MAX_SAMPLES = 2 ** 28;

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

function decodeChecked(bytes: Uint8Array): DecodedExr {
  const reader = new ByteReader(bytes, 0, 'header');
  const header = readHeader(reader);
  for (const c of header.channels) {
    if (c.xSampling !== 1 || c.ySampling !== 1) {
      throw new ExrFormatError(`subsampled channel '${c.name}' not supported`);
    }
  }
  const { xMin, yMin, xMax, yMax } = header.dataWindow;
  const width = xMax - xMin + 1;
  const height = yMax - yMin + 1;
  if (width * height * header.channels.length > MAX_SAMPLES) {
    throw new ExrFormatError(
      `image too large (${width}x${height}, ${header.channels.length} channels)`,
    );
  }
  const linesPerChunk = LINES_PER_CHUNK[header.compression];
  const chunkCount = Math.ceil(height / linesPerChunk);
  const table = new ByteReader(bytes, reader.pos, 'chunk offset table');
  const offsets: number[] = [];
  for (let i = 0; i < chunkCount; i++) offsets.push(table.u64());
  const chunksStart = table.pos;

  const channels: ExrChannelData[] = header.channels.map((c) => ({
    name: c.name,
    pixelType: c.pixelType,
    data: new Float32Array(width * height),
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
      const rowStart = (y - yMin + line) * width;
      for (let c = 0; c < channels.length; c++) {
        const out = channels[c]!.data;
        const type = channels[c]!.pixelType;
        for (let x = 0; x < width; x++) {
          if (type === 'half') {
            out[rowStart + x] = halfToFloat(view.getUint16(pos, true));
            pos += 2;
          } else {
            out[rowStart + x] =
              type === 'float' ? view.getFloat32(pos, true) : view.getUint32(pos, true);
            pos += 4;
          }
        }
      }
    }
  }
  return toDisplayWindow({ width, height, header, channels });
}

/**
 * Places data-window pixels in the display window (what the image means): samples outside the
 * display window are dropped, display pixels without data are 0.
 */
function toDisplayWindow(exr: DecodedExr): DecodedExr {
  const data = exr.header.dataWindow;
  const display = exr.header.displayWindow;
  const width = display.xMax - display.xMin + 1;
  const height = display.yMax - display.yMin + 1;
  if (
    data.xMin === display.xMin &&
    data.yMin === display.yMin &&
    data.xMax === display.xMax &&
    data.yMax === display.yMax
  ) {
    return exr;
  }
  if (width <= 0 || height <= 0 || width * height * exr.channels.length > MAX_SAMPLES) {
    throw new ExrFormatError(`bad display window ${width}x${height}`);
  }
  const x0 = Math.max(data.xMin, display.xMin);
  const x1 = Math.min(data.xMax, display.xMax);
  const y0 = Math.max(data.yMin, display.yMin);
  const y1 = Math.min(data.yMax, display.yMax);
  const channels = exr.channels.map((channel) => {
    const out = new Float32Array(width * height);
    for (let y = y0; y <= y1 && x0 <= x1; y++) {
      const from = (y - data.yMin) * exr.width + (x0 - data.xMin);
      out.set(
        channel.data.subarray(from, from + x1 - x0 + 1),
        (y - display.yMin) * width + (x0 - display.xMin),
      );
    }
    return { ...channel, data: out };
  });
  return { width, height, header: exr.header, channels };
}

/**
 * Decodes EXR bytes. `fileName` starts every error message (an `InputError`), e.g.
 * "shots/color/0001.exr: truncated chunk 3: needs 5120 bytes at offset 8812".
 */
export function decodeExr(bytes: Uint8Array, fileName: string): DecodedExr {
  try {
    return decodeChecked(bytes);
  } catch (error) {
    if (error instanceof ExrFormatError) throw new InputError(`${fileName}: ${error.message}`);
    if (error instanceof RangeError) {
      throw new InputError(`${fileName}: corrupt EXR data (${error.message})`);
    }
    throw error;
  }
}
