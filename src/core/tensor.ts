/**
 * Tensors of the network: float32, planar CHW, batch 1 — value (c, y, x) at index (c·H + y)·W + x.
 * On the CPU the data may be Float64Array too (gradient checks). GPU tensors are in
 * src/nn/tensor.ts.
 */

/** Float arrays the CPU references accept (float64 for gradient checks). */
export type Real = Float32Array | Float64Array;

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

export function checkShape(shape: TensorShape): void {
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
