/**
 * Blend with the rectified reprojected history (display resolution): each history rgb channel is
 * clamped to the min/max of the 3×3 render neighbourhood (h*), the network keeps a share β of the
 * unclamped history, scaled by the model's history guard g (h' = h* + β·g·(h − h*): g fades the
 * unclamped history out as it leaves the box; g = 1 without a guard), and out = α·h' +
 * (1 − α)·filtered where the history is valid, filtered otherwise; writes the new history
 * (rgb, a = 1).
 * CPU reference: src/reference/nn/frame.ts `blendCpu`.
 */
import { createKernel, groupsFor } from '../../gpu/kernel.ts';
import { checkF32Image, type GpuImage } from '../../gpu/gpu-image.ts';
import { TILE, WGSL_COMMON, wgslPixelMain } from '../../gpu/wgsl.ts';
import type { GpuTensor } from '../tensor.ts';
import { HISTORY_GUARD_FLOOR, paddedSize } from '../../core/neural-frame.ts';
import { WGSL_FRAME, WGSL_RAW_AT, WGSL_RENDER_COLOR } from './wgsl.ts';
import { uniformBlock } from '../../gpu/uniforms.ts';

const PARAMS = uniformBlock({
  width: 'u32',
  height: 'u32',
  renderWidth: 'u32',
  renderHeight: 'u32',
  paddedWidth: 'u32',
  paddedHeight: 'u32',
  reset: 'u32',
  historyGuard: 'f32',
});

/**
 * The rectification shared with the blend's backward and the fused filter + blend, and the blend
 * of one pixel (`blendWithHistory`). Needs `color` (array<vec4f>), `rawAt` (WGSL_RAW_AT, or a
 * kernel's own), WGSL_COMMON, WGSL_FRAME and a uniform block `u` with PARAMS' fields.
 */
export const WGSL_RECTIFY = /* wgsl */ `
// kept = h* + beta (h - h*): the history the blend uses; beta = sigma (the network's share) times
// the history guard, whose slope dguard/dh the backward needs.
struct Rectified {
  beta: f32,
  sigma: f32,
  guard: f32,
  guardSlope: vec3f,
  h: vec3f,
  clamped: vec3f,
  kept: vec3f,
  inside: vec3<bool>,
}

fn rectify(p: vec2u, h: vec3f) -> Rectified {
  let rx = i32(renderPixelOf(p.x, u.renderWidth, u.width));
  let ry = i32(renderPixelOf(p.y, u.renderHeight, u.height));
  var lo = vec3f(3.4e38);
  var hi = vec3f(-3.4e38);
  for (var dy = -1; dy <= 1; dy++) {
    for (var dx = -1; dx <= 1; dx++) {
      // Clamped to the image, as texelAt.
      let c = renderColor(clamp(rx + dx, 0, i32(u.renderWidth) - 1),
                          clamp(ry + dy, 0, i32(u.renderHeight) - 1));
      lo = min(lo, c);
      hi = max(hi, c);
    }
  }
  var r: Rectified;
  r.h = h;
  r.clamped = clamp(h, lo, hi);
  // The guard of K = u.historyGuard box ranges (none for K = 0): 1 − d / (K · range + F), d the
  // farthest channel's distance outside the box (the first on a tie, as the CPU reference),
  // clamped to [0, 1].
  let away = abs(h - r.clamped);
  var far = 0u;
  if (away.y > away.x) { far = 1u; }
  if (away.z > away[far]) { far = 2u; }
  let span = hi - lo;
  let scale = u.historyGuard * max(max(span.x, span.y), span.z) + ${HISTORY_GUARD_FLOOR.toFixed(6)};
  let t = 1.0 - away[far] / scale;
  r.guard = 1.0;
  r.guardSlope = vec3f(0.0);
  if (u.historyGuard > 0.0) {
    r.guard = clamp(t, 0.0, 1.0);
    if (t > 0.0 && t < 1.0) { r.guardSlope[far] = -sign(h[far] - r.clamped[far]) / scale; }
  }
  r.sigma = sigmoid(rawAt(8u, p));
  r.beta = r.sigma * r.guard;
  r.kept = r.clamped + r.beta * (h - r.clamped);
  r.inside = (h >= lo) & (h <= hi);
  return r;
}

// The new history rgb of pixel p from the filtered color f (α in a) and the reprojected history h.
fn blendWithHistory(p: vec2u, f: vec4f, h: vec4f) -> vec3f {
  if (!historyValid(h.a, u.reset)) { return f.rgb; }
  let r = rectify(p, vec3f(finiteOr0(h.r), finiteOr0(h.g), finiteOr0(h.b)));
  return f.rgb + f.a * (r.kept - f.rgb);
}
`;

