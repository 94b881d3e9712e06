/**
 * Frame generation, step 2 (render resolution): the time-t motion field from the splat: motion
 * xy, whether the previous frame sees the surface (z) and whether the current one does (w).
 * Splatted pixels take their source's motion; holes the farthest splatted neighbour's, each
 * with depth tests of what lies in front of it in either frame. Reads the splat's image of
 * surfaces (xy = motion, z = depth).
 * CPU reference and exact definition: src/reference/frame-generation.ts (resolveMotionCpu).
 */
import { createKernel, groupsFor } from '../kernel.ts';
import type { GpuImage } from '../gpu-image.ts';
import { TILE, WGSL_COMMON, wgslPixelMain } from '../wgsl.ts';
import { uniformBlock } from '../uniforms.ts';
import { WGSL_SPLAT_COMMON } from './framegen-splat.ts';
import {
  HOLE_RADIUS,
  inverseDepthRange,
  OCCLUSION_MARGIN,
  type FrameGenerationParams,
} from '../../core/frame-generation.ts';

const PARAMS = uniformBlock({
  width: 'u32',
  height: 'u32',
  t: 'f32',
  scaleAtT: 'f32',
  motionScaleX: 'f32',
  motionScaleY: 'f32',
  depthInverted: 'u32',
  depthRange: 'f32',
});

const code = /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> surfaces: array<vec4f>;
@group(0) @binding(2) var<storage, read> splat: array<u32>;
@group(0) @binding(3) var<storage, read_write> field: array<vec4f>;
${WGSL_COMMON}
${WGSL_SPLAT_COMMON}
fn closenessOfStored(stored: u32) -> f32 { return bitcast<f32>(~stored); }
fn inverseDepth(c: f32) -> f32 { return 1.0 - c * u.depthRange; }
fn hides(rhoNear: f32, rhoFar: f32) -> bool {
  return rhoFar < ${(1 - OCCLUSION_MARGIN).toFixed(6)} * rhoNear;
}

${wgslPixelMain(/* wgsl */ `
  let n = u.width * u.height;
  let o = id.y * u.width + id.x;
  let source = splat[n + o];
  if (source != 0u) {
    let p = ~source;
    let surface = surfaces[p];
    let m = scaledMotion(surface);
    let q0 = splatTarget(p % u.width, p / u.width, m, 1.0);
    let c = closenessOfStored(~closenessKey(surface.z));
    let hidden = q0 >= 0 &&
      hides(inverseDepth(closenessOfStored(splat[2u * n + u32(q0)])), inverseDepth(c));
    field[o] = vec4f(m, select(1.0, 0.0, hidden), 1.0);
    return;
  }
  var farthest = -1;
  var farKey = 0u;
  for (var dy = -${HOLE_RADIUS}; dy <= ${HOLE_RADIUS}; dy++) {
    for (var dx = -${HOLE_RADIUS}; dx <= ${HOLE_RADIUS}; dx++) {
      let nx = i32(id.x) + dx;
      let ny = i32(id.y) + dy;
      if (nx < 0 || ny < 0 || nx >= i32(u.width) || ny >= i32(u.height)) { continue; }
      let k = ny * i32(u.width) + nx;
      if (splat[n + u32(k)] != 0u && (farthest < 0 || splat[u32(k)] < farKey)) {
        farthest = k;
        farKey = splat[u32(k)];
      }
    }
  }
  if (farthest < 0) {
    field[o] = vec4f(0.0);
    return;
  }
  let m = scaledMotion(surfaces[~splat[n + u32(farthest)]]);
  let rho = inverseDepth(closenessOfStored(farKey));
  let q0 = splatTarget(id.x, id.y, m, u.t);
  let q1 = splatTarget(id.x, id.y, m, -u.scaleAtT);
  let hiddenBefore = q0 >= 0 &&
    hides(inverseDepth(closenessOfStored(splat[2u * n + u32(q0)])), rho);
  let hiddenNow = q1 >= 0 &&
    hides(inverseDepth(bitcast<f32>(closenessKey(surfaces[u32(q1)].z))), rho);
  field[o] = vec4f(m, select(1.0, 0.0, hiddenBefore), select(1.0, 0.0, hiddenNow));`)}
`;

/**
 * Records the resolve: `surfaces` (xy = motion, z = depth) and `splat` as
 * encodeFrameGenerationSplat read and left them; `field` render size.
 */
export function encodeFrameGenerationResolve(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  surfaces: GpuImage,
  splat: GPUBuffer,
  params: Pick<
    FrameGenerationParams,
    't' | 'motionScale' | 'depthInverted' | 'cameraNear' | 'cameraFar'
  >,
  field: GpuImage,
): void {
  const { width, height } = surfaces;
  createKernel(device, { label: 'framegen resolve', code }).dispatch(
    pass,
    [groupsFor(width, TILE), groupsFor(height, TILE)],
    [surfaces.buffer, splat, field.buffer],
    PARAMS.pack({
      width,
      height,
      t: params.t,
      scaleAtT: 1 - params.t,
      motionScaleX: params.motionScale[0],
      motionScaleY: params.motionScale[1],
      depthInverted: params.depthInverted ?? false,
      depthRange: inverseDepthRange(params.cameraNear, params.cameraFar),
    }),
  );
}
