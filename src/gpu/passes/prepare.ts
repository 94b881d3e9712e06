/**
 * Prepare pass (render resolution): sanitize (NaN/Inf never reach history), expose and tonemap the
 * color, dilate motion to the closest-depth neighbour in 3×3, disocclusion cue from the previous
 * depth, reactive mask. CPU reference: src/reference/prepare.ts (same math, documented there).
 *
 * Color, depth and motion are read where the caller has them: a GpuImage, or a texture read with
 * textureLoad (which fills missing channels as the load pass and `toVec4` do), so that texture
 * inputs are not first copied into images. The pass can also keep the raw depth for the next
 * frame's disocclusion test (`depthOut`), which replaces a copy after the frame.
 */
import { createKernel, groupsFor } from '../kernel.ts';
import type { GpuImage } from '../gpu-image.ts';
import {
  DISOCCLUSION_FULL,
  DISOCCLUSION_START,
  TRANSPARENCY_WEIGHT,
  MAX_COLOR,
  MAX_MOTION,
  type PrepareParams,
} from '../../core/pass-constants.ts';
import { TILE, WGSL_COMMON, wgslPixelMain } from '../wgsl.ts';
import { uniformBlock } from '../uniforms.ts';
import {
  frameSourceBinding,
  isTextureSource,
  wgslFrameSource,
  type FrameSource,
} from '../frame-source.ts';

const PARAMS = uniformBlock({
  width: 'u32',
  height: 'u32',
  hasPrevious: 'u32',
  depthInverted: 'u32',
  exposureFromState: 'u32',
  exposure: 'f32',
  motionScaleX: 'f32',
  motionScaleY: 'f32',
  near: 'f32',
  far: 'f32',
});

/** The prepared frame on the GPU (render resolution). */
export interface PreparedFrame {
  /** rgb = tonemapped, sanitized, exposed color; a = its Rec. 709 luma. */
  color: GpuImage;
  /** xy = dilated motion (UV, motionScale applied); z = disocclusion cue 0..1; w = reactive 0..1. */
  motion: GpuImage;
}

/**
 * An input prepare reads in place: a GpuImage, or a texture with TEXTURE_BINDING usage in one of
 * the loadable formats (src/gpu/passes/load-texture.ts; a depth-stencil one through its depth).
 */
export type PrepareSource = FrameSource;

/** Render-resolution inputs of prepare (color rgb, depth .x, motion .xy, reactive .x). */
export interface PrepareInputs {
  color: PrepareSource;
  depth: PrepareSource;
  motion: PrepareSource;
  reactive?: GpuImage;
  /** Transparency-and-composition mask (.x); TRANSPARENCY_WEIGHT of it joins the reactive mask. */
  transparency?: GpuImage;
  /** The previous frame's raw depth; omit on the first frame or after a reset. */
  previousDepth?: GpuImage;
  /** The exposure pass's state (src/gpu/passes/exposure.ts): its x replaces params.exposure. */
  exposureState?: GPUBuffer;
  /**
   * Where to keep this frame's raw depth (.x; the next frame's `previousDepth`). Must not be the
   * image bound as `previousDepth`.
   */
  depthOut?: GpuImage;
}

/** Which inputs are textures and whether the depth is kept: one pipeline for each combination. */
export interface PrepareVariant {
  readonly colorTexture: boolean;
  readonly depthTexture: boolean;
  readonly motionTexture: boolean;
  readonly writeDepth: boolean;
}

