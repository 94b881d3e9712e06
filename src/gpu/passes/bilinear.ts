/**
 * Bilinear spatial baseline (render → display) over the prepared (tonemapped) color, with the
 * jittered sample positions. CPU reference: src/reference/bilinear.ts.
 */
import { createKernel, groupsFor } from '../kernel.ts';
import type { GpuImage } from '../gpu-image.ts';
import { TILE, WGSL_COMMON, f32, packUniforms, u32 } from '../wgsl.ts';

const code = /* wgsl */ `
struct Params {
  width: u32, height: u32, renderWidth: u32, renderHeight: u32, jitterX: f32, jitterY: f32,
}
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> color: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> outImage: array<vec4f>;
${WGSL_COMMON}
fn sampleAt(x: i32, y: i32) -> vec3f {
  return color[texelAt(u.renderWidth, u.renderHeight, x, y)].rgb;
}

@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x >= u.width || id.y >= u.height) { return; }
  let q = (vec2f(id.xy) + 0.5) * vec2f(f32(u.renderWidth), f32(u.renderHeight))
        / vec2f(f32(u.width), f32(u.height)) - 0.5 - vec2f(u.jitterX, u.jitterY);
  let base = floor(q);
  let f = q - base;
  let x0 = i32(base.x);
  let y0 = i32(base.y);
  let top = mix(sampleAt(x0, y0), sampleAt(x0 + 1, y0), f.x);
  let bottom = mix(sampleAt(x0, y0 + 1), sampleAt(x0 + 1, y0 + 1), f.x);
  outImage[id.y * u.width + id.x] = vec4f(mix(top, bottom, f.y), 1.0);
}
`;

/** Records the bilinear upscale of `color` (render size) into `output` (display size). */
export function encodeBilinearUpscale(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  color: GpuImage,
  jitter: readonly [number, number],
  output: GpuImage,
): void {
  const kernel = createKernel(device, { label: 'bilinear upscale', code });
  kernel.dispatch(
    pass,
    [groupsFor(output.width, TILE), groupsFor(output.height, TILE)],
    [color.buffer, output.buffer],
    packUniforms([
      u32(output.width),
      u32(output.height),
      u32(color.width),
      u32(color.height),
      f32(jitter[0]),
      f32(jitter[1]),
    ]),
  );
}
