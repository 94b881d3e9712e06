/**
 * Output activations + oriented-Gaussian filter (display resolution): from the network's raw
 * output, σ1, σ2, θ, α and the recurrent state; the 4×4 window of jittered render samples weighted
 * by exp(−½ dᵀΣ⁻¹d), normalised (max-shifted, so the sum is ≥ 1). Writes the filtered color with α
 * in a, and the new state. Exact definition and CPU reference: src/reference/nn/frame.ts.
 */
import { createKernel, groupsFor } from '../../gpu/kernel.ts';
import { checkF32Image, type GpuImage } from '../../gpu/gpu-image.ts';
import { TILE, WGSL_COMMON, wgslPixelMain } from '../../gpu/wgsl.ts';
import type { GpuTensor } from '../tensor.ts';
import { RAW_CHANNELS, paddedSize } from '../../core/neural-frame.ts';
import type { Size } from '../../core/quality.ts';
import { WGSL_FRAME, WGSL_RAW_AT, WGSL_RENDER_COLOR } from './wgsl.ts';
import { uniformBlock } from '../../gpu/uniforms.ts';

const PARAMS = uniformBlock({
  width: 'u32',
  height: 'u32',
  renderWidth: 'u32',
  renderHeight: 'u32',
  paddedWidth: 'u32',
  paddedHeight: 'u32',
  jitterX: 'f32',
  jitterY: 'f32',
  ratioX: 'f32',
  ratioY: 'f32',
  coveragePower: 'f32',
});

/**
 * The window evaluation shared with the filter's backward and the fused filter + blend:
 * `gatherWindow`, `windowWeights` (and the array-free forward walk `filterWindow`, on the same
 * `sampleOffset` and `gaussianExponent`). Needs `rawAt` (WGSL_RAW_AT, or a kernel's own),
 * `color` (array<vec4f>), WGSL_COMMON, WGSL_FRAME and a uniform block `u` with PARAMS' fields.
 */
