/**
 * PNG files as `Image`s through fast-png: 8- and 16-bit gray, gray+alpha, RGB, RGBA and palette
 * images read as floats in 0..1; written as 8- or 16-bit. No transfer function is applied either
 * way: sRGB ↔ linear is the caller's choice (core/tonemap.ts has both directions).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { convertIndexedToRgb, decode, encode, type DecodedPng } from 'fast-png';
import { InputError } from '../core/errors.ts';
import { createImage, type Image } from '../core/image.ts';
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

/** Decodes PNG bytes; `fileName` starts the message of the `InputError` thrown on any problem. */
export function decodePng(bytes: Uint8Array, fileName: string): PngImage {
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

/** Reads a PNG file (InputError naming the file on any problem). */
export async function readPng(path: string): Promise<PngImage> {
  return decodePng(await readInputFile(path), path);
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
