/**
 * Learned frame generation, features (display resolution, padded): the candidates of
 * src/core/framegen-neural.ts (the previous frame warped to t, the current one warped back, the
 * blend, the previous frame), tonemapped, and the cues the network weighs them by, as the planar
 * f32 tensor the network reads. The time-t motion field comes from the heuristic's splat and
 * resolve passes. The frames and the reactive mask are read where the caller has them (a texture
 * or a GpuImage: src/gpu/frame-source.ts). CPU reference and exact definition:
 * src/reference/frame-generation-neural.ts (framegenFeaturesCpu).
 */
import { createKernel, groupsFor } from '../kernel.ts';
import type { GpuImage } from '../gpu-image.ts';
import { TILE, WGSL_COMMON, WGSL_READ_WARPED } from '../wgsl.ts';
import { uniformBlock } from '../uniforms.ts';
import { MAX_COLOR } from '../../core/frame-generation.ts';
import {
  FRAMEGEN_FEATURE_CHANNELS,
  FRAMEGEN_SEEN_PREVIOUS,
  MOTION_LENGTH_HALF,
} from '../../core/framegen-neural.ts';
import {
  INT8_COPY_FIELDS,
  int8CopyValues,
  WGSL_QUANTIZE_F32,
  wgslInt8CopyBindings,
  stageInt8Copies,
  wgslInt8Copies,
} from '../int8-quantize.ts';

/**
 * An int8 copy of the features to write (an INT8 network's input tensor, `inputQuantizations`):
 * packed 4 channels a word, pixel-major, the features from channel `outChannelOffset` on.
 */
export interface FramegenInt8Copy {
  readonly output: {
    readonly buffer: GPUBuffer;
    readonly channels: number;
    readonly height: number;
    readonly width: number;
  };
  readonly scale: number;
  readonly outChannelOffset: number;
}
import type { Size } from '../../core/quality.ts';
import {
  frameSourceBinding,
  isTextureSource,
  wgslFrameSource,
  type FrameSource,
} from '../frame-source.ts';

const PARAMS = uniformBlock({
  width: 'u32',
  height: 'u32',
  paddedWidth: 'u32',
  paddedHeight: 'u32',
  fieldWidth: 'u32',
  fieldHeight: 'u32',
  t: 'f32',
  hasReactive: 'u32',
  // Up to two int8 copies of the features (an INT8 network's input tensors).
  ...INT8_COPY_FIELDS,
});

/** Which inputs are textures, the int8 copies, the f32 cues: one pipeline per combination. */
interface FeaturesVariant {
  readonly previousTexture: boolean;
  readonly currentTexture: boolean;
  readonly reactiveTexture: boolean;
  readonly copies: number;
  /** Whether the copies are staged in workgroup memory (stageInt8Copies). */
  readonly stagedCopies: boolean;
  /** The f32 planes of the cues (12–17); without them only the candidates' (the blend's). */
  readonly writeCues: boolean;
}

