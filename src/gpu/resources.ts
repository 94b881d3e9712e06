/** Small helpers to move CPU images and arrays to and from the GPU (tests, CLI, training). */
import { createImage, type Image } from '../core/image.ts';

const FLOAT_FORMATS: Record<number, GPUTextureFormat> = {
  1: 'r32float',
  2: 'rg32float',
  4: 'rgba32float',
};

/**
 * Channel count of a 32-bit float format, the ones images are written and read as (f32 values;
 * a 16-bit float texture would take them as halves). The formats the frame API reads from an app
 * are another list, LOADABLE_FORMATS (src/gpu/passes/load-texture.ts).
 */
export function formatChannels(format: GPUTextureFormat): number {
  const channels = [1, 2, 4].find((c) => FLOAT_FORMATS[c] === format);
  if (channels === undefined) {
    throw new RangeError(
      `images are written and read as ${Object.values(FLOAT_FORMATS).join(', ')} textures, got ${format}`,
    );
  }
  return channels;
}

/** The 32-bit float format holding `channels` channels (3 is stored as 4). */
export function floatFormatFor(channels: number): GPUTextureFormat {
  return FLOAT_FORMATS[channels === 3 ? 4 : channels]!;
}

/**
 * Uploads an image to a new 32-bit float texture (RGB becomes RGBA with alpha 1).
 * Usage defaults to sampling, storage and copies.
 */
export function uploadImage(
  device: GPUDevice,
  image: Image,
  usage: GPUTextureUsageFlags = GPUTextureUsage.TEXTURE_BINDING |
    GPUTextureUsage.STORAGE_BINDING |
    GPUTextureUsage.COPY_SRC |
    GPUTextureUsage.COPY_DST,
  label?: string,
): GPUTexture {
  const format = floatFormatFor(image.channels);
  const texture = device.createTexture({
    label,
    size: [image.width, image.height],
    format,
    usage,
  });
  writeImage(device, texture, image);
  return texture;
}

/** Writes an image into an existing 32-bit float texture of the same size. */
export function writeImage(device: GPUDevice, texture: GPUTexture, image: Image): void {
  const channels = formatChannels(texture.format);
  if (texture.width !== image.width || texture.height !== image.height) {
    throw new RangeError(
      `image is ${image.width}x${image.height}, texture ${texture.label || ''} is ${texture.width}x${texture.height}`,
    );
  }
  let data = image.data;
  if (image.channels !== channels) {
    data = new Float32Array(image.width * image.height * channels);
    const n = image.width * image.height;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < channels; c++) {
        data[i * channels + c] =
          c < image.channels ? image.data[i * image.channels + c]! : c === 3 ? 1 : 0;
      }
    }
  }
  device.queue.writeTexture(
    { texture },
    data as Float32Array<ArrayBuffer>,
    { bytesPerRow: image.width * channels * 4 },
    [image.width, image.height],
  );
}

/** Reads a 32-bit float texture back as an image with the texture's channel count. */
export async function readImage(device: GPUDevice, texture: GPUTexture): Promise<Image> {
  const channels = formatChannels(texture.format);
  const { width, height } = texture;
  const rowBytes = width * channels * 4;
  const bytesPerRow = Math.ceil(rowBytes / 256) * 256;
  const buffer = device.createBuffer({
    size: bytesPerRow * height,
    usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
  });
  const encoder = device.createCommandEncoder();
  encoder.copyTextureToBuffer({ texture }, { buffer, bytesPerRow }, [width, height]);
  device.queue.submit([encoder.finish()]);
  await buffer.mapAsync(GPUMapMode.READ);
  const mapped = new Uint8Array(buffer.getMappedRange());
  const out = createImage(width, height, channels);
  const outBytes = new Uint8Array(out.data.buffer);
  for (let y = 0; y < height; y++) {
    outBytes.set(mapped.subarray(y * bytesPerRow, y * bytesPerRow + rowBytes), y * rowBytes);
  }
  buffer.unmap();
  buffer.destroy();
  return out;
}

/** A storage buffer initialised from `data`. */
export function createStorageBuffer(
  device: GPUDevice,
  data: Float32Array | Uint32Array | Int32Array,
  usage: GPUBufferUsageFlags = GPUBufferUsage.STORAGE |
    GPUBufferUsage.COPY_SRC |
    GPUBufferUsage.COPY_DST,
  label?: string,
): GPUBuffer {
  const buffer = device.createBuffer({
    label,
    size: Math.max(4, Math.ceil(data.byteLength / 4) * 4),
    usage,
    mappedAtCreation: true,
  });
  new Uint8Array(buffer.getMappedRange()).set(
    new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  );
  buffer.unmap();
  return buffer;
}

/** Reads `byteLength` bytes (default: all) of a buffer with COPY_SRC usage as float32. */
export async function readBuffer(
  device: GPUDevice,
  source: GPUBuffer,
  byteLength = source.size,
): Promise<Float32Array> {
  const staging = device.createBuffer({
    size: byteLength,
    usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
  });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(source, 0, staging, 0, byteLength);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  staging.destroy();
  return out;
}
