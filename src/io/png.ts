/**
 * PNG files as `Image`s through fast-png: 8- and 16-bit gray, gray+alpha, RGB, RGBA and palette
 * images read as floats in 0..1; written as 8- or 16-bit. No transfer function is applied either
 * way: sRGB ↔ linear is the caller's choice (core/tonemap.ts has both directions).
 *
 * Before fast-png decodes anything, `checkPngLayout` reads the declared size from IHDR and checks
 * it against the reader's limit (src/io/limits.ts), then inflates the image data once, counting
 * bytes without keeping them, and refuses data shorter or longer than the declared image needs:
 * fast-png would zero-fill missing rows and inflate any amount of extra data into memory.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { convertIndexedToRgb, decode, encode, type DecodedPng } from 'fast-png';
import { Unzlib } from 'fflate';
import { InputError } from '../core/errors.ts';
import { createImage, type Image } from '../core/image.ts';
import { checkDeclaredSize, type ImageSizeLimit } from './limits.ts';
import { readInputFile } from './read-file.ts';

export interface PngImage {
  /** Values in 0..1; 1 (gray), 2 (gray, alpha), 3 (RGB) or 4 (RGBA) channels. */
  image: Image;
  /** Bits per sample in the file (8 or 16; palette images report 8). */
  bitDepth: number;
}

export interface PngWriteOptions {
  /** Bits per sample: 8 (default) or 16. */
  bits?: 8 | 16;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/** Channels per PNG color type, and the bit depths each allows (PNG spec, IHDR). */
const COLOR_TYPES: Record<number, { channels: number; depths: number[] }> = {
  0: { channels: 1, depths: [1, 2, 4, 8, 16] },
  2: { channels: 3, depths: [8, 16] },
  3: { channels: 1, depths: [1, 2, 4, 8] },
  4: { channels: 2, depths: [8, 16] },
  6: { channels: 4, depths: [8, 16] },
};

/** Adam7 passes: x start, y start, x step, y step. */
export const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/** Compressed bytes handed to the inflater at a time: bounds one step's output (deflate ≤ 1032:1). */
const INFLATE_STEP = 65536;

/** The declared layout of a PNG file, read from its chunks without decoding pixels. */
export interface PngLayout {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlaced: boolean;
  /** Bytes the inflated image data must have: per row (per Adam7 pass) a filter byte and the row. */
  inflatedBytes: number;
}

function pngLayoutError(fileName: string, problem: string): never {
  throw new InputError(`${fileName}: not a valid PNG (${problem})`);
}

/** Filtered bytes of a `width` × `height` image (or pass) at `bitsPerPixel`: 0 when empty. */
function filteredBytes(width: number, height: number, bitsPerPixel: number): number {
  if (width <= 0 || height <= 0) return 0;
  return height * (1 + Math.ceil((width * bitsPerPixel) / 8));
}

/**
 * Reads the chunk structure and IHDR of PNG bytes, checks the declared size against `limit`, and
 * inflates the image data (IDAT) counting its bytes, so that fast-png is only handed files whose
 * image data is exactly as long as the declared image needs. InputError naming `fileName` otherwise.
 */
export function checkPngLayout(
  bytes: Uint8Array,
  fileName: string,
  limit: ImageSizeLimit = {},
): PngLayout {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) {
    pngLayoutError(fileName, 'bad signature');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data: Uint8Array[] = [];
  let header: Omit<PngLayout, 'inflatedBytes'> | undefined;
  let pos = 8;
  for (;;) {
    if (pos + 12 > bytes.length) pngLayoutError(fileName, `truncated chunk at byte ${pos}`);
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    const start = pos + 8;
    if (start + length + 4 > bytes.length) {
      pngLayoutError(fileName, `truncated ${type.replace(/[^A-Za-z]/g, '?')} chunk at byte ${pos}`);
    }
    if (!header) {
      if (type !== 'IHDR' || length !== 13) pngLayoutError(fileName, 'IHDR is not the first chunk');
      header = {
        width: view.getUint32(start),
        height: view.getUint32(start + 4),
        bitDepth: bytes[start + 8]!,
        colorType: bytes[start + 9]!,
        interlaced: bytes[start + 12] === 1,
      };
    } else if (type === 'IDAT') data.push(bytes.subarray(start, start + length));
    else if (type === 'IEND') break;
    pos = start + length + 4;
  }
  const { width, height, bitDepth, colorType, interlaced } = header!;
  const color = COLOR_TYPES[colorType];
  if (!color) pngLayoutError(fileName, `unknown color type ${colorType}`);
  if (!color.depths.includes(bitDepth)) {
    pngLayoutError(fileName, `bit depth ${bitDepth} is not allowed for color type ${colorType}`);
  }
  // A palette image becomes RGB(A): count its output channels, not its indices.
  checkDeclaredSize(width, height, colorType === 3 ? 4 : color.channels, fileName, limit);
  const bitsPerPixel = color.channels * bitDepth;
  const inflatedBytes = interlaced
    ? ADAM7.reduce(
        (sum, [x0, y0, dx, dy]) =>
          sum +
          filteredBytes(Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy), bitsPerPixel),
        0,
      )
    : filteredBytes(width, height, bitsPerPixel);
  if (data.length === 0) pngLayoutError(fileName, 'no image data (IDAT)');
  let inflated = 0;
  const tooLong = new Error('too long');
  const inflater = new Unzlib((chunk) => {
    inflated += chunk.length;
    if (inflated > inflatedBytes) throw tooLong;
  });
  try {
    for (const part of data) {
      for (let at = 0; at < part.length; at += INFLATE_STEP) {
        inflater.push(part.subarray(at, Math.min(at + INFLATE_STEP, part.length)), false);
      }
    }
    inflater.push(new Uint8Array(0), true);
  } catch (error) {
    if (error === tooLong) {
      throw new InputError(
        `${fileName}: PNG image data inflates to more than the ${inflatedBytes} bytes a ${width}x${height} image needs`,
      );
    }
    pngLayoutError(fileName, `corrupt image data: ${(error as Error).message}`);
  }
  if (inflated !== inflatedBytes) {
    throw new InputError(
      `${fileName}: truncated PNG image data (${inflated} of the ${inflatedBytes} bytes a ${width}x${height} image needs)`,
    );
  }
  return { ...header!, inflatedBytes };
}

