/**
 * Backward of up2x2 (2×2 transposed conv, stride 2, weight [Cin][Cout][2][2], PyTorch layout).
 * Its outputs don't overlap, so the weight gradient sums over input pixels. CPU: up2x2BackwardCpu.
 */
import { linearBackward, type LinearOpSpec } from './linear-backward.ts';

export const up2x2Spec: LinearOpSpec = {
  name: 'up2x2',
  taps: 4,
  outputSize: (h, w) => [2 * h, 2 * w],
  sumOver: 'input',
  weightIndexCode: /* wgsl */ `
fn weightIndex(co: u32, ci: u32, tap: u32) -> u32 { return (ci * u.outChannels + co) * 4u + tap; }`,
  productCode: /* wgsl */ `
fn product(co: u32, ci: u32, tap: u32, p: u32) -> f32 {
  let oy = 2u * (p / u.inWidth) + tap / 2u;
  let ox = 2u * (p % u.inWidth) + tap % 2u;
  return dZ[(co * u.outHeight + oy) * u.outWidth + ox] * input[ci * u.count + p];
}`,
  inputGradCode: /* wgsl */ `
fn inputGrad(ci: u32, y: u32, x: u32) -> f32 {
  var s = 0.0;
  for (var co = 0u; co < u.outChannels; co++) {
    for (var tap = 0u; tap < 4u; tap++) {
      let oy = 2u * y + tap / 2u;
      let ox = 2u * x + tap % 2u;
      s += dZ[(co * u.outHeight + oy) * u.outWidth + ox] * weight[(ci * u.outChannels + co) * 4u + tap];
    }
  }
  return s;
}`,
};

/** Records the up2x2 input, weight and bias gradients from dZ. */
export const encodeUp2x2Backward = linearBackward(up2x2Spec);
