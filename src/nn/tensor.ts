/**
 * GPU tensors of the network: a storage buffer `array<f32>` (or `array<f16>`) of C·H·W values,
 * planar CHW as the CPU tensors of src/core/tensor.ts.
 */
import {
  checkShape,
  pickShape,
  sameShape,
  shapeString,
  tensorLength,
  type Real,
  type Tensor,
  type TensorShape,
} from '../core/tensor.ts';
import { readBuffer } from '../gpu/resources.ts';
import { floatToHalf, halfToFloat } from '../core/half.ts';
import { packInt8, type Int8Tensor } from '../core/int8.ts';

/** Element type of a GPU tensor: f32, or f16 (WGSL `shader-f16`) for the network's intermediates. */
export type TensorDtype = 'f32' | 'f16';

/** A GPU tensor: a storage buffer `array<f32>` (or `array<f16>`) of channels·height·width values. */
export interface GpuTensor extends TensorShape {
  readonly buffer: GPUBuffer;
  /** Absent means f32. */
  readonly dtype?: TensorDtype;
}

/**
 * A GPU tensor of int8 values packed 4 channels per u32 word, pixel-major (layout in
 * src/core/int8.ts): ceil(channels / 4) · height · width words.
 */
export interface GpuInt8Tensor extends TensorShape {
  readonly buffer: GPUBuffer;
  readonly packed: 'int8x4';
}

/** A zero-filled packed int8 GPU tensor (storage, copy source and destination). */
export function createGpuInt8Tensor(
  device: GPUDevice,
  shape: TensorShape,
  label?: string,
): GpuInt8Tensor {
  checkShape(shape);
  const buffer = device.createBuffer({
    label,
    size: Math.ceil(shape.channels / 4) * shape.height * shape.width * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  return { ...pickShape(shape), buffer, packed: 'int8x4' };
}

/** Packs a CPU int8 tensor (planar, src/core/int8.ts) into a new GPU int8 tensor. */
export function uploadInt8Tensor(device: GPUDevice, t: Int8Tensor, label?: string): GpuInt8Tensor {
  const gpu = createGpuInt8Tensor(device, t, label);
  device.queue.writeBuffer(gpu.buffer, 0, packInt8(t.data, t.channels, t.height, t.width));
  return gpu;
}

/** The element type of a GPU tensor. */
export function dtypeOf(tensor: GpuTensor): TensorDtype {
  return tensor.dtype ?? 'f32';
}

/** Bytes of a GPU tensor's data (buffers are sized up to a multiple of 4). */
export function gpuTensorBytes(shape: TensorShape, dtype: TensorDtype = 'f32'): number {
  return tensorLength(shape) * (dtype === 'f16' ? 2 : 4);
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