/**
 * Decodes PNG bytes; `fileName` starts the message of the `InputError` thrown on any problem. The
 * declared size is checked against `limit` (src/io/limits.ts) before anything is decoded.
 */
export function decodePng(
  bytes: Uint8Array,
  fileName: string,
  limit: ImageSizeLimit = {},
): PngImage {
  checkPngLayout(bytes, fileName, limit);
  let png: DecodedPng;
  try {
    png = decode(bytes, { checkCrc: true });
  } catch (error) {
    throw new InputError(`${fileName}: not a valid PNG (${(error as Error).message})`);
  }
  let samples: ArrayLike<number> = png.data;
  let channels = png.channels;
  let bitDepth: number = png.depth;
  if (png.palette) {
    try {
      samples = convertIndexedToRgb(png);
    } catch (error) {
      throw new InputError(`${fileName}: corrupt palette PNG (${(error as Error).message})`);
    }
    channels = png.palette[0]?.length ?? 3;
    bitDepth = 8;
  } else if (bitDepth !== 8 && bitDepth !== 16) {
    throw new InputError(`${fileName}: ${bitDepth}-bit PNG not supported (use 8 or 16 bits)`);
  }
  if (channels < 1 || channels > 4) {
    throw new InputError(`${fileName}: PNG with ${channels} channels not supported`);
  }
  const image = createImage(png.width, png.height, channels);
  if (samples.length !== image.data.length) {
    throw new InputError(
      `${fileName}: truncated PNG data (${samples.length} of ${image.data.length} samples)`,
    );
  }
  const scale = 1 / (2 ** bitDepth - 1);
  for (let i = 0; i < image.data.length; i++) image.data[i] = samples[i]! * scale;
  return { image, bitDepth };
}

/** Reads a PNG file (InputError naming the file on any problem), its size within `limit`. */
export async function readPng(path: string, limit: ImageSizeLimit = {}): Promise<PngImage> {
  return decodePng(await readInputFile(path), path, limit);
}

/** The PNG bytes of `image` (1-4 channels), values clamped to 0..1 (NaN → 0) and rounded. */
export function encodePng(image: Image, options: PngWriteOptions = {}): Uint8Array {
  const bits = options.bits ?? 8;
  const max = 2 ** bits - 1;
  const data = bits === 16 ? new Uint16Array(image.data.length) : new Uint8Array(image.data.length);
  for (let i = 0; i < data.length; i++) {
    const v = image.data[i]!;
    data[i] = Math.round((v > 0 ? Math.min(v, 1) : 0) * max);
  }
  return encode({
    width: image.width,
    height: image.height,
    data,
    depth: bits,
    channels: image.channels,
  });
}

/** Writes `image` as a PNG file (creating the directory). */
export function writePng(path: string, image: Image, options: PngWriteOptions = {}): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, encodePng(image, options));
}
