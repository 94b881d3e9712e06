/**
 * conv1x1 forward (weight [Cout][Cin][1][1], bias [Cout], fused activation). CPU reference:
 * conv1x1Cpu in src/reference/nn/ops.ts.
 */
import { groupsFor, type PreparedDispatch } from '../../gpu/kernel.ts';
import {
  wgslWeighted,
  prepareWeighted,
  weightedInput,
  type NnOpKernel,
  type WeightedOpArgs,
} from './common.ts';
import type { TensorDtype } from '../tensor.ts';

/** Pixels of one row per workgroup: 64 consecutive pixels read and write 256-byte runs. */
const ROW = 64;
/** Output channels per thread (two vec4 accumulators): each input value read feeds 8 FMAs. */
const OUT_BLOCK = 8;

// One thread per pixel and block of 8 output channels. A row of 64 pixels per workgroup rather
// than an 8×8 tile: a 1×1 conv has no neighbourhood to share, and 8-pixel rows split every plane
// access into 32-byte pieces.
const code = (dtypes: readonly (TensorDtype | undefined)[]) => /* wgsl */ `${wgslWeighted(dtypes)}
@compute @workgroup_size(${ROW}, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let x = gid.x;
  let y = gid.y;
  let co0 = gid.z * ${OUT_BLOCK}u;
  if (x >= u.outWidth || y >= u.outHeight) { return; }
  let p = y * u.inWidth + x;
  let co1 = min(co0 + 4u, u.outChannels - 1u);
  var low = vec4f(0.0);
  var high = vec4f(0.0);
  for (var ci = 0u; ci < u.inChannels; ci++) {
    let v = inputAt(ci, p);
    low += v * weights4(co0 * u.inChannels + ci, u.inChannels, co0);
    high += v * weights4(co1 * u.inChannels + ci, u.inChannels, co1);
  }
  finish(low, co0, x, y);
  if (co0 + 4u < u.outChannels) { finish(high, co0 + 4u, x, y); }
}
`;

/** The conv1x1 kernel record. */
export const conv1x1Kernel: NnOpKernel = {
  label: 'nn conv1x1',
  getShaderSource: code,
  dispatchSize: (output) => [
    groupsFor(output.width, ROW),
    output.height,
    groupsFor(output.channels, OUT_BLOCK),
  ],
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
