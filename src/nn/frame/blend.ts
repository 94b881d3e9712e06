/**
 * Blend with the reprojected history (display resolution): out = α·history + (1 − α)·filtered
 * where the history is valid, filtered otherwise; writes the new history (rgb, a = 1).
 * CPU reference: src/reference/nn/frame.ts `blendCpu`.
 */
import { createKernel, groupsFor } from '../../gpu/kernel.ts';
import type { GpuImage } from '../../gpu/gpu-image.ts';
import { TILE, WGSL_COMMON, packUniforms, u32 } from '../../gpu/passes/wgsl.ts';
import { WGSL_FRAME } from './wgsl.ts';

const code = /* wgsl */ `
struct Params { width: u32, height: u32, reset: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> filtered: array<vec4f>;
@group(0) @binding(2) var<storage, read> history: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> output: array<vec4f>;
${WGSL_COMMON}
${WGSL_FRAME}
@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x >= u.width || id.y >= u.height) { return; }
  let i = id.y * u.width + id.x;
  let f = filtered[i];
  let h = history[i];
  let alpha = select(0.0, f.a, historyValid(h.a, u.reset));
  let hc = vec3f(finiteOr0(h.r), finiteOr0(h.g), finiteOr0(h.b));
  output[i] = vec4f(f.rgb + alpha * (hc - f.rgb), 1.0);
}
`;

/** Records the blend: `filtered` (rgb, α in a), reprojected `history`, `output`, all display size. */
export function encodeBlend(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  filtered: GpuImage,
  history: GpuImage,
  reset: boolean,
  output: GpuImage,
): void {
  const { width, height } = output;
  for (const [name, image] of [
    ['filtered', filtered],
    ['history', history],
  ] as const) {
    if (image.width !== width || image.height !== height) {
      throw new RangeError(
        `blend: ${name} is ${image.width}x${image.height}, output ${width}x${height}`,
      );
    }
  }
  const kernel = createKernel(device, { label: 'nn blend', code });
  kernel.dispatch(
    pass,
    [groupsFor(width, TILE), groupsFor(height, TILE)],
    [filtered.buffer, history.buffer, output.buffer],
    packUniforms([u32(width), u32(height), u32(reset)]),
  );
}
