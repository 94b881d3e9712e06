/**
 * Feature assembly (display resolution, padded to multiples of 8): the network input, 12 planar
 * channels — reprojected state ×4, jitter-aware current luma, reprojected history luma,
 * colorfulness, disocclusion cue, nearest-sample distance², neighbourhood luma range, history luma
 * outside that range, motion length. The reprojected history and state are read in their format
 * (rgba16float in the frame API, rgba32float in training). Exact definition and CPU reference:
 * src/reference/nn/frame.ts.
 */
import { createKernel, groupsFor } from '../../gpu/kernel.ts';
import { formatOf, wgslImages, type GpuImage, type ImageFormat } from '../../gpu/gpu-image.ts';
import { BISECT_NEVER, TILE, WGSL_COMMON } from '../../gpu/wgsl.ts';
import type { GpuTensor } from '../tensor.ts';
import type { Int8InputTarget } from '../int8-network.ts';
import {
  INT8_COPY_FIELDS,
  int8CopyValues,
  wgslInt8CopyBindings,
  wgslInt8Word,
  stageInt8Copies,
  wgslInt8Copies,
} from '../../gpu/int8-quantize.ts';
import { WGSL_QUANTIZE_F32, checkQuantizeTarget } from '../ops/int8/quantize.ts';
import { FEATURE_CHANNELS, paddedSize, type NeuralFrameParams } from '../../core/neural-frame.ts';
import { WGSL_FRAME } from './wgsl.ts';
import { uniformBlock, type UniformValues } from '../../gpu/uniforms.ts';

/**
 * The uniform fields `pixelFeatures` reads (as `u.<field>`): display and render size, reset, the
 * jitter. A kernel that computes the features itself declares them in its uniform block.
 */
export const FEATURE_FIELDS = {
  width: 'u32',
  height: 'u32',
  renderWidth: 'u32',
  renderHeight: 'u32',
  reset: 'u32',
  jitterX: 'f32',
  jitterY: 'f32',
} as const;

const PARAMS = uniformBlock({
  ...FEATURE_FIELDS,
  paddedWidth: 'u32',
  paddedHeight: 'u32',
  // Up to two int8 copies of the features (the INT8 network's input tensors).
  ...INT8_COPY_FIELDS,
});

/**
 * WGSL of packed int8 word g of the features in f (channels 4g … 4g + 3, quantized with the
 * reciprocal scale `inverseScale`, WGSL_QUANTIZE_F32): what an int8 copy holds. Constant indices,
 * like the f32 writes, so that f stays in registers.
 */
export const wgslFeatureWord = (g: number, inverseScale: string): string =>
  wgslInt8Word(g, FEATURE_CHANNELS, inverseScale);

/**
 * Benchmarks only: the features with the render neighbourhood's 13 color reads left out
 * (`no-neighbourhood`: constant luma, range and colorfulness), to time the rest (the outputs are
 * wrong). The part stays in the shader behind BISECT_NEVER.
 */
export type FeaturesBisect = 'no-neighbourhood';

/**
 * WGSL of the features of one display pixel: the bindings of the prepared color and motion at
 * @binding(first) and (first + 1) and, with `reprojected` (their format), of the reprojected
 * history and state at (first + 2) and (first + 3); then `pixelFeaturesOf(p, h, s) ->
 * array<f32, FEATURE_CHANNELS>` for a pixel p inside the display given its reprojected history h
 * and state s, and with `reprojected`, `pixelFeatures(p)` reading them (the padding's features
 * are zeros; callers test). Reads the uniform block `u` (FEATURE_FIELDS); needs WGSL_COMMON and
 * WGSL_FRAME. The features pass, the first layer that computes its own input
 * (./features-first-layer.ts) and the pass that reprojects for itself (./reproject-features.ts)
 * all call it, so they compute the same bits.
 */
