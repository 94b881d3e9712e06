/**
 * Post-training fake quantization of the weights: each `.weight` tensor is rounded onto a
 * symmetric per-tensor integer grid (s = max|w| / qmax, qmax = 2^(bits-1) − 1) and stored back as
 * f32 values on that grid, so the f32 inference path measures what INT8 weights would lose.
 * Biases stay f32: INT8 kernels keep an int32/f32 bias. Activations are not touched here.
 */
import type { Parameters } from './network.ts';

/** Fake-quantized parameters and the scale of each quantized tensor. */
export interface FakeQuantized {
  readonly parameters: Map<string, Float32Array>;
  /** Per `.weight` tensor: its scale s (0 for an all-zero tensor). */
  readonly scales: Map<string, number>;
}

/** Rounds every `.weight` tensor onto its symmetric `bits`-bit grid (2…16 bits). */
export function fakeQuantizeWeights(parameters: Parameters, bits = 8): FakeQuantized {
  if (!Number.isInteger(bits) || bits < 2 || bits > 16) {
    throw new RangeError(`bits must be an integer from 2 to 16, got ${bits}`);
  }
  const qmax = 2 ** (bits - 1) - 1;
  const out = new Map<string, Float32Array>();
  const scales = new Map<string, number>();
  for (const [name, values] of parameters) {
    if (!name.endsWith('.weight')) {
      out.set(name, Float32Array.from(values));
      continue;
    }
    let maxAbs = 0;
    for (const v of values) maxAbs = Math.max(maxAbs, Math.abs(v));
    const s = maxAbs / qmax;
    scales.set(name, s);
    // An all-zero tensor has scale 0: dividing would give NaN, and zeros are on any grid.
    if (s === 0) {
      out.set(name, Float32Array.from(values));
      continue;
    }
    const q = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      q[i] = Math.min(qmax, Math.max(-qmax, Math.round(values[i]! / s))) * s;
    }
    out.set(name, q);
  }
  return { parameters: out, scales };
}