export const WGSL_KPN_WINDOW = /* wgsl */ `
// The in-image samples of a pixel's 4x4 window: offsets from the pixel centre (display pixels)
// and colors.
struct Window {
  count: u32,
  d: array<vec2f, 16>,
  color: array<vec3f, 16>,
}

// Offset (display pixels) of render sample (x, y), at its jittered position, from a pixel centre.
fn sampleOffset(x: i32, y: i32, centre: vec2f) -> vec2f {
  return (vec2f(f32(x), f32(y)) + 0.5 + vec2f(u.jitterX, u.jitterY)) * vec2f(u.ratioX, u.ratioY)
    - centre;
}

// The Gaussian's axes, each over its width, for the angle whose cosine and sine are c and s: the
// divisions once a pixel, not twice a sample evaluation.
struct GaussianAxes {
  a: vec2f,
  b: vec2f,
}

fn gaussianAxes(c: f32, s: f32, s1: f32, s2: f32) -> GaussianAxes {
  return GaussianAxes(vec2f(c, s) / s1, vec2f(-s, c) / s2);
}

// q = (u/s1)^2 + (v/s2)^2 of offset d rotated by the axes' angle: u/s1 = a.d, v/s2 = b.d.
fn gaussianExponent(d: vec2f, g: GaussianAxes) -> f32 {
  let u1 = dot(g.a, d);
  let v2 = dot(g.b, d);
  return u1 * u1 + v2 * v2;
}

fn gatherWindow(p: vec2u) -> Window {
  var w: Window;
  let x0 = windowStart(p.x, u.renderWidth, u.width);
  let y0 = windowStart(p.y, u.renderHeight, u.height);
  let centre = vec2f(p) + 0.5;
  for (var y = y0; y < y0 + 4; y++) {
    if (y < 0 || y >= i32(u.renderHeight)) { continue; }
    for (var x = x0; x < x0 + 4; x++) {
      if (x < 0 || x >= i32(u.renderWidth)) { continue; }
      w.d[w.count] = sampleOffset(x, y, centre);
      w.color[w.count] = renderColor(x, y);
      w.count++;
    }
  }
  return w;
}

// Rotated offsets (u, v) of sample n for angle theta.
fn rotated(d: vec2f, theta: f32) -> vec2f {
  let c = cos(theta);
  let s = sin(theta);
  return vec2f(c * d.x + s * d.y, -s * d.x + c * d.y);
}

// exp(-(q - qMin)/2) per sample, q = (u/s1)^2 + (v/s2)^2.
fn windowWeights(w: Window, s1: f32, s2: f32, theta: f32) -> array<f32, 16> {
  var q: array<f32, 16>;
  var qMin = 3.4e38;
  let g = gaussianAxes(cos(theta), sin(theta), s1, s2);
  for (var n = 0u; n < w.count; n++) {
    q[n] = gaussianExponent(w.d[n], g);
    qMin = min(qMin, q[n]);
  }
  for (var n = 0u; n < w.count; n++) { q[n] = exp(-0.5 * (q[n] - qMin)); }
  return q;
}

// This frame's coverage of pixel p over its mean (coverageOf: src/reference/nn/frame.ts), from the
// sum over the window of exp(-|d|^2 / 2 COVERAGE_SIGMA^2).
fn coverageFromSum(sum: f32) -> f32 {
  let render = f32(u.renderWidth) * f32(u.renderHeight);
  let display = f32(u.width) * f32(u.height);
  return sum / (2.0 * PI * COVERAGE_SIGMA * COVERAGE_SIGMA * render / display);
}

fn coverageTerm(d: vec2f) -> f32 {
  return exp(-0.5 * dot(d, d) / (COVERAGE_SIGMA * COVERAGE_SIGMA));
}

fn coverageOf(p: vec2u) -> f32 {
  let x0 = windowStart(p.x, u.renderWidth, u.width);
  let y0 = windowStart(p.y, u.renderHeight, u.height);
  let centre = vec2f(p) + 0.5;
  var sum = 0.0;
  for (var y = max(y0, 0); y < min(y0 + 4, i32(u.renderHeight)); y++) {
    for (var x = max(x0, 0); x < min(x0 + 4, i32(u.renderWidth)); x++) {
      sum += coverageTerm(sampleOffset(x, y, centre));
    }
  }
  return coverageFromSum(sum);
}

// The coverage blend's alpha and d alpha / d alpha_network for a pixel of coverage c (coverageAlpha:
// src/reference/nn/frame.ts); (alpha, 1) without one.
fn coverageAlphaOf(coverage: f32, alpha: f32) -> vec2f {
  if (u.coveragePower <= 0.0) { return vec2f(alpha, 1.0); }
  let rho = pow(max(coverage, 1e-6), u.coveragePower);
  let d = (1.0 - alpha) * rho + alpha;
  return vec2f(alpha / d, rho / (d * d));
}

fn coverageAlpha(p: vec2u, alpha: f32) -> vec2f {
  if (u.coveragePower <= 0.0) { return vec2f(alpha, 1.0); }
  return coverageAlphaOf(coverageOf(p), alpha);
}

// The forward filter's color and the pixel's coverage (1 without a coverage blend).
struct Filtered {
  color: vec3f,
  coverage: f32,
}

// The forward filter in two walks over the window: the first finds the smallest q (and, for a
// coverage blend, sums the coverage), the second weights and sums the colors, in the same order
// and with the same functions as gatherWindow + windowWeights. The walks are fixed 4x4 loops with
// the samples outside the image skipped, so that the compiler can unroll them and keep q in
// registers (dynamic indexing would put an array in slow local memory): q is evaluated once.
fn filterWindow(p: vec2u, s1: f32, s2: f32, theta: f32) -> Filtered {
  let x0 = windowStart(p.x, u.renderWidth, u.width);
  let y0 = windowStart(p.y, u.renderHeight, u.height);
  let centre = vec2f(p) + 0.5;
  let g = gaussianAxes(cos(theta), sin(theta), s1, s2);
  let coverageOn = u.coveragePower > 0.0;
  var q: array<f32, 16>;
  var qMin = 3.4e38;
  var coverageSum = 0.0;
  for (var j = 0; j < 4; j++) {
    for (var i = 0; i < 4; i++) {
      let d = sampleOffset(x0 + i, y0 + j, centre);
      q[j * 4 + i] = gaussianExponent(d, g);
      if (insideRender(x0 + i, y0 + j)) {
        qMin = min(qMin, q[j * 4 + i]);
        if (coverageOn) { coverageSum += coverageTerm(d); }
      }
    }
  }
  var sum = 0.0;
  var acc = vec3f(0.0);
  for (var j = 0; j < 4; j++) {
    for (var i = 0; i < 4; i++) {
      if (insideRender(x0 + i, y0 + j)) {
        let weight = exp(-0.5 * (q[j * 4 + i] - qMin));
        sum += weight;
        acc += weight * renderColor(x0 + i, y0 + j);
      }
    }
  }
  return Filtered(acc / sum, select(1.0, coverageFromSum(coverageSum), coverageOn));
}

fn insideRender(x: i32, y: i32) -> bool {
  return x >= 0 && x < i32(u.renderWidth) && y >= 0 && y < i32(u.renderHeight);
}
`;

