/** Backward of conv3x3 (stride 1, zero padding 1, weight [Cout][Cin][3][3]). CPU: conv3x3BackwardCpu. */
import { linearBackward, type LinearOpSpec } from './linear-backward.ts';

export const conv3x3Spec: LinearOpSpec = {
  name: 'conv3x3',
  taps: 9,
  outputSize: (h, w) => [h, w],
  sumOver: 'output',
  weightIndexCode: /* wgsl */ `
fn weightIndex(co: u32, ci: u32, tap: u32) -> u32 { return (co * u.inChannels + ci) * 9u + tap; }`,
  productCode: /* wgsl */ `
fn product(co: u32, ci: u32, tap: u32, p: u32) -> f32 {
  let sy = i32(p / u.outWidth) + i32(tap / 3u) - 1;
  let sx = i32(p % u.outWidth) + i32(tap % 3u) - 1;
  if (sy < 0 || sx < 0 || sy >= i32(u.inHeight) || sx >= i32(u.inWidth)) { return 0.0; }
  return dZ[co * u.count + p] * input[(ci * u.inHeight + u32(sy)) * u.inWidth + u32(sx)];
}`,
  inputGradCode: /* wgsl */ `
fn inputGrad(ci: u32, y: u32, x: u32) -> f32 {
  var s = 0.0;
  for (var co = 0u; co < u.outChannels; co++) {
    for (var tap = 0u; tap < 9u; tap++) {
      let oy = i32(y) - i32(tap / 3u) + 1;
      let ox = i32(x) - i32(tap % 3u) + 1;
      if (oy < 0 || ox < 0 || oy >= i32(u.outHeight) || ox >= i32(u.outWidth)) { continue; }
      s += dZ[(co * u.outHeight + u32(oy)) * u.outWidth + u32(ox)]
         * weight[(co * u.inChannels + ci) * 9u + tap];
    }
  }
  return s;
}`,
};

/** Records the conv3x3 input, weight and bias gradients from dZ. */
export const encodeConv3x3Backward = linearBackward(conv3x3Spec);
