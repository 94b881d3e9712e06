/**
 * Feature assembly (display resolution, padded to multiples of 8): the network input, 12 planar
 * channels — reprojected state ×4, jitter-aware current luma, reprojected history luma,
 * colorfulness, disocclusion cue, nearest-sample distance², neighbourhood luma range, history luma
 * outside that range, motion length. Exact definition and CPU reference:
 * src/reference/nn/frame.ts.
 */
import { createKernel, groupsFor } from '../../gpu/kernel.ts';
import type { GpuImage } from '../../gpu/gpu-image.ts';
import { TILE, WGSL_COMMON } from '../../gpu/wgsl.ts';
import type { GpuTensor } from '../tensor.ts';
import { FEATURE_CHANNELS, paddedSize, type NeuralFrameParams } from '../../core/neural-frame.ts';
import { WGSL_FRAME } from './wgsl.ts';
import { uniformBlock } from '../../gpu/uniforms.ts';

const PARAMS = uniformBlock({
  width: 'u32',
  height: 'u32',
  renderWidth: 'u32',
  renderHeight: 'u32',
  paddedWidth: 'u32',
  paddedHeight: 'u32',
  reset: 'u32',
  jitterX: 'f32',
  jitterY: 'f32',
});

const code = /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> color: array<vec4f>;
@group(0) @binding(2) var<storage, read> motion: array<vec4f>;
@group(0) @binding(3) var<storage, read> history: array<vec4f>;
@group(0) @binding(4) var<storage, read> state: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> features: array<f32>;
${WGSL_COMMON}
${WGSL_FRAME}
fn renderTexel(x: i32, y: i32) -> vec4f {
  return color[texelAt(u.renderWidth, u.renderHeight, x, y)];
}

// Squared distance (display pixels) to the nearest in-image sample of the 4x4 filter window.
fn nearestSampleDistance2(p: vec2u) -> f32 {
  let x0 = windowStart(p.x, u.renderWidth, u.width);
  let y0 = windowStart(p.y, u.renderHeight, u.height);
  let ratio = vec2f(f32(u.width), f32(u.height)) / vec2f(f32(u.renderWidth), f32(u.renderHeight));
  let centre = vec2f(p) + 0.5;
  var best = 3.4e38;
  for (var y = max(y0, 0); y < min(y0 + 4, i32(u.renderHeight)); y++) {
    for (var x = max(x0, 0); x < min(x0 + 4, i32(u.renderWidth)); x++) {
      let d = (vec2f(f32(x), f32(y)) + 0.5 + vec2f(u.jitterX, u.jitterY)) * ratio - centre;
      best = min(best, dot(d, d));
    }
  }
  return best;
}

@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x >= u.paddedWidth || id.y >= u.paddedHeight) { return; }
  let plane = u.paddedWidth * u.paddedHeight;
  let o = id.y * u.paddedWidth + id.x;
  var f: array<f32, ${FEATURE_CHANNELS}>;
  if (id.x < u.width && id.y < u.height) {
    let i = id.y * u.width + id.x;
    let h = history[i];
    let valid = historyValid(h.a, u.reset);
    if (u.reset == 0u) {
      let s = state[i];
      f[0] = finiteOr0(s.x);
      f[1] = finiteOr0(s.y);
      f[2] = finiteOr0(s.z);
      f[3] = finiteOr0(s.w);
    }
    // Bilinear luma on the grid of jittered sample positions, at p - j - 0.5.
    let p = centreInRender(id.xy, vec2u(u.renderWidth, u.renderHeight), vec2u(u.width, u.height));
    let g = p - vec2f(u.jitterX, u.jitterY) - 0.5;
    let base = floor(g);
    let t = g - base;
    let x0 = i32(base.x);
    let y0 = i32(base.y);
    let top = mix(renderTexel(x0, y0).a, renderTexel(x0 + 1, y0).a, t.x);
    let bottom = mix(renderTexel(x0, y0 + 1).a, renderTexel(x0 + 1, y0 + 1).a, t.x);
    f[4] = mix(top, bottom, t.y);
    let rx = i32(renderPixelOf(id.x, u.renderWidth, u.width));
    let ry = i32(renderPixelOf(id.y, u.renderHeight, u.height));
    var chroma = 0.0;
    var lumaLo = 3.4e38;
    var lumaHi = -3.4e38;
    for (var dy = -1; dy <= 1; dy++) {
      for (var dx = -1; dx <= 1; dx++) {
        let c = renderTexel(rx + dx, ry + dy);
        chroma += max(c.r, max(c.g, c.b)) - min(c.r, min(c.g, c.b));
        lumaLo = min(lumaLo, c.a);
        lumaHi = max(lumaHi, c.a);
      }
    }
    if (valid) {
      let l = luma709(vec3f(finiteOr0(h.r), finiteOr0(h.g), finiteOr0(h.b)));
      f[5] = l;
      f[10] = l - clamp(l, lumaLo, lumaHi);
    }
    f[6] = chroma / 9.0;
    let m = motion[u32(ry) * u.renderWidth + u32(rx)];
    f[7] = max(max(m.z, m.w), select(1.0, 0.0, valid));
    f[8] = nearestSampleDistance2(id.xy);
    f[9] = lumaHi - lumaLo;
    let md = vec2f(finiteOr0(m.x), finiteOr0(m.y)) * vec2f(f32(u.width), f32(u.height));
    f[11] = log2(1.0 + length(md));
  }
  for (var k = 0u; k < ${FEATURE_CHANNELS}u; k++) { features[k * plane + o] = f[k]; }
}
`;

/** GPU inputs of feature assembly (prepared: render size; reprojected: display size). */
export interface FeatureGpuInputs {
  readonly color: GpuImage;
  readonly motion: GpuImage;
  readonly history: GpuImage;
  readonly state: GpuImage;
}

/**
 * Records feature assembly into `pass`. `output` must be 8 × padded height × padded width of the
 * display size (`paddedSize`).
 */
export function encodeFeatures(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  inputs: FeatureGpuInputs,
  params: NeuralFrameParams,
  output: GpuTensor,
): void {
  const { width, height } = inputs.history;
  const [pw, ph] = paddedSize([width, height]);
  if (output.channels !== FEATURE_CHANNELS || output.width !== pw || output.height !== ph) {
    throw new RangeError(
      `features tensor must be ${FEATURE_CHANNELS}x${ph}x${pw} for display ${width}x${height}, got ${output.channels}x${output.height}x${output.width}`,
    );
  }
  const kernel = createKernel(device, { label: 'nn features', code });
  kernel.dispatch(
    pass,
    [groupsFor(pw, TILE), groupsFor(ph, TILE)],
    [
      inputs.color.buffer,
      inputs.motion.buffer,
      inputs.history.buffer,
      inputs.state.buffer,
      output.buffer,
    ],
    PARAMS.pack({
      width,
      height,
      renderWidth: inputs.color.width,
      renderHeight: inputs.color.height,
      paddedWidth: pw,
      paddedHeight: ph,
      reset: params.reset,
      jitterX: params.jitter[0],
      jitterY: params.jitter[1],
    }),
  );
}
