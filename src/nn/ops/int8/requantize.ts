/**
 * WGSL of the INT8 epilogue: the requantization of src/core/int8.ts (its definition and the CPU
 * twin, `requantize` and `dequantizeAccumulator`), step for step. Activation codes as
 * `activationCode` gives them.
 */
import { INT8_MAX } from '../../../core/int8.ts';
import { LEAKY_SLOPE } from '../../../core/graph.ts';

export const WGSL_REQUANTIZE = /* wgsl */ `
fn dequantize(t: i32, multiplier: f32, activation: u32) -> f32 {
  let y = f32(t) * multiplier;
  if (activation == 1u) { return max(y, 0.0); }
  if (activation == 2u) { return select(y, y * ${LEAKY_SLOPE}, y < 0.0); }
  return y;
}

fn requantize(t: i32, multiplier: f32, activation: u32) -> i32 {
  return i32(clamp(round(dequantize(t, multiplier, activation)), -${INT8_MAX}.0, ${INT8_MAX}.0));
}
`;
