/**
 * Role-aware readers for the files of a sequence directory (DESIGN §4): each picks the channels
 * its role needs, converts as the header says, and checks size and channel count, so a frame
 * read successfully is a frame the pipeline can use.
 */
import { extname } from 'node:path';
import { InputError } from '../core/errors.ts';
import { createImage, type Image } from '../core/image.ts';
import type { SequenceHeader } from '../core/frame.ts';
import type { Size } from '../core/quality.ts';
import { srgbToLinear } from '../core/tonemap.ts';
import { exrChannelsToImage, readExrFile } from './exr/file.ts';
import type { DecodedExr } from './exr/decode.ts';
import type { ImageSizeLimit } from './limits.ts';
import { readPng } from './png.ts';

/** The size a role's file must declare (checked before decoding: no allocation beyond it). */
function expected(size: Size, sizeName: string): ImageSizeLimit {
  return {
    expectedSize: size,
    expectedName: `${sizeName} ${size[0]}x${size[1]} from sequence.json`,
  };
}

function isPng(path: string): boolean {
  return extname(path).toLowerCase() === '.png';
}

function requireExr(path: string, role: string): void {
  if (extname(path).toLowerCase() !== '.exr') {
    throw new InputError(`${path}: ${role} must be an EXR file`);
  }
}

function plainChannelNames(exr: DecodedExr): string[] {
  return exr.channels.map((c) => c.name).filter((n) => !n.includes('.'));
}

/** Gray → RGB, gray+alpha → RGBA; RGB(A) unchanged. */
function expandGray(image: Image): Image {
  if (image.channels >= 3) return image;
  const channels = image.channels === 1 ? 3 : 4;
  const out = createImage(image.width, image.height, channels);
  const n = image.width * image.height;
  for (let i = 0; i < n; i++) {
    const g = image.data[i * image.channels]!;
    out.data.fill(g, i * channels, i * channels + 3);
    if (channels === 4) out.data[i * 4 + 3] = image.data[i * 2 + 1]!;
  }
  return out;
}

/** The only plain channel there is, or else the first present of `preferred`. */
function singleChannel(exr: DecodedExr, preferred: string[], path: string, role: string): Image {
  const plain = plainChannelNames(exr);
  const name = plain.length === 1 ? plain[0] : preferred.find((n) => plain.includes(n));
  if (!name) {
    throw new InputError(
      `${path}: ${role} needs a single channel${preferred.length ? ` (or one named ${preferred.join(', ')})` : ''}, found ${exr.channels.map((c) => c.name).join(', ')}`,
    );
  }
  return exrChannelsToImage(exr, [name], path);
}

/** RGB(A) color or reference from EXR or PNG, in linear light, at `size`. */
async function readRgb(
  path: string,
  header: SequenceHeader,
  size: Size,
  sizeName: string,
  role: string,
): Promise<Image> {
  let image: Image;
  const limit = expected(size, sizeName);
  if (isPng(path)) {
    image = expandGray((await readPng(path, limit)).image);
  } else {
    requireExr(path, role);
    const exr = await readExrFile(path, limit);
    const plain = plainChannelNames(exr);
    let names: string[];
    if (['R', 'G', 'B'].every((n) => plain.includes(n))) {
      names = plain.includes('A') ? ['R', 'G', 'B', 'A'] : ['R', 'G', 'B'];
    } else if (plain.includes('Y')) {
      names = ['Y']; // luminance-only image: gray
    } else {
      throw new InputError(
        `${path}: ${role} needs channels R, G, B (or Y), found ${exr.channels.map((c) => c.name).join(', ')}`,
      );
    }
    image = expandGray(exrChannelsToImage(exr, names, path));
  }
  if (header.colorSpace === 'srgb') {
    const n = image.width * image.height;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) {
        const k = i * image.channels + c;
        image.data[k] = srgbToLinear(image.data[k]!);
      }
    }
  }
  return image;
}

/**
 * Reads a color frame (render size): EXR R,G,B(,A) (or Y, as gray), or PNG (8/16-bit). When the
 * header's colorSpace is "srgb", RGB are converted to linear (alpha untouched).
 */
export function readColor(path: string, header: SequenceHeader): Promise<Image> {
  return readRgb(path, header, header.renderSize, 'renderSize', 'color');
}

/** Reads a reference (ground-truth) frame: like color, at display size. */
export function readReference(path: string, header: SequenceHeader): Promise<Image> {
  return readRgb(path, header, header.displaySize, 'displaySize', 'reference');
}

/**
 * Reads a depth frame (render size): an EXR's only channel (any name: Y, R, Z…), or its Z channel
 * when it has several.
 */
export async function readDepth(path: string, header: SequenceHeader): Promise<Image> {
  requireExr(path, 'depth');
  const exr = await readExrFile(path, expected(header.renderSize, 'renderSize'));
  return singleChannel(exr, ['Z'], path, 'depth');
}

/** Reads a motion-vector frame (render size, 2 channels): EXR R,G or X,Y. */
export async function readMotion(path: string, header: SequenceHeader): Promise<Image> {
  requireExr(path, 'motion');
  const exr = await readExrFile(path, expected(header.renderSize, 'renderSize'));
  const plain = plainChannelNames(exr);
  const names = [
    ['R', 'G'],
    ['X', 'Y'],
  ].find((pair) => pair.every((n) => plain.includes(n)));
  if (!names) {
    throw new InputError(
      `${path}: motion needs channels R, G or X, Y, found ${exr.channels.map((c) => c.name).join(', ')}`,
    );
  }
  return exrChannelsToImage(exr, names, path);
}

/**
 * Reads a reactive mask (render size, 1 channel, 0..1): a PNG's first channel (8-bit: 255 = don't
 * trust history), or an EXR's only channel.
 */
export async function readReactive(path: string, header: SequenceHeader): Promise<Image> {
  const limit = expected(header.renderSize, 'renderSize');
  if (isPng(path)) {
    const png = (await readPng(path, limit)).image;
    const image = createImage(png.width, png.height, 1);
    for (let i = 0; i < image.data.length; i++) image.data[i] = png.data[i * png.channels]!;
    return image;
  }
  requireExr(path, 'reactive');
  return singleChannel(await readExrFile(path, limit), [], path, 'reactive');
}
