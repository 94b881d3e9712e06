/**
 * CPU reference of the heuristic TAAU resolve (display resolution), the FSR 2-class baseline.
 * The GPU twin is src/gpu/passes/taau-resolve.ts. All colors are in the tonemapped domain.
 *
 * Per display pixel, with p = its centre in render pixels and (cx, cy) the render sample nearest
 * to p (samples sit at (i + 0.5 + jx, j + 0.5 + jy)):
 * 1. This frame's estimate: a Gaussian splat (σ = sampleSigma display pixels) of the 3×3
 *    samples around (cx, cy) at their jittered positions — sharp, since only samples near the
 *    pixel centre count — plus, with a weight that fades as history accumulates, the Lanczos-2
 *    reconstruction of the same samples (deringed to their min/max), which fills pixels no sample
 *    is near (first frame, disocclusion).
 * 2. Neighbourhood box in YCoCg over the same 3×3: mean ± γ·σ intersected with min/max.
 * 3. Trust in history = valid · (1 − disocclusion) · (1 − reactive), 0 on reset; the accumulated
 *    weight W (state.x) and the lock (state.y) are scaled by it. W is capped, lower under motion
 *    (resampling blurs history a little every frame).
 * 4. Rectify: clamp history to the box; a lock (thin feature seen recently) keeps the unclamped
 *    history in proportion to its strength, so sub-pixel lines do not flicker. W shrinks with the
 *    clamp distance, so a pixel whose content changed refreshes fast.
 * 5. New-sample weight w = the splat's total weight (how well this frame's samples cover the
 *    pixel) + the wide weight, reduced when the current luma oscillates around the history luma
 *    (luma instability, anti-flicker).
 * 6. Blend α = w / (W + w); W ← min(W + w, cap).
 * 7. Lock: created (1) where the nearest sample is a thin feature (its luma is similar to at most
 *    two of its eight neighbours and differs from their mean) and lands inside this display pixel;
 *    otherwise it decays over `lockFrames` and dies when a sample inside the pixel sees a luma far
 *    from the locked one (the feature left).
 * State channels: x = accumulated weight W, y = lock strength, z = this frame's upsampled luma
 * (for the instability test next frame), w = locked luma.
 */
import { createImage, type Image } from '../core/image.ts';
import type { Size } from '../core/quality.ts';
import { lanczos2, renderPixelOf, rgbToYCoCg, saturate, texel, yCoCgToRgb } from './common.ts';
import type { PreparedFrameCpu } from './prepare.ts';
import type { ReprojectedCpu } from './reproject.ts';
import { INSIDE } from '../core/pass-constants.ts';
import { DEFAULT_TAAU_SETTINGS, type TaauSettings } from '../core/taau-settings.ts';

/** Everything one resolve step reads besides the images. */
export interface ResolveParams {
  jitter: readonly [number, number];
  reset: boolean;
  displaySize: Size;
  settings?: Readonly<TaauSettings>;
}

/** New history (tonemapped rgb, a = 1) and state, display size. */
export interface ResolvedCpu {
  history: Image;
  state: Image;
}

