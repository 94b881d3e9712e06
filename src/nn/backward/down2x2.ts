/** Backward of down2x2 (2×2 conv, stride 2, weight [Cout][Cin][2][2]). CPU: down2x2BackwardCpu. */
import { linearBackward, type LinearOpSpec } from './linear-backward.ts';

export const down2x2Spec: LinearOpSpec = {
  name: 'down2x2',
  taps: 4,
  outputSize: (h, w) => {
    if (h % 2 || w % 2) throw new RangeError(`down2x2 needs an even size, got ${w}x${h}`);
    return [h / 2, w / 2];
  },
  sumOver: 'output',
  weightIndexCode: /* wgsl */ `
fn weightIndex(co: u32, ci: u32, tap: u32) -> u32 { return (co * u.inChannels + ci) * 4u + tap; }`,
  productCode: /* wgsl */ `
fn product(co: u32, ci: u32, tap: u32, p: u32) -> f32 {
  let sy = 2u * (p / u.outWidth) + tap / 2u;
  let sx = 2u * (p % u.outWidth) + tap % 2u;
  return dZ[co * u.count + p] * input[(ci * u.inHeight + sy) * u.inWidth + sx];
}`,
  inputGradCode: /* wgsl */ `
fn inputGrad(ci: u32, y: u32, x: u32) -> f32 {
  let o = (y / 2u) * u.outWidth + x / 2u;
  let tap = (y % 2u) * 2u + x % 2u;
  let n = u.outHeight * u.outWidth;
  var s = 0.0;
  for (var co = 0u; co < u.outChannels; co++) {
    s += dZ[co * n + o] * weight[(co * u.inChannels + ci) * 4u + tap];
  }
  return s;
}`,
};

/** Records the down2x2 input, weight and bias gradients from dZ. */
export const encodeDown2x2Backward = linearBackward(down2x2Spec);
