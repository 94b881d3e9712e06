/**
 * conv3x3 forward (stride 1, zero padding 1, weight [Cout][Cin][3][3], bias [Cout], fused
 * activation). CPU reference: conv3x3Cpu in src/reference/nn/ops.ts.
 */
import {
  WGSL_WEIGHTED,
  pixelBlockDispatch,
  prepareWeighted,
  type PreparedDispatch,
  type NnOpKernel,
  type WeightedOpArgs,
} from './common.ts';

const code = /* wgsl */ `${WGSL_WEIGHTED}
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let x = gid.x;
  let y = gid.y;
  let co0 = gid.z * 4u;
  if (x >= u.outWidth || y >= u.outHeight) { return; }
  let H = u.inHeight;
  let W = u.inWidth;
  let stride = u.inChannels * 9u;
  var sum = vec4f(0.0);
  for (var ci = 0u; ci < u.inChannels; ci++) {
    for (var ky = 0u; ky < 3u; ky++) {
      let sy = i32(y + ky) - 1;
      if (sy < 0 || sy >= i32(H)) { continue; }
      for (var kx = 0u; kx < 3u; kx++) {
        let sx = i32(x + kx) - 1;
        if (sx < 0 || sx >= i32(W)) { continue; }
        let v = input[(ci * H + u32(sy)) * W + u32(sx)];
        sum += v * weights4((co0 * u.inChannels + ci) * 9u + ky * 3u + kx, stride, co0);
      }
    }
  }
  finish(sum, co0, x, y);
}
`;

/** The conv3x3 kernel record. */
export const conv3x3Kernel: NnOpKernel = {
  label: 'nn conv3x3',
  getShaderSource: () => code,
  dispatchSize: pixelBlockDispatch,
};

/** Prepares conv3x3: output has the input's height and width and `output.channels` channels. */
export function prepareConv3x3(device: GPUDevice, args: WeightedOpArgs): PreparedDispatch {
  const { input, output } = args;
  const outShape = { channels: output.channels, height: input.height, width: input.width };
  return prepareWeighted(
    device,
    conv3x3Kernel,
    args,
    outShape,
    output.channels * input.channels * 9,
  );
}

/** Records conv3x3 into `pass` (prepares and encodes at once). */
export function conv3x3(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  args: WeightedOpArgs,
): void {
  prepareConv3x3(device, args).encode(pass);
}
