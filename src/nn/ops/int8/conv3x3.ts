/**
 * INT8 conv3x3 (stride 1, zero padding 1) on WGSL's dot4I8Packed, the portable integer path: int8
 * activations packed 4 channels per word (src/core/int8.ts), int8 weights, int32 accumulation,
 * requantized in the epilogue to the next tensor's int8 grid, or written as f32 for a real output.
 * CPU reference: conv3x3Int8Cpu / conv3x3Int8ToF32Cpu in src/reference/nn/int8-ops.ts.
 */
import { packedGroups } from '../../../core/int8.ts';
import { createKernel, groupsFor } from '../../../gpu/kernel.ts';
import { createStorageBuffer } from '../../../gpu/resources.ts';
import { uniformBlock } from '../../../gpu/uniforms.ts';
import type { Int8OpParams } from '../../../core/int8.ts';
import type { GpuInt8Tensor, GpuTensor } from '../../tensor.ts';
import { activationCode } from '../common.ts';
import { WGSL_REQUANTIZE } from './requantize.ts';

/** Pixel tile edge of a workgroup (8×8 threads, one pixel each). */
const TILE = 8;
const HALO = TILE + 2;
/** Output channels per thread: two packed words. */
const OUT_BLOCK = 8;
/** Input words (4 channels each) staged in workgroup memory per step. */
const GROUP_STEP = 4;

const PARAMS = uniformBlock({
  inGroups: 'u32',
  outChannels: 'u32',
  height: 'u32',
  width: 'u32',
  activation: 'u32',
  multiplier: 'f32',
});

// Each workgroup stages a (8+2)² halo tile of GROUP_STEP input words and the block's weights for
// them in workgroup memory; each thread then runs 9·GROUP_STEP·8 dot4I8Packed per step.
const code = (realOutput: boolean) => /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> input: array<u32>;
@group(0) @binding(2) var<storage, read> weight: array<u32>;
@group(0) @binding(3) var<storage, read> bias: array<i32>;
@group(0) @binding(4) var<storage, read_write> output: array<${realOutput ? 'f32' : 'u32'}>;
${WGSL_REQUANTIZE}
const HALO = ${HALO}u;
const STEP = ${GROUP_STEP}u;
var<workgroup> tile: array<u32, ${GROUP_STEP * HALO * HALO}>;
// [group][tap][k]: output channel co0 + k.
var<workgroup> taps: array<u32, ${GROUP_STEP * 9 * OUT_BLOCK}>;

