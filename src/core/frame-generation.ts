/**
 * Frame generation (an in-between frame from two displayed frames and the current frame's motion
 * and depth): the options, the per-dispatch values and their checks, and the constants the GPU
 * passes (src/gpu/passes/framegen-*.ts) share with their CPU reference
 * (src/reference/frame-generation.ts). Errors name the input.
 */
import type { Size } from './quality.ts';

/**
 * How the in-between frame is made: 'heuristic' (motion splatting, depth-ordered, visibility
 * weighted) or 'neural' (a small network blends the heuristic's candidates per pixel;
 * src/core/framegen-neural.ts).
 */
export type FrameGeneratorMethod = 'heuristic' | 'neural';

export const FRAME_GENERATOR_METHODS: readonly FrameGeneratorMethod[] = ['heuristic', 'neural'];

/** The non-texture values of one frame-generation dispatch. */
export interface FrameGenerationParams {
  /** Time of the generated frame between the previous (0) and the current (1) frame, in (0, 1). */
  t: number;
  /** Per-axis factor converting the motion vectors to Uplift's convention (prevUV = uv + m). */
  motionScale: [number, number];
  /** Device depth has near = 1 (reversed Z). Default false. */
  depthInverted?: boolean;
  /** Camera near plane distance (> 0). */
  cameraNear: number;
  /** Camera far plane distance (> near; Infinity allowed). */
  cameraFar: number;
  /** The current frame starts a new shot (camera cut): the previous frame is repeated. */
  reset: boolean;
}

/**
 * A splatted surface in front of another by more than this share of its view depth hides it:
 * the previous frame did not see the farther one there (and, for holes, the window holds a depth
 * edge). Surfaces closer than that in depth are one surface (slopes, neighbouring pixels).
 */
export const OCCLUSION_MARGIN = 0.05;

/** Holes of the splat take the motion of the farthest splatted pixel this many render pixels away at most. */
export const HOLE_RADIUS = 2;

/**
 * Before the splat, each render pixel takes the motion and depth of the closest surface within
 * this many render pixels (3×3): an object thinner than a render pixel, or the display pixels of
 * its edge between render pixel centres, still moves with it (as the upscaler dilates motion).
 */
export const MOTION_DILATION_RADIUS = 1;

/*
 * The compose weighs its candidates for a pixel (the frames read along the time-t motion, the
 * frames blended in place, the one frame the splat says sees the surface) by 1 / (cost + floor)²,
 * where a two-frame candidate's cost is how much its two reads disagree: the squared distance of
 * the tonemapped colours c / (1 + max(c)) (the metrics' domain, so HDR highlights do not swamp
 * it). Where the motion describes the pixel the warped reads agree; where it does not (specular
 * highlights, particles, aliasing that does not move with the surface) the in-place frames often
 * agree better. Constants measured on training entries (docs/QUALITY.md §5).
 */

/** Squared tonemapped disagreements below this are noise: equal weights, no division by 0. */
export const DISAGREEMENT_FLOOR = 1e-4;

/**
 * Added to the in-place blend's cost per squared display pixel of motion: under fast motion a
 * thin object's display pixels often agree in place (background in both frames) though the
 * object is there at time t, so the blend must agree much better than the motion to win.
 */
export const IN_PLACE_COST_PER_PIXEL2 = 1e-3;

/**
 * Cost of the one frame the splat says sees a surface (the other hides it): it cannot be checked
 * against the other frame, so it wins only where the two-frame reads disagree by more than this.
 * The splat decides visibility per render pixel, wider than a slow disocclusion at display size.
 */
export const ONE_SIDED_COST = 0.03;

/** The largest color value written (half float's largest finite value, as the upscaler clamps). */
export { MAX_COLOR } from './pass-constants.ts';

/** Checks a method name. */
export function checkFrameGeneratorMethod(method: unknown): FrameGeneratorMethod {
  if (!FRAME_GENERATOR_METHODS.includes(method as FrameGeneratorMethod)) {
    throw new RangeError(
      `method must be one of ${FRAME_GENERATOR_METHODS.join(', ')}, got ${String(method)}`,
    );
  }
  return method as FrameGeneratorMethod;
}

/** Checks the per-dispatch values; errors name the offending input. */
export function checkFrameGenerationParams(params: FrameGenerationParams): void {
  const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  if (!(finite(params.t) && params.t > 0 && params.t < 1)) {
    throw new RangeError(
      `t must be a number in (0, 1) (0 is the previous frame, 1 the current), got ${String(params.t)}`,
    );
  }
  const { motionScale } = params;
  if (!(Array.isArray(motionScale) && motionScale.length === 2 && motionScale.every(finite))) {
    throw new RangeError(`motionScale must be two finite numbers, got ${String(motionScale)}`);
  }
  if (!finite(params.cameraNear) || params.cameraNear <= 0) {
    throw new RangeError(`cameraNear must be a positive finite number, got ${params.cameraNear}`);
  }
  if (!(params.cameraFar > params.cameraNear)) {
    throw new RangeError(
      `cameraFar must be greater than cameraNear (Infinity allowed), got ${params.cameraFar}`,
    );
  }
  if (typeof params.reset !== 'boolean') {
    throw new RangeError(`reset must be true or false, got ${String(params.reset)}`);
  }
  if (params.depthInverted !== undefined && typeof params.depthInverted !== 'boolean') {
    throw new RangeError(
      `depthInverted must be true or false, got ${String(params.depthInverted)}`,
    );
  }
}

/** Checks the render size (of motion and depth) against the display size. */
export function checkRenderSize(renderSize: Size, displaySize: Size): void {
  if (renderSize[0] > displaySize[0] || renderSize[1] > displaySize[1]) {
    throw new RangeError(
      `motion is ${renderSize.join('x')}, larger than the display size ${displaySize.join('x')}`,
    );
  }
}

/**
 * What the depth tests need of the camera: 1 − near / far (1 for an infinite far plane). With it,
 * ρ(c) = 1 − c · (1 − near / far) = near / z is the inverse view depth of a closeness c (device
 * depth with near = 0), so "a hides b" (z_a < (1 − OCCLUSION_MARGIN) · z_b) is
 * ρ_b < (1 − OCCLUSION_MARGIN) · ρ_a, without a division per pixel.
 */
export function inverseDepthRange(near: number, far: number): number {
  return 1 - near / far;
}
