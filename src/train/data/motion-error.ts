/**
 * Motion vectors as engines get them wrong, for training clips. What goes wrong in practice is
 * per object, not per pixel: particles, animated textures and vertex-animated foliage often write
 * no velocity at all (the buffer keeps its clear value, zero), and skinned or procedurally moved
 * meshes write velocity that is slightly off (a previous-pose or previous-transform mismatch of
 * about a pixel). The reactive mask flags some of these surfaces, not all, so it is left alone.
 *
 * The data engine's images carry no object ids, so an "object" is picked from the image: a random
 * ellipse on screen, and inside it the surface at the ellipse's centre and whatever lies in front
 * of it (view depth at most MARGIN times the centre's). That keeps the error's edges on real
 * silhouettes, where a wrong vector does its damage (ghost trails, smeared edges), instead of on
 * an arbitrary screen shape. Per clip, the whole object's motion is either zeroed (missing) or
 * shifted by one vector of up to one render pixel (slightly wrong).
 */
import type { GpuImage } from '../../gpu/gpu-image.ts';
import { createKernel, groupsFor } from '../../gpu/kernel.ts';
import { uniformBlock } from '../../gpu/uniforms.ts';
import { TILE, wgslPixelMain } from '../../gpu/wgsl.ts';

/** One clip's motion error (drawn before the clip's size is known). */
export interface MotionError {
  /** Ellipse centre and radii, as shares of the image's width and height. */
  readonly center: readonly [number, number];
  readonly radius: readonly [number, number];
  /** `missing`: motion zeroed; `offset`: `offset` added. */
  readonly kind: 'missing' | 'offset';
  /** Added to the motion vector, in render pixels (length ≤ 1; zero for `missing`). */
  readonly offset: readonly [number, number];
}

/** Pixels up to this factor deeper (view distance) than the centre's surface count as its object. */
export const OBJECT_DEPTH_MARGIN = 1.1;
/** Ellipse radii as a share of the render size: small props up to large characters. */
const RADIUS_SHARE = { min: 0.08, max: 0.35 };

/** Draws a motion error from `random` (always five draws). */
export function drawMotionError(random: () => number): MotionError {
  const center: [number, number] = [random(), random()];
  const share = RADIUS_SHARE.min + random() * (RADIUS_SHARE.max - RADIUS_SHARE.min);
  const radius: [number, number] = [share, share];
  const angle = random() * 2 * Math.PI;
  const length = random();
  const missing = length < 0.5;
  // The offset's length is uniform in (0, 1] pixels: 2·(length − 0.5) reuses the draw.
  const pixels = missing ? 0 : 2 * (length - 0.5);
  return {
    center,
    radius,
    kind: missing ? 'missing' : 'offset',
    offset: [pixels * Math.cos(angle), pixels * Math.sin(angle)],
  };
}

const PARAMS = uniformBlock({
  width: 'u32',
  height: 'u32',
  centerX: 'f32',
  centerY: 'f32',
  radiusX: 'f32',
  radiusY: 'f32',
  offsetX: 'f32',
  offsetY: 'f32',
  missing: 'u32',
  depthInverted: 'u32',
});

const code = /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> depth: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> motion: array<vec4f>;

// Proportional to 1 / view distance for standard and reversed-Z perspective depth (far ≫ near).
fn nearness(d: f32) -> f32 {
  return select(1.0 - d, d, u.depthInverted != 0u);
}
${wgslPixelMain(/* wgsl */ `
  let e = (vec2f(id.xy) + 0.5 - vec2f(u.centerX, u.centerY)) / vec2f(u.radiusX, u.radiusY);
  if (dot(e, e) > 1.0) { return; }
  let c = vec2u(min(u32(u.centerX), u.width - 1u), min(u32(u.centerY), u.height - 1u));
  let i = id.y * u.width + id.x;
  if (nearness(depth[i].x) * ${OBJECT_DEPTH_MARGIN} < nearness(depth[c.y * u.width + c.x].x)) {
    return;
  }
  let m = motion[i];
  let size = vec2f(f32(u.width), f32(u.height));
  let moved = select(m.xy + vec2f(u.offsetX, u.offsetY) / size, vec2f(0.0), u.missing != 0u);
  motion[i] = vec4f(moved, m.zw);`)}
`;

/** Records `error` applied in place to `motion` (UV units, DESIGN §4), objects found in `depth`. */
export function encodeMotionError(
  device: GPUDevice,
  encoder: GPUCommandEncoder,
  images: { motion: GpuImage; depth: GpuImage },
  error: MotionError,
  depthInverted: boolean,
): void {
  const { motion, depth } = images;
  const [w, h] = [motion.width, motion.height];
  const pass = encoder.beginComputePass({ label: 'motion error' });
  createKernel(device, { label: 'motion error', code }).dispatch(
    pass,
    [groupsFor(motion.width, TILE), groupsFor(motion.height, TILE)],
    [depth.buffer, motion.buffer],
    PARAMS.pack({
      width: w,
      height: h,
      centerX: error.center[0] * w,
      centerY: error.center[1] * h,
      radiusX: error.radius[0] * w,
      radiusY: error.radius[1] * h,
      offsetX: error.offset[0],
      offsetY: error.offset[1],
      missing: error.kind === 'missing',
      depthInverted,
    }),
  );
  pass.end();
}
