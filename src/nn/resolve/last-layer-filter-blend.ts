/**
 * The INT8 network's last layer with the KPN filter + blend as its epilogue (inference): where the
 * last step is an op whose dot4I8Packed kernel gives each thread all output channels of its pixel
 * (network v3's transposed 2×2 conv `up2x2`, a 1×1 conv, or network v2's 3×3 head on the tiled
 * conv3x3 kernel), each thread already holds all 9 output channels of its display pixel (one
 * block of 12). Instead of writing them as the raw output's 9 f32 planes for the filter + blend
 * pass to read back (36 + 36 bytes a display pixel), it dequantizes them into registers and runs
 * that pass's per-pixel function (wgslFilterBlendPixel: the same WGSL_KPN_WINDOW, WGSL_RECTIFY
 * and WGSL_FRAME code), writing the new history and state. Threads of the padding (beyond the
 * display size) write nothing. One pass less, and the raw output is never written nor read. On a
 * direct kernel the workgroup's render colors are staged in workgroup memory first
 * (STAGED_COLOR_SOURCE); the conv3x3 reads them from the buffer.
 *
 * Not fused (the frame keeps the last op to f32, then ./filter-blend.ts): the subgroup-matrix
 * kernels, whose epilogue runs word by word (4 channels per call, spread over the workgroup's
 * threads), so no thread holds a pixel's 9 outputs. For v2's head, whether the filter's window
 * walk in the tiled kernel's epilogue costs it occupancy worth more than the 72 B/dpx it saves is
 * what the benchmark's `+filter-blend-pass` case of v2 measures (docs/PERFORMANCE.md).
 *
 * Uniforms: one block at @binding(0), INT8_PARAMS' fields followed by FILTER_BLEND_FIELDS (the
 * frame's sizes, jitter, ratio and reset); the frame's fields change every frame, so the step is
 * dispatched per frame (a bind group per frame, as the filter + blend pass is), not prepared.
 * CPU reference: `runInt8NetworkCpu` then `kpnFilterBlendCpu` (src/reference/nn/), and on the GPU
 * the two passes it replaces, bit for bit (test/nn-frame-last-layer-filter-blend.test.ts).
 *
 * Given the frame's output targets it also writes the output (the output pass without sharpening,
 * src/gpu/passes/output.ts `wgslFoldedOutput`): 7 storage buffers, the output image the 8th (the
 * default maxStorageBuffersPerShaderStage), the output texture a storage texture and the exposure
 * a uniform. Where network v2's conv3x3 head computes its input in its halo (`Int8LastStep.producer`:
 * `mix` and its `up0`, ../ops/int8/producer-in-halo.ts), it binds the producers' input at @binding(1)
 * and their weights and `dec1` after the frame's, 13 storage buffers: the network plans that only
 * where the device allows as many (`producersInConsumers`' maxStorageBuffers).
 */
import type { WeightedOp } from '../../core/graph.ts';
import type { Int8OpStep, Int8Plan } from '../../core/int8-plan.ts';
import { RAW_CHANNELS, paddedSize } from '../../core/neural-frame.ts';
import { packedGroups } from '../../core/int8.ts';
import { createKernel } from '../../gpu/kernel.ts';
import { formatOf, type ImageFormat } from '../../gpu/gpu-image.ts';
import { uniformBlock } from '../../gpu/uniforms.ts';
import { WGSL_COMMON } from '../../gpu/wgsl.ts';
import {
  PIXEL_EPILOGUE_OPS,
  lastStepEpilogueRefusal,
  type Int8Kernels,
  type Int8LastStep,
} from '../int8-network.ts';
import {
  INT8_PARAMS,
  int8OutBlock,
  int8UniformValues,
  tileWorkgroups,
  wgslInt8OpInputs,
  type Int8OutBlock,
  type Int8Tile,
} from '../ops/int8/common.ts';
import { conv3x3Tile, int8Conv3x3CodeWithEpilogue } from '../ops/int8/conv3x3.ts';
import { DIRECT_TILE, int8DirectCodeWithEpilogue, type DirectOp } from '../ops/int8/direct.ts';
import { WGSL_REQUANTIZE } from '../ops/int8/requantize.ts';
import {
  haloBuffers,
  haloLabel,
  haloProducersOf,
  haloUniformValues,
  haloUniforms,
  producerHaloSource,
  type HaloProducers,
} from '../ops/int8/producer-in-halo.ts';
import {
  FILTER_BLEND_FIELDS,
  filterBlendResources,
  type FilterBlendBisect,
  wgslFilterBlendBindings,
  wgslFilterBlendPixel,
  filterBlendUniforms,
  type FilterBlendInputs,
  type FilterBlendTargets,
} from './filter-blend.ts';

