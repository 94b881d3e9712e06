/**
 * CPU reference of the bilinear spatial baseline (render → display) over the prepared color,
 * with the sample positions the jitter gives: render pixel (i, j) holds the scene at
 * (i + 0.5 + jx, j + 0.5 + jy) render pixels. The GPU twin is src/gpu/passes/bilinear.ts.
 */
import { createImage, type Image } from '../core/image.ts';
import { texel } from './common.ts';
import type { Size } from '../core/quality.ts';

/** Display-size image: rgb = bilinear interpolation of `color`'s rgb at each pixel centre, a = 1. */
export function bilinearUpscaleCpu(
  color: Image,
  jitter: readonly [number, number],
  displaySize: Size,
): Image {
  const [width, height] = displaySize;
  const out = createImage(width, height, 4);
  for (let y = 0; y < height; y++) {
    const qy = ((y + 0.5) * color.height) / height - 0.5 - jitter[1];
    const y0 = Math.floor(qy);
    const fy = qy - y0;
    for (let x = 0; x < width; x++) {
      const qx = ((x + 0.5) * color.width) / width - 0.5 - jitter[0];
      const x0 = Math.floor(qx);
      const fx = qx - x0;
      const o = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) {
        const top = texel(color, x0, y0, c) * (1 - fx) + texel(color, x0 + 1, y0, c) * fx;
        const bottom =
          texel(color, x0, y0 + 1, c) * (1 - fx) + texel(color, x0 + 1, y0 + 1, c) * fx;
        out.data[o + c] = top * (1 - fy) + bottom * fy;
      }
      out.data[o + 3] = 1;
    }
  }
  return out;
}
