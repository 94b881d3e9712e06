/**
 * CPU reference of the Lanczos-2 spatial baseline (render → display) over the prepared color, at
 * the jittered sample positions. 4×4 taps, normalized, then clamped per channel to the min/max of
 * the 2×2 nearest taps (deringing, as FSR 1's EASU does). The GPU twin is
 * src/gpu/passes/lanczos.ts.
 */
import type { Image } from '../core/image.ts';
import type { Size } from '../core/quality.ts';
import { lanczos2, texel } from './common.ts';
import { spatialUpscaleCpu, type SpatialFilter } from './spatial-upscale.ts';

const lanczos: SpatialFilter = (color, qx, qy, x0, y0, out) => {
  const sum = [0, 0, 0];
  let weightSum = 0;
  for (let j = -1; j <= 2; j++) {
    const wy = lanczos2(y0 + j - qy);
    for (let i = -1; i <= 2; i++) {
      const w = lanczos2(x0 + i - qx) * wy;
      weightSum += w;
      for (let c = 0; c < 3; c++) sum[c]! += w * texel(color, x0 + i, y0 + j, c);
    }
  }
  for (let c = 0; c < 3; c++) {
    const a = texel(color, x0, y0, c);
    const b = texel(color, x0 + 1, y0, c);
    const d = texel(color, x0, y0 + 1, c);
    const e = texel(color, x0 + 1, y0 + 1, c);
    const v = sum[c]! / weightSum;
    out[c] = Math.min(Math.max(v, Math.min(a, b, d, e)), Math.max(a, b, d, e));
  }
};

/** Display-size image: rgb = deringed Lanczos-2 reconstruction of `color`'s rgb, a = 1. */
export function lanczosUpscaleCpu(
  color: Image,
  jitter: readonly [number, number],
  displaySize: Size,
): Image {
  return spatialUpscaleCpu(color, jitter, displaySize, lanczos);
}
