/**
 * Frame generation, step 1 (render resolution): the splat of the current frame's pixels to time
 * t and to time 0, with the closest surface winning each target pixel. Two kernels: the keys
 * (atomicMax on the complemented closeness bits, i.e. atomicMin on depth), then the sources
 * (the pixels whose key won write their complemented index: the smallest index wins a tie).
 * Reads one image of surfaces: xy = motion, z = device depth (the dilation pass writes it).
 * CPU reference and exact definition: src/reference/frame-generation.ts (splatCpu).
 */
import { createKernel, groupsFor } from '../kernel.ts';
import type { GpuImage } from '../gpu-image.ts';
import { TILE, WGSL_COMMON, wgslPixelMain } from '../wgsl.ts';
import { uniformBlock } from '../uniforms.ts';
import type { FrameGenerationParams } from '../../core/frame-generation.ts';

const PARAMS = uniformBlock({
  width: 'u32',
  height: 'u32',
  scaleAtT: 'f32',
  motionScaleX: 'f32',
  motionScaleY: 'f32',
  depthInverted: 'u32',
});

/**
 * WGSL twin of closenessKey (src/reference/frame-generation.ts): the closeness bits of a device
 * depth. Needs u.depthInverted and WGSL_COMMON.
 */
export const WGSL_CLOSENESS_KEY = /* wgsl */ `
fn closenessKey(depth: f32) -> u32 {
  let c = select(depth, 1.0 - depth, u.depthInverted != 0u);
  if (!isFiniteF(c)) { return 0x3f800000u; }
  if (c <= 0.0) { return 0u; }
  return bitcast<u32>(min(c, 1.0));
}
`;

/**
 * WGSL shared by the splat and resolve kernels (twins of closenessKey, splatTarget and the
 * motion read of src/reference/frame-generation.ts). Needs u.width, u.height, u.motionScaleX/Y,
 * u.depthInverted and WGSL_COMMON.
 */
export const WGSL_SPLAT_COMMON = /* wgsl */ `
${WGSL_CLOSENESS_KEY}
fn scaledMotion(m: vec4f) -> vec2f {
  return m.xy * vec2f(u.motionScaleX, u.motionScaleY);
}
fn finite2(v: vec2f) -> bool { return isFiniteF(v.x) && isFiniteF(v.y); }
// The pixel (x, y) with motion m lands in when moved \`scale\` of the way back; -1 off the image.
fn splatTarget(x: u32, y: u32, m: vec2f, scale: f32) -> i32 {
  let size = vec2f(f32(u.width), f32(u.height));
  let p = (vec2f(f32(x), f32(y)) + 0.5) + scale * (m * size);
  if (!(p.x >= 0.0 && p.x < size.x && p.y >= 0.0 && p.y < size.y)) { return -1; }
  return i32(floor(p.y)) * i32(u.width) + i32(floor(p.x));
}
`;

const header = /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> surfaces: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> splat: array<atomic<u32>>;
${WGSL_COMMON}
${WGSL_SPLAT_COMMON}
`;

const keysCode = /* wgsl */ `${header}
${wgslPixelMain(/* wgsl */ `
  let i = id.y * u.width + id.x;
  let surface = surfaces[i];
  let m = scaledMotion(surface);
  if (!finite2(m)) { return; }
  let stored = ~closenessKey(surface.z);
  let q = splatTarget(id.x, id.y, m, u.scaleAtT);
  if (q >= 0) { atomicMax(&splat[u32(q)], stored); }
  let q0 = splatTarget(id.x, id.y, m, 1.0);
  if (q0 >= 0) { atomicMax(&splat[2u * u.width * u.height + u32(q0)], stored); }`)}
`;

const sourcesCode = /* wgsl */ `${header}
${wgslPixelMain(/* wgsl */ `
  let i = id.y * u.width + id.x;
  let surface = surfaces[i];
  let m = scaledMotion(surface);
  if (!finite2(m)) { return; }
  let q = splatTarget(id.x, id.y, m, u.scaleAtT);
  if (q >= 0 && atomicLoad(&splat[u32(q)]) == ~closenessKey(surface.z)) {
    atomicMax(&splat[u.width * u.height + u32(q)], ~i);
  }`)}
`;

/** Bytes of the splat buffer for a render size: three u32 planes. */
export function splatBytes(width: number, height: number): number {
  return width * height * 3 * 4;
}

/**
 * Records the splat of `surfaces` (render size; xy = motion, z = depth): `splat` (splatBytes, zeroed by the caller, e.g. encoder.clearBuffer before
 * the pass) receives the planes keysAtT, sourcesAtT, keysAtPrevious, in that order.
 */
export function encodeFrameGenerationSplat(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  surfaces: GpuImage,
  params: Pick<FrameGenerationParams, 't' | 'motionScale' | 'depthInverted'>,
  splat: GPUBuffer,
): void {
  const { width, height } = surfaces;
  const uniforms = PARAMS.pack({
    width,
    height,
    scaleAtT: 1 - params.t,
    motionScaleX: params.motionScale[0],
    motionScaleY: params.motionScale[1],
    depthInverted: params.depthInverted ?? false,
  });
  const groups: [number, number] = [groupsFor(width, TILE), groupsFor(height, TILE)];
  const buffers = [surfaces.buffer, splat];
  createKernel(device, { label: 'framegen splat keys', code: keysCode }).dispatch(
    pass,
    groups,
    buffers,
    uniforms,
  );
  createKernel(device, { label: 'framegen splat sources', code: sourcesCode }).dispatch(
    pass,
    groups,
    buffers,
    uniforms,
  );
}