/** One TAAU resolve step on the CPU. */
export function taauResolveCpu(
  prepared: PreparedFrameCpu,
  reprojected: ReprojectedCpu,
  params: ResolveParams,
): ResolvedCpu {
  const s = params.settings ?? DEFAULT_TAAU_SETTINGS;
  const { color, motion } = prepared;
  const [width, height] = params.displaySize;
  const [jx, jy] = params.jitter;
  const rw = color.width;
  const rh = color.height;
  const history = createImage(width, height, 4);
  const state = createImage(width, height, 4);
  const maxValue = 65504 / 65505;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      const px = ((x + 0.5) * rw) / width;
      const py = ((y + 0.5) * rh) / height;
      const cx = Math.min(Math.max(Math.floor(px - jx), 0), rw - 1);
      const cy = Math.min(Math.max(Math.floor(py - jy), 0), rh - 1);

      // 1–2: splat, Lanczos upsample and YCoCg moments over the 3×3 samples around the nearest.
      const sum = [0, 0, 0];
      let weightSum = 0;
      const splat = [0, 0, 0];
      let splatWeight = 0;
      const toDisplayX = width / rw;
      const toDisplayY = height / rh;
      const inv2Sigma2 = 0.5 / (s.sampleSigma * s.sampleSigma);
      const mn = [Infinity, Infinity, Infinity];
      const mx = [-Infinity, -Infinity, -Infinity];
      const rgbMin = [Infinity, Infinity, Infinity];
      const rgbMax = [-Infinity, -Infinity, -Infinity];
      const m1 = [0, 0, 0];
      const m2 = [0, 0, 0];
      const centreLuma = texel(color, cx, cy, 3);
      let similar = 0;
      let neighbourLuma = 0;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const sx = cx + dx;
          const sy = cy + dy;
          const rgb = [texel(color, sx, sy, 0), texel(color, sx, sy, 1), texel(color, sx, sy, 2)];
          const ox = sx + 0.5 + jx - px;
          const oy = sy + 0.5 + jy - py;
          const w = lanczos2(ox) * lanczos2(oy);
          weightSum += w;
          const ex = ox * toDisplayX;
          const ey = oy * toDisplayY;
          const g = Math.exp(-(ex * ex + ey * ey) * inv2Sigma2);
          splatWeight += g;
          const ycc = rgbToYCoCg(rgb[0]!, rgb[1]!, rgb[2]!);
          for (let c = 0; c < 3; c++) {
            sum[c]! += w * rgb[c]!;
            splat[c]! += g * rgb[c]!;
            rgbMin[c] = Math.min(rgbMin[c]!, rgb[c]!);
            rgbMax[c] = Math.max(rgbMax[c]!, rgb[c]!);
            mn[c] = Math.min(mn[c]!, ycc[c]!);
            mx[c] = Math.max(mx[c]!, ycc[c]!);
            m1[c]! += ycc[c]!;
            m2[c]! += ycc[c]! * ycc[c]!;
          }
          if (dx !== 0 || dy !== 0) {
            const l = texel(color, sx, sy, 3);
            neighbourLuma += l / 8;
            if (Math.abs(l - centreLuma) < s.lockSimilarity * Math.max(l, centreLuma) + 0.01) {
              similar++;
            }
          }
        }
      }
      const lo = [0, 0, 0];
      const hi = [0, 0, 0];
      for (let c = 0; c < 3; c++) {
        const mean = m1[c]! / 9;
        const sigma = Math.sqrt(Math.max(m2[c]! / 9 - mean * mean, 0));
        lo[c] = Math.max(mn[c]!, mean - s.clampGamma * sigma);
        hi[c] = Math.min(mx[c]!, mean + s.clampGamma * sigma);
      }

      // 3: trust in the reprojected history.
      const rx = renderPixelOf(x, rw, width);
      const ry = renderPixelOf(y, rh, height);
      const disocclusion = texel(motion, rx, ry, 2);
      const reactive = texel(motion, rx, ry, 3);
      const trust = params.reset
        ? 0
        : reprojected.history.data[o + 3]! * (1 - disocclusion) * (1 - reactive);
      // History resampled under motion blurs a little every frame: keep less of it.
      const speed = Math.hypot(texel(motion, rx, ry, 0) * width, texel(motion, rx, ry, 1) * height);
      // A frame adds 2πσ²·(render area / display area) splat weight on average.
      const frameWeight =
        (2 * Math.PI * s.sampleSigma * s.sampleSigma * rw * rh) / (width * height);
      const cap = (s.maxAccumulation * frameWeight) / (1 + s.motionFalloff * speed);
      let accumulated = Math.min(reprojected.state.data[o]!, cap) * trust;
      const lock = reprojected.state.data[o + 1]! * trust;
      const previousLuma = reprojected.state.data[o + 2]!;
      const lockedLuma = reprojected.state.data[o + 3]!;

      // This frame's estimate: the narrow splat, completed by the wide Lanczos where the splat
      // has little weight (no sample near the pixel centre). The wide estimate is smooth but
      // blurry, so it fades out as history builds up.
      const wideWeight = s.wideWeight * (1 - saturate(accumulated / frameWeight)) + 1e-3;
      const up = [0, 0, 0];
      for (let c = 0; c < 3; c++) {
        const wide = Math.min(Math.max(sum[c]! / weightSum, rgbMin[c]!), rgbMax[c]!);
        up[c] = (splat[c]! + wideWeight * wide) / (splatWeight + wideWeight);
      }
      const upY = rgbToYCoCg(up[0]!, up[1]!, up[2]!);

      // 4: rectify history in YCoCg; a lock keeps it unclamped.
      const h = reprojected.history.data;
      const hY = rgbToYCoCg(h[o]!, h[o + 1]!, h[o + 2]!);
      const rect = [0, 0, 0];
      for (let c = 0; c < 3; c++) {
        const clamped = Math.min(Math.max(hY[c]!, lo[c]!), hi[c]!);
        rect[c] = clamped + (hY[c]! - clamped) * lock;
      }
      accumulated *= 1 - saturate(Math.abs(rect[0]! - hY[0]!) / s.rectifyScale);

      // 5: new-sample weight: the splat's coverage, cut where the luma oscillates.
      let sampleWeight = splatWeight + wideWeight;
      const dNow = upY[0]! - rect[0]!;
      const dBefore = previousLuma - rect[0]!;
      const oscillation = dNow * dBefore < 0 ? Math.min(Math.abs(dNow), Math.abs(dBefore)) : 0;
      sampleWeight *=
        1 - s.instabilityStrength * trust * saturate(oscillation / s.instabilityScale);

      // 6: blend.
      const alpha = sampleWeight / (accumulated + sampleWeight);
      const outY = [0, 0, 0];
      for (let c = 0; c < 3; c++) outY[c] = rect[c]! + (upY[c]! - rect[c]!) * alpha;
      const out = yCoCgToRgb(outY[0]!, outY[1]!, outY[2]!);
      for (let c = 0; c < 3; c++) history.data[o + c] = Math.min(Math.max(out[c]!, 0), maxValue);
      history.data[o + 3] = 1;

      // 7: locks, from the nearest sample's offset to the pixel centre (display pixels).
      const nx = (cx + 0.5 + jx - px) * toDisplayX;
      const ny = (cy + 0.5 + jy - py) * toDisplayY;
      // Half a display pixel plus a margin: jittered samples often land exactly on a pixel's
      // border (rational ratios), and f32 vs float64 must not disagree about those.
      const inside = Math.abs(nx) < INSIDE && Math.abs(ny) < INSIDE;
      const thin = similar <= 2 && Math.abs(centreLuma - neighbourLuma) > s.lockContrast;
      let newLock = lock * (1 - 1 / s.lockFrames);
      let newLockedLuma = lockedLuma;
      if (inside && thin) {
        newLock = 1;
        newLockedLuma = centreLuma;
      } else if (inside && Math.abs(centreLuma - lockedLuma) > s.lockRelease) {
        newLock = 0;
      }
      state.data[o] = Math.min(accumulated + sampleWeight, cap);
      state.data[o + 1] = newLock;
      state.data[o + 2] = upY[0]!;
      state.data[o + 3] = newLockedLuma;
    }
  }
  return { history, state };
}
