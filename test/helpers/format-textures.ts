/**
 * Textures of the frame API's 16-bit float and 8-bit normalized input formats, made from CPU
 * images, with the values each texel holds (the image quantized to the format), so that a pass
 * reading the texture in place can be compared with its CPU reference on those values.
 */
import { cloneImage, type Image } from '../../src/core/image.ts';
import { floatToHalf, halfToFloat } from '../../src/core/half.ts';
import { createGpuImage, type GpuImage } from '../../src/gpu/gpu-image.ts';
import { encodeLoadTexture } from '../../src/gpu/passes/load-texture.ts';

const HALF_FORMATS: Record<number, GPUTextureFormat> = {
  1: 'r16float',
  2: 'rg16float',
  4: 'rgba16float',
};
const UNORM_FORMATS: Record<number, GPUTextureFormat> = { 1: 'r8unorm', 4: 'rgba8unorm' };

function texture(device: GPUDevice, image: Image, format: GPUTextureFormat | undefined) {
  if (!format) throw new RangeError(`no test format for ${image.channels} channels`);
  return device.createTexture({
    size: [image.width, image.height],
    format,
    usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
  });
}

/** An r16float / rg16float / rgba16float texture of `image` and the halves it holds. */
export function halfTexture(device: GPUDevice, image: Image): { texture: GPUTexture; held: Image } {
  const bits = new Uint16Array(image.data.length);
  const held = cloneImage(image);
  for (let i = 0; i < bits.length; i++) {
    bits[i] = floatToHalf(image.data[i]!);
    held.data[i] = halfToFloat(bits[i]!);
  }
  const result = texture(device, image, HALF_FORMATS[image.channels]);
  device.queue.writeTexture(
    { texture: result },
    bits,
    { bytesPerRow: image.width * image.channels * 2 },
    [image.width, image.height],
  );
  return { texture: result, held };
}

/** An r8unorm / rgba8unorm texture of `image` (clamped to [0, 1]) and the values it holds. */
export function unormTexture(
  device: GPUDevice,
  image: Image,
): { texture: GPUTexture; held: Image } {
  const bytes = new Uint8Array(image.data.length);
  const held = cloneImage(image);
  for (let i = 0; i < bytes.length; i++) {
    const v = image.data[i]!;
    bytes[i] = Math.round(Math.min(1, Math.max(0, Number.isNaN(v) ? 0 : v)) * 255);
    held.data[i] = Math.fround(bytes[i]! / 255);
  }
  const result = texture(device, image, UNORM_FORMATS[image.channels]);
  device.queue.writeTexture(
    { texture: result },
    bytes,
    { bytesPerRow: image.width * image.channels },
    [image.width, image.height],
  );
  return { texture: result, held };
}

/**
 * The texture copied into a GpuImage by the load pass: what the frame passes read before they
 * read textures in place (the value a texel holds is the implementation's own conversion, e.g.
 * of an 8-bit normalized value, so the image path is compared with this, not with `held`).
 */
export function loadedImage(device: GPUDevice, texture: GPUTexture): GpuImage {
  const image = createGpuImage(device, texture.width, texture.height);
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encodeLoadTexture(device, pass, texture, image);
  pass.end();
  device.queue.submit([encoder.finish()]);
  return image;
}
