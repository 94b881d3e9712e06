/**
 * CPU reference of frame generation (the heuristic method): the frame at time t ∈ (0, 1) between
 * the previous (t = 0) and the current (t = 1) displayed frame, from the current frame's motion
 * (prevUV = uv + m) and depth at render resolution. The GPU twins are
 * src/gpu/passes/framegen-dilate.ts, framegen-splat.ts, framegen-resolve.ts and
 * framegen-compose.ts; constants and checks are in src/core/frame-generation.ts.
 *
 * 0. Dilate (render resolution): each pixel takes the motion and depth of the closest surface
 *    (smallest closeness key, the first in row order among equals) within MOTION_DILATION_RADIUS,
 *    so thin objects and the edges of objects move with them. Steps 1 and 2 read the dilated
 *    images.
 * 1. Splat (render resolution). Each current pixel p, moving linearly, lies at
 *    p + 0.5 + (1 − t)·m·size at time t and at p + 0.5 + m·size at time 0 (texel space). Two key
 *    planes keep, per target pixel, the closest surface landing there (at t, and at time 0: the
 *    previous frame's depth as the current frame's surfaces rebuild it); a third plane keeps which
 *    pixel that closest one at t is (the smallest index among equals). WebGPU has no 64-bit
 *    atomics, so depth and index take two atomic passes: keys first, then the pixels whose key won
 *    write their index. Keys are the bits of the closeness c ∈ [0, 1] (device depth, near = 0; the
 *    bits of non-negative floats order as the floats), stored complemented (~key) so that an empty
 *    plane, zeros, is the farthest and atomicMax on ~key is atomicMin on key.
 * 2. Resolve (render resolution): each pixel of the time-t grid gets a motion vector and whether
 *    the previous and the current frame see its surface:
 *    - splatted: its source's motion; the current frame sees it; the previous one unless a surface
 *      closer by OCCLUSION_MARGIN lands at the source's time-0 position (it was hidden then);
 *    - a hole (nothing lands there: a surface the current frame no longer sees, or a stretched
 *      area): the motion of the farthest splatted pixel within HOLE_RADIUS (the background); a
 *      frame sees it unless a surface closer by OCCLUSION_MARGIN lies where it is in that frame
 *      (the current frame's depth at time 1, the splat's time-0 depth for the previous frame);
 *    - no splatted pixel near: no motion, neither frame trusted (the compose pass blends).
 * 3. Compose (display resolution): the display pixel takes the time-t motion of the render pixel
 *    holding its centre; the previous frame is read at uv + t·m and the current one at
 *    uv − (1 − t)·m (16-tap Catmull-Rom clamped to the 2×2 nearest texels, as the reproject pass
 *    reads history). Where both reads are on the image and a frame sees the surface, candidates
 *    are weighed by 1 / (cost + DISAGREEMENT_FLOOR)²: the two reads weighted by time
 *    ((1 − t)·previous + t·current), cost their tonemapped disagreement; the frames blended in
 *    place, cost their disagreement plus IN_PLACE_COST_PER_PIXEL2 · |m in display pixels|²; and
 *    where the splat says only one frame sees the surface, that frame's read, cost ONE_SIDED_COST.
 *    Elsewhere the on-image reads of the frames that see the surface are weighted by time, or,
 *    with none, the frames are blended in place. Then, in proportion to the reactive mask (motion
 *    vectors that do not describe the pixel: particles, transparency), the result moves to the
 *    in-place blend. A reset (camera cut) repeats the previous frame. Non-finite input values read
 *    as 0; colors are clamped to [0, MAX_COLOR].
 *
 * The splat positions are computed in f32 as the GPU computes them (Math.fround at every step),
 * so both pick the same pixels; the resolve copies values and compares depths, so the GPU
 * matches it exactly (a comparison could only flip within an f32 ulp of OCCLUSION_MARGIN). The
 * dilation compares keys and copies values, so it matches exactly too. The compose is continuous
 * apart from the on-screen test and is matched to f32 rounding.
 */