const code = (v: PrepareVariant) => /* wgsl */ `
${PARAMS.wgsl}
${wgslFrameSource('color', 1, v.colorTexture)}
${wgslFrameSource('depth', 2, v.depthTexture)}
${wgslFrameSource('motion', 3, v.motionTexture)}
@group(0) @binding(4) var<storage, read> previousDepth: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> colorOut: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> motionOut: array<vec4f>;
@group(0) @binding(7) var<storage, read> exposureState: array<vec4f>;
${v.writeDepth ? '@group(0) @binding(8) var<storage, read_write> depthOut: array<vec4f>;' : ''}
${WGSL_COMMON}
fn sanitizeColor(v: f32, exposure: f32) -> f32 {
  if (!isFiniteF(v)) { return select(0.0, ${MAX_COLOR.toFixed(1)}, v > 0.0); }
  if (v <= 0.0) { return 0.0; }
  return min(v * exposure, ${MAX_COLOR.toFixed(1)});
}

fn viewDepth(d: f32) -> f32 {
  var dn = select(select(1.0, 0.0, u.depthInverted != 0u), clamp(d, 0.0, 1.0), isFiniteF(d));
  if (u.depthInverted != 0u) { dn = 1.0 - dn; }
  dn = min(dn, 1.0 - 1e-6);
  if (u.far <= 0.0) { return u.near / (1.0 - dn); }
  return u.near * u.far / (u.far - dn * (u.far - u.near));
}

fn clampMotion(v: f32) -> f32 {
  return select(0.0, clamp(v, -${MAX_MOTION.toFixed(1)}, ${MAX_MOTION.toFixed(1)}), isFiniteF(v));
}

${wgslPixelMain(/* wgsl */ `
  let x = i32(id.x);
  let y = i32(id.y);
  let i = id.y * u.width + id.x;

  let raw = colorAt(x, y);
  let e = select(u.exposure, exposureState[0].x, u.exposureFromState != 0u);
  let c = vec3f(sanitizeColor(raw.r, e), sanitizeColor(raw.g, e), sanitizeColor(raw.b, e));
  let t = c / (1.0 + max(c.r, max(c.g, c.b)));
  colorOut[i] = vec4f(t, luma709(t));

  let ownDepth = depthAt(x, y).x;
${v.writeDepth ? '  depthOut[i] = vec4f(ownDepth, 0.0, 0.0, 1.0);' : ''}
  let ownZ = viewDepth(ownDepth);
  var bestZ = ownZ;
  var best = vec2i(x, y);
  for (var dy = -1; dy <= 1; dy++) {
    for (var dx = -1; dx <= 1; dx++) {
      let sx = x + dx;
      let sy = y + dy;
      if ((dx == 0 && dy == 0) || sx < 0 || sy < 0 || sx >= i32(u.width) || sy >= i32(u.height)) {
        continue;
      }
      let z = viewDepth(depthAt(sx, sy).x);
      if (z < bestZ) { bestZ = z; best = vec2i(sx, sy); }
    }
  }
  let m = motionAt(best.x, best.y);
  let mx = clampMotion(m.x * u.motionScaleX);
  let my = clampMotion(m.y * u.motionScaleY);

  var cue = 0.0;
  if (u.hasPrevious != 0u) {
    // Where this pixel was, in previous-frame texel coordinates (x + motion · width, exact when
    // the pixel is still; see the CPU reference).
    let sx = f32(x) + mx * f32(u.width);
    let sy = f32(y) + my * f32(u.height);
    if (sx >= -0.5 && sx <= f32(u.width) - 0.5 && sy >= -0.5 && sy <= f32(u.height) - 0.5) {
      let px = i32(floor(sx));
      let py = i32(floor(sy));
      var prevZ = 3.4e38;
      for (var oy = 0; oy <= 1; oy++) {
        for (var ox = 0; ox <= 1; ox++) {
          prevZ = min(prevZ, viewDepth(previousDepth[texelAt(u.width, u.height, px + ox, py + oy)].x));
        }
      }
      let separation = (ownZ - prevZ) / ownZ;
      cue = saturate((separation - ${DISOCCLUSION_START}) / (${DISOCCLUSION_FULL} - ${DISOCCLUSION_START}));
    }
  }
  motionOut[i] = vec4f(mx, my, cue, 0.0);`)}
`;

// The masks in a pass of their own: with them, prepare would bind 9 storage buffers, one more
// than a device with default limits (maxStorageBuffersPerShaderStage 8) allows.
const MASK_PARAMS = uniformBlock({
  width: 'u32',
  height: 'u32',
  hasReactive: 'u32',
  hasTransparency: 'u32',
});

