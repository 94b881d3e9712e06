/**
 * The features pass and the INT8 network's first layer in one kernel (inference): where the first
 * step is a direct op reading the quantized features alone (network v3's 2×2 stride-2 conv
 * `down1`, 12 → 16 channels), each of its threads computes the features of the display pixels it
 * reads (2×2 for down2x2) with the features pass's own function (`pixelFeatures`), quantizes them
 * to packed int8 words as that pass writes its int8 copy (`wgslFeatureWord`), and accumulates them
 * with the first layer's weights (the direct dot4I8Packed kernel, ./ops/int8/direct.ts, with the
 * requantizing epilogue of ./ops/int8/common.ts). The features are never written nor read back:
 * 12 + 12 bytes a display pixel less, and one pass less.
 *
 * The padding (display size up to multiples of 8, `paddedSize`) has zero features, as the
 * features pass writes there. Not fused (the frame keeps the features pass and the first layer):
 * the subgroup-matrix kernels, networks whose quantized features something else reads too
 * (network v3b's full-resolution concat), first layers other than down2x2 / conv1x1, and frames
 * that keep the f32 features (debug views). `firstStepPrologueRefusal` says which.
 *
 * Uniforms: one block at @binding(0), INT8_PARAMS' fields, FEATURE_FIELDS and the features'
 * reciprocal scale; jitter and reset change every frame, so the step is dispatched per frame (a
 * bind group per frame, as the features pass is), not prepared. The network, created with
 * `firstStepInputComputed`, then runs from its second step and stores no int8 features.
 * CPU reference: `assembleFeaturesCpu`, the quantization and `int8OpCpu` (src/reference/nn/); on
 * the GPU the two passes it replaces, bit for bit (test/nn-frame-features-first-layer.test.ts,
 * and on the GPU machine the `int8-exact` benchmark).
 */
import { FEATURE_CHANNELS, paddedSize, type NeuralFrameParams } from '../../core/neural-frame.ts';
import { packedGroups } from '../../core/int8.ts';
import { createKernel } from '../../gpu/kernel.ts';
import type { ImageFormat } from '../../gpu/gpu-image.ts';
import { uniformBlock } from '../../gpu/uniforms.ts';
import { WGSL_COMMON } from '../../gpu/wgsl.ts';
import type { Int8Plan } from '../../core/int8-plan.ts';
import { firstStepPrologueRefusal, type Int8FirstStep, type Int8Kernels } from '../int8-network.ts';
import {
  INT8_PARAMS,
  int8EpilogueBlock,
  int8UniformValues,
  tileWorkgroups,
  wgslInt8Op,
  type Int8Epilogue,
} from '../ops/int8/common.ts';
import { DIRECT_TILE, int8DirectCodeWithEpilogue, type DirectOp } from '../ops/int8/direct.ts';
import { WGSL_QUANTIZE_F32 } from '../ops/int8/quantize.ts';
import {
  FEATURE_FIELDS,
  featureUniformValues,
  wgslFeatureWord,
  wgslPixelFeatures,
  type FeatureGpuInputs,
} from './features.ts';
import { WGSL_FRAME } from './wgsl.ts';

/** The timer label of the fused step (the frame's `nn features` is inside it). */
export const FEATURES_FIRST_LAYER_LABEL = 'nn features + first layer';

const PARAMS = uniformBlock({
  ...INT8_PARAMS.fields,
  ...FEATURE_FIELDS,
  // Reciprocal of the quantized features' scale, as the features pass multiplies by it.
  featureInverseScale: 'f32',
});

/** The features' packed int8 words per pixel. */
const FEATURE_WORDS = packedGroups(FEATURE_CHANNELS);

/** Bindings: the INT8 op's at 0 to 4 (@binding(1), its input tensor, unused), the features' from 6. */
const FEATURE_BINDING = 6;

/**
 * Why the first step of `plan` on `kernels` cannot compute the features itself
 * (`firstStepPrologueRefusal`, and an input of the frame's FEATURE_CHANNELS), or undefined.
 */
export function featuresFirstLayerRefusal(
  plan: Int8Plan,
  kernels: Int8Kernels,
): string | undefined {
  if (plan.inputChannels !== FEATURE_CHANNELS) {
    return `the network reads ${plan.inputChannels} channels, not the ${FEATURE_CHANNELS} features`;
  }
  return firstStepPrologueRefusal(plan, kernels);
}

