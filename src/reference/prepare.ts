/**
 * CPU reference of the prepare pass (render resolution): sanitize, expose and tonemap the color;
 * dilate motion to the closest-depth neighbour; disocclusion cue from the previous depth.
 * The GPU twin is src/gpu/passes/prepare.ts.
 */
import { createImage, luma, type Image } from '../core/image.ts';
import { saturate, texel } from './common.ts';
import {
  MAX_COLOR,
  MAX_MOTION,
  DISOCCLUSION_START,
  DISOCCLUSION_FULL,
  TRANSPARENCY_WEIGHT,
  type PrepareParams,
} from '../core/pass-constants.ts';

/** The prepared frame on the CPU (render resolution, 4 channels each). */
export interface PreparedFrameCpu {
  /** rgb = tonemapped, sanitized, exposed color; a = its Rec. 709 luma. */
  color: Image;
  /** xy = dilated motion (UV, motionScale applied); z = disocclusion cue 0..1; w = reactive 0..1. */
  motion: Image;
}

function finiteOr(v: number, fallback: number): number {
  return Number.isFinite(v) ? v : fallback;
}

/** Sanitized linear color channel: NaN/−Inf/negative → 0, +Inf and huge values → MAX_COLOR. */
export function sanitizeColor(v: number, exposure: number): number {
  if (Number.isNaN(v) || v <= 0) return 0;
  return Math.min(v * exposure, MAX_COLOR);
}

/**
 * View distance of a device depth (near = 0 unless inverted): z = n·f / (f − d·(f − n)), or
 * n / (1 − d) for an infinite far plane. Non-finite depth counts as the far plane.
 */
export function viewDepth(d: number, p: PrepareParams): number {
  let dn = Number.isFinite(d) ? Math.min(Math.max(d, 0), 1) : p.depthInverted ? 0 : 1;
  if (p.depthInverted) dn = 1 - dn;
  dn = Math.min(dn, 1 - 1e-6);
  const n = p.cameraNear;
  const f = p.cameraFar;
  if (!Number.isFinite(f) || f <= 0) return n / (1 - dn);
  return (n * f) / (f - dn * (f - n));
}

/**
 * Prepares one frame. `previousDepth` is the previous frame's raw depth (omit on the first frame
 * or after a reset: the disocclusion cue is then 0).
 */
export function prepareFrameCpu(
  inputs: { color: Image; depth: Image; motion: Image; reactive?: Image; transparency?: Image },
  previousDepth: Image | undefined,
  params: PrepareParams,
): PreparedFrameCpu {
  const { width, height } = inputs.color;
  const color = createImage(width, height, 4);
  const motion = createImage(width, height, 4);
  const cc = inputs.color.channels;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      // Color: sanitize, expose, clamp, tonemap c / (1 + max).
      const r = sanitizeColor(inputs.color.data[i * cc]!, params.exposure);
      const g = sanitizeColor(inputs.color.data[i * cc + 1]!, params.exposure);
      const b = sanitizeColor(inputs.color.data[i * cc + 2]!, params.exposure);
      const s = 1 / (1 + Math.max(r, g, b));
      color.data[i * 4] = r * s;
      color.data[i * 4 + 1] = g * s;
      color.data[i * 4 + 2] = b * s;
      color.data[i * 4 + 3] = luma(r * s, g * s, b * s);

      // Motion of the closest surface in 3x3 (the centre wins ties), so edges move with the
      // foreground object instead of smearing it.
      const ownZ = viewDepth(texel(inputs.depth, x, y, 0), params);
      let bestZ = ownZ;
      let bx = x;
      let by = y;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const sx = x + dx;
          const sy = y + dy;
          if ((dx === 0 && dy === 0) || sx < 0 || sy < 0 || sx >= width || sy >= height) continue;
          const z = viewDepth(texel(inputs.depth, sx, sy, 0), params);
          if (z < bestZ) {
            bestZ = z;
            bx = sx;
            by = sy;
          }
        }
      }
      const clampMotion = (v: number) =>
        Math.min(Math.max(finiteOr(v, 0), -MAX_MOTION), MAX_MOTION);
      const mx = clampMotion(texel(inputs.motion, bx, by, 0) * params.motionScale[0]);
      const my = clampMotion(texel(inputs.motion, bx, by, 1) * params.motionScale[1]);
      motion.data[i * 4] = mx;
      motion.data[i * 4 + 1] = my;

      // Disocclusion: the previous frame had something clearly closer where this pixel's surface
      // was. The pixel's own depth, not the dilated one: a background pixel that took a
      // foreground neighbour's motion would otherwise fetch (and keep) the foreground's history.
      let cue = 0;
      if (previousDepth) {
        // Where this pixel was, in previous-frame texel coordinates: the UV (x + 0.5) / width + mx
        // times width, minus 0.5, written as x + mx · width. That is exact for a still pixel, so
        // f32 (GPU) and float64 agree on the 2×2 footprint below; through the UV the product can
        // round to just under x in one precision and not the other (row 7 of 11: 6.999… in
        // float64, 7 in f32), shifting the footprint a texel and flipping the cue at depth edges.
        const sx = x + mx * width;
        const sy = y + my * height;
        if (sx >= -0.5 && sx <= width - 0.5 && sy >= -0.5 && sy <= height - 0.5) {
          const px = Math.floor(sx);
          const py = Math.floor(sy);
          let prevZ = Infinity;
          for (let oy = 0; oy <= 1; oy++) {
            for (let ox = 0; ox <= 1; ox++) {
              prevZ = Math.min(prevZ, viewDepth(texel(previousDepth, px + ox, py + oy, 0), params));
            }
          }
          const separation = (ownZ - prevZ) / ownZ;
          cue = saturate(
            (separation - DISOCCLUSION_START) / (DISOCCLUSION_FULL - DISOCCLUSION_START),
          );
        }
      }
      motion.data[i * 4 + 2] = cue;
      const mask = (image: Image | undefined) =>
        image ? saturate(finiteOr(texel(image, x, y, 0), 0)) : 0;
      motion.data[i * 4 + 3] = Math.max(
        mask(inputs.reactive),
        TRANSPARENCY_WEIGHT * mask(inputs.transparency),
      );
    }
  }
  return { color, motion };
}
