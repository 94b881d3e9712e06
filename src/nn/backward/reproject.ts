/**
 * Backward of the reproject pass (src/gpu/passes/reproject.ts) w.r.t. the previous history rgb
 * and state, for fixed motion: the transpose of its Catmull-Rom (clamp-aware) and bilinear
 * sampling, after the backward of the exposure rescale when `historyScale` ≠ 1. Motion can send
 * any display pixel anywhere, so this is a scatter; to stay deterministic it accumulates in 64-bit
 * fixed point (32 integer bits, 32 fraction bits) with two u32 atomics per value and an exact
 * carry — integer addition is associative, so every run gives the same bits whatever the thread
 * order. Range ±2³¹, resolution 2⁻³²; each contribution is rounded to that grid (f32 values keep
 * their 24 significant bits down to 2⁻³²).
 * CPU reference: `reprojectBackwardCpu` in src/reference/nn/frame-backward.ts.
 */
import { createKernel, groupsFor } from '../../gpu/kernel.ts';
import type { GpuImage } from '../../gpu/gpu-image.ts';
import { TILE, WGSL_COMMON } from '../../gpu/wgsl.ts';
import { uniformBlock } from '../../gpu/uniforms.ts';
import { MAX_COLOR } from '../../core/pass-constants.ts';
import type { ReprojectedGradTargets } from './features.ts';

/** Accumulated values per previous pixel: 3 history channels, 4 state channels. */
const SLOTS = 7;

const SCATTER_PARAMS = uniformBlock({
  width: 'u32',
  height: 'u32',
  renderWidth: 'u32',
  renderHeight: 'u32',
  reset: 'u32',
  historyScale: 'f32',
});

const scatterCode = /* wgsl */ `
${SCATTER_PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> motion: array<vec4f>;
@group(0) @binding(2) var<storage, read> previousHistory: array<vec4f>;
@group(0) @binding(3) var<storage, read> dHistory: array<vec4f>;
@group(0) @binding(4) var<storage, read> dState: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> acc: array<atomic<u32>>;
${WGSL_COMMON}
// Adds v to slot s as 64-bit fixed point: word 2s = integer part (two's complement),
// word 2s+1 = fraction * 2^32; a wrap of the fraction word carries into the integer word.
fn addFixed(s: u32, v: f32) {
  if (v == 0.0) { return; }
  let whole = floor(v);
  let lo = u32(min((v - whole) * 4294967296.0, 4294967040.0));
  let old = atomicAdd(&acc[2u * s + 1u], lo);
  let carry = select(0u, 1u, old + lo < old);
  atomicAdd(&acc[2u * s], bitcast<u32>(i32(whole)) + carry);
}

fn slot(x: i32, y: i32, c: u32) -> u32 {
  return texelAt(u.width, u.height, x, y) * ${SLOTS}u + c;
}

// Backward of the exposure rescale of the sampled history h (the forward's last step):
// rescaleTonemappedBackward in src/reference/exposure.ts, step for step.
fn rescaleBackward(h: vec3f, s: f32, g: vec3f) -> vec3f {
  let k = select(select(2u, 1u, h.y >= h.z), 0u, h.x >= h.y && h.x >= h.z);
  let inverse = 1.0 / (1.0 - h[k]);
  let linear = h * inverse;
  let open = linear * s < vec3f(${MAX_COLOR.toFixed(1)});
  let scaled = select(vec3f(${MAX_COLOR.toFixed(1)}), linear * s, open);
  let denominator = 1.0 + scaled[k];
  var dScaled = g / denominator;
  dScaled[k] -= dot(g, scaled) / (denominator * denominator);
  let dLinear = select(vec3f(0.0), dScaled * s, open);
  var dH = dLinear * inverse;
  dH[k] += dot(dLinear, linear) * inverse;
  return dH;
}

@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x >= u.width || id.y >= u.height || u.reset != 0u) { return; }
  let o = id.y * u.width + id.x;
  let rx = renderPixelOf(id.x, u.renderWidth, u.width);
  let ry = renderPixelOf(id.y, u.renderHeight, u.height);
  let m = motion[ry * u.renderWidth + rx].xy;
  let uv = (vec2f(id.xy) + 0.5) / vec2f(f32(u.width), f32(u.height)) + m;
  if (!(uv.x >= 0.0 && uv.x <= 1.0 && uv.y >= 0.0 && uv.y <= 1.0)) { return; }
  let h = uv * vec2f(f32(u.width), f32(u.height)) - 0.5;
  let base = floor(h);
  let f = h - base;
  let x0 = i32(base.x);
  let y0 = i32(base.y);
  let wx = catmullRomWeights(f.x);
  let wy = catmullRomWeights(f.y);
  // The clamp to the four nearest taps: where active, the clamping tap takes the gradient.
  let taps = array<vec2i, 4>(vec2i(x0, y0), vec2i(x0 + 1, y0), vec2i(x0, y0 + 1), vec2i(x0 + 1, y0 + 1));
  var clampTap = vec3i(-1);
  var sampled = vec3f(0.0);
  for (var c = 0u; c < 3u; c++) {
    var sum = 0.0;
    for (var j = 0; j < 4; j++) {
      for (var i = 0; i < 4; i++) {
        sum += wx[i] * wy[j] * previousHistory[texelAt(u.width, u.height, x0 - 1 + i, y0 - 1 + j)][c];
      }
    }
    var lo = 3.4e38;
    var hi = -3.4e38;
    var loTap = 0;
    var hiTap = 0;
    for (var n = 0; n < 4; n++) {
      let v = previousHistory[texelAt(u.width, u.height, taps[n].x, taps[n].y)][c];
      if (v < lo) { lo = v; loTap = n; }
      if (v > hi) { hi = v; hiTap = n; }
    }
    if (sum < lo || sum > hi) { clampTap[c] = select(hiTap, loTap, sum < lo); }
    sampled[c] = clamp(sum, lo, hi);
  }
  var g = dHistory[o].rgb;
  if (u.historyScale != 1.0) { g = rescaleBackward(sampled, u.historyScale, g); }
  for (var c = 0u; c < 3u; c++) {
    if (clampTap[c] >= 0) {
      let t = taps[clampTap[c]];
      addFixed(slot(t.x, t.y, c), g[c]);
      continue;
    }
    for (var j = 0; j < 4; j++) {
      for (var i = 0; i < 4; i++) {
        addFixed(slot(x0 - 1 + i, y0 - 1 + j, c), wx[i] * wy[j] * g[c]);
      }
    }
  }
  let gs = dState[o];
  let bilinear = vec4f((1.0 - f.x) * (1.0 - f.y), f.x * (1.0 - f.y), (1.0 - f.x) * f.y, f.x * f.y);
  for (var c = 0u; c < 4u; c++) {
    addFixed(slot(x0, y0, 3u + c), bilinear.x * gs[c]);
    addFixed(slot(x0 + 1, y0, 3u + c), bilinear.y * gs[c]);
    addFixed(slot(x0, y0 + 1, 3u + c), bilinear.z * gs[c]);
    addFixed(slot(x0 + 1, y0 + 1, 3u + c), bilinear.w * gs[c]);
  }
}
`;

