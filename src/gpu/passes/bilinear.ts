/**
 * Bilinear spatial baseline (render → display) over the prepared (tonemapped) color, with the
 * jittered sample positions. CPU reference: src/reference/bilinear.ts.
 */
import type { GpuImage } from '../gpu-image.ts';
import { encodeSpatialUpscale, spatialUpscaleCode } from './spatial-upscale.ts';

const code = spatialUpscaleCode(/* wgsl */ `
fn reconstruct(q: vec2f, base: vec2f, x0: i32, y0: i32) -> vec3f {
  let f = q - base;
  let top = mix(sampleAt(x0, y0), sampleAt(x0 + 1, y0), f.x);
  let bottom = mix(sampleAt(x0, y0 + 1), sampleAt(x0 + 1, y0 + 1), f.x);
  return mix(top, bottom, f.y);
}
`);

/** Records the bilinear upscale of `color` (render size) into `output` (display size). */
export function encodeBilinearUpscale(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  color: GpuImage,
  jitter: readonly [number, number],
  output: GpuImage,
): void {
  encodeSpatialUpscale(device, pass, 'bilinear upscale', code, color, jitter, output);
}
