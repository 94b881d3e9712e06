/**
 * A CPU image: interleaved float channels, row-major, origin top-left, y down (DESIGN §4).
 * Every CPU module (I/O, metrics, references, the analytic sequence) speaks this type.
 */
import { roundToHalf } from './half.ts';

export interface Image {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** Channels per pixel (1 = depth/luma, 2 = motion, 3 = RGB, 4 = RGBA). */
  readonly channels: number;
  /** width * height * channels values; pixel (x, y) channel c at ((y * width + x) * channels + c). */
  readonly data: Float32Array;
}

/**
 * How a GPU image stores a pixel (src/gpu/gpu-image.ts): 'rgba32float', four f32 (16 bytes), or
 * 'rgba16float', four binary16 rounded to nearest even (8 bytes; history and recurrent state).
 */
export type ImageFormat = 'rgba32float' | 'rgba16float';

/**
 * How the temporal resolvers store history and recurrent state unless asked otherwise: f32. The
 * binary16 form halves the bytes but measured slower on NVIDIA H100 and H200 (Dawn/Vulkan,
 * 2026-12-05: TAAU 0.242 against 0.229 ms, the INT8 neural frame 1.374 against 1.326 ms at
 * 1920×1080; docs/PERFORMANCE.md), so it is an option, not the default.
 */
export const DEFAULT_HISTORY_FORMAT: ImageFormat = 'rgba32float';

/**
 * The values a GPU image of `format` keeps of `image`: for 'rgba16float' a copy with every value
 * rounded to binary16 (the CPU twin of the GPU's packing), for 'rgba32float' the image itself.
 */
export function storedImage(image: Image, format: ImageFormat): Image {
  if (format === 'rgba32float') return image;
  return { ...image, data: image.data.map(roundToHalf) };
}

/** A zero-filled image. */
export function createImage(width: number, height: number, channels: number): Image {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`image size must be positive integers, got ${width}x${height}`);
  }
  if (!Number.isInteger(channels) || channels < 1 || channels > 4) {
    throw new RangeError(`image channels must be 1..4, got ${channels}`);
  }
  return { width, height, channels, data: new Float32Array(width * height * channels) };
}

/** Wraps existing data, checking its length. */
export function imageFrom(
  width: number,
  height: number,
  channels: number,
  data: Float32Array,
): Image {
  if (data.length !== width * height * channels) {
    throw new RangeError(
      `image data has ${data.length} values, expected ${width}x${height}x${channels} = ${width * height * channels}`,
    );
  }
  return { width, height, channels, data };
}

/** A deep copy. */
export function cloneImage(image: Image): Image {
  return { ...image, data: new Float32Array(image.data) };
}

/** The first `channels` channels of an image (e.g. RGB of RGBA); pads with zeros if it has fewer. */
export function withChannels(image: Image, channels: number): Image {
  if (image.channels === channels) return image;
  const out = createImage(image.width, image.height, channels);
  const n = image.width * image.height;
  const k = Math.min(channels, image.channels);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) out.data[i * channels + c] = image.data[i * image.channels + c]!;
  }
  return out;
}

/** Rec. 709 luma of an RGB(A) pixel. */
export function luma(r: number, g: number, b: number): number {
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** Crops a rectangle (clamped to the image). */
export function cropImage(image: Image, x0: number, y0: number, w: number, h: number): Image {
  const out = createImage(w, h, image.channels);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(image.height - 1, Math.max(0, y0 + y));
    for (let x = 0; x < w; x++) {
      const sx = Math.min(image.width - 1, Math.max(0, x0 + x));
      for (let c = 0; c < image.channels; c++) {
        out.data[(y * w + x) * image.channels + c] =
          image.data[(sy * image.width + sx) * image.channels + c]!;
      }
    }
  }
  return out;
}