const code = (op: DirectOp, epilogue: Int8Epilogue, reprojected: ImageFormat) =>
  int8DirectCodeWithEpilogue(
    op,
    FEATURE_WORDS,
    epilogue.block,
    epilogue.channels,
    /* wgsl */ `
${wgslInt8Op(epilogue, PARAMS.wgsl)}
${wgslPixelFeatures(FEATURE_BINDING, reprojected)}
${WGSL_QUANTIZE_F32}
${WGSL_COMMON}
${WGSL_FRAME}

// The int8 words the features pass writes for display pixel (sx, sy): zeros in the padding.
fn featureWords(sx: u32, sy: u32) -> array<u32, ${FEATURE_WORDS}> {
  var f: array<f32, ${FEATURE_CHANNELS}>;
  if (sx < u.width && sy < u.height) {
    f = pixelFeatures(vec2u(sx, sy));
  }
  return array<u32, ${FEATURE_WORDS}>(
${Array.from({ length: FEATURE_WORDS }, (_, g) => `    ${wgslFeatureWord(g, 'u.featureInverseScale')},`).join('\n')}
  );
}
`,
    {
      perPixel: '\n  var pixelWords = featureWords(sx, sy);',
      word: 'pixelWords[g]',
    },
  );

/**
 * The kernel of the first step `step` (an op of PIXEL_PROLOGUE_OPS to an int8 tensor) computing
 * the features itself, for reprojected images in `reprojected`.
 */
export function featuresFirstLayerKernel(
  step: Int8FirstStep['step'],
  reprojected: ImageFormat,
): { label: string; code: string } {
  // No residual: nothing but the input exists before the first step, and a first step adding it
  // is refused (`firstStepPrologueRefusal`).
  const epilogue: Int8Epilogue = {
    ...int8EpilogueBlock(step.params.bias.length),
    realOutput: false,
    residual: false,
  };
  const op = step.op as DirectOp;
  return {
    label: `nn features (${reprojected}) + int8 ${op} block ${epilogue.block}`,
    code: code(op, epilogue, reprojected),
  };
}

/**
 * Records the features and the network's first step (`network.firstStep`, before a run with
 * `firstStepDone`) into `pass`: the first step's output is written, the features are not.
 */
export function encodeFeaturesFirstLayer(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  first: Int8FirstStep,
  inputs: FeatureGpuInputs,
  params: NeuralFrameParams,
): void {
  const { step, weights, input, targets } = first;
  const where = `nn features + int8 ${step.node}`;
  if (
    step.inChannels !== FEATURE_CHANNELS ||
    step.realOutput ||
    step.residual !== undefined ||
    step.op === 'conv3x3'
  ) {
    throw new RangeError(
      `${where}: the first step must be a direct op from the ${FEATURE_CHANNELS} features to an int8 tensor, without a residual`,
    );
  }
  const { reprojected, values } = featureUniformValues(where, inputs, params);
  const [pw, ph] = paddedSize([inputs.history.width, inputs.history.height]);
  if (input.width !== pw || input.height !== ph) {
    throw new RangeError(
      `${where}: the network runs at ${input.width}x${input.height}, the display ${inputs.history.width}x${inputs.history.height} pads to ${pw}x${ph}`,
    );
  }
  if (
    inputs.state.width !== inputs.history.width ||
    inputs.state.height !== inputs.history.height
  ) {
    throw new RangeError(
      `${where}: reprojected state is ${inputs.state.width}x${inputs.state.height}, the history ${inputs.history.width}x${inputs.history.height}`,
    );
  }
  // Checks the weights and the output against the (unwritten) input's shape.
  const int8 = int8UniformValues(weights, input, targets);
  const kernel = createKernel(device, featuresFirstLayerKernel(step, reprojected));
  kernel.dispatch(
    pass,
    tileWorkgroups(DIRECT_TILE, int8.outWidth as number, int8.outHeight as number),
    [
      undefined,
      weights.weightBuffer,
      weights.biasBuffer,
      targets.output.buffer,
      undefined,
      inputs.color.buffer,
      inputs.motion.buffer,
      inputs.history.buffer,
      inputs.state.buffer,
    ],
    PARAMS.pack({
      ...int8,
      ...values,
      featureInverseScale: Math.fround(1 / first.inputScale),
    }),
  );
}
