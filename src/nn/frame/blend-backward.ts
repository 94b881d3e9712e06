/**
 * Backward of the blend (display resolution): from dLoss/d(new history rgb) to dLoss/d(filtered
 * rgb, α in a) and dLoss/d(reprojected history rgb). CPU reference: `blendBackwardCpu` in
 * src/reference/nn/frame.ts.
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
@group(0) @binding(3) var<storage, read> dOut: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> dFiltered: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> dHistory: array<vec4f>;
${WGSL_COMMON}
${WGSL_FRAME}
@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x >= u.width || id.y >= u.height) { return; }
  let i = id.y * u.width + id.x;
  let f = filtered[i];
  let h = history[i];
  let g = dOut[i].rgb;
  let valid = historyValid(h.a, u.reset);
  let alpha = select(0.0, f.a, valid);
  var dAlpha = 0.0;
  var dh = vec3f(0.0);
  if (valid) {
    let finite = vec3<bool>(isFiniteF(h.r), isFiniteF(h.g), isFiniteF(h.b));
    let hc = select(vec3f(0.0), h.rgb, finite);
    dh = select(vec3f(0.0), alpha * g, finite);
    dAlpha = dot(g, hc - f.rgb);
  }
  dFiltered[i] = vec4f((1.0 - alpha) * g, dAlpha);
  dHistory[i] = vec4f(dh, 0.0);
}
`;

/** Gradients the blend backward writes (display size). */
export interface BlendGradTargets {
  /** dLoss/d(filtered rgb), dLoss/dα in a. */
  readonly filtered: GpuImage;
  /** dLoss/d(reprojected history rgb); a = 0. */
  readonly history: GpuImage;
}

/** Records the blend backward; `dOut` is dLoss/d(new history) (vec4, a ignored). */
export function encodeBlendBackward(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  filtered: GpuImage,
  history: GpuImage,
  reset: boolean,
  dOut: GpuImage,
  targets: BlendGradTargets,
): void {
  const { width, height } = filtered;
  const kernel = createKernel(device, { label: 'nn blend backward', code });
  kernel.dispatch(
    pass,
    [groupsFor(width, TILE), groupsFor(height, TILE)],
    [filtered.buffer, history.buffer, dOut.buffer, targets.filtered.buffer, targets.history.buffer],
    packUniforms([u32(width), u32(height), u32(reset)]),
  );
}
