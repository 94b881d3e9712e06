/**
 * Lanczos-2 spatial baseline (render → display) over the prepared (tonemapped) color, with the
 * jittered sample positions; 4×4 taps, deringed to the 2×2 nearest taps' min/max.
 * CPU reference: src/reference/lanczos.ts.
 */
import type { GpuImage } from '../gpu-image.ts';
import { encodeSpatialUpscale, spatialUpscaleCode } from './spatial-upscale.ts';

const code = spatialUpscaleCode(/* wgsl */ `
fn reconstruct(q: vec2f, base: vec2f, x0: i32, y0: i32) -> vec3f {
  var sum = vec3f(0.0);
  var weightSum = 0.0;
  for (var j = -1; j <= 2; j++) {
    let wy = lanczos2(base.y + f32(j) - q.y);
    for (var i = -1; i <= 2; i++) {
      let w = lanczos2(base.x + f32(i) - q.x) * wy;
      weightSum += w;
      sum += w * sampleAt(x0 + i, y0 + j);
    }
  }
  let a = sampleAt(x0, y0);
  let b = sampleAt(x0 + 1, y0);
  let d = sampleAt(x0, y0 + 1);
  let e = sampleAt(x0 + 1, y0 + 1);
  return clamp(sum / weightSum, min(min(a, b), min(d, e)), max(max(a, b), max(d, e)));
}
`);

/** Records the Lanczos-2 upscale of `color` (render size) into `output` (display size). */
export function encodeLanczosUpscale(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  color: GpuImage,
  jitter: readonly [number, number],
  output: GpuImage,
): void {
  encodeSpatialUpscale(device, pass, 'lanczos upscale', code, color, jitter, output);
}
