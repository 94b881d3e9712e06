/**
 * down2x2 forward: 2×2 conv, stride 2, no padding (weight [Cout][Cin][2][2], bias [Cout], fused
 * activation); output H/2 × W/2. CPU reference: down2x2Cpu in src/reference/nn/ops.ts.
 */
import {
  blockedKernels,
  wgslWeighted,
  prepareWeighted,
  weightedInput,
  type NnOpKernel,
  type OutputBlock,
  type WeightedOpArgs,
} from './common.ts';
import type { PreparedDispatch } from '../../gpu/kernel.ts';
import type { TensorDtype } from '../tensor.ts';
import { shapeString } from '../../core/tensor.ts';

/**
 * Output channels per thread: all of them, in vec4 accumulators, up to 12 (the frame generator's
 * 18 -> 12 layer read its 18 display-size input planes once per block of 4, three times); wider
 * layers keep blocks of 4.
 */
export function down2x2OutBlock(outChannels: number): OutputBlock {
  return outChannels > 12 ? 4 : ((Math.ceil(outChannels / 4) * 4) as OutputBlock);
}

// The sums of each output channel in the same order for every block size (input channel by input
// channel, the four taps in turn).
const code =
  (block: OutputBlock) =>
  (dtypes: readonly (TensorDtype | undefined)[]) => /* wgsl */ `${wgslWeighted(dtypes)}
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let x = gid.x;
  let y = gid.y;
  if (x >= u.outWidth || y >= u.outHeight) { return; }
  let W = u.inWidth;
  let stride = u.inChannels * 4u;
  var sum: array<vec4f, ${block / 4}>;
  let p0 = 2u * y * W + 2u * x;
  for (var ci = 0u; ci < u.inChannels; ci++) {
    let i0 = inputAt(ci, p0);
    let i1 = inputAt(ci, p0 + 1u);
    let i2 = inputAt(ci, p0 + W);
    let i3 = inputAt(ci, p0 + W + 1u);
    for (var q = 0u; q < ${block / 4}u; q++) {
      let co0 = gid.z * ${block}u + 4u * q;
      let w0 = (co0 * u.inChannels + ci) * 4u;
      sum[q] += i0 * weights4(w0, stride, co0);
      sum[q] += i1 * weights4(w0 + 1u, stride, co0);
      sum[q] += i2 * weights4(w0 + 2u, stride, co0);
      sum[q] += i3 * weights4(w0 + 3u, stride, co0);
    }
  }
  for (var q = 0u; q < ${block / 4}u; q++) { finish(sum[q], gid.z * ${block}u + 4u * q, x, y); }
}
`;

const KERNELS = blockedKernels('down2x2', 4, code);

/** The down2x2 kernel record with blocks of 4 output channels (layers wider than 12). */
export const down2x2Kernel: NnOpKernel = KERNELS[4];

/** The down2x2 kernel record for an output of `outChannels` channels (down2x2OutBlock). */
export function down2x2KernelFor(outChannels: number): NnOpKernel {
  return KERNELS[down2x2OutBlock(outChannels)];
}

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
    down2x2KernelFor(output.channels),
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
