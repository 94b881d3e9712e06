/**
 * Reproject pass (display resolution): the previous history (Catmull-Rom, deringed) and recurrent
 * state (bilinear) read at prevUV = uv + m, where m is the dilated motion of the render pixel
 * containing the display pixel centre. Off-screen or reset → invalid (history a = 0, state 0).
 * When the exposure changed, the history is rescaled to the new one (the exposure pass's y).
 * Each of the four images is read or written in its own format (the frame API's are rgba16float,
 * training's rgba32float). CPU reference and exact definition: src/reference/reproject.ts (then
 * `storedImage` for the format written).
 */
import { createKernel, groupsFor } from '../kernel.ts';
import { formatOf, wgslImages, type GpuImage, type ImageFormat } from '../gpu-image.ts';
import { BISECT_NEVER, TILE, WGSL_COMMON, wgslPixelMain } from '../wgsl.ts';
import { MAX_COLOR } from '../../core/pass-constants.ts';
import { uniformBlock, type UniformValues } from '../uniforms.ts';

/**
 * The uniform fields `reprojectPixel` reads (as `u.<field>`): display and render size, reset, and
 * where the exposure's history scale comes from. A kernel that reprojects in its own pass
 * declares them in its uniform block.
 */
export const REPROJECT_FIELDS = {
  width: 'u32',
  height: 'u32',
  renderWidth: 'u32',
  renderHeight: 'u32',
  reset: 'u32',
  scaleFromState: 'u32',
  historyScale: 'f32',
} as const;

const PARAMS = uniformBlock(REPROJECT_FIELDS);

/** Reprojected history (rgb, a = 1 valid / 0 invalid) and state, at display resolution. */
export interface Reprojected {
  history: GpuImage;
  state: GpuImage;
}

/** Formats of the previous images read and of the reprojected images written. */
interface ReprojectFormats {
  readonly previous: ImageFormat;
  readonly output: ImageFormat;
}

/**
 * WGSL of `rescaleTonemapped(c, s)`: a tonemapped color c/(1 + max c) as if its linear value had
 * been multiplied by s (an exposure change), clamped to MAX_COLOR; the CPU twin is
 * `rescaleTonemapped` in src/reference/exposure.ts. Part of WGSL_REPROJECT_PIXEL.
 */
export const WGSL_RESCALE_TONEMAPPED = /* wgsl */ `
fn rescaleTonemapped(c: vec3f, s: f32) -> vec3f {
  let scaled = min(c / (1.0 - reprojectMax3(c)) * s, vec3f(${MAX_COLOR.toFixed(1)}));
  return scaled / (1.0 + reprojectMax3(scaled));
}
fn reprojectMax3(v: vec3f) -> f32 { return max(v.x, max(v.y, v.z)); }
`;

/**
 * Benchmarks only: the reprojection with its history's 16 taps (`no-history-taps`: a constant
 * history) or its state's 4 (`no-state-taps`: a constant state) left out, to time the rest (the
 * outputs are wrong). The part stays in the shader behind BISECT_NEVER.
 */
export type ReprojectBisect = 'no-history-taps' | 'no-state-taps';

/**
 * WGSL of `reprojectPixel(p) -> Reprojection` (history and state of display pixel p) over the
 * bindings `motion` (array<vec4f>, the prepared motion), `previousHistory` and `previousState`
 * (wgslImages, read) and `exposureState` (array<vec4f>), with the uniform block `u`
 * (REPROJECT_FIELDS); needs WGSL_COMMON. The reproject pass and the features pass that reprojects
 * for itself (src/nn/resolve/reproject-features.ts) both call it, so they compute the same bits.
 * `bisect`: benchmarks only (ReprojectBisect).
 */
