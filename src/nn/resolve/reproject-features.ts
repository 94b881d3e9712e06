/**
 * The reproject pass and feature assembly in one kernel (display resolution, padded to multiples
 * of 8), for inference: each thread reprojects its pixel's history and state from the previous
 * frame's (`reprojectPixel`, src/gpu/passes/reproject.ts), writes the reprojected history (the
 * blend reads it) and computes the features from the two (`pixelFeaturesOf`, ./features.ts). The
 * reprojected state, which only the features read, is never written: −32 B a display pixel of
 * traffic (its write and read) and a −16 B read of the history, and one pass less. The features
 * see the reprojected images as the two passes would read them back (rounded to their format),
 * so the outputs are the two passes' bit for bit (test/nn-frame-reproject-features.test.ts).
 */
import { createKernel, groupsFor } from '../../gpu/kernel.ts';
import { formatOf, wgslImages, type GpuImage, type ImageFormat } from '../../gpu/gpu-image.ts';
import { BISECT_NEVER, TILE, WGSL_COMMON } from '../../gpu/wgsl.ts';
import { uniformBlock } from '../../gpu/uniforms.ts';
import {
  REPROJECT_FIELDS,
  reprojectUniformValues,
  wgslReprojectPixel,
  type ReprojectBisect,
  type Reprojected,
} from '../../gpu/passes/reproject.ts';
import { INT8_COPY_FIELDS, stageInt8Copies } from '../../gpu/int8-quantize.ts';
import {
  FEATURE_CHANNELS,
  REPROJECT_FEATURES_LABEL,
  type NeuralFrameParams,
} from '../../core/neural-frame.ts';
import type { GpuTensor } from '../tensor.ts';
import type { Int8InputTarget } from '../int8-network.ts';
import {
  FEATURE_FIELDS,
  featureTargets,
  wgslFeatureOutputs,
  wgslPixelFeatures,
  type FeaturesBisect,
} from './features.ts';
import { WGSL_FRAME } from './wgsl.ts';

const PARAMS = uniformBlock({
  ...REPROJECT_FIELDS,
  ...FEATURE_FIELDS,
  paddedWidth: 'u32',
  paddedHeight: 'u32',
  ...INT8_COPY_FIELDS,
});

/**
 * WGSL of `v` as an image of `format` stores it and reads it back (rgba16float: each channel
 * rounded to a half by the store's conversion); f32: v.
 */
const wgslStored = (format: ImageFormat) =>
  format === 'rgba32float'
    ? 'fn storedReprojected(v: vec4f) -> vec4f { return v; }'
    : /* wgsl */ `fn storedReprojected(v: vec4f) -> vec4f {
  let w = vec2u(halfBits(v.x) | (halfBits(v.y) << 16u), halfBits(v.z) | (halfBits(v.w) << 16u));
  return vec4f(halfPair(w.x), halfPair(w.y));
}`;

/**
 * Benchmarks only: the pass with one part left out, to time the rest (the outputs are wrong): the
 * history's 16 taps, the state's 4 (ReprojectBisect), the render neighbourhood's 13 color reads
 * (FeaturesBisect), the reprojected history's store (`no-history-write`: only where its red is
 * a value it never takes), or the features' stores (`no-feature-writes`: neither the f32 planes
 * nor the int8 copies, their quantization included). Each part stays in the shader behind
 * BISECT_NEVER.
 */
export type ReprojectFeaturesBisect =
  ReprojectBisect | FeaturesBisect | 'no-history-write' | 'no-feature-writes';
export const REPROJECT_FEATURES_BISECTS: readonly ReprojectFeaturesBisect[] = [
  'no-history-taps',
  'no-state-taps',
  'no-neighbourhood',
  'no-history-write',
  'no-feature-writes',
];

const buildCode = (
  copies: number,
  writeF32: boolean,
  staged: boolean,
  previous: ImageFormat,
  output: ImageFormat,
  bisect: ReprojectFeaturesBisect | undefined,
) => {
  const outputs = wgslFeatureOutputs(copies, writeF32, staged, bisect === 'no-feature-writes');
  const store =
    bisect === 'no-history-write'
      ? `if (${BISECT_NEVER} || r.history.r == -1.5e-38) { storeHistoryOut(id.y * u.width + id.x, r.history); }`
      : 'storeHistoryOut(id.y * u.width + id.x, r.history);';
  return /* wgsl */ `
${PARAMS.wgsl}
${wgslPixelFeatures(1, undefined, bisect === 'no-neighbourhood' ? bisect : undefined)}
${wgslImages([
  { binding: 3, name: 'previousHistory', access: 'read', format: previous },
  { binding: 4, name: 'previousState', access: 'read', format: previous },
  { binding: 8, name: 'historyOut', access: 'read_write', format: output },
])}
${outputs.bindings}
@group(0) @binding(9) var<storage, read> exposureState: array<vec4f>;
${WGSL_COMMON}
${WGSL_FRAME}
${wgslReprojectPixel(bisect === 'no-history-taps' || bisect === 'no-state-taps' ? bisect : undefined)}
${wgslStored(output)}

${outputs.main(`    let r = reprojectPixel(id.xy);
    ${store}
    f = pixelFeaturesOf(id.xy, storedReprojected(r.history), storedReprojected(r.state));`)}
`;
};

