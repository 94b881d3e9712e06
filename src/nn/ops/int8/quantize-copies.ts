/**
 * The network's f32 input (planar CHW) quantized into every int8 tensor it feeds in one pass: one
 * thread per pixel reads the pixel's channels once and writes each copy's words (network v2: the
 * features into `q(features)` and into the features' slice of `q(join)`, each with its own scale).
 * The separate quantize kernel (./quantize.ts) runs once per copy and per word, each thread
 * reading 4 planes and writing one word: on an H100 its two passes took 120 + 118 µs at 1080p,
 * a third of a device copy's rate (docs/PERFORMANCE.md, "Per kernel against the measured peaks").
 * The stores are the features pass's (src/gpu/int8-quantize.ts `wgslInt8Copies`: staged in
 * workgroup memory where a copy is a slice of a wider pixel), the arithmetic `quantizeF32` of
 * src/core/int8.ts, so the words are the separate kernel's bit for bit. Standard layouts only
 * (a padded matrix-kernel input keeps ./quantize.ts); at most MAX_INT8_COPIES copies.
 */
import { shapeString } from '../../../core/tensor.ts';
import { createKernel, groupsFor, type PreparedDispatch } from '../../../gpu/kernel.ts';
import { uniformBlock } from '../../../gpu/uniforms.ts';
import {
  INT8_COPY_FIELDS,
  MAX_INT8_COPIES,
  WGSL_QUANTIZE_F32,
  int8CopyValues,
  stageInt8Copies,
  wgslInt8CopyBindings,
  wgslInt8Copies,
} from '../../../gpu/int8-quantize.ts';
import type { GpuInt8Tensor, GpuTensor } from '../../tensor.ts';
import { INT8_TILE } from './common.ts';
import { checkQuantizeTarget } from './quantize.ts';
import { isPadded } from './padded.ts';

/** One int8 copy of the input: into `output` from channel `outChannelOffset`, at `scale`. */
export interface QuantizeCopy {
  readonly output: GpuInt8Tensor;
  readonly scale: number;
  readonly outChannelOffset: number;
}

// `paddedWidth` / `paddedHeight`: the names wgslInt8Copies reads; here the input's size.
const PARAMS = uniformBlock({ paddedWidth: 'u32', paddedHeight: 'u32', ...INT8_COPY_FIELDS });

const code = (channels: number, copies: number, staged: boolean) => {
  const { arrays, stage, flush } = wgslInt8Copies(copies, channels, INT8_TILE, staged);
  const reads = Array.from(
    { length: channels },
    (_, c) => `  f[${c}] = input[${c}u * plane + p];`,
  ).join('\n');
  return /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> input: array<f32>;
${wgslInt8CopyBindings(2, copies)}
${WGSL_QUANTIZE_F32}
${arrays}

@compute @workgroup_size(${INT8_TILE}, ${INT8_TILE})
fn main(
  @builtin(global_invocation_id) id: vec3u,
  @builtin(local_invocation_index) li: u32,
  @builtin(workgroup_id) wg: vec3u,
) {
  let plane = u.paddedWidth * u.paddedHeight;
  // Threads past the edge read an inside pixel (a staged flush needs every thread) and store none.
  let p = min(id.y, u.paddedHeight - 1u) * u.paddedWidth + min(id.x, u.paddedWidth - 1u);
  var f: array<f32, ${channels}>;
${reads}
${stage}
${flush}
}
`;
};

/**
 * Why `copies` of `input` cannot run as one pass (a padded output, too many copies, none), or
 * undefined where they can.
 */
export function quantizeCopiesRefusal(copies: readonly QuantizeCopy[]): string | undefined {
  if (copies.length === 0) return 'no copies';
  if (copies.length > MAX_INT8_COPIES) {
    return `${copies.length} copies (at most ${MAX_INT8_COPIES} a pass)`;
  }
  const padded = copies.find((q) => isPadded(q.output));
  return padded ? `a padded output (${shapeString(padded.output)})` : undefined;
}

/** Prepares the pass writing every copy of `input` (bind group and uniforms built once). */
export function prepareQuantizeCopies(
  device: GPUDevice,
  input: GpuTensor,
  copies: readonly QuantizeCopy[],
): PreparedDispatch {
  const refusal = quantizeCopiesRefusal(copies);
  if (refusal) throw new RangeError(`int8 quantize copies: ${refusal}`);
  for (const q of copies) {
    checkQuantizeTarget('int8 quantize copies', input, q.output, q.outChannelOffset);
  }
  const staged = stageInt8Copies(copies, input.channels);
  const kernel = createKernel(device, {
    label: `int8 quantize ${copies.length} cop${copies.length === 1 ? 'y' : 'ies'}${staged ? ' staged' : ''}`,
    code: code(input.channels, copies.length, staged),
  });
  const uniforms = PARAMS.pack({
    paddedWidth: input.width,
    paddedHeight: input.height,
    ...int8CopyValues('int8 quantize copies', copies),
  });
  return kernel.prepare(
    [groupsFor(input.width, INT8_TILE), groupsFor(input.height, INT8_TILE), 1],
    [input.buffer, ...copies.map((q) => q.output.buffer)],
    uniforms,
  );
}
