/**
 * CPU reference of the forward of every network op — the oracle for the GPU
 * kernels in src/nn/ops/. Plain loops over planar CHW tensors, generic over Float32Array and
 * Float64Array: the output has the input's array type, sums are taken in float64 (JS numbers).
 */
import {
  type Real,
  type Tensor,
  type TensorShape,
  sameShape,
  shapeString,
  tensorLength,
} from '../../core/tensor.ts';
import { LEAKY_SLOPE, quantMax, type Activation } from '../../core/graph.ts';

/** The activation applied to one value. */
export function activate(v: number, activation: Activation): number {
  if (activation === 'none' || v > 0) return v;
  return activation === 'relu' ? 0 : LEAKY_SLOPE * v;
}

/** A zero array of the same type as `like`. */
function allocLike<T extends Real>(like: T, length: number): T {
  return (like instanceof Float64Array ? new Float64Array(length) : new Float32Array(length)) as T;
}

function output<T extends Real>(like: T, shape: TensorShape): Tensor<T> {
  return { ...shape, data: allocLike(like, tensorLength(shape)) };
}

function checkParams(
  op: string,
  weight: Real,
  bias: Real,
  want: number,
  outChannels: number,
): void {
  if (weight.length !== want) {
    throw new RangeError(`${op}: weight has ${weight.length} values, want ${want}`);
  }
  if (bias.length !== outChannels) {
    throw new RangeError(`${op}: bias has ${bias.length} values, want ${outChannels}`);
  }
}

function checkData(op: string, t: Tensor<Real>): void {
  if (t.data.length !== tensorLength(t)) {
    throw new RangeError(`${op}: tensor ${shapeString(t)} has ${t.data.length} values`);
  }
}

/** conv3x3: stride 1, zero padding 1, weight [Cout][Cin][3][3], bias [Cout]. */
export function conv3x3Cpu<T extends Real>(
  input: Tensor<T>,
  weight: Real,
  bias: Real,
  activation: Activation = 'none',
): Tensor<T> {
  checkData('conv3x3', input);
  const { channels: cin, height: H, width: W } = input;
  const cout = bias.length;
  checkParams('conv3x3', weight, bias, cout * cin * 9, cout);
  const out = output(input.data, { channels: cout, height: H, width: W });
  const x = input.data;
  for (let co = 0; co < cout; co++) {
    for (let y = 0; y < H; y++) {
      for (let xo = 0; xo < W; xo++) {
        let s = bias[co]!;
        for (let ci = 0; ci < cin; ci++) {
          for (let ky = 0; ky < 3; ky++) {
            const sy = y + ky - 1;
            if (sy < 0 || sy >= H) continue;
            for (let kx = 0; kx < 3; kx++) {
              const sx = xo + kx - 1;
              if (sx < 0 || sx >= W) continue;
              s += x[(ci * H + sy) * W + sx]! * weight[((co * cin + ci) * 3 + ky) * 3 + kx]!;
            }
          }
        }
        out.data[(co * H + y) * W + xo] = activate(s, activation);
      }
    }
  }
  return out;
}

/** conv1x1: weight [Cout][Cin][1][1], bias [Cout]. */
export function conv1x1Cpu<T extends Real>(
  input: Tensor<T>,
  weight: Real,
  bias: Real,
  activation: Activation = 'none',
): Tensor<T> {
  checkData('conv1x1', input);
  const { channels: cin, height: H, width: W } = input;
  const cout = bias.length;
  checkParams('conv1x1', weight, bias, cout * cin, cout);
  const out = output(input.data, { channels: cout, height: H, width: W });
  const n = H * W;
  for (let co = 0; co < cout; co++) {
    for (let p = 0; p < n; p++) {
      let s = bias[co]!;
      for (let ci = 0; ci < cin; ci++) s += input.data[ci * n + p]! * weight[co * cin + ci]!;
      out.data[co * n + p] = activate(s, activation);
    }
  }
  return out;
}

/** down2x2: 2×2 conv, stride 2, no padding (H, W even), weight [Cout][Cin][2][2], bias [Cout]. */
export function down2x2Cpu<T extends Real>(
  input: Tensor<T>,
  weight: Real,
  bias: Real,
  activation: Activation = 'none',
): Tensor<T> {
  checkData('down2x2', input);
  const { channels: cin, height: H, width: W } = input;
  if (H % 2 !== 0 || W % 2 !== 0) {
    throw new RangeError(`down2x2: input ${shapeString(input)} must have even height and width`);
  }
  const cout = bias.length;
  checkParams('down2x2', weight, bias, cout * cin * 4, cout);
  const Ho = H / 2;
  const Wo = W / 2;
  const out = output(input.data, { channels: cout, height: Ho, width: Wo });
  for (let co = 0; co < cout; co++) {
    for (let y = 0; y < Ho; y++) {
      for (let xo = 0; xo < Wo; xo++) {
        let s = bias[co]!;
        for (let ci = 0; ci < cin; ci++) {
          for (let i = 0; i < 2; i++) {
            for (let j = 0; j < 2; j++) {
              s +=
                input.data[(ci * H + 2 * y + i) * W + 2 * xo + j]! *
                weight[((co * cin + ci) * 2 + i) * 2 + j]!;
            }
          }
        }
        out.data[(co * Ho + y) * Wo + xo] = activate(s, activation);
      }
    }
  }
  return out;
}