/** Uniforms, bindings 1 (raw) and 2 (prepared color) and the window evaluation (WGSL_KPN_WINDOW). */
export const WGSL_KPN = /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> raw: array<f32>;
@group(0) @binding(2) var<storage, read> color: array<vec4f>;
${WGSL_RENDER_COLOR}
${WGSL_COMMON}
${WGSL_FRAME}
${WGSL_RAW_AT}
${WGSL_KPN_WINDOW}`;

const code = /* wgsl */ `
${WGSL_KPN}
@group(0) @binding(3) var<storage, read_write> filtered: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> stateOut: array<vec4f>;

${wgslPixelMain(/* wgsl */ `
  let p = id.xy;
  let s1 = SIGMA_MIN + softplus(rawAt(0u, p));
  let s2 = SIGMA_MIN + softplus(rawAt(1u, p));
  let o = id.y * u.width + id.x;
  let f = filterWindow(p, s1, s2, rawAt(2u, p));
  filtered[o] = vec4f(f.color, coverageAlphaOf(f.coverage, sigmoid(rawAt(3u, p))).x);
  stateOut[o] = vec4f(tanhSafe(rawAt(4u, p)), tanhSafe(rawAt(5u, p)), tanhSafe(rawAt(6u, p)),
                      tanhSafe(rawAt(7u, p)));`)}
`;

/** The uniform block of the filter and its backward. */
export function kpnUniforms(
  render: Size,
  display: Size,
  jitter: readonly [number, number],
  coveragePower = 0,
): ArrayBuffer {
  const [pw, ph] = paddedSize(display);
  return PARAMS.pack({
    width: display[0],
    height: display[1],
    renderWidth: render[0],
    renderHeight: render[1],
    paddedWidth: pw,
    paddedHeight: ph,
    jitterX: jitter[0],
    jitterY: jitter[1],
    ratioX: display[0] / render[0],
    ratioY: display[1] / render[1],
    coveragePower,
  });
}

/** Checks that `raw` is the padded network output for `display`. */
export function checkRawShape(
  raw: { channels: number; height: number; width: number },
  display: Size,
): void {
  const [pw, ph] = paddedSize(display);
  if (raw.channels !== RAW_CHANNELS || raw.width !== pw || raw.height !== ph) {
    throw new RangeError(
      `raw network output must be ${RAW_CHANNELS}x${ph}x${pw} for display ${display[0]}x${display[1]}, got ${raw.channels}x${raw.height}x${raw.width}`,
    );
  }
}

/** Output images of the filter (display size): filtered rgb with α in a, and the new state. */
export interface KpnFilterTargets {
  readonly filtered: GpuImage;
  readonly state: GpuImage;
}

/**
 * Records the activations + filter into `pass`; `color` is the prepared color (render size),
 * `coveragePower` the model's coverage blend k (0: none).
 */
export function encodeKpnFilter(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  raw: GpuTensor,
  color: GpuImage,
  jitter: readonly [number, number],
  targets: KpnFilterTargets,
  coveragePower = 0,
): void {
  const display: Size = [targets.filtered.width, targets.filtered.height];
  checkRawShape(raw, display);
  // Training's pass: its backward reads f32 images (the resolver's fused pass writes rgba16float).
  checkF32Image(targets.filtered, 'kpn filter: the filtered target');
  checkF32Image(targets.state, 'kpn filter: the state target');
  const kernel = createKernel(device, { label: 'nn kpn filter', code });
  kernel.dispatch(
    pass,
    [groupsFor(display[0], TILE), groupsFor(display[1], TILE)],
    [raw.buffer, color.buffer, targets.filtered.buffer, targets.state.buffer],
    kpnUniforms([color.width, color.height], display, jitter, coveragePower),
  );
}
