/**
 * conv3x3 forward (stride 1, zero padding 1, weight [Cout][Cin][3][3], bias [Cout], fused
 * activation). CPU reference: conv3x3Cpu in src/reference/nn/ops.ts.
 */
import type { PreparedDispatch } from '../../gpu/kernel.ts';
import {
  blockedKernels,
  wgslWeighted,
  PIXEL_TILE,
  prepareWeighted,
  weightedInput,
  type NnOpKernel,
  type OutputBlock,
  type WeightedOpArgs,
} from './common.ts';
import type { TensorDtype } from '../tensor.ts';

/** Input channels staged in workgroup memory per step. */
const CHANNEL_STEP = 4;
const HALO = PIXEL_TILE + 2;

/** Output channels per thread: 4, 8 or 12 (one, two or three vec4 accumulators). */
export type Conv3x3Block = OutputBlock;

/**
 * Output channels per thread: 8 (two vec4 accumulators), or 12 (three) where that wastes fewer
 * lanes — network v2's 9-channel head ran two blocks of 8, 16 channels of arithmetic for 9
 * outputs, and staged its input tile twice; one block of 12 does it in one pass. Up to 4 outputs
 * (the frame generator's 4-logit head at display size) take one vec4: a block of 8 did twice the
 * arithmetic, half of it on zero weights.
 */
export function conv3x3OutBlock(outChannels: number): Conv3x3Block {
  if (outChannels <= 4) return 4;
  return Math.ceil(outChannels / 12) * 12 < Math.ceil(outChannels / 8) * 8 ? 12 : 8;
}

// Each workgroup stages a (8+2)² halo tile of CHANNEL_STEP input channels and their weights for
// the block's output channels in workgroup memory; every input value read from it then feeds 4, 8
// or 12 FMAs.
/**
 * WGSL of conv3x3's entry point with `epilogue` after the accumulation: it runs in every thread
 * (after the last barrier) with `x`, `y` (the output pixel, possibly beyond the output), `co0`
 * (the block's first output channel) and `acc` (block / 4 vec4 sums, bias not added) in scope.
 * Needs `u.inChannels`, `u.inHeight`, `u.inWidth`, `u.outChannels`, `inputAt(ci, p)` and
 * `weight` ([Cout][Cin][3][3]). Shared by the op and by kernels that consume a conv's output in
 * registers (the frame generator's head + blend).
 */
export function wgslConv3x3Main(block: Conv3x3Block, epilogue: string): string {
  const quads = block / 4;
  return /* wgsl */ `
const HALO = ${HALO}u;
const STEP = ${CHANNEL_STEP}u;
const QUADS = ${quads}u;
var<workgroup> tile: array<f32, ${CHANNEL_STEP * HALO * HALO}>;
// [channel][tap][quad]: output channels co0 + 4·quad … co0 + 4·quad + 3.
var<workgroup> taps: array<vec4f, ${CHANNEL_STEP * 9 * quads}>;

@compute @workgroup_size(${PIXEL_TILE}, ${PIXEL_TILE})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let x0 = wg.x * ${PIXEL_TILE}u;
  let y0 = wg.y * ${PIXEL_TILE}u;
  let co0 = wg.z * ${block}u;
  let H = i32(u.inHeight);
  let W = i32(u.inWidth);
  var acc: array<vec4f, ${quads}>;
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
    for (var i = li; i < STEP * 9u * QUADS; i += ${PIXEL_TILE * PIXEL_TILE}u) {
      let ci = c0 + i / (9u * QUADS);
      let tap = (i % (9u * QUADS)) / QUADS;
      let first = co0 + (i % QUADS) * 4u;
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
          let t = (c * 9u + ky * 3u + kx) * QUADS;
          for (var q = 0u; q < QUADS; q++) { acc[q] += v * taps[t + q]; }
        }
      }
    }
    workgroupBarrier();
  }
  let x = x0 + lid.x;
  let y = y0 + lid.y;
${epilogue}
}
`;
}

const code =
  (block: Conv3x3Block) =>
  (dtypes: readonly (TensorDtype | undefined)[]) => /* wgsl */ `${wgslWeighted(dtypes)}
${wgslConv3x3Main(
  block,
  /* wgsl */ `  if (x < u.outWidth && y < u.outHeight) {
    for (var q = 0u; q < QUADS; q++) {
      if (co0 + q * 4u < u.outChannels) { finish(acc[q], co0 + q * 4u, x, y); }
    }
  }`,
)}`;

const KERNELS = blockedKernels('conv3x3', 8, code);

/** The conv3x3 kernel record with blocks of 8 output channels (most layers). */
export const conv3x3Kernel: NnOpKernel = KERNELS[8];

/** The conv3x3 kernel record for an output of `outChannels` channels (conv3x3OutBlock). */
export function conv3x3KernelFor(outChannels: number): NnOpKernel {
  return KERNELS[conv3x3OutBlock(outChannels)];
}

/** Prepares conv3x3: output has the input's height and width and `output.channels` channels. */
export function prepareConv3x3(device: GPUDevice, args: WeightedOpArgs): PreparedDispatch {
  const { output } = args;
  const input = weightedInput(args);
  const outShape = { channels: output.channels, height: input.height, width: input.width };
  return prepareWeighted(
    device,
    conv3x3KernelFor(output.channels),
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
