/**
 * How large an image file may say it is. Readers check the size a file declares (PNG's IHDR, EXR's
 * windows) against these limits before they allocate or decompress anything, so a small file that
 * declares a huge image (a decompression bomb) is refused at once with an `InputError` naming it.
 *
 * - When the caller knows the size (the role readers of a sequence: sequence.json fixes renderSize
 *   and displaySize), the file must declare exactly that size.
 * - Otherwise the absolute cap holds: at most MAX_IMAGE_SIDE pixels per side and MAX_IMAGE_SAMPLES
 *   samples over all channels (2^28: 1 GiB as f32, e.g. 8192×8192 RGBA or 16384×16384 gray).
 */
import { InputError } from '../core/errors.ts';
import type { Size } from '../core/quality.ts';

/** Largest width or height of an image read without an expected size (as sizes elsewhere). */
export const MAX_IMAGE_SIDE = 16384;
/** Largest number of samples (pixels × channels) of an image read without an expected size. */
export const MAX_IMAGE_SAMPLES = 2 ** 28;

/** What a reader may accept. */
export interface ImageSizeLimit {
  /** The size the image must have (e.g. renderSize from sequence.json). */
  readonly expectedSize?: Size;
  /** What the expected size is, for messages (e.g. "renderSize 64x32 from sequence.json"). */
  readonly expectedName?: string;
}

/**
 * Throws an `InputError` naming `file` unless an image of `width` × `height` with `channels`
 * channels is acceptable under `limit` (called with the declared size, before decoding).
 */
export function checkDeclaredSize(
  width: number,
  height: number,
  channels: number,
  file: string,
  limit: ImageSizeLimit = {},
): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new InputError(`${file}: declares an empty image (${width}x${height})`);
  }
  const expected = limit.expectedSize;
  if (expected) {
    if (width !== expected[0] || height !== expected[1]) {
      const name = limit.expectedName ?? `size ${expected[0]}x${expected[1]}`;
      throw new InputError(`${file}: size ${width}x${height}, expected ${name}`);
    }
    return;
  }
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) {
    throw new InputError(
      `${file}: declares ${width}x${height} pixels, more than the ${MAX_IMAGE_SIDE} per side this reader accepts`,
    );
  }
  if (width * height * channels > MAX_IMAGE_SAMPLES) {
    throw new InputError(
      `${file}: declares ${width}x${height} pixels × ${channels} channels, more than the ${MAX_IMAGE_SAMPLES} samples this reader accepts`,
    );
  }
}
