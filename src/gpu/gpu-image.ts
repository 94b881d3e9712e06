/**
 * The image type every pass inside the pipeline reads and writes: a storage buffer of 4-channel
 * pixels, row-major, origin top-left (DESIGN §4). Textures appear only at the API boundary (the
 * caller's inputs and the output); inside, buffers keep passes simple (manual bilinear /
 * Catmull-Rom in WGSL), bit-exact across adapters, and shareable with the network.
 *
 * Two formats (ImageFormat): 'rgba32float' (`array<vec4<f32>>`, 16 bytes a pixel) for most images,
 * and 'rgba16float' (8 bytes) for what every frame reads and writes whole at display size, the
 * history and the recurrent state: `array<vec2<u32>>`, r and g in the first word, b and a in the
 * second, each low half first (the memory layout of `array<vec4<f16>>`). WGSL leaves the rounding
 * of f32 → f16 conversions (`pack2x16float`, f16 storage textures) to the implementation, so
 * passes pack in integer arithmetic, rounding to nearest even exactly as `floatToHalf` does on the
 * CPU (WGSL_HALF below): an image holds the same bits on every adapter and in the CPU reference.
 * Passes declare their image bindings with `wgslImages`, which gives each a load and a store
 * function of vec4f whatever the format.
 */
import { createImage, type Image, type ImageFormat } from '../core/image.ts';
import { floatToHalf, halfToFloat } from '../core/half.ts';
import { readBuffer } from './resources.ts';

export type { ImageFormat } from '../core/image.ts';

export interface GpuImage {
  /** Storage buffer of width * height pixels in `format`. */
  readonly buffer: GPUBuffer;
  readonly width: number;
  readonly height: number;
  /** How a pixel is stored; absent: 'rgba32float'. */
  readonly format?: ImageFormat;
}

/** Bytes of one pixel in `format`. */
export function texelBytes(format: ImageFormat = 'rgba32float'): number {
  return format === 'rgba16float' ? 8 : 16;
}

/** The format of `image` ('rgba32float' when it names none). */
export function formatOf(image: GpuImage): ImageFormat {
  return image.format ?? 'rgba32float';
}

/** A RangeError naming `what` unless `image` is rgba32float (for passes that read only that). */
export function checkF32Image(image: GpuImage, what: string): void {
  if (formatOf(image) !== 'rgba32float') {
    throw new RangeError(`${what} must be an rgba32float image, got ${formatOf(image)}`);
  }
}

/** A zero-filled GPU image. */
export function createGpuImage(
  device: GPUDevice,
  width: number,
  height: number,
  label?: string,
  format: ImageFormat = 'rgba32float',
): GpuImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`GPU image size must be positive integers, got ${width}x${height}`);
  }
  if (format !== 'rgba32float' && format !== 'rgba16float') {
    throw new RangeError(
      `GPU image format must be rgba32float or rgba16float, got ${String(format)}`,
    );
  }
  const buffer = device.createBuffer({
    label,
    size: width * height * texelBytes(format),
    // GPUBufferUsage exists only once a WebGPU implementation is loaded: read it at call time.
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  return format === 'rgba32float' ? { buffer, width, height } : { buffer, width, height, format };
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

/** Writes a CPU image into an existing GPU image of the same size (rounded to its format). */
export function writeGpuImage(device: GPUDevice, target: GpuImage, image: Image): void {
  if (target.width !== image.width || target.height !== image.height) {
    throw new RangeError(
      `image is ${image.width}x${image.height}, GPU image is ${target.width}x${target.height}`,
    );
  }
  const pixels = toVec4(image);
  if (formatOf(target) === 'rgba16float') {
    const halves = new Uint16Array(pixels.length);
    for (let i = 0; i < pixels.length; i++) halves[i] = floatToHalf(pixels[i]!);
    device.queue.writeBuffer(target.buffer, 0, halves);
  } else {
    device.queue.writeBuffer(target.buffer, 0, pixels as Float32Array<ArrayBuffer>);
  }
}

/** Uploads a CPU image to a new GPU image (of `format`, default rgba32float). */
export function uploadGpuImage(
  device: GPUDevice,
  image: Image,
  label?: string,
  format?: ImageFormat,
): GpuImage {
  const target = createGpuImage(device, image.width, image.height, label, format);
  writeGpuImage(device, target, image);
  return target;
}

/** Reads a GPU image back, keeping the first `channels` channels (default 4). */
export async function readGpuImage(
  device: GPUDevice,
  source: GpuImage,
  channels = 4,
): Promise<Image> {
  const n = source.width * source.height;
  const bytes = n * texelBytes(source.format);
  const data = await readBuffer(device, source.buffer, bytes);
  const halves =
    formatOf(source) === 'rgba16float' ? new Uint16Array(data.buffer, 0, n * 4) : undefined;
  const out = createImage(source.width, source.height, channels);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < channels; c++) {
      out.data[i * channels + c] = halves ? halfToFloat(halves[i * 4 + c]!) : data[i * 4 + c]!;
    }
  }
  return out;
}