import { createImage, type Image } from '../core/image.ts';
import {
  DISAGREEMENT_FLOOR,
  HOLE_RADIUS,
  IN_PLACE_COST_PER_PIXEL2,
  inverseDepthRange,
  MAX_COLOR,
  MOTION_DILATION_RADIUS,
  OCCLUSION_MARGIN,
  ONE_SIDED_COST,
  type FrameGenerationParams,
} from '../core/frame-generation.ts';
import { catmullRomWeights, renderPixelOf, texel } from './common.ts';

const f32 = Math.fround;

/** The three planes of the splat (render size), stored as the GPU stores them. */
export interface SplatCpu {
  /** Per target pixel, ~key of the closest surface landing there at time t (0 = none). */
  keysAtT: Uint32Array;
  /** Per target pixel, ~index of the closest source landing there at time t (0 = none). */
  sourcesAtT: Uint32Array;
  /** Per target pixel, ~key of the closest surface landing there at time 0 (0 = none). */
  keysAtPrevious: Uint32Array;
}

const bits = new DataView(new ArrayBuffer(4));

/** The key of closeness 1 (the far plane; non-finite depths too): the bits of 1.0. */
const FARTHEST_KEY = 0x3f800000;

/** The closeness key of a device depth: f32 bits of c ∈ [0, 1] (near = 0; non-finite is farthest). */
export function closenessKey(depth: number, depthInverted: boolean): number {
  const c = depthInverted ? f32(1 - depth) : f32(depth);
  if (!Number.isFinite(c)) return FARTHEST_KEY;
  // c ≤ 0 (−0 included, whose bits would sort last) is the nearest key.
  if (c <= 0) return 0;
  bits.setFloat32(0, Math.min(c, 1), true);
  return bits.getUint32(0, true);
}

/** The closeness a stored (complemented) key stands for. */
export function closenessOfStored(stored: number): number {
  bits.setUint32(0, ~stored >>> 0, true);
  return bits.getFloat32(0, true);
}

/** The motion of render pixel i times motionScale, as f32; undefined where it is not finite. */
function scaledMotion(
  motion: Image,
  i: number,
  motionScale: readonly [number, number],
): [number, number] | undefined {
  const mx = f32(motion.data[i * motion.channels]! * f32(motionScale[0]));
  const my = f32(motion.data[i * motion.channels + 1]! * f32(motionScale[1]));
  return Number.isFinite(mx) && Number.isFinite(my) ? [mx, my] : undefined;
}

/**
 * Where render pixel (x, y) with motion m lands when it has moved `scale` of the way back to
 * its previous position: the target pixel's index, or -1 off the image.
 */
export function splatTarget(
  x: number,
  y: number,
  m: readonly [number, number],
  scale: number,
  width: number,
  height: number,
): number {
  const s = f32(scale);
  const px = f32(f32(x + 0.5) + f32(s * f32(m[0] * width)));
  const py = f32(f32(y + 0.5) + f32(s * f32(m[1] * height)));
  if (!(px >= 0 && px < width && py >= 0 && py < height)) return -1;
  return Math.floor(py) * width + Math.floor(px);
}

/**
 * Step 0: motion (2 channels) and depth (1 channel) of the closest surface within
 * MOTION_DILATION_RADIUS render pixels, values copied unchanged (non-finite ones too).
 */
export function dilateMotionCpu(
  motion: Image,
  depth: Image,
  params: Pick<FrameGenerationParams, 'depthInverted'>,
): { motion: Image; depth: Image } {
  const { width, height } = motion;
  const out = { motion: createImage(width, height, 2), depth: createImage(width, height, 1) };
  const inverted = params.depthInverted ?? false;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let closest = y * width + x;
      let closestKey = Infinity;
      for (let dy = -MOTION_DILATION_RADIUS; dy <= MOTION_DILATION_RADIUS; dy++) {
        for (let dx = -MOTION_DILATION_RADIUS; dx <= MOTION_DILATION_RADIUS; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const k = ny * width + nx;
          const key = closenessKey(depth.data[k * depth.channels]!, inverted);
          if (key < closestKey) {
            closest = k;
            closestKey = key;
          }
        }
      }
      const o = y * width + x;
      out.motion.data[o * 2] = motion.data[closest * motion.channels]!;
      out.motion.data[o * 2 + 1] = motion.data[closest * motion.channels + 1]!;
      out.depth.data[o] = depth.data[closest * depth.channels]!;
    }
  }
  return out;
}