@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let x0 = wg.x * ${TILE}u;
  let y0 = wg.y * ${TILE}u;
  let co0 = wg.z * ${OUT_BLOCK}u;
  let H = i32(u.height);
  let W = i32(u.width);
  var acc: array<i32, ${OUT_BLOCK}>;
  for (var g0 = 0u; g0 < u.inGroups; g0 += STEP) {
    // Consecutive threads read consecutive words: a pixel's groups, then the next pixel.
    for (var i = li; i < STEP * HALO * HALO; i += ${TILE * TILE}u) {
      let gi = i % STEP;
      let g = g0 + gi;
      let r = i / STEP;
      let sy = i32(y0 + r / HALO) - 1;
      let sx = i32(x0 + r % HALO) - 1;
      var v = 0u;
      if (g < u.inGroups && sy >= 0 && sy < H && sx >= 0 && sx < W) {
        v = input[(u32(sy) * u.width + u32(sx)) * u.inGroups + g];
      }
      tile[gi * HALO * HALO + r] = v;
    }
    for (var i = li; i < STEP * 9u * ${OUT_BLOCK}u; i += ${TILE * TILE}u) {
      let g = g0 + i / (9u * ${OUT_BLOCK}u);
      let tap = (i / ${OUT_BLOCK}u) % 9u;
      let co = co0 + i % ${OUT_BLOCK}u;
      var w = 0u;
      if (g < u.inGroups && co < u.outChannels) { w = weight[(co * u.inGroups + g) * 9u + tap]; }
      taps[i] = w;
    }
    workgroupBarrier();
    for (var g = 0u; g < STEP; g++) {
      for (var ky = 0u; ky < 3u; ky++) {
        for (var kx = 0u; kx < 3u; kx++) {
          let v = tile[(g * HALO + lid.y + ky) * HALO + lid.x + kx];
          let t = (g * 9u + ky * 3u + kx) * ${OUT_BLOCK}u;
          for (var k = 0u; k < ${OUT_BLOCK}u; k++) { acc[k] += dot4I8Packed(v, taps[t + k]); }
        }
      }
    }
    workgroupBarrier();
  }
  let x = x0 + lid.x;
  let y = y0 + lid.y;
  if (x >= u.width || y >= u.height) { return; }
  let plane = u.height * u.width;
  let p = y * u.width + x;
  let outGroups = (u.outChannels + 3u) / 4u;
  ${realOutput ? REAL_EPILOGUE : PACKED_EPILOGUE}
}
`;

// One f32 plane per output channel.
const REAL_EPILOGUE = /* wgsl */ `
  for (var k = 0u; k < ${OUT_BLOCK}u; k++) {
    let co = co0 + k;
    if (co < u.outChannels) {
      output[co * plane + p] = dequantize(acc[k] + bias[co], u.multiplier, u.activation);
    }
  }`;

// Packed words, pixel-major; channels past outChannels are zero (their accumulator and bias are).
const PACKED_EPILOGUE = /* wgsl */ `
  for (var j = 0u; j < ${OUT_BLOCK / 4}u; j++) {
    let word = co0 / 4u + j;
    if (word * 4u < u.outChannels) {
      var q = vec4i(0);
      for (var k = 0u; k < 4u; k++) {
        let co = co0 + j * 4u + k;
        let b = select(0, bias[min(co, u.outChannels - 1u)], co < u.outChannels);
        q[k] = requantize(acc[j * 4u + k] + b, u.multiplier, u.activation);
      }
      output[p * outGroups + word] = pack4xI8(q);
    }
  }`;

/** Weights of an INT8 conv3x3 on the GPU: packed [Cout][inGroups][9] words, bias, multiplier. */
export interface Int8Conv3x3Weights {
  readonly weight: GPUBuffer;
  readonly bias: GPUBuffer;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly multiplier: number;
  readonly activation: Int8OpParams['activation'];
}

/** Packs an op's int8 weight [Cout][Cin][3][3] into words of 4 input channels per tap. */
export function packConv3x3Weight(weight: Int8Array, outChannels: number, inChannels: number) {
  const groups = packedGroups(inChannels);
  const words = new Uint32Array(outChannels * groups * 9);
  for (let co = 0; co < outChannels; co++) {
    for (let ci = 0; ci < inChannels; ci++) {
      for (let tap = 0; tap < 9; tap++) {
        const byte = weight[(co * inChannels + ci) * 9 + tap]! & 0xff;
        words[(co * groups + (ci >> 2)) * 9 + tap]! |= byte << ((ci % 4) * 8);
      }
    }
  }
  return words;
}

/** Uploads an op's integer parameters (`inChannels` input channels). */
export function uploadInt8Conv3x3(
  device: GPUDevice,
  params: Int8OpParams,
  inChannels: number,
  label = 'int8 conv3x3',
): Int8Conv3x3Weights {
  const outChannels = params.bias.length;
  const packed = packConv3x3Weight(params.weight, outChannels, inChannels);
  return {
    weight: createStorageBuffer(device, packed, GPUBufferUsage.STORAGE, `${label} weight`),
    bias: createStorageBuffer(device, params.bias, GPUBufferUsage.STORAGE, `${label} bias`),
    inChannels,
    outChannels,
    multiplier: params.multiplier,
    activation: params.activation,
  };
}

/**
 * Records an INT8 conv3x3 of `input` into `output`: a packed int8 tensor (requantized with the
 * weights' multiplier) or an f32 tensor (real output).
 */
export function encodeInt8Conv3x3(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  input: GpuInt8Tensor,
  weights: Int8Conv3x3Weights,
  output: GpuInt8Tensor | GpuTensor,
): void {
  const { height, width } = input;
  if (input.channels !== weights.inChannels) {
    throw new RangeError(
      `int8 conv3x3: input has ${input.channels} channels, the weights ${weights.inChannels}`,
    );
  }
  if (
    output.height !== height ||
    output.width !== width ||
    output.channels !== weights.outChannels
  ) {
    throw new RangeError(
      `int8 conv3x3: output is ${output.channels}x${output.height}x${output.width}, want ${weights.outChannels}x${height}x${width}`,
    );
  }
  const realOutput = !('packed' in output);
  createKernel(device, {
    label: realOutput ? 'int8 conv3x3 to f32' : 'int8 conv3x3',
    code: code(realOutput),
  }).dispatch(
    pass,
    [groupsFor(width, TILE), groupsFor(height, TILE), groupsFor(weights.outChannels, OUT_BLOCK)],
    [input.buffer, weights.weight, weights.bias, output.buffer],
    PARAMS.pack({
      inGroups: packedGroups(input.channels),
      outChannels: weights.outChannels,
      height,
      width,
      activation: activationCode(weights.activation),
      multiplier: weights.multiplier,
    }),
  );
}
