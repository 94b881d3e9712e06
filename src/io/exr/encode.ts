/** Encoding an `Image` as a single-part scanline OpenEXR file (NONE or ZIP; HALF or FLOAT). */
import type { Image } from '../../core/image.ts';
import { ByteWriter } from './byte-reader.ts';
import { floatToHalf } from '../../core/half.ts';
import { LINES_PER_CHUNK, writeHeader, type ExrHeader } from './header.ts';
import { zipCompress } from './compression/zip.ts';

export interface ExrWriteOptions {
  /** Sample type of every channel; 'half' (default) rounds to nearest even, overflow → ±Inf. */
  pixelType?: 'half' | 'float';
  /** 'zip' (default; 16-line zlib chunks) or 'none'. */
  compression?: 'none' | 'zip';
  /** One name per image channel; default Y / R,G / R,G,B / R,G,B,A by channel count. */
  channelNames?: string[];
}

/** Default channel names by channel count. */
export const DEFAULT_CHANNEL_NAMES: Record<number, string[]> = {
  1: ['Y'],
  2: ['R', 'G'],
  3: ['R', 'G', 'B'],
  4: ['R', 'G', 'B', 'A'],
};

/** The EXR bytes of `image`. */
export function encodeExr(image: Image, options: ExrWriteOptions = {}): Uint8Array {
  const pixelType = options.pixelType ?? 'half';
  const compression = options.compression ?? 'zip';
  const names = options.channelNames ?? DEFAULT_CHANNEL_NAMES[image.channels]!;
  if (names.length !== image.channels) {
    throw new RangeError(
      `EXR channelNames has ${names.length} names for ${image.channels} channels`,
    );
  }
  if (new Set(names).size !== names.length || names.some((n) => !/^[^\0]{1,255}$/.test(n))) {
    throw new RangeError(`EXR channel names must be unique, 1..255 characters: ${names.join(',')}`);
  }
  // EXR stores channels sorted by name; `order[k]` is the image channel stored k-th.
  const order = names.map((_, i) => i).sort((a, b) => (names[a]! < names[b]! ? -1 : 1));
  const { width, height } = image;
  const header: ExrHeader = {
    channels: order.map((i) => ({
      name: names[i]!,
      pixelType,
      linear: false,
      xSampling: 1,
      ySampling: 1,
    })),
    compression,
    dataWindow: { xMin: 0, yMin: 0, xMax: width - 1, yMax: height - 1 },
    displayWindow: { xMin: 0, yMin: 0, xMax: width - 1, yMax: height - 1 },
    lineOrder: 'increasing',
  };
  const writer = new ByteWriter();
  writeHeader(writer, header);
  const linesPerChunk = LINES_PER_CHUNK[compression];
  const chunkCount = Math.ceil(height / linesPerChunk);
  const tableStart = writer.length;
  for (let i = 0; i < chunkCount; i++) writer.u64(0);

  const sampleSize = pixelType === 'half' ? 2 : 4;
  for (let i = 0; i < chunkCount; i++) {
    const y0 = i * linesPerChunk;
    const lines = Math.min(linesPerChunk, height - y0);
    const raw = new Uint8Array(lines * width * image.channels * sampleSize);
    const view = new DataView(raw.buffer);
    let pos = 0;
    for (let y = y0; y < y0 + lines; y++) {
      for (const c of order) {
        for (let x = 0; x < width; x++) {
          const v = image.data[(y * width + x) * image.channels + c]!;
          if (pixelType === 'half') view.setUint16(pos, floatToHalf(v), true);
          else view.setFloat32(pos, v, true);
          pos += sampleSize;
        }
      }
    }
    let stored: Uint8Array = raw;
    if (compression === 'zip') {
      const packed = zipCompress(raw);
      // Readers treat a chunk of raw size as uncompressed, so only store smaller results.
      if (packed.length < raw.length) stored = packed;
    }
    writer.setU64(tableStart + 8 * i, writer.length);
    writer.i32(y0);
    writer.i32(stored.length);
    writer.bytes(stored);
  }
  return writer.result();
}