export const wgslReprojectPixel = (bisect?: ReprojectBisect) => {
  const history = `reprojectedHistory(x0, y0, f)`;
  const state = `reprojectedState(x0, y0, f)`;
  return /* wgsl */ `
${WGSL_RESCALE_TONEMAPPED}
struct Reprojection {
  history: vec4f,
  state: vec4f,
}
fn prevHistory(x: i32, y: i32) -> vec3f {
  return previousHistoryAt(texelAt(u.width, u.height, x, y)).rgb;
}
fn prevState(x: i32, y: i32) -> vec4f {
  return previousStateAt(texelAt(u.width, u.height, x, y));
}
fn reprojectPixel(p: vec2u) -> Reprojection {
  let rx = renderPixelOf(p.x, u.renderWidth, u.width);
  let ry = renderPixelOf(p.y, u.renderHeight, u.height);
  let m = motion[ry * u.renderWidth + rx].xy;
  let uv = (vec2f(p) + 0.5) / vec2f(f32(u.width), f32(u.height)) + m;
  if (u.reset != 0u || !(uv.x >= 0.0 && uv.x <= 1.0 && uv.y >= 0.0 && uv.y <= 1.0)) {
    return Reprojection(vec4f(0.0), vec4f(0.0));
  }
  let h = uv * vec2f(f32(u.width), f32(u.height)) - 0.5;
  let base = floor(h);
  let f = h - base;
  let x0 = i32(base.x);
  let y0 = i32(base.y);
  ${
    bisect === 'no-history-taps'
      ? `var history = vec3f(0.5);
  if (${BISECT_NEVER}) { history = ${history}; }`
      : `var history = ${history};`
  }
  // The exposure changed: the history as if its linear value had the new exposure.
  let s = select(u.historyScale, exposureState[0].y, u.scaleFromState != 0u);
  if (s != 1.0) { history = rescaleTonemapped(history, s); }
  ${
    bisect === 'no-state-taps'
      ? `var state = vec4f(0.25);
  if (${BISECT_NEVER}) { state = ${state}; }`
      : `let state = ${state};`
  }
  return Reprojection(vec4f(history, 1.0), state);
}

// Catmull-Rom over the 4x4 texels around (x0, y0) + f, clamped to the min/max of the inner 2x2
// (deringing). The inner 4 are read again for the clamp: taking them from the 16 taps' loop was
// 7–12 µs slower at 4K on an H100 (docs/PERFORMANCE.md, 2026-12-07 nineteenth session).
fn reprojectedHistory(x0: i32, y0: i32, f: vec2f) -> vec3f {
  let wx = catmullRomWeights(f.x);
  let wy = catmullRomWeights(f.y);
  var sum = vec3f(0.0);
  for (var j = 0; j < 4; j++) {
    for (var i = 0; i < 4; i++) {
      sum += wx[i] * wy[j] * prevHistory(x0 - 1 + i, y0 - 1 + j);
    }
  }
  let a = prevHistory(x0, y0);
  let b = prevHistory(x0 + 1, y0);
  let d = prevHistory(x0, y0 + 1);
  let e = prevHistory(x0 + 1, y0 + 1);
  return clamp(sum, min(min(a, b), min(d, e)), max(max(a, b), max(d, e)));
}

// Bilinear over the 2x2 texels at (x0, y0) + f.
fn reprojectedState(x0: i32, y0: i32, f: vec2f) -> vec4f {
  let top = mix(prevState(x0, y0), prevState(x0 + 1, y0), f.x);
  let bottom = mix(prevState(x0, y0 + 1), prevState(x0 + 1, y0 + 1), f.x);
  return mix(top, bottom, f.y);
}
`;
};

/** The reprojection of every pass but a benchmark's bisection. */
export const WGSL_REPROJECT_PIXEL = wgslReprojectPixel();

const code = ({ previous, output }: ReprojectFormats) => /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> motion: array<vec4f>;
${wgslImages([
  { binding: 2, name: 'previousHistory', access: 'read', format: previous },
  { binding: 3, name: 'previousState', access: 'read', format: previous },
  { binding: 4, name: 'historyOut', access: 'read_write', format: output },
  { binding: 5, name: 'stateOut', access: 'read_write', format: output },
])}
@group(0) @binding(6) var<storage, read> exposureState: array<vec4f>;
${WGSL_COMMON}
${WGSL_REPROJECT_PIXEL}

${wgslPixelMain(/* wgsl */ `
  let o = id.y * u.width + id.x;
  let r = reprojectPixel(id.xy);
  storeHistoryOut(o, r.history);
  storeStateOut(o, r.state);`)}
`;

/**
 * The REPROJECT_FIELDS values of a frame: `motion` the prepared motion (render size), `display`
 * an image of the display size, the exposure's history scale from `exposure.state` (the exposure
 * pass's buffer) when given, else `exposure.historyScale` (default 1).
 */
export function reprojectUniformValues(
  motion: GpuImage,
  display: GpuImage,
  reset: boolean,
  exposure: { historyScale?: number; state?: GPUBuffer },
): UniformValues<typeof REPROJECT_FIELDS> {
  return {
    width: display.width,
    height: display.height,
    renderWidth: motion.width,
    renderHeight: motion.height,
    reset,
    scaleFromState: exposure.state !== undefined,
    historyScale: exposure.historyScale ?? 1,
  };
}

/**
 * Records the reproject pass: `motion` is the prepared motion (render size); the previous history
 * and state and `output` are display size. The previous history and state share a format, and so
 * do the two outputs.
 */
export function encodeReproject(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  motion: GpuImage,
  previous: Reprojected,
  reset: boolean,
  output: Reprojected,
  exposure: { historyScale?: number; state?: GPUBuffer } = {},
): void {
  const { width, height } = output.history;
  const formats = { previous: formatOf(previous.history), output: formatOf(output.history) };
  if (formatOf(previous.state) !== formats.previous || formatOf(output.state) !== formats.output) {
    throw new RangeError(
      `reproject: history and state must share a format (previous ${formats.previous} / ${formatOf(previous.state)}, output ${formats.output} / ${formatOf(output.state)})`,
    );
  }
  const kernel = createKernel(device, { label: 'reproject', code: code(formats) });
  kernel.dispatch(
    pass,
    [groupsFor(width, TILE), groupsFor(height, TILE)],
    [
      motion.buffer,
      previous.history.buffer,
      previous.state.buffer,
      output.history.buffer,
      output.state.buffer,
      exposure.state ?? motion.buffer,
    ],
    PARAMS.pack(reprojectUniformValues(motion, output.history, reset, exposure)),
  );
}
