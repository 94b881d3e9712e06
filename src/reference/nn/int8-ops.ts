/**
 * CPU reference of the INT8 weighted ops (the oracle of src/nn/ops/int8/): int8 input and weights,
 * int32 accumulation with the bias in accumulator units, an optional fused residual, and the
 * requantization of src/core/int8.ts — to int8 on the next tensor's grid, or to f32 for a real
 * output. Plain loops over planar CHW tensors; JS numbers hold the int32 sums exactly. Weight
 * layouts are the f32 ops' (src/reference/nn/ops.ts).
 */
import type { WeightedOp } from '../../core/graph.ts';
import {
  accumulatorBound,
  addResidual,
  dequantizeAccumulator,
  requantize,
  type Int8OpParams,
  type Int8Tensor,
} from '../../core/int8.ts';
import type { Tensor, TensorShape } from '../../core/tensor.ts';

/** Weights per (output, input) channel pair of each op. */
export const INT8_OP_TAPS: Readonly<Record<WeightedOp, number>> = {
  conv3x3: 9,
  conv1x1: 1,
  down2x2: 4,
  up2x2: 4,
};

/** Output shape of an op for an input shape. */
export function int8OpOutputShape(op: WeightedOp, input: TensorShape, outChannels: number) {
  const scale = op === 'down2x2' ? 0.5 : op === 'up2x2' ? 2 : 1;
  return { channels: outChannels, height: input.height * scale, width: input.width * scale };
}

/** Index of weight (co, ci, tap) in the op's f32 layout (up2x2 is [Cin][Cout][2][2]). */
export function int8WeightIndex(
  op: WeightedOp,
  co: number,
  ci: number,
  tap: number,
  cin: number,
  cout: number,
): number {
  const taps = INT8_OP_TAPS[op];
  return op === 'up2x2' ? (ci * cout + co) * taps + tap : (co * cin + ci) * taps + tap;
}

function checkOp(op: WeightedOp, input: Int8Tensor, p: Int8OpParams): void {
  const cout = p.bias.length;
  const taps = INT8_OP_TAPS[op];
  const label = `int8 ${op}`;
  if (input.data.length !== input.channels * input.height * input.width) {
    throw new RangeError(`${label}: input has ${input.data.length} values for its shape`);
  }
  if (p.weight.length !== cout * input.channels * taps) {
    throw new RangeError(
      `${label}: weight has ${p.weight.length} values, want ${cout * input.channels * taps}`,
    );
  }
  if (op === 'down2x2' && (input.height % 2 !== 0 || input.width % 2 !== 0)) {
    throw new RangeError(`${label}: input must have even height and width`);
  }
  const terms = op === 'up2x2' ? input.channels : input.channels * taps;
  accumulatorBound(label, terms, p.bias, p.residualMultiplier);
}

/**
 * The int32 accumulators (bias included) of an op, planar [Cout][Ho][Wo]: for each output pixel,
 * the (input pixel, tap) pairs it reads.
 */
function accumulators(op: WeightedOp, input: Int8Tensor, p: Int8OpParams): Int32Array {
  checkOp(op, input, p);
  const { channels: cin, height: H, width: W } = input;
  const cout = p.bias.length;
  const out = int8OpOutputShape(op, input, cout);
  const acc = new Int32Array(cout * out.height * out.width);
  const at = (ci: number, y: number, x: number) => input.data[(ci * H + y) * W + x]!;
  for (let co = 0; co < cout; co++) {
    for (let y = 0; y < out.height; y++) {
      for (let x = 0; x < out.width; x++) {
        let t = p.bias[co]!;
        const term = (ci: number, sy: number, sx: number, tap: number) => {
          if (sy < 0 || sy >= H || sx < 0 || sx >= W) return;
          t += at(ci, sy, sx) * p.weight[int8WeightIndex(op, co, ci, tap, cin, cout)]!;
        };
        for (let ci = 0; ci < cin; ci++) {
          if (op === 'conv3x3') {
            for (let tap = 0; tap < 9; tap++) {
              term(ci, y + Math.floor(tap / 3) - 1, x + (tap % 3) - 1, tap);
            }
          } else if (op === 'conv1x1') {
            term(ci, y, x, 0);
          } else if (op === 'down2x2') {
            for (let tap = 0; tap < 4; tap++) term(ci, 2 * y + (tap >> 1), 2 * x + (tap & 1), tap);
          } else {
            term(ci, y >> 1, x >> 1, (y & 1) * 2 + (x & 1));
          }
        }
        acc[(co * out.height + y) * out.width + x] = t;
      }
    }
  }
  return acc;
}

/**
 * The accumulators with a fused residual applied (output's shape, int8), and the activation that
 * follows them: the add's with a residual, else the op's own.
 */
function finalAccumulators(
  op: WeightedOp,
  input: Int8Tensor,
  p: Int8OpParams,
  residual: Int8Tensor | undefined,
) {
  const acc = accumulators(op, input, p);
  if (!residual) return { acc, activation: p.activation ?? 'none' };
  if (residual.data.length !== acc.length) {
    throw new RangeError(`int8 residual has ${residual.data.length} values, want ${acc.length}`);
  }
  if (p.residualMultiplier === undefined) {
    throw new RangeError('int8: a residual needs residualMultiplier');
  }
  for (let i = 0; i < acc.length; i++) {
    acc[i] = addResidual(acc[i]!, p.activation ?? 'none', residual.data[i]!, p.residualMultiplier);
  }
  return { acc, activation: p.residualActivation ?? 'none' };
}

/** An INT8 op requantized to int8, with an optional fused residual. */
export function int8OpCpu(
  op: WeightedOp,
  input: Int8Tensor,
  p: Int8OpParams,
  residual?: Int8Tensor,
): Int8Tensor {
  const { acc, activation } = finalAccumulators(op, input, p, residual);
  const data = Int8Array.from(acc, (t) => requantize(t, p.multiplier, activation));
  return { ...int8OpOutputShape(op, input, p.bias.length), data };
}

/** An INT8 op with a real (f32) output, with an optional fused residual. */
export function int8OpToF32Cpu(
  op: WeightedOp,
  input: Int8Tensor,
  p: Int8OpParams,
  residual?: Int8Tensor,
): Tensor {
  const { acc, activation } = finalAccumulators(op, input, p, residual);
  const data = Float32Array.from(acc, (t) => dequantizeAccumulator(t, p.multiplier, activation));
  return { ...int8OpOutputShape(op, input, p.bias.length), data };
}