const RESOLVE_PARAMS = uniformBlock({ count: 'u32' });

const resolveCode = /* wgsl */ `
${RESOLVE_PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> acc: array<u32>;
@group(0) @binding(2) var<storage, read_write> dHistory: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> dState: array<vec4f>;

fn value(s: u32) -> f32 {
  return f32(bitcast<i32>(acc[2u * s])) + f32(acc[2u * s + 1u]) * 2.3283064365386963e-10;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x >= u.count) { return; }
  let s = id.x * ${SLOTS}u;
  dHistory[id.x] = vec4f(value(s), value(s + 1u), value(s + 2u), 0.0);
  dState[id.x] = vec4f(value(s + 3u), value(s + 4u), value(s + 5u), value(s + 6u));
}
`;

/** Bytes of the accumulator `encodeReprojectBackward` needs for a display size. */
export function reprojectBackwardScratchBytes(width: number, height: number): number {
  return width * height * SLOTS * 8;
}

/** Upstream gradients: dLoss/d(reprojected history rgb) and dLoss/d(reprojected state). */
export interface ReprojectUpstream {
  readonly history: GpuImage;
  readonly state: GpuImage;
}

/**
 * Records the reproject backward into `encoder` (a clear and two passes). `scratch` is a storage
 * buffer of `reprojectBackwardScratchBytes` (or more) with COPY_DST usage; `targets` receive the
 * gradients w.r.t. the previous history (rgb, a = 0) and state.
 */
export function encodeReprojectBackward(
  device: GPUDevice,
  encoder: GPUCommandEncoder,
  motion: GpuImage,
  previousHistory: GpuImage,
  reset: boolean,
  upstream: ReprojectUpstream,
  scratch: GPUBuffer,
  targets: ReprojectedGradTargets,
  historyScale = 1,
): void {
  const { width, height } = previousHistory;
  const bytes = reprojectBackwardScratchBytes(width, height);
  if (scratch.size < bytes) {
    throw new RangeError(`reproject backward scratch has ${scratch.size} bytes, needs ${bytes}`);
  }
  encoder.clearBuffer(scratch, 0, bytes);
  const pass = encoder.beginComputePass({ label: 'reproject backward' });
  createKernel(device, { label: 'reproject backward scatter', code: scatterCode }).dispatch(
    pass,
    [groupsFor(width, TILE), groupsFor(height, TILE)],
    [
      motion.buffer,
      previousHistory.buffer,
      upstream.history.buffer,
      upstream.state.buffer,
      scratch,
    ],
    SCATTER_PARAMS.pack({
      width,
      height,
      renderWidth: motion.width,
      renderHeight: motion.height,
      reset,
      historyScale,
    }),
  );
  createKernel(device, { label: 'reproject backward resolve', code: resolveCode }).dispatch(
    pass,
    [groupsFor(width * height, 64)],
    [scratch, targets.history.buffer, targets.state.buffer],
    RESOLVE_PARAMS.pack({ count: width * height }),
  );
  pass.end();
}
