/** Backward of conv1x1 (weight [Cout][Cin][1][1]). CPU: conv1x1BackwardCpu. */
import { linearBackward, type LinearOpSpec } from './linear-backward.ts';

export const conv1x1Spec: LinearOpSpec = {
  name: 'conv1x1',
  taps: 1,
  outputSize: (h, w) => [h, w],
  sumOver: 'output',
  weightIndexCode: /* wgsl */ `
fn weightIndex(co: u32, ci: u32, tap: u32) -> u32 { return co * u.inChannels + ci; }`,
  productCode: /* wgsl */ `
fn product(co: u32, ci: u32, tap: u32, p: u32) -> f32 {
  return dZ[co * u.count + p] * input[ci * u.count + p];
}`,
  inputGradCode: /* wgsl */ `
fn inputGrad(ci: u32, y: u32, x: u32) -> f32 {
  let p = y * u.inWidth + x;
  let n = u.inHeight * u.inWidth;
  var s = 0.0;
  for (var co = 0u; co < u.outChannels; co++) { s += dZ[co * n + p] * weight[co * u.inChannels + ci]; }
  return s;
}`,
};

/** Records the conv1x1 input, weight and bias gradients from dZ. */
export const encodeConv1x1Backward = linearBackward(conv1x1Spec);
