/**
 * What export and import agree on: the network they carry, the opset, the metadata keys, and the
 * int8 form of a quantized weight tensor (the inverse of each other).
 *
 * A weighted node with `weightBits: 8` uses its stored f32 weight rounded onto the grid
 * s = max|w| / 127 (src/reference/nn/ops.ts `quantizeWeightCpu`). In ONNX that is an int8
 * initializer q = clamp(round(w / s), ±127) and a DequantizeLinear with the f32 scale: the values
 * the network uses, exactly as ONNX computes them (q · s in f32). Import stores those values as the
 * f32 weight, so the grid Uplift recomputes from them is the file's again.
 */
import { quantMax, type GraphDescription, type Parameters } from '../core/graph.ts';
import { int8WeightGrid } from '../core/int8.ts';

/** A network as ONNX carries it: the fields of a `.uplift` file. */
export interface OnnxNetwork {
  readonly graph: GraphDescription;
  readonly parameters: Parameters;
  readonly qualityRatio?: number;
  readonly metadata?: Record<string, unknown>;
}

/** Opset of the default ONNX domain written (13: per-tensor Q/DQ with int8, Conv, LeakyRelu). */
export const OPSET_VERSION = 13;
/** IR version written (7 goes with opset 13). */
export const IR_VERSION = 7;
/** Oldest default-domain opset import reads (QuantizeLinear / DequantizeLinear appear in 10). */
export const MIN_IMPORT_OPSET = 10;

/** metadata_props keys carrying what the graph itself does not. */
export const META = {
  /** The `.uplift` file's quality ratio (JSON number), when it has one. */
  qualityRatio: 'uplift.qualityRatio',
  /** The `.uplift` file's free-form metadata (JSON object). */
  metadata: 'uplift.metadata',
  /** The graph's history guard (JSON number, box ranges), when it has one: the frame's, not an op. */
  historyGuard: 'uplift.historyGuard',
  /** The graph's coverage blend power (JSON number), when it has one: the frame's, not an op. */
  coverageBlend: 'uplift.coverageBlend',
} as const;

/** The only quantization ONNX int8 Q/DQ expresses exactly: 8 bits, grid ±127. */
export const ONNX_QUANT_BITS = 8;
const QMAX = quantMax(ONNX_QUANT_BITS);

/** An f32 weight as int8 values and the f32 scale of its grid (s = max|w| / 127). */
export function int8Weight(weight: ArrayLike<number>): { q: Int8Array; scale: number } {
  const { q, scale } = int8WeightGrid(weight);
  return { q, scale: Math.fround(scale) };
}

/**
 * The f32 weight whose grid is (q, scale): each value q · scale as DequantizeLinear computes it,
 * with the largest magnitude M chosen among the f32 neighbours of 127 · scale so that
 * f32(M / 127), the scale Uplift recomputes, is `scale` again. For about 1 f32 scale in 130 no M
 * gives it back (M / 127 steps over it); then the nearest scale that one does (1 ulp away) is
 * used for every value. Either way exporting the result writes the same q and a scale that
 * imports to the same weight: import → export → import is exact. Returns undefined when no |q| is
 * 127 (a grid Uplift cannot store: its scale is always max|w| / 127) unless every q is 0.
 */
export function weightFromInt8(q: ArrayLike<number>, scale: number): Float32Array | undefined {
  const weight = new Float32Array(q.length);
  let maxQ = 0;
  for (let i = 0; i < q.length; i++) maxQ = Math.max(maxQ, Math.abs(q[i]!));
  if (maxQ === 0) return weight;
  if (maxQ !== QMAX) return undefined;
  const s = Math.fround(scale);
  const top = Math.fround(QMAX * s);
  let max = top;
  let best = Infinity;
  for (const steps of [0, 1, -1, 2, -2]) {
    const m = nextF32(top, steps);
    const miss = Math.abs(Math.fround(m / QMAX) - s);
    if (miss < best) [max, best] = [m, miss];
  }
  const grid = Math.fround(max / QMAX);
  for (let i = 0; i < q.length; i++) {
    const v = q[i]!;
    weight[i] = Math.abs(v) === QMAX ? Math.sign(v) * max : Math.fround(v * grid);
  }
  return weight;
}

/** The f32 `steps` representable values away from the positive f32 `v`. */
function nextF32(v: number, steps: number): number {
  const bits = new Uint32Array(new Float32Array([v]).buffer);
  bits[0]! += steps;
  return new Float32Array(bits.buffer)[0]!;
}
