/**
 * Tensors of the network (docs: nn-contract): float32, planar CHW, batch 1 — value (c, y, x) at
 * index (c·H + y)·W + x. On the CPU the data may be Float64Array too (gradient checks); on the GPU
 * a tensor is a storage buffer `array<f32>` of C·H·W values.
 */
import type { Real } from '../train/grad-check.ts';
import { readBuffer } from '../gpu/resources.ts';
import { floatToHalf, halfToFloat } from '../io/exr/half.ts';

export type { Real };

/** Shape of a batch-1 planar tensor. */
export interface TensorShape {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/** A CPU tensor: planar CHW values in `data` (Float32Array unless a gradient check needs f64). */
export interface Tensor<T extends Real = Float32Array> extends TensorShape {
  readonly data: T;
}

/** Element type of a GPU tensor: f32, or f16 (WGSL `shader-f16`) for the network's intermediates. */
export type TensorDtype = 'f32' | 'f16';

/** A GPU tensor: a storage buffer `array<f32>` (or `array<f16>`) of channels·height·width values. */
export interface GpuTensor extends TensorShape {
  readonly buffer: GPUBuffer;
  /** Absent means f32. */
  readonly dtype?: TensorDtype;
}

/** The element type of a GPU tensor. */
export function dtypeOf(tensor: GpuTensor): TensorDtype {
  return tensor.dtype ?? 'f32';
}

/** Bytes of a GPU tensor's data (buffers are sized up to a multiple of 4). */
export function gpuTensorBytes(shape: TensorShape, dtype: TensorDtype = 'f32'): number {
  return tensorLength(shape) * (dtype === 'f16' ? 2 : 4);
}

/** Number of values of a tensor of this shape. */
export function tensorLength(shape: TensorShape): number {
  return shape.channels * shape.height * shape.width;
}

/** "CxHxW", for messages. */
export function shapeString(shape: TensorShape): string {
  return `${shape.channels}x${shape.height}x${shape.width}`;
}

/** True when both shapes are equal. */
export function sameShape(a: TensorShape, b: TensorShape): boolean {
  return a.channels === b.channels && a.height === b.height && a.width === b.width;
}

function checkShape(shape: TensorShape): void {
  const { channels, height, width } = shape;
  for (const v of [channels, height, width]) {
    if (!Number.isInteger(v) || v <= 0) {
      throw new RangeError(`tensor shape must be positive integers, got ${shapeString(shape)}`);
    }
  }
}

/** A zero-filled Float32 tensor. */
export function createTensor(shape: TensorShape): Tensor {
  checkShape(shape);
  return { ...pickShape(shape), data: new Float32Array(tensorLength(shape)) };
}

/** A tensor over existing data (not copied); the length must match the shape. */
export function tensorFrom<T extends Real>(shape: TensorShape, data: T): Tensor<T> {
  checkShape(shape);
  if (data.length !== tensorLength(shape)) {
    throw new RangeError(
      `tensor ${shapeString(shape)} needs ${tensorLength(shape)} values, got ${data.length}`,
    );
  }
  return { ...pickShape(shape), data };
}

/** Only the shape fields of a tensor-like object. */
export function pickShape(shape: TensorShape): TensorShape {
  return { channels: shape.channels, height: shape.height, width: shape.width };
}

/** A zero-filled GPU tensor (storage, copy source and destination). */
export function createGpuTensor(
  device: GPUDevice,
  shape: TensorShape,
  label?: string,
  dtype: TensorDtype = 'f32',
): GpuTensor {
  checkShape(shape);
  const buffer = device.createBuffer({
    label,
    size: Math.ceil(gpuTensorBytes(shape, dtype) / 4) * 4,
    // GPUBufferUsage exists only once a WebGPU implementation is loaded: read it at call time.
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  return dtype === 'f32' ? { ...pickShape(shape), buffer } : { ...pickShape(shape), buffer, dtype };
}

/** Writes a CPU tensor (converted to the GPU tensor's type) into a GPU tensor of the same shape. */
export function writeGpuTensor(device: GPUDevice, target: GpuTensor, tensor: Tensor<Real>): void {
  if (!sameShape(target, tensor)) {
    throw new RangeError(`tensor is ${shapeString(tensor)}, GPU tensor is ${shapeString(target)}`);
  }
  if (dtypeOf(target) === 'f16') {
    // Padded to whole 4-byte words, as writeBuffer requires.
    const halves = new Uint16Array(Math.ceil(tensor.data.length / 2) * 2);
    for (let i = 0; i < tensor.data.length; i++) halves[i] = floatToHalf(tensor.data[i]!);
    device.queue.writeBuffer(target.buffer, 0, halves);
    return;
  }
  const data = tensor.data instanceof Float32Array ? tensor.data : Float32Array.from(tensor.data);
  device.queue.writeBuffer(target.buffer, 0, data as Float32Array<ArrayBuffer>);
}

/** Uploads a CPU tensor to a new GPU tensor. */
export function uploadTensor(
  device: GPUDevice,
  tensor: Tensor<Real>,
  label?: string,
  dtype: TensorDtype = 'f32',
): GpuTensor {
  const target = createGpuTensor(device, tensor, label, dtype);
  writeGpuTensor(device, target, tensor);
  return target;
}

/** Reads a GPU tensor back as f32 (waits for the queue). */
export async function readGpuTensor(device: GPUDevice, source: GpuTensor): Promise<Tensor> {
  if (dtypeOf(source) === 'f32') {
    const data = await readBuffer(device, source.buffer, tensorLength(source) * 4);
    return { ...pickShape(source), data };
  }
  const words = await readBuffer(device, source.buffer, source.buffer.size);
  const halves = new Uint16Array(words.buffer, 0, tensorLength(source));
  return { ...pickShape(source), data: Float32Array.from(halves, halfToFloat) };
}
