/**
 * What the CPU spatial baselines (bilinear, Lanczos-2) share: for each display pixel, its centre's
 * position among the jittered samples (render pixel (i, j) holds the scene at
 * (i + 0.5 + jx, j + 0.5 + jy)), handed to a filter that reconstructs rgb there.
 * GPU twin: src/gpu/passes/spatial-upscale.ts.
 */
import { createImage, type Image } from '../core/image.ts';
import type { Size } from '../core/quality.ts';

/**
 * Reconstructs rgb into `out[0..2]` at (qx, qy) in sample-grid coordinates (sample (i, j) at
 * (i, j)); x0 = floor(qx), y0 = floor(qy).
 */
export type SpatialFilter = (
  color: Image,
  qx: number,
  qy: number,
  x0: number,
  y0: number,
  out: Float32Array,
) => void;

/** Display-size image: rgb = `filter` at each pixel centre, a = 1. */
export function spatialUpscaleCpu(
  color: Image,
  jitter: readonly [number, number],
  displaySize: Size,
  filter: SpatialFilter,
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
      filter(color, qx, qy, x0, y0, out.data.subarray(o, o + 3));
      out.data[o + 3] = 1;
    }
  }
  return out;
}