/** Step 1: the splat of the current frame's pixels to time t and to time 0. */
export function splatCpu(
  motion: Image,
  depth: Image,
  params: Pick<FrameGenerationParams, 't' | 'motionScale' | 'depthInverted'>,
): SplatCpu {
  const { width, height } = motion;
  const n = width * height;
  const splat: SplatCpu = {
    keysAtT: new Uint32Array(n),
    sourcesAtT: new Uint32Array(n),
    keysAtPrevious: new Uint32Array(n),
  };
  const scaleAtT = f32(1 - params.t);
  const stored = new Uint32Array(n);
  const targets = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const m = scaledMotion(motion, i, params.motionScale);
    if (!m) continue;
    const x = i % width;
    const y = (i - x) / width;
    stored[i] = ~closenessKey(depth.data[i * depth.channels]!, params.depthInverted ?? false) >>> 0;
    const q = splatTarget(x, y, m, scaleAtT, width, height);
    targets[i] = q;
    if (q >= 0) splat.keysAtT[q] = Math.max(splat.keysAtT[q]!, stored[i]!);
    const q0 = splatTarget(x, y, m, 1, width, height);
    if (q0 >= 0) splat.keysAtPrevious[q0] = Math.max(splat.keysAtPrevious[q0]!, stored[i]!);
  }
  for (let i = 0; i < n; i++) {
    const q = targets[i]!;
    if (q >= 0 && splat.keysAtT[q] === stored[i]) {
      splat.sourcesAtT[q] = Math.max(splat.sourcesAtT[q]!, ~i >>> 0);
    }
  }
  return splat;
}

/** ρ(c) = 1 − c·(1 − near/far), the inverse view depth up to the factor near (in f32). */
function inverseDepth(c: number, range: number): number {
  return f32(1 - f32(c * range));
}

/** Whether a surface of inverse depth `rhoFar` lies behind one of `rhoNear` by the margin. */
function hides(rhoNear: number, rhoFar: number): boolean {
  return rhoFar < f32(f32(1 - OCCLUSION_MARGIN) * rhoNear);
}

/**
 * Step 2: the time-t motion field (render size, 4 channels): motion xy, whether the previous
 * frame sees the surface (z) and whether the current frame does (w), each 0 or 1.
 */
export function resolveMotionCpu(
  splat: SplatCpu,
  motion: Image,
  depth: Image,
  params: Pick<
    FrameGenerationParams,
    't' | 'motionScale' | 'depthInverted' | 'cameraNear' | 'cameraFar'
  >,
): Image {
  const { width, height } = motion;
  const out = createImage(width, height, 4);
  const range = f32(inverseDepthRange(params.cameraNear, params.cameraFar));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      const source = splat.sourcesAtT[y * width + x]!;
      if (source !== 0) {
        const p = ~source >>> 0;
        const m = scaledMotion(motion, p, params.motionScale)!;
        const px = p % width;
        const q0 = splatTarget(px, (p - px) / width, m, 1, width, height);
        const c = closenessOfStored(
          ~closenessKey(depth.data[p * depth.channels]!, params.depthInverted ?? false) >>> 0,
        );
        const hidden =
          q0 >= 0 &&
          hides(
            inverseDepth(closenessOfStored(splat.keysAtPrevious[q0]!), range),
            inverseDepth(c, range),
          );
        out.data.set([m[0], m[1], hidden ? 0 : 1, 1], o);
        continue;
      }
      let farthest = -1;
      let farKey = 0;
      for (let dy = -HOLE_RADIUS; dy <= HOLE_RADIUS; dy++) {
        for (let dx = -HOLE_RADIUS; dx <= HOLE_RADIUS; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const k = ny * width + nx;
          // Stored keys are complemented: the smallest stored key is the farthest surface.
          if (splat.sourcesAtT[k] !== 0 && (farthest < 0 || splat.keysAtT[k]! < farKey)) {
            farthest = k;
            farKey = splat.keysAtT[k]!;
          }
        }
      }
      if (farthest < 0) continue;
      const m = scaledMotion(motion, ~splat.sourcesAtT[farthest]! >>> 0, params.motionScale)!;
      const rho = inverseDepth(closenessOfStored(farKey), range);
      // Where the hole's surface is at time 0 and at time 1, and what lies in front there.
      const q0 = splatTarget(x, y, m, f32(params.t), width, height);
      const q1 = splatTarget(x, y, m, -f32(1 - params.t), width, height);
      const hiddenBefore =
        q0 >= 0 && hides(inverseDepth(closenessOfStored(splat.keysAtPrevious[q0]!), range), rho);
      const hiddenNow =
        q1 >= 0 &&
        hides(
          inverseDepth(
            closenessOfStored(
              ~closenessKey(depth.data[q1 * depth.channels]!, params.depthInverted ?? false) >>> 0,
            ),
            range,
          ),
          rho,
        );
      out.data.set([m[0], m[1], hiddenBefore ? 0 : 1, hiddenNow ? 0 : 1], o);
    }
  }
  return out;
}