/**
 * The pass's WGSL for its choices, built once each: the frame asks for it every frame, and the
 * same string object is found in the pipeline cache without hashing a new one.
 */
const codes = new Map<string, string>();
const code = (...choices: Parameters<typeof buildCode>): string => {
  const key = choices.join('|');
  let wgsl = codes.get(key);
  if (wgsl === undefined) codes.set(key, (wgsl = buildCode(...choices)));
  return wgsl;
};

/** What the pass reads: the prepared frame (render size) and the previous history and state. */
export interface ReprojectFeaturesInputs {
  readonly color: GpuImage;
  /** The prepared motion (render size), as the reproject pass reads it. */
  readonly motion: GpuImage;
  /** The last frame's history and state (display size; one format). */
  readonly previous: Reprojected;
  /** The exposure pass's state (the history's rescale when the exposure changed). */
  readonly exposureState: GPUBuffer;
}

/**
 * Records the pass into `pass`: the reprojected history into `historyOut` (display size), the
 * features into `output` (f32 planes, 12 × padded height × padded width, when `writeF32`) and
 * `quantized` (at most two int8 copies), as the reproject pass followed by `encodeFeatures` would
 * write them. RangeErrors name mismatched sizes and formats. `bisect`: benchmarks only
 * (ReprojectFeaturesBisect; the outputs are wrong).
 */
export function encodeReprojectAndFeatures(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  inputs: ReprojectFeaturesInputs,
  params: NeuralFrameParams,
  historyOut: GpuImage,
  output: GpuTensor,
  quantized: readonly Int8InputTarget[] = [],
  writeF32 = true,
  bisect?: ReprojectFeaturesBisect,
): void {
  const what = 'reproject + features';
  const { pw, ph, copies } = featureTargets(what, historyOut, output, quantized, writeF32);
  const { width, height } = historyOut;
  const previous = formatOf(inputs.previous.history);
  if (formatOf(inputs.previous.state) !== previous) {
    throw new RangeError(
      `reproject + features: the previous history (${previous}) and state (${formatOf(inputs.previous.state)}) must share a format`,
    );
  }
  // On a reset nothing is read from them (the upscaler binds 1×1 placeholders before a first frame).
  for (const image of params.reset ? [] : [inputs.previous.history, inputs.previous.state]) {
    if (image.width !== width || image.height !== height) {
      throw new RangeError(
        `reproject + features: the previous history and state must be ${width}x${height} (the display size), got ${image.width}x${image.height}`,
      );
    }
  }
  const historyFormat = formatOf(historyOut);
  const kernel = createKernel(device, {
    label: `${REPROJECT_FEATURES_LABEL} (${previous} → ${historyFormat})${writeF32 ? '' : ' (int8 only)'}${quantized.length ? ` + ${quantized.length} int8` : ''}`,
    code: code(
      quantized.length,
      writeF32,
      stageInt8Copies(quantized, FEATURE_CHANNELS),
      previous,
      historyFormat,
      bisect,
    ),
  });
  kernel.dispatch(
    pass,
    [groupsFor(pw, TILE), groupsFor(ph, TILE)],
    [
      inputs.color.buffer,
      inputs.motion.buffer,
      inputs.previous.history.buffer,
      inputs.previous.state.buffer,
      writeF32 ? output.buffer : undefined,
      quantized[0]?.output.buffer,
      quantized[1]?.output.buffer,
      historyOut.buffer,
      inputs.exposureState,
    ],
    PARAMS.pack({
      // The sizes and reset both functions read (the prepared motion has the color's size).
      ...reprojectUniformValues(inputs.motion, historyOut, params.reset, {
        state: inputs.exposureState,
      }),
      jitterX: params.jitter[0],
      jitterY: params.jitter[1],
      paddedWidth: pw,
      paddedHeight: ph,
      ...copies,
    }),
  );
}
