/**
 * CPU reference of the Lanczos-2 spatial baseline (render → display) over the prepared color, with
 * the jittered sample positions (render pixel (i, j) holds the scene at (i + 0.5 + jx, j + 0.5 +
 * jy)). 4×4 taps, normalized, then clamped per channel to the min/max of the 2×2 nearest taps
 * (deringing, as FSR 1's EASU does). The GPU twin is src/gpu/passes/lanczos.ts.
 */
import { createImage, type Image } from '../core/image.ts';
import { lanczos2, texel } from './common.ts';
import type { Size } from '../core/quality.ts';

/** Display-size image: rgb = deringed Lanczos-2 reconstruction of `color`'s rgb, a = 1. */
export function lanczosUpscaleCpu(
  color: Image,
  jitter: readonly [number, number],
  displaySize: Size,
): Image {
  const [width, height] = displaySize;
  const out = createImage(width, height, 4);
  for (let y = 0; y < height; y++) {
    const qy = ((y + 0.5) * color.height) / height - 0.5 - jitter[1];
    const y0 = Math.floor(qy);
    for (let x = 0; x < width; x++) {
      const qx = ((x + 0.5) * color.width) / width - 0.5 - jitter[0];
      const x0 = Math.floor(qx);
      const o = (y * width + x) * 4;
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
        out.data[o + c] = Math.min(Math.max(v, Math.min(a, b, d, e)), Math.max(a, b, d, e));
      }
      out.data[o + 3] = 1;
    }
  }
  return out;
}
