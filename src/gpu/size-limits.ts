/**
 * Whether a device can hold the images of a display size, checked before anything is allocated:
 * WebGPU reports a texture above maxTextureDimension2D or a buffer above maxBufferSize only to an
 * error scope or `uncapturederror`, and the object it returns is silently invalid. Used where an
 * upscaler resizes, so a refused size leaves the previous images in place.
 */
import type { Size } from '../core/quality.ts';
import { DeviceLimitError } from './kernel.ts';

/** Bytes per pixel of a GpuImage (vec4<f32>), the largest per-pixel image the frame allocates. */
const IMAGE_BYTES_PER_PIXEL = 16;

/** Throws DeviceLimitError (naming the limit) when `device` cannot hold images of `size`. */
export function checkImageSize(device: GPUDevice, [width, height]: Size, what: string): void {
  const side = device.limits.maxTextureDimension2D;
  if (width > side || height > side) {
    throw new DeviceLimitError(
      `${what}: ${width}x${height} is larger than this device's textures (maxTextureDimension2D ${side}): request a higher maxTextureDimension2D in requestDevice (requestGpu asks for the adapter's), or use a smaller size`,
    );
  }
  const bytes = width * height * IMAGE_BYTES_PER_PIXEL;
  const { maxBufferSize, maxStorageBufferBindingSize } = device.limits;
  const [limit, name] =
    maxStorageBufferBindingSize < maxBufferSize
      ? [maxStorageBufferBindingSize, 'maxStorageBufferBindingSize']
      : [maxBufferSize, 'maxBufferSize'];
  if (bytes > limit) {
    throw new DeviceLimitError(
      `${what}: ${width}x${height} needs images of ${bytes} bytes; this device allows ${limit} (${name}): request a higher ${name} in requestDevice (requestGpu asks for the adapter's), or use a smaller size`,
    );
  }
}
