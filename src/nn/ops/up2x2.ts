/**
 * up2x2 forward: 2×2 transposed conv, stride 2 (weight [Cin][Cout][2][2] as PyTorch lays it out,
 * bias [Cout], fused activation); output 2H × 2W. Each output pixel reads one input pixel, with
 * the tap chosen by its parity. CPU reference: up2x2Cpu in src/reference/nn/ops.ts.
 */
import {
  wgslWeighted,
  pixelBlockDispatch,
  prepareWeighted,
  weightedInput,
  type NnOpKernel,
  type WeightedOpArgs,
} from './common.ts';
import type { PreparedDispatch } from '../../gpu/kernel.ts';
import type { TensorDtype } from '../tensor.ts';

const code = (dtypes: readonly (TensorDtype | undefined)[]) => /* wgsl */ `${wgslWeighted(dtypes)}
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let x = gid.x;
  let y = gid.y;
  let co0 = gid.z * 4u;
  if (x >= u.outWidth || y >= u.outHeight) { return; }
  let p = (y / 2u) * u.inWidth + x / 2u;
  let tap = (y % 2u) * 2u + x % 2u;
  var sum = vec4f(0.0);
  for (var ci = 0u; ci < u.inChannels; ci++) {
    sum += inputAt(ci, p) * weights4((ci * u.outChannels + co0) * 4u + tap, 4u, co0);
  }
  finish(sum, co0, x, y);
}
`;

/** The up2x2 kernel record. */
export const up2x2Kernel: NnOpKernel = {
  label: 'nn up2x2',
  getShaderSource: code,
  dispatchSize: pixelBlockDispatch,
};

/** Prepares up2x2: output is 2H × 2W with `output.channels` channels. */
export function prepareUp2x2(device: GPUDevice, args: WeightedOpArgs): PreparedDispatch {
  const { output } = args;
  const input = weightedInput(args);
  const outShape = { channels: output.channels, height: input.height * 2, width: input.width * 2 };
  return prepareWeighted(device, up2x2Kernel, args, outShape, input.channels * output.channels * 4);
}

/** Records up2x2 into `pass` (prepares and encodes at once). */
export function up2x2(device: GPUDevice, pass: GPUComputePassEncoder, args: WeightedOpArgs): void {
  prepareUp2x2(device, args).encode(pass);
}
