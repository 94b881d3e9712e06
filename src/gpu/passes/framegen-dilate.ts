/**
 * Frame generation, step 0 (render resolution): each pixel takes the motion and depth of the
 * closest surface within MOTION_DILATION_RADIUS render pixels, so that thin objects and object
 * edges move with their surface in the splat. Writes one image of surfaces (xy = motion, z =
 * depth), which the splat and resolve read: one 16-byte read where a motion and a depth image
 * took two. Reads motion and depth where the caller has them (a texture or a GpuImage:
 * src/gpu/frame-source.ts), so they are never copied first.
 * CPU reference and exact definition: src/reference/frame-generation.ts (dilateMotionCpu).
 */
import { createKernel, groupsFor } from '../kernel.ts';
import type { GpuImage } from '../gpu-image.ts';
import { TILE, WGSL_COMMON, wgslPixelMain } from '../wgsl.ts';
import { uniformBlock } from '../uniforms.ts';
import {
  frameSourceBinding,
  isTextureSource,
  wgslFrameSource,
  type FrameSource,
} from '../frame-source.ts';
import { WGSL_CLOSENESS_KEY } from './framegen-splat.ts';
import { MOTION_DILATION_RADIUS, type FrameGenerationParams } from '../../core/frame-generation.ts';

const PARAMS = uniformBlock({ width: 'u32', height: 'u32', depthInverted: 'u32' });

/** Whether motion and depth are textures (one pipeline per combination). */
interface DilateVariant {
  readonly motionTexture: boolean;
  readonly depthTexture: boolean;
}

const code = (v: DilateVariant) => /* wgsl */ `
${PARAMS.wgsl}
${wgslFrameSource('motion', 1, v.motionTexture)}
${wgslFrameSource('depth', 2, v.depthTexture)}
@group(0) @binding(3) var<storage, read_write> surfaces: array<vec4f>;
${WGSL_COMMON}
${WGSL_CLOSENESS_KEY}

${wgslPixelMain(/* wgsl */ `
  let o = id.y * u.width + id.x;
  var closest = vec2i(id.xy);
  var closestKey = 0xffffffffu;
  var closestDepth = 0.0;
  // Row order, strictly closer: the first of equally close neighbours wins, as on the CPU.
  for (var dy = -${MOTION_DILATION_RADIUS}; dy <= ${MOTION_DILATION_RADIUS}; dy++) {
    for (var dx = -${MOTION_DILATION_RADIUS}; dx <= ${MOTION_DILATION_RADIUS}; dx++) {
      let nx = i32(id.x) + dx;
      let ny = i32(id.y) + dy;
      if (nx < 0 || ny < 0 || nx >= i32(u.width) || ny >= i32(u.height)) { continue; }
      let d = depthAt(nx, ny).x;
      let key = closenessKey(d);
      if (key < closestKey) {
        closest = vec2i(nx, ny);
        closestKey = key;
        closestDepth = d;
      }
    }
  }
  surfaces[o] = vec4f(motionAt(closest.x, closest.y).xy, closestDepth, 0.0);`)}
`;

/**
 * Records the dilation: `motion` (.xy) and `depth` (.x) render size, each a GpuImage or a texture;
 * `surfaces` the same size (xy = the dilated motion, z = its depth).
 */
export function encodeFrameGenerationDilate(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  motion: FrameSource,
  depth: FrameSource,
  params: Pick<FrameGenerationParams, 'depthInverted'>,
  surfaces: GpuImage,
): void {
  const { width, height } = motion;
  const variant = { motionTexture: isTextureSource(motion), depthTexture: isTextureSource(depth) };
  createKernel(device, { label: 'framegen dilate', code: code(variant) }).dispatch(
    pass,
    [groupsFor(width, TILE), groupsFor(height, TILE)],
    [frameSourceBinding(motion), frameSourceBinding(depth), surfaces.buffer],
    PARAMS.pack({ width, height, depthInverted: params.depthInverted ?? false }),
  );
}
