/**
 * The entry for every INT8 weighted op: its kernel — the dot4I8Packed kernels (the tiled conv3x3,
 * or the direct kernel of conv1x1, down2x2 and up2x2), or, given the op's matrix weights, the
 * implicit GEMM on subgroup matrices (./matrix.ts), which reads a padded input (./padded.ts), or a
 * kernel computing its input's producer itself (a direct consumer, part of its input:
 * ./producer-in-consumer.ts; a conv3x3, all of it in its halo: ./producer-in-halo.ts) — recorded
 * at once or prepared to encode many times.
 */
import { packedGroups } from '../../../core/int8.ts';
import type { PreparedDispatch } from '../../../gpu/kernel.ts';
import type { GpuInt8Tensor } from '../../tensor.ts';
import {
  encodeInt8Kernel,
  int8GroupStep,
  prepareInt8Kernel,
  type Int8KernelRecipe,
  type Int8OpTargets,
  type Int8OpWeights,
} from './common.ts';
import { conv3x3Tile, int8Conv3x3Code } from './conv3x3.ts';
import { DIRECT_TILE, int8DirectCode, PADDED_OUTPUT_PARAMS } from './direct.ts';
import { directRowsTile, int8DirectRowsCode } from './direct-rows.ts';
import { directSplitApplies, int8DirectSplitCode } from './direct-split.ts';
import { int8MatrixRecipe, type Int8MatrixWeights } from './matrix.ts';
import { int8Layout, isPadded } from './padded.ts';
import { int8ProducerInConsumerRecipe, type Int8Producer } from './producer-in-consumer.ts';
import { int8ProducerInHaloRecipe } from './producer-in-halo.ts';

function recipeFor(
  weights: Int8OpWeights,
  input: GpuInt8Tensor,
  targets: Int8OpTargets,
  matrix?: Int8MatrixWeights,
  producer?: Int8Producer,
): Int8KernelRecipe {
  const op = weights.op;
  if (matrix && producer) {
    throw new RangeError(`int8 ${op}: a matrix kernel does not compute its input's producer`);
  }
  if (matrix) {
    if (matrix.geometry.op !== op) {
      throw new RangeError(`int8 ${op}: matrix weights are for ${matrix.geometry.op}`);
    }
    return int8MatrixRecipe(matrix);
  }
  // The dot4I8Packed kernels read the standard layout; the direct ones (conv1x1, down2x2, up2x2)
  // also write a padded output for a matrix kernel to read ('mixed' kernels).
  const { output, residual } = targets;
  const paddedOutput = 'packed' in output && isPadded(output);
  if (isPadded(input) || (residual && isPadded(residual))) {
    throw new RangeError(
      `int8 ${op}: the dot4I8Packed kernel reads the standard layout, not padded tensors (those are the matrix kernels')`,
    );
  }
  if (paddedOutput && (op === 'conv3x3' || residual)) {
    throw new RangeError(
      `int8 ${op}: the dot4I8Packed kernel writes a padded output only from conv1x1, down2x2 or up2x2 without a residual`,
    );
  }
  if (producer) {
    return op === 'conv3x3'
      ? int8ProducerInHaloRecipe(weights, input, targets, producer)
      : int8ProducerInConsumerRecipe(weights, input, targets, producer, paddedOutput);
  }
  const words = packedGroups(weights.inChannels);
  if (op === 'conv3x3') {
    const bisect = weights.conv3x3Bisect;
    // Stride 1: as many output pixels as input pixels.
    const tile = conv3x3Tile(input.width, input.height, weights.conv3x3LargeTileFrom);
    return {
      ...(bisect ? { name: bisect } : {}),
      code: int8Conv3x3Code(int8GroupStep(words), tile, bisect),
      vectorStores: true,
      tile,
    };
  }
  if (!paddedOutput && weights.directSplit !== undefined) {
    const split = weights.directSplit;
    if (weights.directBisect || weights.directRows !== undefined) {
      throw new RangeError(
        `int8 ${op}: directSplit ${split} runs without directBisect or directRows`,
      );
    }
    // Where the block has unused channels, the op keeps the standard kernel.
    if (directSplitApplies(weights.outChannels)) {
      return {
        name: `split ${split}`,
        code: int8DirectSplitCode(op, words, split),
        vectorStores: true,
        tile: DIRECT_TILE,
      };
    }
  }
  if (!paddedOutput && weights.directRows !== undefined) {
    const rows = weights.directRows;
    if (weights.directBisect) {
      // The rows kernel has no bisection: timing it with one asked for would time the whole kernel.
      throw new RangeError(
        `int8 ${op}: directBisect (${weights.directBisect}) does not apply to directRows ${rows}`,
      );
    }
    return {
      name: `rows ${rows}`,
      code: int8DirectRowsCode(op, words, rows),
      vectorStores: true,
      tile: directRowsTile(rows),
    };
  }
  if (!paddedOutput) {
    const bisect = weights.directBisect;
    return {
      ...(bisect ? { name: bisect } : {}),
      code: int8DirectCode(op, words, false, bisect),
      vectorStores: true,
      tile: DIRECT_TILE,
    };
  }
  const layout = int8Layout(output);
  return {
    name: 'to padded',
    code: int8DirectCode(op, words, true),
    vectorStores: true,
    tile: DIRECT_TILE,
    uniforms: (values) =>
      PADDED_OUTPUT_PARAMS.pack({
        ...values,
        outGroups: layout.pitchWords,
        outBorder: layout.border,
        outRowPixels: layout.rowPixels,
      }),
  };
}

/**
 * Records the INT8 op of `weights` from `input` into `targets` (on matrices with `matrix`; with
 * `producer`, computing that producer's part of its input).
 */
export function encodeInt8Op(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  weights: Int8OpWeights,
  input: GpuInt8Tensor,
  targets: Int8OpTargets,
  matrix?: Int8MatrixWeights,
  producer?: Int8Producer,
): void {
  encodeInt8Kernel(
    device,
    pass,
    recipeFor(weights, input, targets, matrix, producer),
    weights,
    input,
    targets,
  );
}

/**
 * Prepares the INT8 op of `weights` to encode many times (bind group and uniforms built once); with
 * `producer`, a direct op computing that producer's part of its input (./producer-in-consumer.ts).
 */
export function prepareInt8Op(
  device: GPUDevice,
  weights: Int8OpWeights,
  input: GpuInt8Tensor,
  targets: Int8OpTargets,
  matrix?: Int8MatrixWeights,
  producer?: Int8Producer,
): PreparedDispatch {
  return prepareInt8Kernel(
    device,
    recipeFor(weights, input, targets, matrix, producer),
    weights,
    input,
    targets,
  );
}
