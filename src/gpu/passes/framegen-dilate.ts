/**
 * Frame generation, step 0 (render resolution): each pixel takes the motion and depth of the
 * closest surface within MOTION_DILATION_RADIUS render pixels, so that thin objects and object
 * edges move with their surface in the splat. Writes two images (motion xy, depth x), so the
 * splat and resolve read them as they would the inputs.
 * CPU reference and exact definition: src/reference/frame-generation.ts (dilateMotionCpu).
 */
import { createKernel, groupsFor } from '../kernel.ts';
import type { GpuImage } from '../gpu-image.ts';
import { TILE, WGSL_COMMON, wgslPixelMain } from '../wgsl.ts';
import { uniformBlock } from '../uniforms.ts';
import { WGSL_CLOSENESS_KEY } from './framegen-splat.ts';
import { MOTION_DILATION_RADIUS, type FrameGenerationParams } from '../../core/frame-generation.ts';

const PARAMS = uniformBlock({ width: 'u32', height: 'u32', depthInverted: 'u32' });

const code = /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> motion: array<vec4f>;
@group(0) @binding(2) var<storage, read> depth: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> dilatedMotion: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> dilatedDepth: array<vec4f>;
${WGSL_COMMON}
${WGSL_CLOSENESS_KEY}

${wgslPixelMain(/* wgsl */ `
  let o = id.y * u.width + id.x;
  var closest = o;
  var closestKey = 0xffffffffu;
  // Row order, strictly closer: the first of equally close neighbours wins, as on the CPU.
  for (var dy = -${MOTION_DILATION_RADIUS}; dy <= ${MOTION_DILATION_RADIUS}; dy++) {
    for (var dx = -${MOTION_DILATION_RADIUS}; dx <= ${MOTION_DILATION_RADIUS}; dx++) {
      let nx = i32(id.x) + dx;
      let ny = i32(id.y) + dy;
      if (nx < 0 || ny < 0 || nx >= i32(u.width) || ny >= i32(u.height)) { continue; }
      let k = u32(ny) * u.width + u32(nx);
      let key = closenessKey(depth[k].x);
      if (key < closestKey) {
        closest = k;
        closestKey = key;
      }
    }
  }
  dilatedMotion[o] = vec4f(motion[closest].xy, 0.0, 0.0);
  dilatedDepth[o] = vec4f(depth[closest].x, 0.0, 0.0, 0.0);`)}
`;

/** Records the dilation: `motion` and `depth` render size; the outputs the same size. */
export function encodeFrameGenerationDilate(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  motion: GpuImage,
  depth: GpuImage,
  params: Pick<FrameGenerationParams, 'depthInverted'>,
  dilated: { motion: GpuImage; depth: GpuImage },
): void {
  const { width, height } = motion;
  createKernel(device, { label: 'framegen dilate', code }).dispatch(
    pass,
    [groupsFor(width, TILE), groupsFor(height, TILE)],
    [motion.buffer, depth.buffer, dilated.motion.buffer, dilated.depth.buffer],
    PARAMS.pack({ width, height, depthInverted: params.depthInverted ?? false }),
  );
}