const maskCode = /* wgsl */ `
${MASK_PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> reactiveIn: array<vec4f>;
@group(0) @binding(2) var<storage, read> transparencyIn: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> motionOut: array<vec4f>;
${WGSL_COMMON}
fn mask(v: f32) -> f32 { return select(0.0, saturate(v), isFiniteF(v)); }
${wgslPixelMain(/* wgsl */ `
  let i = id.y * u.width + id.x;
  var reactive = select(0.0, mask(reactiveIn[i].x), u.hasReactive != 0u);
  if (u.hasTransparency != 0u) {
    reactive = max(reactive, ${TRANSPARENCY_WEIGHT} * mask(transparencyIn[i].x));
  }
  motionOut[i].w = reactive;`)}
`;

/** The kernel of a variant (to compile ahead, as `Upscaler.ready` does for texture inputs). */
export function prepareKernel(variant: PrepareVariant) {
  return { label: 'prepare', code: code(variant) } as const;
}

const placeholders = new WeakMap<GPUDevice, GPUBuffer>();

/** A 16-byte storage buffer per device, bound where nothing is read. */
function placeholderBuffer(device: GPUDevice): GPUBuffer {
  let buffer = placeholders.get(device);
  if (!buffer) {
    buffer = device.createBuffer({
      label: 'prepare placeholder',
      size: 16,
      usage: GPUBufferUsage.STORAGE,
    });
    placeholders.set(device, buffer);
  }
  return buffer;
}

/** Records the prepare pass into `pass`, writing `output` (both images render size). */
export function encodePrepare(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  inputs: PrepareInputs,
  params: PrepareParams,
  output: PreparedFrame,
): void {
  const { width, height } = inputs.color;
  const variant: PrepareVariant = {
    colorTexture: isTextureSource(inputs.color),
    depthTexture: isTextureSource(inputs.depth),
    motionTexture: isTextureSource(inputs.motion),
    writeDepth: inputs.depthOut !== undefined,
  };
  if (inputs.depthOut && inputs.depthOut.buffer === inputs.previousDepth?.buffer) {
    throw new RangeError('prepare: depthOut and previousDepth must be different images');
  }
  const kernel = createKernel(device, prepareKernel(variant));
  const far = Number.isFinite(params.cameraFar) ? params.cameraFar : 0;
  // Bindings nothing reads (no previous depth, no exposure state: the flags say) take a small
  // placeholder buffer.
  const spare = () => placeholderBuffer(device);
  kernel.dispatch(
    pass,
    [groupsFor(width, TILE), groupsFor(height, TILE)],
    [
      frameSourceBinding(inputs.color),
      frameSourceBinding(inputs.depth),
      frameSourceBinding(inputs.motion),
      inputs.previousDepth?.buffer ?? spare(),
      output.color.buffer,
      output.motion.buffer,
      inputs.exposureState ?? spare(),
      ...(inputs.depthOut ? [inputs.depthOut.buffer] : []),
    ],
    PARAMS.pack({
      width,
      height,
      hasPrevious: inputs.previousDepth !== undefined,
      depthInverted: params.depthInverted,
      exposureFromState: inputs.exposureState !== undefined,
      exposure: params.exposure,
      motionScaleX: params.motionScale[0],
      motionScaleY: params.motionScale[1],
      near: params.cameraNear,
      far,
    }),
  );
  const mask = inputs.reactive ?? inputs.transparency;
  if (!mask) return;
  // A missing mask binds the other one in its place (the flags say which are real).
  createKernel(device, { label: 'prepare masks', code: maskCode }).dispatch(
    pass,
    [groupsFor(width, TILE), groupsFor(height, TILE)],
    [mask.buffer, (inputs.transparency ?? mask).buffer, output.motion.buffer],
    MASK_PARAMS.pack({
      width,
      height,
      hasReactive: inputs.reactive !== undefined,
      hasTransparency: inputs.transparency !== undefined,
    }),
  );
}