/**
 * up2x2: 2×2 transposed conv, stride 2 (out 2H × 2W), weight [Cin][Cout][2][2] (PyTorch layout):
 * out(co, 2y+i, 2x+j) = bias[co] + Σ_ci in(ci, y, x) · w[ci][co][i][j].
 */
export function up2x2Cpu<T extends Real>(
  input: Tensor<T>,
  weight: Real,
  bias: Real,
  activation: Activation = 'none',
): Tensor<T> {
  checkData('up2x2', input);
  const { channels: cin, height: H, width: W } = input;
  const cout = bias.length;
  checkParams('up2x2', weight, bias, cin * cout * 4, cout);
  const Ho = 2 * H;
  const Wo = 2 * W;
  const out = output(input.data, { channels: cout, height: Ho, width: Wo });
  for (let co = 0; co < cout; co++) {
    for (let oy = 0; oy < Ho; oy++) {
      for (let ox = 0; ox < Wo; ox++) {
        const y = oy >> 1;
        const x = ox >> 1;
        const i = oy & 1;
        const j = ox & 1;
        let s = bias[co]!;
        for (let ci = 0; ci < cin; ci++) {
          s += input.data[(ci * H + y) * W + x]! * weight[((ci * cout + co) * 2 + i) * 2 + j]!;
        }
        out.data[(co * Ho + oy) * Wo + ox] = activate(s, activation);
      }
    }
  }
  return out;
}

/** add: elementwise a + b (same shape), then the activation. */
export function addCpu<T extends Real>(
  a: Tensor<T>,
  b: Tensor<Real>,
  activation: Activation = 'none',
): Tensor<T> {
  checkData('add', a);
  checkData('add', b);
  if (!sameShape(a, b))
    throw new RangeError(`add: shapes ${shapeString(a)} and ${shapeString(b)} differ`);
  const out = output(a.data, a);
  for (let i = 0; i < out.data.length; i++)
    out.data[i] = activate(a.data[i]! + b.data[i]!, activation);
  return out;
}

/** concat: channels of the inputs in order (same height and width), then the activation. */
export function concatCpu<T extends Real>(
  inputs: readonly Tensor<T>[],
  activation: Activation = 'none',
): Tensor<T> {
  const first = inputs[0];
  if (!first) throw new RangeError('concat: no inputs');
  let channels = 0;
  for (const t of inputs) {
    checkData('concat', t);
    if (t.height !== first.height || t.width !== first.width) {
      throw new RangeError(`concat: sizes ${shapeString(first)} and ${shapeString(t)} differ`);
    }
    channels += t.channels;
  }
  const out = output(first.data, { channels, height: first.height, width: first.width });
  let offset = 0;
  for (const t of inputs) {
    for (let i = 0; i < t.data.length; i++) out.data[offset + i] = activate(t.data[i]!, activation);
    offset += t.data.length;
  }
  return out;
}

/**
 * v rounded onto the grid k·s, |k| ≤ qmax (beyond: clamped). Half rounds up (Math.round, as the
 * kernels' floor(v / s + 0.5)). s 0: v unchanged.
 */
export function quantizeValue(v: number, s: number, qmax: number): number {
  if (s === 0) return v;
  return Math.min(qmax, Math.max(-qmax, Math.round(v / s))) * s;
}

/**
 * fakequant: every value rounded onto the symmetric grid k·scale, |k| ≤ 2^(bits−1) − 1 (what an
 * INT8 kernel reads from a tensor quantized with that per-tensor scale).
 */
export function fakeQuantCpu<T extends Real>(
  input: Tensor<T>,
  scale: number,
  bits: number,
): Tensor<T> {
  checkData('fakequant', input);
  const qmax = quantMax(bits);
  const out = output(input.data, input);
  for (let i = 0; i < out.data.length; i++)
    out.data[i] = quantizeValue(input.data[i]!, scale, qmax);
  return out;
}

/**
 * A weight tensor rounded onto its symmetric per-tensor `bits`-bit grid, scale = max|w| / qmax
 * (an all-zero tensor has scale 0 and stays zero). Same array type as `weight`.
 */
export function quantizeWeightCpu<T extends Real>(
  weight: T,
  bits: number,
): { values: T; scale: number } {
  const qmax = quantMax(bits);
  let maxAbs = 0;
  for (const v of weight) maxAbs = Math.max(maxAbs, Math.abs(v));
  const scale = maxAbs / qmax;
  const values = allocLike(weight, weight.length);
  for (let i = 0; i < weight.length; i++) values[i] = quantizeValue(weight[i]!, scale, qmax);
  return { values, scale };
}
