/**
 * Backward of the blend (display resolution): from dLoss/d(new history rgb) to dLoss/d(filtered
 * rgb, α in a), dLoss/d(reprojected history rgb) and dLoss/d(raw β channel). CPU reference:
 * `blendBackwardCpu` in src/reference/nn/frame-backward.ts.
 */
import { createKernel, groupsFor } from '../../gpu/kernel.ts';
import type { GpuImage } from '../../gpu/gpu-image.ts';
import { TILE, wgslPixelMain } from '../../gpu/wgsl.ts';
import { WGSL_BLEND, blendBindings, type BlendGpuContext } from '../resolve/blend.ts';

const code = /* wgsl */ `
${WGSL_BLEND}
@group(0) @binding(5) var<storage, read> dOut: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> dFiltered: array<vec4f>;
@group(0) @binding(7) var<storage, read_write> dHistory: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> dBetaRaw: array<vec4f>;

${wgslPixelMain(/* wgsl */ `
  let i = id.y * u.width + id.x;
  let f = filtered[i];
  let h = history[i];
  let g = dOut[i].rgb;
  let valid = historyValid(h.a, u.reset);
  let alpha = select(0.0, f.a, valid);
  var dAlpha = 0.0;
  var dh = vec3f(0.0);
  var dBeta = 0.0;
  if (valid) {
    let finite = vec3<bool>(isFiniteF(h.r), isFiniteF(h.g), isFiniteF(h.b));
    let r = rectify(id.xy, select(vec3f(0.0), h.rgb, finite));
    dAlpha = dot(g, r.kept - f.rgb);
    // dLoss/d(guarded share); the raw β reaches it through sigma, the history through the guard.
    let dShare = alpha * dot(g, r.h - r.clamped);
    dBeta = dShare * r.guard * r.sigma * (1.0 - r.sigma);
    // The clamp passes the gradient only inside the box; non-finite channels get none.
    let through = r.beta + (1.0 - r.beta) * select(vec3f(0.0), vec3f(1.0), r.inside);
    dh = select(vec3f(0.0), alpha * g * through + dShare * r.sigma * r.guardSlope, finite);
  }
  dFiltered[i] = vec4f((1.0 - alpha) * g, dAlpha);
  dHistory[i] = vec4f(dh, 0.0);
  dBetaRaw[i] = vec4f(dBeta, 0.0, 0.0, 0.0);`)}
`;

/** Gradients the blend backward writes (display size). */
export interface BlendGradTargets {
  /** dLoss/d(filtered rgb), dLoss/dα in a. */
  readonly filtered: GpuImage;
  /** dLoss/d(reprojected history rgb); a = 0. */
  readonly history: GpuImage;
  /** dLoss/d(raw channel 8) in x (the filter backward copies it into dRaw). */
  readonly betaRaw: GpuImage;
}

/** Records the blend backward; `dOut` is dLoss/d(new history) (vec4, a ignored). */
export function encodeBlendBackward(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  filtered: GpuImage,
  history: GpuImage,
  context: BlendGpuContext,
  dOut: GpuImage,
  targets: BlendGradTargets,
): void {
  const { width, height } = filtered;
  const { uniforms, buffers } = blendBindings(filtered, history, context);
  const kernel = createKernel(device, { label: 'nn blend backward', code });
  kernel.dispatch(
    pass,
    [groupsFor(width, TILE), groupsFor(height, TILE)],
    [
      ...buffers,
      dOut.buffer,
      targets.filtered.buffer,
      targets.history.buffer,
      targets.betaRaw.buffer,
    ],
    uniforms,
  );
}
