/**
 * The image type every pass inside the pipeline reads and writes: a storage buffer of
 * `array<vec4<f32>>`, row-major, origin top-left (DESIGN §4). Textures appear only at the API
 * boundary (the caller's inputs and the output); inside, buffers keep passes simple (manual
 * bilinear / Catmull-Rom in WGSL), bit-exact across adapters, and shareable with the network.
 */
import { createImage, type Image } from '../core/image.ts';
import { readBuffer } from './resources.ts';

export interface GpuImage {
  /** Storage buffer of width * height vec4<f32>. */
  readonly buffer: GPUBuffer;
  readonly width: number;
  readonly height: number;
}

/** A zero-filled GPU image. */
export function createGpuImage(
  device: GPUDevice,
  width: number,
  height: number,
  label?: string,
): GpuImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`GPU image size must be positive integers, got ${width}x${height}`);
  }
  const buffer = device.createBuffer({
    label,
    size: width * height * 16,
    // GPUBufferUsage exists only once a WebGPU implementation is loaded: read it at call time.
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  return { buffer, width, height };
}

/** Packs a CPU image of 1..4 channels as vec4 (missing channels 0, missing alpha 1). */
export function toVec4(image: Image): Float32Array {
  const n = image.width * image.height;
  const out = new Float32Array(n * 4);
  const k = image.channels;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 4; c++) out[i * 4 + c] = c < k ? image.data[i * k + c]! : c === 3 ? 1 : 0;
  }
  return out;
}

/** Writes a CPU image into an existing GPU image of the same size. */
export function writeGpuImage(device: GPUDevice, target: GpuImage, image: Image): void {
  if (target.width !== image.width || target.height !== image.height) {
    throw new RangeError(
      `image is ${image.width}x${image.height}, GPU image is ${target.width}x${target.height}`,
    );
  }
  device.queue.writeBuffer(target.buffer, 0, toVec4(image) as Float32Array<ArrayBuffer>);
}

/** Uploads a CPU image to a new GPU image. */
export function uploadGpuImage(device: GPUDevice, image: Image, label?: string): GpuImage {
  const target = createGpuImage(device, image.width, image.height, label);
  writeGpuImage(device, target, image);
  return target;
}

/** Reads a GPU image back, keeping the first `channels` channels (default 4). */
export async function readGpuImage(
  device: GPUDevice,
  source: GpuImage,
  channels = 4,
): Promise<Image> {
  const data = await readBuffer(device, source.buffer, source.width * source.height * 16);
  const out = createImage(source.width, source.height, channels);
  const n = source.width * source.height;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < channels; c++) out.data[i * channels + c] = data[i * 4 + c]!;
  }
  return out;
}
