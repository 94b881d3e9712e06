/**
 * The inputs of the frame APIs (the upscaler's dispatch, the frame generator's): a texture or a
 * GpuImage, checked before any pass opens (so errors leave the encoder usable) and loaded into
 * the pipeline's image type.
 */
import type { Size } from './core/quality.ts';
import type { GpuImage } from './gpu/gpu-image.ts';
import type { FrameSource } from './gpu/frame-source.ts';
import { checkOutputFormat } from './gpu/passes/output.ts';
import {
  encodeLoadTexture,
  LOADABLE_FORMATS,
  loadableChannels,
} from './gpu/passes/load-texture.ts';

/**
 * A frame input: a texture with TEXTURE_BINDING usage in one of `LOADABLE_FORMATS` (float,
 * normalized, sRGB or depth), or a GpuImage already in the pipeline's format. Passes that read
 * inputs in place take it as it is (src/gpu/frame-source.ts); others load a texture first.
 */
export type FrameInput = FrameSource;

export function isGpuImage(input: FrameInput): input is GpuImage {
  return 'buffer' in input;
}

/**
 * Checks an input's size (`sizeName` says which size it must have, e.g. "the color size") and,
 * for a texture, that its format is read with enough channels and that it can be bound.
 */
export function checkInput(
  input: FrameInput | undefined,
  what: string,
  minChannels: number,
  [width, height]: Size,
  sizeName: string,
): void {
  if (!input) return;
  if (input.width !== width || input.height !== height) {
    throw new RangeError(
      `${what} is ${input.width}x${input.height}, expected ${width}x${height} (${sizeName})`,
    );
  }
  if (isGpuImage(input)) return;
  const channels = loadableChannels(input.format);
  if (channels === undefined) {
    throw new RangeError(
      `${what}: format ${input.format} is not read; use one of ${Object.keys(LOADABLE_FORMATS).join(', ')}`,
    );
  }
  if (channels < minChannels) {
    throw new RangeError(`${what} needs ${minChannels}+ channels, got a ${input.format} texture`);
  }
  if ((input.usage & GPUTextureUsage.TEXTURE_BINDING) === 0) {
    throw new RangeError(`${what}: the texture needs GPUTextureUsage.TEXTURE_BINDING`);
  }
}

/** The input as a GpuImage, loading a texture into `target`. */
export function loadInput(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  input: FrameInput,
  target: GpuImage,
): GpuImage {
  if (isGpuImage(input)) return input;
  encodeLoadTexture(device, pass, input, target);
  return target;
}

/** Checks a caller's output texture: display size, a written format, storage usage. */
export function checkOutputTexture(texture: GPUTexture, [width, height]: Size): void {
  if (texture.width !== width || texture.height !== height) {
    throw new RangeError(
      `output is ${texture.width}x${texture.height}, expected the display size ${width}x${height}`,
    );
  }
  checkOutputFormat(texture.format);
  if ((texture.usage & GPUTextureUsage.STORAGE_BINDING) === 0) {
    throw new RangeError('output: the texture needs GPUTextureUsage.STORAGE_BINDING');
  }
  if (texture.dimension !== '2d') {
    throw new RangeError(`output: a 2d texture is written, got a ${texture.dimension} one`);
  }
}
