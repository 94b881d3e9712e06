/**
 * The integer arithmetic of INT8 inference, defined once so that every kernel and its CPU
 * reference agree bit for bit.
 *
 * A tensor is int8 values q with a per-tensor scale s (value ≈ q·s, |q| ≤ 127). A weighted op
 * with input scale sIn and weight scale sW accumulates t = Σ qIn·qW + biasQ in int32 (exact),
 * then requantizes:
 *
 *   y = f32(t) · M          one correctly rounded f32 multiply; M = f32(sIn·sW / sOut)
 *   y = activation(y)       relu: max(y, 0); leaky: y < 0 ? y · f32(0.1) : y
 *   q = clamp(roundHalfEven(y), −127, 127)
 *
 * Only multiplies, max and round: no add follows a multiply, so a compiler cannot fuse one into an
 * fma and change the rounding, and t stays below 2^24 so f32(t) is exact (`accumulatorBound`
 * checks it). An op whose output is not requantized (the network's raw output) writes
 * y = f32(t) · f32(sIn·sW), activated.
 *
 * A residual add fused into an op (out = act2(act1(op) + res)) stays in accumulator units:
 * t = act1(t) (ReLU as max(t, 0), which commutes with the positive multiplier), then
 * t += round(f32(qRes) · Mres) with Mres = f32(sRes / (sIn·sW)) — a multiply, a rounding and an
 * integer add — and the requantization above with act2.
 *
 * Packed layout on the GPU: 4 channels of one pixel per u32 word (byte k of word g = channel
 * 4g + k, two's complement), channels padded with zeros to a multiple of 4 — the operand shape of
 * WGSL's dot4I8Packed — and a pixel's G = ceil(C / 4) words side by side: word g of pixel (x, y) at
 * (y·W + x)·G + g. Pixel-major (channels innermost) keeps a pixel's channels in one 16-byte piece
 * for 16 channels, the order an implicit GEMM reads along its K dimension.
 */
import { LEAKY_SLOPE, type Activation } from './graph.ts';
import type { TensorShape } from './tensor.ts';

/** Largest magnitude of an int8 value (the symmetric grid of 8 bits). */
export const INT8_MAX = 127;
/** Accumulators must stay below this in magnitude, so that f32(t) is exact. */
const ACCUMULATOR_LIMIT = 2 ** 24;

/** v rounded to the nearest integer, ties to even (WGSL `round`). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * An f32 value quantized as the kernels do it: multiplied by the f32 reciprocal of the scale (a
 * division would not round alike on every GPU), ties to even, clamped; non-finite values give 0.
 */
export function quantizeF32(v: number, inverseScale: number): number {
  if (!Number.isFinite(v)) return 0;
  const y = Math.fround(Math.fround(v) * Math.fround(inverseScale));
  return Math.min(INT8_MAX, Math.max(-INT8_MAX, roundHalfEven(y)));
}

/** The requantization multiplier M = f32(sIn·sW / sOut), or f32(sIn·sW) for a real output. */
export function requantMultiplier(inScale: number, weightScale: number, outScale?: number): number {
  return Math.fround(
    outScale === undefined ? inScale * weightScale : (inScale * weightScale) / outScale,
  );
}

/** The f32 value of an accumulator after the multiply and the activation (the steps above). */
export function dequantizeAccumulator(
  t: number,
  multiplier: number,
  activation: Activation,
): number {
  // The multiplier is an f32 uniform on the GPU.
  const y = Math.fround(t * Math.fround(multiplier));
  if (activation === 'relu') return Math.max(y, 0);
  if (activation === 'leaky') return y < 0 ? Math.fround(y * Math.fround(LEAKY_SLOPE)) : y;
  return y;
}

/** An accumulator requantized to int8 (the steps above). */
export function requantize(t: number, multiplier: number, activation: Activation): number {
  const y = dequantizeAccumulator(t, multiplier, activation);
  return Math.min(INT8_MAX, Math.max(-INT8_MAX, roundHalfEven(y)));
}

/** Mres = f32(sRes / (sIn·sW)): a residual's int8 values to accumulator units. */
export function residualMultiplier(
  residualScale: number,
  inScale: number,
  weightScale: number,
): number {
  return Math.fround(residualScale / (inScale * weightScale));
}

/**
 * The accumulator with a fused residual: the op's own activation on t (ReLU as max(t, 0); leaky
 * has no exact integer form and is refused), plus the residual in accumulator units.
 */
