/**
 * Backward of feature assembly (display resolution): from dLoss/d(features) to dLoss/d(reprojected
 * state) and dLoss/d(reprojected history rgb), adding the blend's history gradient so the result
 * is the frame's whole gradient w.r.t. the reprojected images. CPU reference:
 * `assembleFeaturesBackwardCpu` in src/reference/nn/frame-backward.ts.
 */
import { createKernel, groupsFor } from '../../gpu/kernel.ts';
import type { GpuImage } from '../../gpu/gpu-image.ts';
import { TILE, WGSL_COMMON, wgslPixelMain } from '../../gpu/wgsl.ts';
import type { GpuTensor } from '../tensor.ts';
import { FEATURE_CHANNELS, LUMA_WEIGHTS, paddedSize } from '../../core/neural-frame.ts';
import { WGSL_FRAME } from '../resolve/wgsl.ts';
import { uniformBlock } from '../../gpu/uniforms.ts';

const PARAMS = uniformBlock({
  width: 'u32',
  height: 'u32',
  paddedWidth: 'u32',
  paddedHeight: 'u32',
  reset: 'u32',
  renderWidth: 'u32',
  renderHeight: 'u32',
});

const code = /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> dFeatures: array<f32>;
@group(0) @binding(2) var<storage, read> history: array<vec4f>;
@group(0) @binding(3) var<storage, read> state: array<vec4f>;
@group(0) @binding(4) var<storage, read> dHistoryBlend: array<vec4f>;
@group(0) @binding(5) var<storage, read> color: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> dHistory: array<vec4f>;
@group(0) @binding(7) var<storage, read_write> dState: array<vec4f>;
${WGSL_COMMON}
${WGSL_FRAME}
const LUMA = vec3f(${LUMA_WEIGHTS.join(', ')});

${wgslPixelMain(/* wgsl */ `
  let i = id.y * u.width + id.x;
  let plane = u.paddedWidth * u.paddedHeight;
  let o = id.y * u.paddedWidth + id.x;
  var gh = dHistoryBlend[i].rgb;
  var gs = vec4f(0.0);
  if (u.reset == 0u) {
    let s = state[i];
    for (var k = 0u; k < 4u; k++) {
      gs[k] = select(0.0, dFeatures[k * plane + o], isFiniteF(s[k]));
    }
    let h = history[i];
    if (historyValid(h.a, 0u)) {
      let finite = vec3<bool>(isFiniteF(h.r), isFiniteF(h.g), isFiniteF(h.b));
      // Feature 10 = l - clamp(l, lo, hi) moves with l only outside the neighbourhood's range.
      let l = luma709(select(vec3f(0.0), h.rgb, finite));
      let rx = i32(renderPixelOf(id.x, u.renderWidth, u.width));
      let ry = i32(renderPixelOf(id.y, u.renderHeight, u.height));
      var lo = 3.4e38;
      var hi = -3.4e38;
      for (var dy = -1; dy <= 1; dy++) {
        for (var dx = -1; dx <= 1; dx++) {
          let c = color[texelAt(u.renderWidth, u.renderHeight, rx + dx, ry + dy)].a;
          lo = min(lo, c);
          hi = max(hi, c);
        }
      }
      let outside = select(0.0, 1.0, l < lo || l > hi);
      let dl = dFeatures[5u * plane + o] + outside * dFeatures[10u * plane + o];
      gh += select(vec3f(0.0), LUMA * dl, finite);
    }
  }
  dHistory[i] = vec4f(gh, 0.0);
  dState[i] = gs;`)}
`;

/** Inputs of the features backward. */
export interface FeaturesBackwardInputs {
  /** dLoss/d(features): the network backward's input gradient (FEATURE_CHANNELS × padded display size). */
  readonly dFeatures: GpuTensor;
  /** The reprojected history and state the features were assembled from. */
  readonly history: GpuImage;
  readonly state: GpuImage;
  /** The prepared color (render size) they were assembled with. */
  readonly color: GpuImage;
  /** The blend backward's dLoss/d(reprojected history), added in. */
  readonly dHistoryBlend: GpuImage;
}

/** Gradients w.r.t. the reprojected images (display size; history a = 0). */
export interface ReprojectedGradTargets {
  readonly history: GpuImage;
  readonly state: GpuImage;
}

/** Records the features backward. */
export function encodeFeaturesBackward(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  inputs: FeaturesBackwardInputs,
  reset: boolean,
  targets: ReprojectedGradTargets,
): void {
  const { width, height } = inputs.history;
  const [pw, ph] = paddedSize([width, height]);
  const g = inputs.dFeatures;
  if (g.channels !== FEATURE_CHANNELS || g.width !== pw || g.height !== ph) {
    throw new RangeError(
      `feature gradient must be ${FEATURE_CHANNELS}x${ph}x${pw}, got ${g.channels}x${g.height}x${g.width}`,
    );
  }
  const kernel = createKernel(device, { label: 'nn features backward', code });
  kernel.dispatch(
    pass,
    [groupsFor(width, TILE), groupsFor(height, TILE)],
    [
      g.buffer,
      inputs.history.buffer,
      inputs.state.buffer,
      inputs.dHistoryBlend.buffer,
      inputs.color.buffer,
      targets.history.buffer,
      targets.state.buffer,
    ],
    PARAMS.pack({
      width,
      height,
      paddedWidth: pw,
      paddedHeight: ph,
      reset,
      renderWidth: inputs.color.width,
      renderHeight: inputs.color.height,
    }),
  );
}