/**
 * binary16 in WGSL core, in integer arithmetic (no `shader-f16`, no implementation-chosen
 * rounding): `halfBits` is the twin of `floatToHalf` (nearest, ties to even; beyond the half range
 * ±Inf; NaN stays NaN with the same payload bits), `halfValue` of `halfToFloat` (exact: every half
 * is an f32; a subnormal's m · 2^-24 is a normal f32, so no flush to zero can touch it), and
 * `halfPair` the same for two halves of a word, through `unpack2x16float` where that is exact.
 */
export const WGSL_HALF = /* wgsl */ `
fn halfBits(v: f32) -> u32 {
  let x = bitcast<u32>(v);
  let sign = (x >> 16u) & 0x8000u;
  let exponent = (x >> 23u) & 0xffu;
  let mantissa = x & 0x7fffffu;
  if (exponent == 0xffu) {
    return sign | 0x7c00u | select(0u, 0x200u | (mantissa >> 13u), mantissa != 0u);
  }
  let e = i32(exponent) - 112;
  if (e >= 31) { return sign | 0x7c00u; }
  if (e <= 0) {
    // Subnormal half (or zero): the 24-bit significand shifted into the 10-bit field.
    if (e < -10) { return sign; }
    let significand = mantissa | 0x800000u;
    let shift = u32(14 - e);
    var h = significand >> shift;
    let rest = significand & ((1u << shift) - 1u);
    let halfway = 1u << (shift - 1u);
    if (rest > halfway || (rest == halfway && (h & 1u) != 0u)) { h++; }
    return sign | h;
  }
  var h = (u32(e) << 10u) | (mantissa >> 13u);
  let rest = mantissa & 0x1fffu;
  // A carry out of the mantissa bumps the exponent (up to Inf), as on the CPU.
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u) != 0u)) { h++; }
  return sign | h;
}

fn halfValue(h: u32) -> f32 {
  let sign = (h & 0x8000u) << 16u;
  let exponent = (h >> 10u) & 0x1fu;
  let mantissa = h & 0x3ffu;
  if (exponent == 0u) { return bitcast<f32>(sign | bitcast<u32>(f32(mantissa) * 5.9604644775390625e-8)); }
  if (exponent == 31u) { return bitcast<f32>(sign | 0x7f800000u | (mantissa << 13u)); }
  return bitcast<f32>(sign | ((exponent + 112u) << 23u) | (mantissa << 13u));
}

// Two halves (low first) as f32, by the hardware conversion: exact (every half is an f32; a
// subnormal half is a normal f32), NaN stays NaN (its payload is not kept: nothing reads it).
// halfValue's branches per channel cost far more where a pass reads many taps (measured on the
// H200: reproject 0.058 -> 0.18 ms at 1080p, docs/PERFORMANCE.md); test/gpu-image.test.ts checks
// every pattern on the test adapters, bench/int8-exact.ts on the GPU machine.
fn halfPair(w: u32) -> vec2f {
  return unpack2x16float(w);
}
`;

/** One image binding of a pass (see `wgslImages`). */
export interface ImageBinding {
  readonly binding: number;
  /** The storage variable's name; its functions are `<name>At(i)` and (read_write) `store<Name>(i, v)`. */
  readonly name: string;
  readonly access: 'read' | 'read_write';
  readonly format: ImageFormat;
}

/**
 * WGSL declaring image bindings with a load `<name>At(i: u32) -> vec4f` each and, for read_write
 * ones, a store `store<Name>(i: u32, v: vec4f)`, whatever their format (WGSL_HALF included once
 * when one is rgba16float). The formats are part of the code: each combination is its own
 * pipeline.
 */
export function wgslImages(bindings: readonly ImageBinding[]): string {
  const half = bindings.some((b) => b.format === 'rgba16float');
  const declarations = bindings.map(({ binding, name, access, format }) => {
    const store = `store${name[0]!.toUpperCase()}${name.slice(1)}`;
    if (format === 'rgba32float') {
      return `@group(0) @binding(${binding}) var<storage, ${access}> ${name}: array<vec4f>;
fn ${name}At(i: u32) -> vec4f { return ${name}[i]; }${
        access === 'read_write' ? `\nfn ${store}(i: u32, v: vec4f) { ${name}[i] = v; }` : ''
      }`;
    }
    return `@group(0) @binding(${binding}) var<storage, ${access}> ${name}: array<vec2u>;
fn ${name}At(i: u32) -> vec4f {
  let w = ${name}[i];
  return vec4f(halfPair(w.x), halfPair(w.y));
}${
      access === 'read_write'
        ? `\nfn ${store}(i: u32, v: vec4f) {
  ${name}[i] = vec2u(halfBits(v.x) | (halfBits(v.y) << 16u), halfBits(v.z) | (halfBits(v.w) << 16u));
}`
        : ''
    }`;
  });
  return `${half ? WGSL_HALF : ''}\n${declarations.join('\n')}\n`;
}
