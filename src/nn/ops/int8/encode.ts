/** One entry for every INT8 weighted op: the tiled conv3x3 kernel or the direct one. */
import type { PreparedDispatch } from '../../../gpu/kernel.ts';
import type { GpuInt8Tensor } from '../../tensor.ts';
import type { Int8OpTargets, Int8OpWeights } from './common.ts';
import { encodeInt8Conv3x3, prepareInt8Conv3x3 } from './conv3x3.ts';
import { encodeInt8Direct, prepareInt8Direct } from './direct.ts';

/** Records the INT8 op of `weights` from `input` into `targets`. */
export function encodeInt8Op(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  weights: Int8OpWeights,
  input: GpuInt8Tensor,
  targets: Int8OpTargets,
): void {
  const encode = weights.op === 'conv3x3' ? encodeInt8Conv3x3 : encodeInt8Direct;
  encode(device, pass, weights, input, targets);
}

/** Prepares the INT8 op of `weights` to encode many times. */
export function prepareInt8Op(
  device: GPUDevice,
  weights: Int8OpWeights,
  input: GpuInt8Tensor,
  targets: Int8OpTargets,
): PreparedDispatch {
  const prepare = weights.op === 'conv3x3' ? prepareInt8Conv3x3 : prepareInt8Direct;
  return prepare(device, weights, input, targets);
}