/** Uniforms, bindings 1–4 and the rectification (WGSL_RECTIFY). */
export const WGSL_BLEND = /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> filtered: array<vec4f>;
@group(0) @binding(2) var<storage, read> history: array<vec4f>;
@group(0) @binding(3) var<storage, read> color: array<vec4f>;
@group(0) @binding(4) var<storage, read> raw: array<f32>;
${WGSL_RENDER_COLOR}
${WGSL_COMMON}
${WGSL_FRAME}
${WGSL_RAW_AT}
${WGSL_RECTIFY}`;

const code = /* wgsl */ `
${WGSL_BLEND}
@group(0) @binding(5) var<storage, read_write> output: array<vec4f>;

${wgslPixelMain(/* wgsl */ `
  let i = id.y * u.width + id.x;
  output[i] = vec4f(blendWithHistory(id.xy, filtered[i], history[i]), 1.0);`)}
`;

/** What the blend reads besides the filter output and the history. */
export interface BlendGpuContext {
  /** Prepared color (render size): the rectification box. */
  readonly color: GpuImage;
  /** Raw network output (channel 8: β before its sigmoid), padded display size. */
  readonly raw: GpuTensor;
  readonly reset: boolean;
  /** The model's history guard in box ranges (GraphDescription.historyGuard); absent or 0: none. */
  readonly historyGuard?: number;
}

/** Checks sizes and returns the blend's uniforms and its first four buffers. */
export function blendBindings(
  filtered: GpuImage,
  history: GpuImage,
  context: BlendGpuContext,
): { uniforms: ArrayBuffer; buffers: GPUBuffer[] } {
  const { width, height } = filtered;
  // Training's pass (and its backward's bindings): f32 images only.
  checkF32Image(filtered, 'blend: the filtered image');
  checkF32Image(history, 'blend: the history');
  if (history.width !== width || history.height !== height) {
    throw new RangeError(
      `blend: history is ${history.width}x${history.height}, filtered ${width}x${height}`,
    );
  }
  const [pw, ph] = paddedSize([width, height]);
  const { raw, color } = context;
  if (raw.channels < 9 || raw.width !== pw || raw.height !== ph) {
    throw new RangeError(
      `blend: raw network output must be at least 9x${ph}x${pw}, got ${raw.channels}x${raw.height}x${raw.width}`,
    );
  }
  return {
    uniforms: PARAMS.pack({
      width,
      height,
      renderWidth: color.width,
      renderHeight: color.height,
      paddedWidth: pw,
      paddedHeight: ph,
      reset: context.reset,
      historyGuard: context.historyGuard ?? 0,
    }),
    buffers: [filtered.buffer, history.buffer, color.buffer, raw.buffer],
  };
}

/** Records the blend: `filtered` (rgb, α in a), reprojected `history`, `output`, all display size. */
export function encodeBlend(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  filtered: GpuImage,
  history: GpuImage,
  context: BlendGpuContext,
  output: GpuImage,
): void {
  const { width, height } = output;
  if (filtered.width !== width || filtered.height !== height) {
    throw new RangeError(
      `blend: filtered is ${filtered.width}x${filtered.height}, output ${width}x${height}`,
    );
  }
  checkF32Image(output, 'blend: the output');
  const { uniforms, buffers } = blendBindings(filtered, history, context);
  const kernel = createKernel(device, { label: 'nn blend', code });
  kernel.dispatch(
    pass,
    [groupsFor(width, TILE), groupsFor(height, TILE)],
    [...buffers, output.buffer],
    uniforms,
  );
}
