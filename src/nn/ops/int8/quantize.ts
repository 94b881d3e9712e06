/**
 * Quantization of an f32 tensor (planar CHW, the network's input) into a channel range of a
 * packed int8 tensor, standard or padded (./padded.ts): one thread per pixel and output word. The arithmetic is `quantizeF32` of
 * src/core/int8.ts (reciprocal multiply, ties to even, clamp; non-finite values give 0).
 */
import { packedGroups } from '../../../core/int8.ts';
import { shapeString, type TensorShape } from '../../../core/tensor.ts';
import { createKernel, groupsFor, type PreparedDispatch } from '../../../gpu/kernel.ts';
import { uniformBlock } from '../../../gpu/uniforms.ts';
import type { GpuInt8Tensor, GpuTensor } from '../../tensor.ts';
import { INT8_TILE } from './common.ts';
import { int8Layout } from './padded.ts';
import { WGSL_QUANTIZE_F32 } from '../../../gpu/int8-quantize.ts';

const PARAMS = uniformBlock({
  channels: 'u32',
  height: 'u32',
  width: 'u32',
  outGroups: 'u32',
  outGroupOffset: 'u32',
  inverseScale: 'f32',
  outBorder: 'u32',
  outRowPixels: 'u32',
});

export { WGSL_QUANTIZE_F32 };

const code = /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<u32>;

${WGSL_QUANTIZE_F32}

@compute @workgroup_size(${INT8_TILE}, ${INT8_TILE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x >= u.width || id.y >= u.height) { return; }
  let plane = u.height * u.width;
  let p = id.y * u.width + id.x;
  let g = id.z;
  var q = vec4i(0);
  for (var k = 0u; k < 4u; k++) {
    let c = g * 4u + k;
    if (c < u.channels) { q[k] = quantizeF32(input[c * plane + p], u.inverseScale); }
  }
  // The output's pixel in its layout (standard, or padded for the matrix kernels: ./padded.ts).
  let o = (id.y + u.outBorder) * u.outRowPixels + id.x + u.outBorder;
  output[o * u.outGroups + u.outGroupOffset + g] = pack4xI8(q);
}
`;

/**
 * Throws unless channels [offset, offset + C) of `output` can hold `input` (C×H×W): same size, the
 * offset a multiple of 4 (a word boundary).
 */
export function checkQuantizeTarget(
  what: string,
  input: TensorShape,
  output: GpuInt8Tensor,
  offset: number,
): void {
  if (
    input.height !== output.height ||
    input.width !== output.width ||
    output.channels < offset + input.channels ||
    offset % 4 !== 0
  ) {
    throw new RangeError(
      `${what}: ${shapeString(input)} does not fit ${shapeString(output)} at channel ${offset}`,
    );
  }
}

/** The quantize kernel, workgroups, buffers and uniforms, after the checks. */
function quantizeDispatch(
  device: GPUDevice,
  input: GpuTensor,
  scale: number,
  output: GpuInt8Tensor,
  outChannelOffset: number,
) {
  checkQuantizeTarget('int8 quantize', input, output, outChannelOffset);
  const kernel = createKernel(device, { label: 'int8 quantize', code });
  const workgroups: [number, number, number] = [
    groupsFor(input.width, INT8_TILE),
    groupsFor(input.height, INT8_TILE),
    packedGroups(input.channels),
  ];
  const layout = int8Layout(output);
  const uniforms = PARAMS.pack({
    channels: input.channels,
    height: input.height,
    width: input.width,
    outGroups: layout.pitchWords,
    outGroupOffset: outChannelOffset / 4,
    inverseScale: Math.fround(1 / scale),
    outBorder: layout.border,
    outRowPixels: layout.rowPixels,
  });
  return { kernel, workgroups, buffers: [input.buffer, output.buffer], uniforms };
}

/** Records the quantization of `input` into channels [offset, offset + C) of `output`. */
export function encodeQuantizeInt8(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  input: GpuTensor,
  scale: number,
  output: GpuInt8Tensor,
  outChannelOffset = 0,
): void {
  const d = quantizeDispatch(device, input, scale, output, outChannelOffset);
  d.kernel.dispatch(pass, d.workgroups, d.buffers, d.uniforms);
}

/** Prepares the quantization to encode many times (bind group and uniforms built once). */
export function prepareQuantizeInt8(
  device: GPUDevice,
  input: GpuTensor,
  scale: number,
  output: GpuInt8Tensor,
  outChannelOffset = 0,
): PreparedDispatch {
  const d = quantizeDispatch(device, input, scale, output, outChannelOffset);
  return d.kernel.prepare(d.workgroups, d.buffers, d.uniforms);
}
