/**
 * The pad pass: copies channels [offset, offset + C) of a standard packed int8 tensor into the
 * same channels of a padded one (./padded.ts), one thread per pixel and word. The matrix path
 * runs it where another pass wrote the network's quantized input in the standard layout (the
 * features pass, `Int8Network.inputQuantizations`); when the network quantizes its input itself
 * it writes the padded layout directly (./quantize.ts). CPU reference: `repackInt8Words`.
 */
import { packedGroups } from '../../../core/int8.ts';
import { shapeString } from '../../../core/tensor.ts';
import { createKernel, groupsFor, type PreparedDispatch } from '../../../gpu/kernel.ts';
import { uniformBlock } from '../../../gpu/uniforms.ts';
import type { GpuInt8Tensor } from '../../tensor.ts';
import { INT8_TILE } from './common.ts';
import { isPadded, type GpuPaddedInt8Tensor } from './padded.ts';

const PARAMS = uniformBlock({
  height: 'u32',
  width: 'u32',
  inGroups: 'u32',
  wordOffset: 'u32',
  words: 'u32',
  outPitch: 'u32',
  outBorder: 'u32',
  outRowPixels: 'u32',
});

const code = /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> input: array<u32>;
@group(0) @binding(2) var<storage, read_write> output: array<u32>;

@compute @workgroup_size(${INT8_TILE}, ${INT8_TILE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x >= u.width || id.y >= u.height || id.z >= u.words) { return; }
  let w = u.wordOffset + id.z;
  let q = (id.y + u.outBorder) * u.outRowPixels + id.x + u.outBorder;
  output[q * u.outPitch + w] = input[(id.y * u.width + id.x) * u.inGroups + w];
}
`;

/** Prepares the copy of channels [offset, offset + channels) of `from` into `to`. */
export function prepareInt8Pad(
  device: GPUDevice,
  from: GpuInt8Tensor,
  to: GpuPaddedInt8Tensor,
  offset = 0,
  channels = from.channels - offset,
): PreparedDispatch {
  const fits =
    from.height === to.height &&
    from.width === to.width &&
    from.channels === to.channels &&
    offset % 4 === 0 &&
    channels > 0 &&
    offset + channels <= from.channels;
  if (!fits || isPadded(from) || !isPadded(to)) {
    throw new RangeError(
      `int8 pad: channels ${offset}…${offset + channels} of ${shapeString(from)} (standard) do not go into ${shapeString(to)} (padded)`,
    );
  }
  const words = packedGroups(offset + channels) - offset / 4;
  const kernel = createKernel(device, { label: 'int8 pad', code });
  const uniforms = PARAMS.pack({
    height: from.height,
    width: from.width,
    inGroups: packedGroups(from.channels),
    wordOffset: offset / 4,
    words,
    outPitch: to.padding.pitchWords,
    outBorder: to.padding.border,
    outRowPixels: to.padding.rowPixels,
  });
  const workgroups: [number, number, number] = [
    groupsFor(from.width, INT8_TILE),
    groupsFor(from.height, INT8_TILE),
    words,
  ];
  return kernel.prepare(workgroups, [from.buffer, to.buffer], uniforms);
}