export function wgslPixelFeatures(
  first: number,
  reprojected: ImageFormat | undefined,
  bisect?: FeaturesBisect,
): string {
  // The render neighbourhood's 13 color reads: the bilinear luma's 4 and the 3x3 box's 9.
  const neighbourhood = `let top = mix(renderTexel(x0, y0).a, renderTexel(x0 + 1, y0).a, t.x);
  let bottom = mix(renderTexel(x0, y0 + 1).a, renderTexel(x0 + 1, y0 + 1).a, t.x);
  f[4] = mix(top, bottom, t.y);
  for (var dy = -1; dy <= 1; dy++) {
    for (var dx = -1; dx <= 1; dx++) {
      let c = renderTexel(rx + dx, ry + dy);
      chroma += max(c.r, max(c.g, c.b)) - min(c.r, min(c.g, c.b));
      lumaLo = min(lumaLo, c.a);
      lumaHi = max(lumaHi, c.a);
    }
  }`;
  return /* wgsl */ `
@group(0) @binding(${first}) var<storage, read> color: array<vec4f>;
@group(0) @binding(${first + 1}) var<storage, read> motion: array<vec4f>;
${
  reprojected
    ? `${wgslImages([
        { binding: first + 2, name: 'history', access: 'read', format: reprojected },
        { binding: first + 3, name: 'state', access: 'read', format: reprojected },
      ])}
fn pixelFeatures(pixel: vec2u) -> array<f32, ${FEATURE_CHANNELS}> {
  let i = pixel.y * u.width + pixel.x;
  return pixelFeaturesOf(pixel, historyAt(i), stateAt(i));
}`
    : ''
}
fn renderTexel(x: i32, y: i32) -> vec4f {
  return color[texelAt(u.renderWidth, u.renderHeight, x, y)];
}

// Squared distance (display pixels) to the nearest in-image sample of the 4x4 filter window.
fn nearestSampleDistance2(p: vec2u) -> f32 {
  let x0 = windowStart(p.x, u.renderWidth, u.width);
  let y0 = windowStart(p.y, u.renderHeight, u.height);
  let ratio = vec2f(f32(u.width), f32(u.height)) / vec2f(f32(u.renderWidth), f32(u.renderHeight));
  let centre = vec2f(p) + 0.5;
  var best = 3.4e38;
  for (var y = max(y0, 0); y < min(y0 + 4, i32(u.renderHeight)); y++) {
    for (var x = max(x0, 0); x < min(x0 + 4, i32(u.renderWidth)); x++) {
      let d = (vec2f(f32(x), f32(y)) + 0.5 + vec2f(u.jitterX, u.jitterY)) * ratio - centre;
      best = min(best, dot(d, d));
    }
  }
  return best;
}

fn pixelFeaturesOf(pixel: vec2u, h: vec4f, s: vec4f) -> array<f32, ${FEATURE_CHANNELS}> {
  var f: array<f32, ${FEATURE_CHANNELS}>;
  let valid = historyValid(h.a, u.reset);
  if (u.reset == 0u) {
    f[0] = finiteOr0(s.x);
    f[1] = finiteOr0(s.y);
    f[2] = finiteOr0(s.z);
    f[3] = finiteOr0(s.w);
  }
  // Bilinear luma on the grid of jittered sample positions, at p - j - 0.5.
  let p = centreInRender(pixel, vec2u(u.renderWidth, u.renderHeight), vec2u(u.width, u.height));
  let g = p - vec2f(u.jitterX, u.jitterY) - 0.5;
  let base = floor(g);
  let t = g - base;
  let x0 = i32(base.x);
  let y0 = i32(base.y);
  let rx = i32(renderPixelOf(pixel.x, u.renderWidth, u.width));
  let ry = i32(renderPixelOf(pixel.y, u.renderHeight, u.height));
  var chroma = 0.0;
  var lumaLo = 3.4e38;
  var lumaHi = -3.4e38;
  ${
    bisect === 'no-neighbourhood'
      ? `f[4] = 0.5;
  lumaLo = 0.25;
  lumaHi = 0.75;
  if (${BISECT_NEVER}) {
  ${neighbourhood}
  }`
      : neighbourhood
  }
  if (valid) {
    let l = luma709(vec3f(finiteOr0(h.r), finiteOr0(h.g), finiteOr0(h.b)));
    f[5] = l;
    f[10] = l - clamp(l, lumaLo, lumaHi);
  }
  f[6] = chroma / 9.0;
  let m = motion[u32(ry) * u.renderWidth + u32(rx)];
  f[7] = max(max(m.z, m.w), select(1.0, 0.0, valid));
  f[8] = nearestSampleDistance2(pixel);
  f[9] = lumaHi - lumaLo;
  let md = vec2f(finiteOr0(m.x), finiteOr0(m.y)) * vec2f(f32(u.width), f32(u.height));
  f[11] = log2(1.0 + length(md));
  return f;
}
`;
}

/**
 * WGSL of the features' outputs: the bindings of the f32 planes (@binding(5), when `writeF32`) and
 * of `copies` int8 copies (from @binding(6)) with what they need, and `main(pixel)`, the entry
 * point over the padded feature planes: `pixel`, WGSL run for a pixel inside the image, sets its
 * features `f` (zero in the padding), which are then written at padded index `o` (the int8
 * copies `staged` or not, wgslInt8Copies). The features pass and the pass that also reprojects
 * (./reproject-features.ts) write them alike. `skipWrites` (benchmarks only): the features are
 * computed but neither plane nor copy is written (the writes stay behind BISECT_NEVER).
 */