/** The timer label of the fused step (the frame's `nn filter + blend` is inside it). */
export const LAST_LAYER_FILTER_BLEND_LABEL = 'nn last layer + filter + blend';

const PARAMS = uniformBlock({ ...INT8_PARAMS.fields, ...FILTER_BLEND_FIELDS });

/**
 * Why the last step of `plan` on `kernels` cannot run the filter + blend in its epilogue, or
 * undefined where it can (`lastStepEpilogueRefusal`, and the frame's RAW_CHANNELS outputs).
 */
export function lastLayerFilterBlendRefusal(
  plan: Int8Plan,
  kernels: Int8Kernels,
): string | undefined {
  const refusal = lastStepEpilogueRefusal(plan, kernels);
  if (refusal !== undefined) return refusal;
  const channels = plan.outputChannels;
  if (channels !== RAW_CHANNELS) {
    return `the last step writes ${channels} channels, not ${RAW_CHANNELS}`;
  }
  return undefined;
}

/**
 * The tile of the last step's kernel for display size `display` (the tiled conv3x3's by its
 * padded output size, `conv3x3Tile`; the direct kernels' DIRECT_TILE).
 */
export function lastLayerTile(
  op: WeightedOp,
  display: readonly [number, number],
  conv3x3LargeTileFrom?: number,
): Int8Tile {
  const [pw, ph] = paddedSize(display);
  return op === 'conv3x3' ? conv3x3Tile(pw, ph, conv3x3LargeTileFrom) : DIRECT_TILE;
}

/**
 * The first binding of the halo producers' buffers: after the int8 op's three and the filter +
 * blend's (four, and three more for the output).
 */
const haloBinding = (outputTexture: GPUTextureFormat | undefined) =>
  4 + 4 + (outputTexture ? 3 : 0);

/**
 * The kernel of `op` with `header` as its epilogue: the tiled conv3x3 (computing its input in its
 * halo with `halo`) or a direct kernel.
 */
const kernelCode = (
  op: WeightedOp,
  words: number,
  block: Int8OutBlock,
  channels: number,
  header: string,
  tile: Int8Tile,
  halo: { producers: HaloProducers; binding: number } | undefined,
) =>
  op === 'conv3x3'
    ? int8Conv3x3CodeWithEpilogue(
        words,
        block,
        channels,
        header,
        tile,
        halo && producerHaloSource(halo.producers, halo.binding, tile),
      )
    : int8DirectCodeWithEpilogue(op as DirectOp, words, block, channels, header);

/** The uniform block: PARAMS, and the halo producers' fields after them. */
const paramsOf = (halo: HaloProducers | undefined) =>
  halo ? haloUniforms(PARAMS.fields, halo) : PARAMS;

const code = (
  op: WeightedOp,
  words: number,
  block: Int8OutBlock,
  channels: number,
  input: ImageFormat,
  output: ImageFormat,
  outputTexture: GPUTextureFormat | undefined,
  tile: Int8Tile,
  halo: HaloProducers | undefined,
  bisect: FilterBlendBisect | undefined,
) =>
  kernelCode(
    op,
    words,
    block,
    channels,
    /* wgsl */ `
${paramsOf(halo).wgsl}
${wgslInt8OpInputs()}
${wgslFilterBlendBindings(4, input, output, outputTexture)}
${WGSL_REQUANTIZE}
${WGSL_COMMON}

// The pixel's raw outputs, dequantized as the f32 epilogue writes them (same function, same
// accumulator): the values the filter + blend pass would read back from the raw planes.
var<private> rawPixel: array<f32, ${RAW_CHANNELS}>;

fn rawAt(k: u32, p: vec2u) -> f32 {
  return rawPixel[k];
}

${wgslFilterBlendPixel(outputTexture !== undefined, bisect)}

// co0 is 0: one block holds every output channel.
fn finish(acc: array<i32, ${block}>, co0: u32, p: u32) {
  let x = p % u.outWidth;
  let y = p / u.outWidth;
  if (x >= u.width || y >= u.height) { return; }
  for (var k = 0u; k < ${RAW_CHANNELS}u; k++) {
    rawPixel[k] = dequantize(acc[k] + bias[k], u.multiplier, u.activation);
  }
  filterBlendPixel(vec2u(x, y), y * u.width + x);
}
`,
    tile,
    halo && { producers: halo, binding: haloBinding(outputTexture) },
  );

