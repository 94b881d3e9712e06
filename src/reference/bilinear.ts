/**
 * CPU reference of the bilinear spatial baseline (render → display) over the prepared color, at
 * the jittered sample positions. The GPU twin is src/gpu/passes/bilinear.ts.
 */
import type { Image } from '../core/image.ts';
import type { Size } from '../core/quality.ts';
import { texel } from './common.ts';
import { spatialUpscaleCpu, type SpatialFilter } from './spatial-upscale.ts';

const bilinear: SpatialFilter = (color, qx, qy, x0, y0, out) => {
  const fx = qx - x0;
  const fy = qy - y0;
  for (let c = 0; c < 3; c++) {
    const top = texel(color, x0, y0, c) * (1 - fx) + texel(color, x0 + 1, y0, c) * fx;
    const bottom = texel(color, x0, y0 + 1, c) * (1 - fx) + texel(color, x0 + 1, y0 + 1, c) * fx;
    out[c] = top * (1 - fy) + bottom * fy;
  }
};

/** Display-size image: rgb = bilinear interpolation of `color`'s rgb at each pixel centre, a = 1. */
export function bilinearUpscaleCpu(
  color: Image,
  jitter: readonly [number, number],
  displaySize: Size,
): Image {
  return spatialUpscaleCpu(color, jitter, displaySize, bilinear);
}
