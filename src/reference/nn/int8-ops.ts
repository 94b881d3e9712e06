/**
 * CPU reference of the INT8 weighted ops (the oracle of src/nn/ops/int8/): int8 input and weights,
 * int32 accumulation with the bias in accumulator units, and the requantization of
 * src/core/int8.ts — to int8 on the next tensor's grid, or to f32 for a real output. Plain loops
 * over planar CHW tensors; JS numbers hold the int32 sums exactly.
 */
import {
  accumulatorBound,
  dequantizeAccumulator,
  requantize,
  type Int8OpParams,
  type Int8Tensor,
} from '../../core/int8.ts';
import type { Tensor, TensorShape } from '../../core/tensor.ts';

function checkOp(op: string, input: Int8Tensor, p: Int8OpParams, taps: number): number {
  const cout = p.bias.length;
  if (input.data.length !== input.channels * input.height * input.width) {
    throw new RangeError(`${op}: input has ${input.data.length} values for its shape`);
  }
  if (p.weight.length !== cout * input.channels * taps) {
    throw new RangeError(
      `${op}: weight has ${p.weight.length} values, want ${cout * input.channels * taps}`,
    );
  }
  accumulatorBound(op, input.channels * taps, p.bias);
  return cout;
}

/** The int32 accumulators of conv3x3 (stride 1, zero padding 1), planar [Cout][H][W]. */
function conv3x3Accumulators(input: Int8Tensor, p: Int8OpParams): Int32Array {
  const cout = checkOp('int8 conv3x3', input, p, 9);
  const { channels: cin, height: H, width: W } = input;
  const acc = new Int32Array(cout * H * W);
  for (let co = 0; co < cout; co++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let t = p.bias[co]!;
        for (let ci = 0; ci < cin; ci++) {
          for (let ky = 0; ky < 3; ky++) {
            const sy = y + ky - 1;
            if (sy < 0 || sy >= H) continue;
            for (let kx = 0; kx < 3; kx++) {
              const sx = x + kx - 1;
              if (sx < 0 || sx >= W) continue;
              t +=
                input.data[(ci * H + sy) * W + sx]! *
                p.weight[((co * cin + ci) * 3 + ky) * 3 + kx]!;
            }
          }
        }
        acc[(co * H + y) * W + x] = t;
      }
    }
  }
  return acc;
}

/** The int32 accumulators of conv1x1, planar [Cout][H][W]. */
function conv1x1Accumulators(input: Int8Tensor, p: Int8OpParams): Int32Array {
  const cout = checkOp('int8 conv1x1', input, p, 1);
  const { channels: cin, height: H, width: W } = input;
  const plane = H * W;
  const acc = new Int32Array(cout * plane);
  for (let co = 0; co < cout; co++) {
    for (let i = 0; i < plane; i++) {
      let t = p.bias[co]!;
      for (let ci = 0; ci < cin; ci++) t += input.data[ci * plane + i]! * p.weight[co * cin + ci]!;
      acc[co * plane + i] = t;
    }
  }
  return acc;
}

function toInt8(acc: Int32Array, shape: TensorShape, p: Int8OpParams): Int8Tensor {
  const data = new Int8Array(acc.length);
  for (let i = 0; i < acc.length; i++)
    data[i] = requantize(acc[i]!, p.multiplier, p.activation ?? 'none');
  return { channels: shape.channels, height: shape.height, width: shape.width, data };
}

function toF32(acc: Int32Array, shape: TensorShape, p: Int8OpParams): Tensor {
  const data = new Float32Array(acc.length);
  for (let i = 0; i < acc.length; i++) {
    data[i] = dequantizeAccumulator(acc[i]!, p.multiplier, p.activation ?? 'none');
  }
  return { channels: shape.channels, height: shape.height, width: shape.width, data };
}

const shapeOf = (input: Int8Tensor, p: Int8OpParams): TensorShape => ({
  channels: p.bias.length,
  height: input.height,
  width: input.width,
});

/** INT8 conv3x3 requantized to int8. */
export function conv3x3Int8Cpu(input: Int8Tensor, p: Int8OpParams): Int8Tensor {
  return toInt8(conv3x3Accumulators(input, p), shapeOf(input, p), p);
}

/** INT8 conv3x3 with a real (f32) output. */
export function conv3x3Int8ToF32Cpu(input: Int8Tensor, p: Int8OpParams): Tensor {
  return toF32(conv3x3Accumulators(input, p), shapeOf(input, p), p);
}

/** INT8 conv1x1 requantized to int8. */
export function conv1x1Int8Cpu(input: Int8Tensor, p: Int8OpParams): Int8Tensor {
  return toInt8(conv1x1Accumulators(input, p), shapeOf(input, p), p);
}

/** INT8 conv1x1 with a real (f32) output. */
export function conv1x1Int8ToF32Cpu(input: Int8Tensor, p: Int8OpParams): Tensor {
  return toF32(conv1x1Accumulators(input, p), shapeOf(input, p), p);
}
