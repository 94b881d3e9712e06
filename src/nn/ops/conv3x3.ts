/**
 * conv3x3 forward (stride 1, zero padding 1, weight [Cout][Cin][3][3], bias [Cout], fused
 * activation). CPU reference: conv3x3Cpu in src/reference/nn/ops.ts.
 */
import { groupsFor } from '../../gpu/kernel.ts';
import {
  wgslWeighted,
  PIXEL_TILE,
  prepareWeighted,
  weightedInput,
  type PreparedDispatch,
  type NnOpKernel,
  type WeightedOpArgs,
} from './common.ts';
import type { TensorDtype } from '../tensor.ts';

/** Input channels staged in workgroup memory per step. */
const CHANNEL_STEP = 4;
/** Output channels per thread (two vec4 accumulators). */
const OUT_BLOCK = 8;
const HALO = PIXEL_TILE + 2;

// Each workgroup stages a (8+2)² halo tile of CHANNEL_STEP input channels and their weights for
// OUT_BLOCK output channels in workgroup memory; every input value read from it then feeds 8 FMAs.
const code = (dtypes: readonly (TensorDtype | undefined)[]) => /* wgsl */ `${wgslWeighted(dtypes)}
const HALO = ${HALO}u;
const STEP = ${CHANNEL_STEP}u;
var<workgroup> tile: array<f32, ${CHANNEL_STEP * HALO * HALO}>;
// [channel][tap][half]: output channels co0..co0+3 and co0+4..co0+7.
var<workgroup> taps: array<vec4f, ${CHANNEL_STEP * 9 * 2}>;

@compute @workgroup_size(${PIXEL_TILE}, ${PIXEL_TILE})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let x0 = wg.x * ${PIXEL_TILE}u;
  let y0 = wg.y * ${PIXEL_TILE}u;
  let co0 = wg.z * ${OUT_BLOCK}u;
  let H = i32(u.inHeight);
  let W = i32(u.inWidth);
  var low = vec4f(0.0);
  var high = vec4f(0.0);
  for (var c0 = 0u; c0 < u.inChannels; c0 += STEP) {
    for (var i = li; i < STEP * HALO * HALO; i += ${PIXEL_TILE * PIXEL_TILE}u) {
      let ci = c0 + i / (HALO * HALO);
      let r = i % (HALO * HALO);
      let sy = i32(y0 + r / HALO) - 1;
      let sx = i32(x0 + r % HALO) - 1;
      var v = 0.0;
      if (ci < u.inChannels && sy >= 0 && sy < H && sx >= 0 && sx < W) {
        v = inputAt(ci, u32(sy) * u.inWidth + u32(sx));
      }
      tile[i] = v;
    }
    for (var i = li; i < STEP * 18u; i += ${PIXEL_TILE * PIXEL_TILE}u) {
      let ci = c0 + i / 18u;
      let tap = (i % 18u) / 2u;
      let first = co0 + (i % 2u) * 4u;
      var w = vec4f(0.0);
      for (var k = 0u; k < 4u; k++) {
        if (ci < u.inChannels && first + k < u.outChannels) {
          w[k] = weight[((first + k) * u.inChannels + ci) * 9u + tap];
        }
      }
      taps[i] = w;
    }
    workgroupBarrier();
    for (var c = 0u; c < STEP; c++) {
      for (var ky = 0u; ky < 3u; ky++) {
        for (var kx = 0u; kx < 3u; kx++) {
          let v = tile[(c * HALO + lid.y + ky) * HALO + lid.x + kx];
          let t = (c * 9u + ky * 3u + kx) * 2u;
          low += v * taps[t];
          high += v * taps[t + 1u];
        }
      }
    }
    workgroupBarrier();
  }
  let x = x0 + lid.x;
  let y = y0 + lid.y;
  if (x < u.outWidth && y < u.outHeight) {
    finish(low, co0, x, y);
    if (co0 + 4u < u.outChannels) { finish(high, co0 + 4u, x, y); }
  }
}
`;

/** The conv3x3 kernel record. */
export const conv3x3Kernel: NnOpKernel = {
  label: 'nn conv3x3',
  getShaderSource: code,
  dispatchSize: (output) => [
    groupsFor(output.width, PIXEL_TILE),
    groupsFor(output.height, PIXEL_TILE),
    groupsFor(output.channels, OUT_BLOCK),
  ],
};

/** Prepares conv3x3: output has the input's height and width and `output.channels` channels. */
export function prepareConv3x3(device: GPUDevice, args: WeightedOpArgs): PreparedDispatch {
  const { output } = args;
  const input = weightedInput(args);
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
