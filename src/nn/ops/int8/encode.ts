/**
 * The entry for every INT8 weighted op: its kernel (the tiled conv3x3, or the direct kernel of
 * conv1x1, down2x2 and up2x2) recorded at once or prepared to encode many times.
 */
import type { WeightedOp } from '../../../core/graph.ts';
import type { PreparedDispatch } from '../../../gpu/kernel.ts';
import type { GpuInt8Tensor } from '../../tensor.ts';
import {
  encodeInt8Kernel,
  prepareInt8Kernel,
  type Int8Epilogue,
  type Int8OpTargets,
  type Int8OpWeights,
} from './common.ts';
import { int8Conv3x3Code } from './conv3x3.ts';
import { int8DirectCode } from './direct.ts';

function codeFor(op: WeightedOp): (epilogue: Int8Epilogue) => string {
  return op === 'conv3x3' ? int8Conv3x3Code : int8DirectCode(op);
}

/** Records the INT8 op of `weights` from `input` into `targets`. */
export function encodeInt8Op(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  weights: Int8OpWeights,
  input: GpuInt8Tensor,
  targets: Int8OpTargets,
): void {
  encodeInt8Kernel(device, pass, codeFor(weights.op), weights, input, targets);
}

/** Prepares the INT8 op of `weights` to encode many times (bind group and uniforms built once). */
export function prepareInt8Op(
  device: GPUDevice,
  weights: Int8OpWeights,
  input: GpuInt8Tensor,
  targets: Int8OpTargets,
): PreparedDispatch {
  return prepareInt8Kernel(device, codeFor(weights.op), weights, input, targets);
}