export function addResidual(
  t: number,
  activation: Activation,
  residual: number,
  multiplier: number,
): number {
  if (activation === 'leaky') {
    throw new RangeError(
      'int8: a leaky activation before a fused residual add has no integer form',
    );
  }
  const own = activation === 'relu' ? Math.max(t, 0) : t;
  return own + roundHalfEven(Math.fround(residual * Math.fround(multiplier)));
}

/**
 * A weight tensor on its symmetric 8-bit grid: scale s = max|w| / 127 and q = round(w / s), ties
 * up (Math.round, as the reference's quantizeWeightCpu rounds), |q| ≤ 127. An all-zero weight
 * has q 0 and s 0.
 */
export function int8WeightGrid(weight: ArrayLike<number>): { q: Int8Array; scale: number } {
  let maxAbs = 0;
  for (let i = 0; i < weight.length; i++) maxAbs = Math.max(maxAbs, Math.abs(weight[i]!));
  const scale = maxAbs / INT8_MAX;
  const q = new Int8Array(weight.length);
  if (scale === 0) return { q, scale };
  for (let i = 0; i < q.length; i++) {
    q[i] = Math.min(INT8_MAX, Math.max(-INT8_MAX, Math.round(weight[i]! / scale)));
  }
  return { q, scale };
}

/** A bias in accumulator units: round(b / (sIn·sW)), ties to even. */
export function quantizeBias(b: number, inScale: number, weightScale: number): number {
  return roundHalfEven(b / (inScale * weightScale));
}

/**
 * The largest |t| an op can reach: `terms` products of two int8 values per output, the largest
 * |biasQ| and a fused residual's largest value in accumulator units. Throws a RangeError naming
 * the op when it reaches ACCUMULATOR_LIMIT.
 */
export function accumulatorBound(
  op: string,
  terms: number,
  biasQ: ArrayLike<number>,
  residualMultiplier = 0,
): number {
  let maxBias = 0;
  for (let i = 0; i < biasQ.length; i++) maxBias = Math.max(maxBias, Math.abs(biasQ[i]!));
  const residual = residualMultiplier ? Math.ceil(INT8_MAX * Math.abs(residualMultiplier)) + 1 : 0;
  const bound = terms * INT8_MAX * INT8_MAX + maxBias + residual;
  if (bound >= ACCUMULATOR_LIMIT) {
    throw new RangeError(
      `${op}: ${terms} int8 products and a bias of ${maxBias} can reach ${bound}, not exact in f32 (limit 2^24)`,
    );
  }
  return bound;
}

/** Words per pixel of a packed tensor of `channels` channels. */
export function packedGroups(channels: number): number {
  return Math.ceil(channels / 4);
}

/** Packs planar CHW int8 values into the GPU layout (4 channels per word, zero padded). */
export function packInt8(
  values: Int8Array,
  channels: number,
  height: number,
  width: number,
): Uint32Array<ArrayBuffer> {
  const plane = height * width;
  const groups = packedGroups(channels);
  const words = new Uint32Array(groups * plane);
  for (let c = 0; c < channels; c++) {
    const shift = (c % 4) * 8;
    for (let p = 0; p < plane; p++) {
      words[p * groups + (c >> 2)]! |= (values[c * plane + p]! & 0xff) << shift;
    }
  }
  return words;
}

/** Unpacks the GPU layout into planar CHW int8 values. */
export function unpackInt8(
  words: Uint32Array,
  channels: number,
  height: number,
  width: number,
): Int8Array {
  const plane = height * width;
  const groups = packedGroups(channels);
  const values = new Int8Array(channels * plane);
  for (let c = 0; c < channels; c++) {
    const shift = (c % 4) * 8;
    for (let p = 0; p < plane; p++) {
      values[c * plane + p] = (words[p * groups + (c >> 2)]! >>> shift) & 0xff;
    }
  }
  return values;
}

/** A CPU int8 tensor: planar CHW values (the scale travels with the op's multiplier). */
export interface Int8Tensor extends TensorShape {
  readonly data: Int8Array;
}

/** The integer parameters of a weighted op. */
export interface Int8OpParams {
  /** Layout of the f32 op's weight ([Cout][Cin][3][3] for conv3x3, [Cout][Cin] for conv1x1). */
  readonly weight: Int8Array;
  /** [Cout], in accumulator units (quantizeBias). */
  readonly bias: Int32Array;
  /** requantMultiplier: to the output's grid (int8 output) or to real values (f32 output). */
  readonly multiplier: number;
  readonly activation?: Activation;
  /** With a fused residual: its multiplier to accumulator units (`residualMultiplier`). */
  readonly residualMultiplier?: number;
  /** With a fused residual: the activation after the add. */
  readonly residualActivation?: Activation;
}
