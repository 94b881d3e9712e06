/**
 * WGSL shared by the kernels: the entry points of per-pixel and elementwise kernels, and the
 * helpers of the passes (twins of src/reference/common.ts).
 */
import { FLAT_GROUP } from './kernel.ts';

/** Workgroup edge of the 2-D passes (8×8 = 64 invocations). */
export const TILE = 8;

/**
 * Benchmarks' bisections of the display-size passes: the condition no dispatch meets (a display
 * width of 2³² − 1). A part left out stays in the shader behind it, so its registers still count.
 */
export const BISECT_NEVER = 'u.width == 0xffffffffu';

/**
 * The entry point of a per-pixel pass: TILE×TILE threads a workgroup, `body` run with `id` bound
 * for every pixel inside u.width × u.height.
 */
export function wgslPixelMain(body: string): string {
  return /* wgsl */ `
@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x >= u.width || id.y >= u.height) { return; }${body}
}`;
}

/** Helpers: clamp-to-edge reads of a vec4 image, Lanczos-2, Catmull-Rom, YCoCg, luma, finiteness. */
export const WGSL_COMMON = /* wgsl */ `
fn texelAt(width: u32, height: u32, x: i32, y: i32) -> u32 {
  let cx = u32(clamp(x, 0, i32(width) - 1));
  let cy = u32(clamp(y, 0, i32(height) - 1));
  return cy * width + cx;
}

const PI: f32 = 3.14159265358979;

fn lanczos2(x: f32) -> f32 {
  let ax = abs(x);
  if (ax < 1e-5) { return 1.0; }
  if (ax >= 2.0) { return 0.0; }
  let px = PI * ax;
  return 2.0 * sin(px) * sin(px * 0.5) / (px * px);
}

fn catmullRomWeights(t: f32) -> vec4f {
  let t2 = t * t;
  let t3 = t2 * t;
  return vec4f(-0.5 * t3 + t2 - 0.5 * t, 1.5 * t3 - 2.5 * t2 + 1.0,
               -1.5 * t3 + 2.0 * t2 + 0.5 * t, 0.5 * t3 - 0.5 * t2);
}

fn rgbToYCoCg(c: vec3f) -> vec3f {
  return vec3f(0.25 * c.r + 0.5 * c.g + 0.25 * c.b, 0.5 * c.r - 0.5 * c.b,
               -0.25 * c.r + 0.5 * c.g - 0.25 * c.b);
}

fn yCoCgToRgb(c: vec3f) -> vec3f {
  return vec3f(c.x + c.y - c.z, c.x + c.z, c.x - c.y - c.z);
}

fn luma709(c: vec3f) -> f32 {
  return dot(c, vec3f(0.2126, 0.7152, 0.0722));
}

// Bit test rather than v != v: compilers may assume floats are never NaN.
fn isFiniteF(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
}

// floor((x + 0.5) * render / display) in integers, as the CPU reference computes it.
fn renderPixelOf(x: u32, renderSize: u32, displaySize: u32) -> u32 {
  return min((2u * x + 1u) * renderSize / (2u * displaySize), renderSize - 1u);
}
`;

/**
 * WGSL `readWarped(fromCurrent, p) -> vec3f`, the frame generator's read of the previous or the
 * current frame along motion: 16-tap Catmull-Rom at texel-space position p, clamped to the 2×2
 * nearest texels so that it cannot ring. The pass defines
 * `frameAt(fromCurrent: bool, x: i32, y: i32) -> vec3f` (one texel, its clamp-to-edge and
 * sanitizing included); the CPU twin is src/reference/frame-generation.ts.
 */
export const WGSL_READ_WARPED = /* wgsl */ `
fn readWarped(fromCurrent: bool, p: vec2f) -> vec3f {
  let h = p - 0.5;
  let base = floor(h);
  let f = h - base;
  let x0 = i32(base.x);
  let y0 = i32(base.y);
  let wx = catmullRomWeights(f.x);
  let wy = catmullRomWeights(f.y);
  var sum = vec3f(0.0);
  var lo = vec3f(0.0);
  var hi = vec3f(0.0);
  for (var j = 0; j < 4; j++) {
    for (var i = 0; i < 4; i++) {
      let v = frameAt(fromCurrent, x0 - 1 + i, y0 - 1 + j);
      sum += wx[i] * wy[j] * v;
      if ((i == 1 || i == 2) && (j == 1 || j == 2)) {
        lo = select(min(lo, v), v, i == 1 && j == 1);
        hi = select(max(hi, v), v, i == 1 && j == 1);
      }
    }
  }
  return clamp(sum, lo, hi);
}
`;

/** WGSL `flatIndex(wg, count, lid)`: the element index of a thread under `flatDispatch`. */
export const WGSL_FLAT_INDEX = /* wgsl */ `
fn flatIndex(wg: vec3u, groups: vec3u, lid: u32) -> u32 {
  return (wg.y * groups.x + wg.x) * ${FLAT_GROUP}u + lid;
}
`;

/**
 * The entry point of an elementwise kernel: one thread per element under `flatDispatch`, `body`
 * run with `i` bound for every i < `count` (a WGSL expression, e.g. `u.count`).
 */
export function wgslElementwiseMain(count: string, body: string): string {
  return /* wgsl */ `${WGSL_FLAT_INDEX}
@compute @workgroup_size(${FLAT_GROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wg, groups, lid);
  if (i >= ${count}) { return; }
${body}
}
`;
}