const code = (v: FeaturesVariant) => {
  const int8 = wgslInt8Copies(v.copies, FRAMEGEN_FEATURE_CHANNELS, TILE, v.stagedCopies);
  return /* wgsl */ `
${PARAMS.wgsl}
${wgslFrameSource('previous', 1, v.previousTexture)}
${wgslFrameSource('current', 2, v.currentTexture)}
@group(0) @binding(3) var<storage, read> field: array<vec4f>;
${wgslFrameSource('reactive', 4, v.reactiveTexture, 'u.fieldWidth')}
@group(0) @binding(5) var<storage, read_write> features: array<f32>;
${wgslInt8CopyBindings(6, v.copies)}
${v.copies > 0 ? `${WGSL_QUANTIZE_F32}\n${int8.arrays}` : ''}
${WGSL_COMMON}
fn sanitize(v: vec3f) -> vec3f {
  let finite = vec3f(select(0.0, v.x, isFiniteF(v.x)), select(0.0, v.y, isFiniteF(v.y)),
                     select(0.0, v.z, isFiniteF(v.z)));
  return clamp(finite, vec3f(0.0), vec3f(${MAX_COLOR.toFixed(1)}));
}
// Reads clamp to the edge.
fn frameAt(fromCurrent: bool, x: i32, y: i32) -> vec3f {
  let c = clamp(vec2i(x, y), vec2i(0), vec2i(i32(u.width) - 1, i32(u.height) - 1));
  // A branch, not select(): select would read both frames at every tap.
  if (fromCurrent) { return sanitize(currentAt(c.x, c.y).rgb); }
  return sanitize(previousAt(c.x, c.y).rgb);
}
${WGSL_READ_WARPED}
fn onImage(p: vec2f) -> bool {
  return p.x >= 0.0 && p.x <= f32(u.width) && p.y >= 0.0 && p.y <= f32(u.height);
}
fn tonemap(c: vec3f) -> vec3f {
  return c / (1.0 + max(max(c.r, c.g), max(c.b, 0.0)));
}

@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(local_invocation_index) li: u32,
        @builtin(workgroup_id) wg: vec3u) {
  var f: array<f32, ${FRAMEGEN_FEATURE_CHANNELS}>;
  if (id.x < u.paddedWidth && id.y < u.paddedHeight) {
    // The padding repeats the last row and column.
    let x = min(id.x, u.width - 1u);
    let y = min(id.y, u.height - 1u);
    let rx = renderPixelOf(x, u.fieldWidth, u.width);
    let ry = renderPixelOf(y, u.fieldHeight, u.height);
    let k = ry * u.fieldWidth + rx;
    let v = field[k];
    let t = u.t;
    let s = 1.0 - t;
    let d = v.xy * vec2f(f32(u.width), f32(u.height));
    let centre = vec2f(f32(x), f32(y)) + 0.5;
    let atPrevious = centre + t * d;
    let atCurrent = centre - s * d;
    let previousOn = onImage(atPrevious);
    let currentOn = onImage(atCurrent);
    let p = frameAt(false, i32(x), i32(y));
    let blend = s * p + t * frameAt(true, i32(x), i32(y));
    var warpedPrevious = blend;
    if (previousOn) { warpedPrevious = readWarped(false, atPrevious); }
    var warpedCurrent = blend;
    if (currentOn) { warpedCurrent = readWarped(true, atCurrent); }
    let c0 = tonemap(warpedPrevious);
    let c1 = tonemap(warpedCurrent);
    let c2 = tonemap(blend);
    let c3 = tonemap(p);
    var r = 0.0;
    if (u.hasReactive != 0u) { r = clamp(reactiveAt(i32(rx), i32(ry)).x, 0.0, 1.0); }
    if (!isFiniteF(r)) { r = 0.0; }
    let l = length(d);
    let gap = abs(c0 - c1);
    f = array<f32, ${FRAMEGEN_FEATURE_CHANNELS}>(
      c0.r, c0.g, c0.b, c1.r, c1.g, c1.b, c2.r, c2.g, c2.b, c3.r, c3.g, c3.b,
      select(0.0, v.z, previousOn), select(0.0, v.w, currentOn), r,
      l / (l + ${MOTION_LENGTH_HALF.toFixed(1)}), t, max(max(gap.r, gap.g), gap.b));
    let plane = u.paddedWidth * u.paddedHeight;
    let o = id.y * u.paddedWidth + id.x;
    for (var ch = 0u; ch < ${v.writeCues ? FRAMEGEN_FEATURE_CHANNELS : FRAMEGEN_SEEN_PREVIOUS}u; ch++) {
      features[ch * plane + o] = f[ch];
    }
  }
${v.copies > 0 ? `${int8.stage}\n${int8.flush}` : ''}
}
`;
};

/**
 * Records the features pass: `previous` and `current` display size; `field` (render size) as
 * encodeFrameGenerationResolve wrote it; `reactive` optional, render size; `features` a buffer of
 * FRAMEGEN_FEATURE_CHANNELS × padded height × padded width f32.
 */
export function encodeFramegenFeatures(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  frames: {
    previous: FrameSource;
    current: FrameSource;
    field: GpuImage;
    reactive?: FrameSource;
  },
  t: number,
  padded: Size,
  features: GPUBuffer,
  int8: { copies: readonly FramegenInt8Copy[]; writeCues: boolean } = {
    copies: [],
    writeCues: true,
  },
): void {
  const { width, height } = frames.previous;
  const [paddedWidth, paddedHeight] = padded;
  if (paddedWidth < width || paddedHeight < height) {
    throw new RangeError(
      `framegen features: padded size ${padded.join('x')} is below ${width}x${height}`,
    );
  }
  const { copies } = int8;
  const copyValues = int8CopyValues('framegen features', copies);
  for (const q of copies) {
    const o = q.output;
    if (
      o.width !== paddedWidth ||
      o.height !== paddedHeight ||
      o.channels < q.outChannelOffset + FRAMEGEN_FEATURE_CHANNELS ||
      q.outChannelOffset % 4 !== 0
    ) {
      throw new RangeError(
        `framegen features: an int8 copy of ${o.channels}x${o.height}x${o.width} cannot take the features at channel ${q.outChannelOffset}`,
      );
    }
  }
  const variant: FeaturesVariant = {
    previousTexture: isTextureSource(frames.previous),
    currentTexture: isTextureSource(frames.current),
    reactiveTexture: frames.reactive !== undefined && isTextureSource(frames.reactive),
    copies: copies.length,
    stagedCopies: stageInt8Copies(copies, FRAMEGEN_FEATURE_CHANNELS),
    writeCues: int8.writeCues || copies.length === 0,
  };
  createKernel(device, { label: 'framegen features', code: code(variant) }).dispatch(
    pass,
    [groupsFor(paddedWidth, TILE), groupsFor(paddedHeight, TILE)],
    [
      frameSourceBinding(frames.previous),
      frameSourceBinding(frames.current),
      frames.field.buffer,
      // Without a mask the field is bound in its place (the flag says it is not read).
      frames.reactive ? frameSourceBinding(frames.reactive) : frames.field.buffer,
      features,
      ...copies.map((q) => q.output.buffer),
    ],
    PARAMS.pack({
      width,
      height,
      paddedWidth,
      paddedHeight,
      fieldWidth: frames.field.width,
      fieldHeight: frames.field.height,
      t,
      hasReactive: frames.reactive !== undefined,
      ...copyValues,
    }),
  );
}
