/**
 * WGSL shared by the neural-frame kernels (twins of the helpers in src/reference/nn/frame.ts).
 * Needs WGSL_COMMON (isFiniteF) before it.
 */
import { COVERAGE_SIGMA, SIGMA_MIN } from '../../core/neural-frame.ts';

export const WGSL_FRAME = /* wgsl */ `
fn finiteOr0(v: f32) -> f32 {
  return select(0.0, v, isFiniteF(v));
}

// History usable: not a reset, and a >= 0.5 (NaN alpha = invalid).
fn historyValid(a: f32, reset: u32) -> bool {
  return reset == 0u && isFiniteF(a) && a >= 0.5;
}

// Display pixel centre in render pixels.
fn centreInRender(x: vec2u, render: vec2u, display: vec2u) -> vec2f {
  return (vec2f(x) + 0.5) * vec2f(render) / vec2f(display);
}

// First render index of the 4-sample filter window: c - 2 in the first half of render pixel c,
// else c - 1; integer arithmetic as on the CPU.
fn windowStart(x: u32, render: u32, display: u32) -> i32 {
  let halves = (2u * x + 1u) * render / display;
  return i32(halves >> 1u) - 2 + i32(halves & 1u);
}

fn softplus(x: f32) -> f32 {
  return max(x, 0.0) + log(1.0 + exp(-abs(x)));
}

fn sigmoid(x: f32) -> f32 {
  return 1.0 / (1.0 + exp(-x));
}

// tanh that saturates instead of overflowing to NaN for large |x|.
fn tanhSafe(x: f32) -> f32 {
  return 1.0 - 2.0 / (exp(2.0 * x) + 1.0);
}

const SIGMA_MIN: f32 = ${SIGMA_MIN};
const COVERAGE_SIGMA: f32 = ${COVERAGE_SIGMA};
`;

/**
 * \`rawAt(k, p)\`: raw network output k of display pixel p, from the padded planar f32 output
 * (\`raw\`, array<f32>, and a uniform block \`u\` with paddedWidth and paddedHeight). The window and
 * rectification snippets read the raw output only through it, so a kernel that holds a pixel's
 * outputs in registers (the network's last layer with the filter + blend epilogue) defines its own.
 */
export const WGSL_RAW_AT = /* wgsl */ `
fn rawAt(k: u32, p: vec2u) -> f32 {
  return raw[(k * u.paddedHeight + p.y) * u.paddedWidth + p.x];
}
`;

/**
 * `renderColor(x, y)`, the prepared color of render pixel (x, y) inside the image, as the KPN
 * window and the rectification read it: from the `color` buffer (array<vec4f>, render size). The
 * network's last layer with the filter + blend defines its own, from workgroup memory
 * (./last-layer-filter-blend.ts).
 */
export const WGSL_RENDER_COLOR = /* wgsl */ `
fn renderColor(x: i32, y: i32) -> vec3f {
  return color[u32(y) * u.renderWidth + u32(x)].rgb;
}
`;