export function wgslFeatureOutputs(
  copies: number,
  writeF32: boolean,
  staged: boolean,
  skipWrites = false,
): { bindings: string; main(pixel: string): string } {
  const f32 = Array.from(
    { length: FEATURE_CHANNELS },
    (_, k) => `    features[${k}u * plane + o] = f[${k}];`,
  ).join('\n');
  const int8 = wgslInt8Copies(copies, FEATURE_CHANNELS, TILE, staged);
  return {
    bindings: `${writeF32 ? '@group(0) @binding(5) var<storage, read_write> features: array<f32>;' : ''}
${wgslInt8CopyBindings(6, copies)}
${copies > 0 ? `${WGSL_QUANTIZE_F32}\n${int8.arrays}` : ''}`,
    main: (pixel) => /* wgsl */ `
@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(local_invocation_index) li: u32,
        @builtin(workgroup_id) wg: vec3u) {
  let plane = u.paddedWidth * u.paddedHeight;
  let o = id.y * u.paddedWidth + id.x;
  var f: array<f32, ${FEATURE_CHANNELS}>;
  if (id.x < u.width && id.y < u.height) {
${pixel}
  }
${skipWrites ? `  if (${BISECT_NEVER}) {` : '  {'}
${writeF32 ? `  if (id.x < u.paddedWidth && id.y < u.paddedHeight) {\n${f32}\n  }` : ''}
${copies > 0 ? `${int8.stage}\n${int8.flush}` : ''}
  }
}
`,
  };
}

const code = (copies: number, writeF32: boolean, staged: boolean, reprojected: ImageFormat) => {
  const outputs = wgslFeatureOutputs(copies, writeF32, staged);
  return /* wgsl */ `
${PARAMS.wgsl}
${wgslPixelFeatures(1, reprojected)}
${outputs.bindings}
${WGSL_COMMON}
${WGSL_FRAME}
${outputs.main('    f = pixelFeatures(id.xy);')}`;
};

/** GPU inputs of feature assembly (prepared: render size; reprojected: display size). */
export interface FeatureGpuInputs {
  readonly color: GpuImage;
  readonly motion: GpuImage;
  readonly history: GpuImage;
  readonly state: GpuImage;
}

/**
 * Records feature assembly into `pass`. `output` must be 8 × padded height × padded width of the
 * display size (`paddedSize`). `quantized` (at most two) also get the features as int8, exactly
 * as the INT8 network's own quantization of `output` would write them, without reading it back.
 */
export function encodeFeatures(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  inputs: FeatureGpuInputs,
  params: NeuralFrameParams,
  output: GpuTensor,
  quantized: readonly Int8InputTarget[] = [],
  writeF32 = true,
): void {
  const { pw, ph, copies } = featureTargets(
    'features',
    inputs.history,
    output,
    quantized,
    writeF32,
  );
  const { reprojected, values } = featureUniformValues('features', inputs, params);
  const label = `nn features${writeF32 ? '' : ' (int8 only)'}${quantized.length ? ` + ${quantized.length} int8` : ''}`;
  const kernel = createKernel(device, {
    label,
    code: code(
      quantized.length,
      writeF32,
      stageInt8Copies(quantized, FEATURE_CHANNELS),
      reprojected,
    ),
  });
  kernel.dispatch(
    pass,
    [groupsFor(pw, TILE), groupsFor(ph, TILE)],
    [
      inputs.color.buffer,
      inputs.motion.buffer,
      inputs.history.buffer,
      inputs.state.buffer,
      writeF32 ? output.buffer : undefined,
      ...quantized.map((q) => q.output.buffer),
    ],
    PARAMS.pack({
      ...values,
      paddedWidth: pw,
      paddedHeight: ph,
      ...copies,
    }),
  );
}

/**
 * Checks where a features kernel writes for a display of `display`'s size (RangeErrors naming
 * `what`): the f32 planes at the padded size, at least one output, the int8 copies; returns the
 * padded size and the copies' uniform values. The features pass and the pass that also
 * reprojects (./reproject-features.ts) check alike.
 */
export function featureTargets(
  what: string,
  display: { readonly width: number; readonly height: number },
  output: GpuTensor,
  quantized: readonly Int8InputTarget[],
  writeF32: boolean,
) {
  if (!writeF32 && quantized.length === 0) {
    throw new RangeError(`${what}: without the f32 planes there must be an int8 copy to write`);
  }
  const { width, height } = display;
  const [pw, ph] = paddedSize([width, height]);
  if (output.channels !== FEATURE_CHANNELS || output.width !== pw || output.height !== ph) {
    throw new RangeError(
      `${what}: the features tensor must be ${FEATURE_CHANNELS}x${ph}x${pw} for display ${width}x${height}, got ${output.channels}x${output.height}x${output.width}`,
    );
  }
  const copies = int8CopyValues(what, quantized);
  for (const q of quantized) checkQuantizeTarget(what, output, q.output, q.outChannelOffset);
  return { pw, ph, copies };
}

/**
 * The FEATURE_FIELDS values of a frame and the format of its reprojected images; a RangeError
 * naming `what` if the history and state differ in format.
 */
export function featureUniformValues(
  what: string,
  inputs: FeatureGpuInputs,
  params: NeuralFrameParams,
): { reprojected: ImageFormat; values: UniformValues<typeof FEATURE_FIELDS> } {
  const reprojected = formatOf(inputs.history);
  if (formatOf(inputs.state) !== reprojected) {
    throw new RangeError(
      `${what}: the reprojected history (${reprojected}) and state (${formatOf(inputs.state)}) must share a format`,
    );
  }
  return {
    reprojected,
    values: {
      width: inputs.history.width,
      height: inputs.history.height,
      renderWidth: inputs.color.width,
      renderHeight: inputs.color.height,
      reset: params.reset,
      jitterX: params.jitter[0],
      jitterY: params.jitter[1],
    },
  };
}