/** Channel c of a displayed frame at (x, y), clamp-to-edge; a non-finite value reads as 0. */
function frameTexel(image: Image, x: number, y: number, c: number): number {
  const v = texel(image, x, y, c);
  return Number.isFinite(v) ? v : 0;
}

/**
 * A display image read at texel-space position (px, py) (pixel centres at +0.5): 16-tap
 * Catmull-Rom clamped to the 2×2 nearest texels, clamp-to-edge; undefined off the image.
 */
function readWarped(image: Image, px: number, py: number): number[] | undefined {
  const { width, height } = image;
  if (!(px >= 0 && px <= width && py >= 0 && py <= height)) return undefined;
  const hx = px - 0.5;
  const hy = py - 0.5;
  const x0 = Math.floor(hx);
  const y0 = Math.floor(hy);
  const wx = catmullRomWeights(hx - x0);
  const wy = catmullRomWeights(hy - y0);
  return [0, 1, 2].map((c) => {
    let sum = 0;
    for (let j = 0; j < 4; j++) {
      for (let i = 0; i < 4; i++)
        sum += wx[i]! * wy[j]! * frameTexel(image, x0 - 1 + i, y0 - 1 + j, c);
    }
    const a = frameTexel(image, x0, y0, c);
    const b = frameTexel(image, x0 + 1, y0, c);
    const d = frameTexel(image, x0, y0 + 1, c);
    const e = frameTexel(image, x0 + 1, y0 + 1, c);
    return Math.min(Math.max(sum, Math.min(a, b, d, e)), Math.max(a, b, d, e));
  });
}

/** Squared distance of two colors in the tonemapped domain c / (1 + max(c)). */
function tonemappedDistance(a: readonly number[], b: readonly number[]): number {
  const ka = 1 / (1 + Math.max(a[0]!, a[1]!, a[2]!, 0));
  const kb = 1 / (1 + Math.max(b[0]!, b[1]!, b[2]!, 0));
  let sum = 0;
  for (let c = 0; c < 3; c++) sum += (a[c]! * ka - b[c]! * kb) ** 2;
  return sum;
}

/** A candidate's weight: 1 / (cost + DISAGREEMENT_FLOOR)². */
function candidateWeight(cost: number): number {
  return 1 / (cost + DISAGREEMENT_FLOOR) ** 2;
}

/** A color as written: non-finite → 0, clamped to [0, MAX_COLOR]. */
function sanitize(v: number): number {
  return Number.isFinite(v) ? Math.min(Math.max(v, 0), MAX_COLOR) : 0;
}

/**
 * Step 3: the frame at time t (display size, RGBA, alpha 1) from the previous and current frames
 * (display size), the time-t motion field of step 2 and an optional reactive mask (render size).
 */
