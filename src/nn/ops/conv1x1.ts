/**
 * conv1x1 forward (weight [Cout][Cin][1][1], bias [Cout], fused activation). CPU reference:
 * conv1x1Cpu in src/reference/nn/ops.ts.
 */
import {
  wgslWeighted,
  pixelBlockDispatch,
  prepareWeighted,
  weightedInput,
  type PreparedDispatch,
  type NnOpKernel,
  type WeightedOpArgs,
} from './common.ts';
import type { TensorDtype } from '../tensor.ts';

const code = (dtypes: readonly (TensorDtype | undefined)[]) => /* wgsl */ `${wgslWeighted(dtypes)}
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let x = gid.x;
  let y = gid.y;
  let co0 = gid.z * 4u;
  if (x >= u.outWidth || y >= u.outHeight) { return; }
  let p = y * u.inWidth + x;
  var sum = vec4f(0.0);
  for (var ci = 0u; ci < u.inChannels; ci++) {
    sum += inputAt(ci, p) * weights4(co0 * u.inChannels + ci, u.inChannels, co0);
  }
  finish(sum, co0, x, y);
}
`;

/** The conv1x1 kernel record. */
export const conv1x1Kernel: NnOpKernel = {
  label: 'nn conv1x1',
  getShaderSource: code,
  dispatchSize: pixelBlockDispatch,
};

/** Prepares conv1x1: output has the input's height and width and `output.channels` channels. */
export function prepareConv1x1(device: GPUDevice, args: WeightedOpArgs): PreparedDispatch {
  const { output } = args;
  const input = weightedInput(args);
  const outShape = { channels: output.channels, height: input.height, width: input.width };
  return prepareWeighted(device, conv1x1Kernel, args, outShape, output.channels * input.channels);
}

/** Records conv1x1 into `pass` (prepares and encodes at once). */
export function conv1x1(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  args: WeightedOpArgs,
): void {
  prepareConv1x1(device, args).encode(pass);
}
