/**
 * What the spatial baselines (bilinear, Lanczos-2) share: a display-size pass over the prepared
 * (tonemapped) render color that finds each pixel centre's position among the jittered samples
 * and lets a filter reconstruct the color there. CPU twin: src/reference/spatial-upscale.ts.
 */
import { createKernel, groupsFor } from '../kernel.ts';
import type { GpuImage } from '../gpu-image.ts';
import { TILE, WGSL_COMMON, wgslPixelMain } from '../wgsl.ts';
import { uniformBlock } from '../uniforms.ts';

const PARAMS = uniformBlock({
  width: 'u32',
  height: 'u32',
  renderWidth: 'u32',
  renderHeight: 'u32',
  jitterX: 'f32',
  jitterY: 'f32',
});

/**
 * The pass's WGSL around `filter`, which defines `fn reconstruct(q: vec2f, base: vec2f, x0: i32,
 * y0: i32) -> vec3f`: q is the pixel centre in sample-grid coordinates (sample (i, j) at (i, j)),
 * base = floor(q) = (x0, y0); `sampleAt(x, y)` reads a sample (clamp-to-edge).
 */
export function spatialUpscaleCode(filter: string): string {
  return /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> color: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> outImage: array<vec4f>;
${WGSL_COMMON}
fn sampleAt(x: i32, y: i32) -> vec3f {
  return color[texelAt(u.renderWidth, u.renderHeight, x, y)].rgb;
}
${filter}
${wgslPixelMain(/* wgsl */ `
  let q = (vec2f(id.xy) + 0.5) * vec2f(f32(u.renderWidth), f32(u.renderHeight))
        / vec2f(f32(u.width), f32(u.height)) - 0.5 - vec2f(u.jitterX, u.jitterY);
  let base = floor(q);
  outImage[id.y * u.width + id.x] = vec4f(reconstruct(q, base, i32(base.x), i32(base.y)), 1.0);`)}
`;
}

/** Records a spatial upscale of `color` (render size) into `output` (display size). */
export function encodeSpatialUpscale(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  kernelLabel: string,
  code: string,
  color: GpuImage,
  jitter: readonly [number, number],
  output: GpuImage,
): void {
  createKernel(device, { label: kernelLabel, code }).dispatch(
    pass,
    [groupsFor(output.width, TILE), groupsFor(output.height, TILE)],
    [color.buffer, output.buffer],
    PARAMS.pack({
      width: output.width,
      height: output.height,
      renderWidth: color.width,
      renderHeight: color.height,
      jitterX: jitter[0],
      jitterY: jitter[1],
    }),
  );
}