export function composeFrameCpu(
  previous: Image,
  current: Image,
  field: Image,
  reactive: Image | undefined,
  params: Pick<FrameGenerationParams, 't' | 'reset'>,
): Image {
  const { width, height } = previous;
  const out = createImage(width, height, 4);
  const t = f32(params.t);
  const s = f32(1 - t);
  for (let y = 0; y < height; y++) {
    const ry = renderPixelOf(y, field.height, height);
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      out.data[o + 3] = 1;
      const p = [0, 1, 2].map((c) => frameTexel(previous, x, y, c));
      if (params.reset) {
        for (let c = 0; c < 3; c++) out.data[o + c] = sanitize(p[c]!);
        continue;
      }
      const rx = renderPixelOf(x, field.width, width);
      const k = (ry * field.width + rx) * 4;
      const [mx, my, seenBefore, seenNow] = field.data.subarray(k, k + 4);
      const r = reactive ? Math.min(Math.max(texel(reactive, rx, ry, 0), 0), 1) : 0;
      const dx = mx! * width;
      const dy = my! * height;
      const warpedPrevious = readWarped(previous, x + 0.5 + t * dx, y + 0.5 + t * dy);
      const warpedCurrent = readWarped(current, x + 0.5 - s * dx, y + 0.5 - s * dy);
      const q = [0, 1, 2].map((c) => frameTexel(current, x, y, c));
      const blended = [0, 1, 2].map((c) => s * p[c]! + t * q[c]!);
      let warped: number[];
      if (warpedPrevious && warpedCurrent && (seenBefore || seenNow)) {
        // Candidates weighed by how well each explains the pixel (see the file comment).
        const candidates: [number[], number][] = [
          [
            [0, 1, 2].map((c) => s * warpedPrevious[c]! + t * warpedCurrent[c]!),
            tonemappedDistance(warpedPrevious, warpedCurrent),
          ],
          [blended, tonemappedDistance(p, q) + IN_PLACE_COST_PER_PIXEL2 * (dx * dx + dy * dy)],
        ];
        if (seenBefore !== seenNow) {
          candidates.push([seenBefore ? warpedPrevious : warpedCurrent, ONE_SIDED_COST]);
        }
        let total = 0;
        warped = [0, 0, 0];
        for (const [color, cost] of candidates) {
          const w = candidateWeight(cost);
          for (let c = 0; c < 3; c++) warped[c]! += w * color[c]!;
          total += w;
        }
        warped = warped.map((v) => v / total);
      } else {
        const wp = warpedPrevious ? s * seenBefore! : 0;
        const wc = warpedCurrent ? t * seenNow! : 0;
        warped = [0, 1, 2].map((c) =>
          wp + wc > 0
            ? (wp * (warpedPrevious?.[c] ?? 0) + wc * (warpedCurrent?.[c] ?? 0)) / (wp + wc)
            : blended[c]!,
        );
      }
      for (let c = 0; c < 3; c++) {
        out.data[o + c] = sanitize(warped[c]! + r * (blended[c]! - warped[c]!));
      }
    }
  }
  return out;
}

/** The CPU inputs of one generated frame. */
export interface FrameGenerationImages {
  /** The previous displayed frame (display size, linear RGB). */
  previous: Image;
  /** The current displayed frame (display size, linear RGB). */
  current: Image;
  /** The current frame's motion (render size, 2 channels, prevUV = uv + m · motionScale). */
  motion: Image;
  /** The current frame's device depth (render size, 1 channel). */
  depth: Image;
  /** Optional reactive mask (render size, 0..1): 1 = the motion does not describe the pixel. */
  reactive?: Image;
}

/** The frame at time params.t (display size, RGBA): steps 0–3. */
export function generateFrameCpu(
  images: FrameGenerationImages,
  params: FrameGenerationParams,
): Image {
  if (params.reset) {
    return composeFrameCpu(images.previous, images.current, images.motion, undefined, params);
  }
  const { motion, depth } = dilateMotionCpu(images.motion, images.depth, params);
  const splat = splatCpu(motion, depth, params);
  const field = resolveMotionCpu(splat, motion, depth, params);
  return composeFrameCpu(images.previous, images.current, field, images.reactive, params);
}
