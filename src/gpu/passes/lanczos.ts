/**
 * Lanczos-2 spatial baseline (render → display) over the prepared (tonemapped) color, with the
 * jittered sample positions; 4×4 taps, deringed to the 2×2 nearest taps' min/max.
 * CPU reference: src/reference/lanczos.ts.
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
  let x0 = i32(base.x);
  let y0 = i32(base.y);
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
  let v = clamp(sum / weightSum, min(min(a, b), min(d, e)), max(max(a, b), max(d, e)));
  outImage[id.y * u.width + id.x] = vec4f(v, 1.0);
}
`;

/** Records the Lanczos-2 upscale of `color` (render size) into `output` (display size). */
export function encodeLanczosUpscale(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  color: GpuImage,
  jitter: readonly [number, number],
  output: GpuImage,
): void {
  const kernel = createKernel(device, { label: 'lanczos upscale', code });
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
