/**
 * down2x2 forward: 2×2 conv, stride 2, no padding (weight [Cout][Cin][2][2], bias [Cout], fused
 * activation); output H/2 × W/2. CPU reference: down2x2Cpu in src/reference/nn/ops.ts.
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
import { shapeString } from '../../core/tensor.ts';

const code = (dtypes: readonly (TensorDtype | undefined)[]) => /* wgsl */ `${wgslWeighted(dtypes)}
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let x = gid.x;
  let y = gid.y;
  let co0 = gid.z * 4u;
  if (x >= u.outWidth || y >= u.outHeight) { return; }
  let W = u.inWidth;
  let stride = u.inChannels * 4u;
  var sum = vec4f(0.0);
  let p0 = 2u * y * W + 2u * x;
  for (var ci = 0u; ci < u.inChannels; ci++) {
    let w0 = (co0 * u.inChannels + ci) * 4u;
    sum += inputAt(ci, p0) * weights4(w0, stride, co0);
    sum += inputAt(ci, p0 + 1u) * weights4(w0 + 1u, stride, co0);
    sum += inputAt(ci, p0 + W) * weights4(w0 + 2u, stride, co0);
    sum += inputAt(ci, p0 + W + 1u) * weights4(w0 + 3u, stride, co0);
  }
  finish(sum, co0, x, y);
}
`;

/** The down2x2 kernel record. */
export const down2x2Kernel: NnOpKernel = {
  label: 'nn down2x2',
  getShaderSource: code,
  dispatchSize: pixelBlockDispatch,
};

/** Prepares down2x2 (input height and width even). */
export function prepareDown2x2(device: GPUDevice, args: WeightedOpArgs): PreparedDispatch {
  const { output } = args;
  const input = weightedInput(args);
  if (input.height % 2 !== 0 || input.width % 2 !== 0) {
    throw new RangeError(`nn down2x2: input ${shapeString(input)} must have even height and width`);
  }
  const outShape = { channels: output.channels, height: input.height / 2, width: input.width / 2 };
  return prepareWeighted(
    device,
    down2x2Kernel,
    args,
    outShape,
    output.channels * input.channels * 4,
  );
}

/** Records down2x2 into `pass` (prepares and encodes at once). */
export function down2x2(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  args: WeightedOpArgs,
): void {
  prepareDown2x2(device, args).encode(pass);
}
