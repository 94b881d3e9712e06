/**
 * WGSL `quantizeF32(v, inverseScale)`: `quantizeF32` of src/core/int8.ts, step for step (reciprocal
 * multiply, ties to even, clamp; non-finite values give 0). Here, below the network code, so that
 * passes that write an INT8 network's input themselves (the features passes) share it with the
 * network's quantize kernel (src/nn/ops/int8/quantize.ts).
 */
import { INT8_MAX } from '../core/int8.ts';

export const WGSL_QUANTIZE_F32 = /* wgsl */ `
fn quantizeF32(v: f32, inverseScale: f32) -> i32 {
  // Bit test rather than v != v: compilers may assume floats are never NaN.
  if ((bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u) { return 0; }
  return i32(clamp(round(v * inverseScale), -${INT8_MAX}.0, ${INT8_MAX}.0));
}
`;