/**
 * The kernel of the last step `step` (an op of PIXEL_EPILOGUE_OPS) on `tile` (`lastLayerTile`)
 * with the filter + blend epilogue, for a reprojected history in `input` and targets in `output`;
 * with `outputTexture`, the one that also writes the frame's output to a texture of that format;
 * with `halo`, a conv3x3 computing its input in its halo (`Int8LastStep.producer`).
 */
export function lastLayerFilterBlendKernel(
  step: Pick<Int8OpStep, 'op' | 'inChannels' | 'params'>,
  tile: Int8Tile,
  input: ImageFormat,
  output: ImageFormat,
  outputTexture?: GPUTextureFormat,
  halo?: HaloProducers,
  bisect?: FilterBlendBisect,
): { label: string; code: string } {
  // Built once per step and variant: the frame asks for it every frame (its WGSL, with a halo's
  // producers, is long to generate).
  const variants = kernelsOf.get(step) ?? new Map<string, { label: string; code: string }>();
  kernelsOf.set(step, variants);
  const key = JSON.stringify([tile, input, output, outputTexture, halo, bisect]);
  const known = variants.get(key);
  if (known) return known;
  const channels = step.params.bias.length;
  const block = int8OutBlock(channels);
  const op = step.op;
  const computing = halo ? ` ${haloLabel(halo.producer.op, halo.inner?.pixel.op)}` : '';
  const kernel = {
    label: `int8 ${op}${computing} + filter + blend${outputTexture ? ` + output ${outputTexture}` : ''} block ${block}${bisect ? ` (${bisect})` : ''}`,
    code: code(
      op,
      packedGroups(step.inChannels),
      block,
      channels,
      input,
      output,
      outputTexture,
      tile,
      halo,
      bisect,
    ),
  };
  variants.set(key, kernel);
  return kernel;
}

/** The kernels lastLayerFilterBlendKernel built, by step, then by variant. */
const kernelsOf = new WeakMap<object, Map<string, { label: string; code: string }>>();

/**
 * Records the last step of an INT8 network (`network.lastStep`, after `runWithoutLastStep`)
 * with the filter + blend epilogue into `pass`.
 */
export function encodeLastLayerFilterBlend(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  last: Int8LastStep,
  inputs: FilterBlendInputs,
  targets: FilterBlendTargets,
): void {
  const { step, weights, input, producer } = last;
  const where = `int8 ${step.node} + filter + blend`;
  if (!PIXEL_EPILOGUE_OPS.includes(step.op) || !step.realOutput) {
    throw new RangeError(
      `${where}: the last step must be ${PIXEL_EPILOGUE_OPS.join(' or ')} to the raw output`,
    );
  }
  const frame = filterBlendUniforms(where, inputs, targets);
  const display = [frame.width as number, frame.height as number] as const;
  const [pw, ph] = paddedSize(display);
  const tile = lastLayerTile(step.op, display, weights.conv3x3LargeTileFrom);
  const frameResources = filterBlendResources(where, inputs, targets, display);
  const shape = { channels: RAW_CHANNELS, height: ph, width: pw };
  // Checks the input against the weights and the padded display size (the raw output's shape).
  const int8 = int8UniformValues(weights, input, { output: shape });
  const halo = producer && haloProducersOf(producer);
  const haloValues = producer ? haloUniformValues(where, input, producer) : {};
  const kernel = createKernel(
    device,
    lastLayerFilterBlendKernel(
      step,
      tile,
      formatOf(inputs.history),
      formatOf(targets.history),
      targets.output?.texture.format,
      halo,
      inputs.bisect,
    ),
  );
  kernel.dispatch(
    pass,
    tileWorkgroups(tile, pw, ph),
    [
      // In a halo, the producer's input where the step's own would be (producer-in-halo.ts).
      producer ? producer.input.buffer : input.buffer,
      weights.weightBuffer,
      weights.biasBuffer,
      ...frameResources,
      ...(producer ? haloBuffers(producer) : []),
    ],
    paramsOf(halo).pack({ ...int8, ...frame, ...haloValues }),
  );
}
