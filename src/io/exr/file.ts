/** EXR files as `Image`s: reading with a choice of channels, writing. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from '../../core/errors.ts';
import { createImage, type Image } from '../../core/image.ts';
import type { ImageSizeLimit } from '../limits.ts';
import { readInputFile } from '../read-file.ts';
import { decodeExr, type DecodedExr } from './decode.ts';
import { encodeExr, type ExrWriteOptions } from './encode.ts';

/** An EXR image with the names of its channels, in the image's channel order. */
export interface ExrImage {
  image: Image;
  channels: string[];
}

/** Rank of well-known channel names when choosing a default order (others keep file order). */
const CHANNEL_RANK = ['R', 'G', 'B', 'A', 'X', 'Y', 'Z'];

/**
 * The channels a plain read returns: R,G,B(,A) when present; otherwise every channel without a
 * layer prefix ("diffuse.R" is ignored), well-known names first. At most 4.
 */
export function defaultExrChannels(available: string[], fileName: string): string[] {
  const plain = available.filter((n) => !n.includes('.'));
  if (['R', 'G', 'B'].every((n) => plain.includes(n))) {
    return plain.includes('A') ? ['R', 'G', 'B', 'A'] : ['R', 'G', 'B'];
  }
  const rank = (n: string) => (CHANNEL_RANK.includes(n) ? CHANNEL_RANK.indexOf(n) : 99);
  const chosen = [...plain].sort((a, b) => rank(a) - rank(b));
  if (chosen.length === 0 || chosen.length > 4) {
    throw new InputError(
      `${fileName}: cannot choose channels from ${available.join(', ')} (want R,G,B[,A] or 1-4 unlayered channels)`,
    );
  }
  return chosen;
}

/** Interleaves the named channels of a decoded EXR into an `Image` (InputError if one is missing). */
export function exrChannelsToImage(exr: DecodedExr, names: string[], fileName: string): Image {
  const planes = names.map((name) => {
    const channel = exr.channels.find((c) => c.name === name);
    if (!channel) {
      throw new InputError(
        `${fileName}: has no channel '${name}' (channels: ${exr.channels.map((c) => c.name).join(', ')})`,
      );
    }
    return channel.data;
  });
  const image = createImage(exr.width, exr.height, names.length);
  const k = names.length;
  const n = exr.width * exr.height;
  for (let c = 0; c < k; c++) {
    const plane = planes[c]!;
    for (let i = 0; i < n; i++) image.data[i * k + c] = plane[i]!;
  }
  return image;
}

/**
 * Reads and decodes an EXR file (InputError naming the file on any problem), its size within
 * `limit` (src/io/limits.ts).
 */
export async function readExrFile(path: string, limit: ImageSizeLimit = {}): Promise<DecodedExr> {
  return decodeExr(await readInputFile(path), path, limit);
}

/** Reads an EXR file as an image: `channels` if given, otherwise `defaultExrChannels`. */
export async function readExr(
  path: string,
  channels?: string[],
  limit: ImageSizeLimit = {},
): Promise<ExrImage> {
  const exr = await readExrFile(path, limit);
  const names =
    channels ??
    defaultExrChannels(
      exr.channels.map((c) => c.name),
      path,
    );
  return { image: exrChannelsToImage(exr, names, path), channels: names };
}

/** Writes `image` as an EXR file (creating the directory). */
export function writeExr(path: string, image: Image, options: ExrWriteOptions = {}): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, encodeExr(image, options));
}
