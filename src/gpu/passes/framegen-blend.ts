/**
 * Learned frame generation, blend (display resolution): per pixel, the softmax of the network's
 * logits weighs the candidates (read from the features tensor, tonemapped), giving the
 * tonemapped in-between frame. Inference writes it as a GpuImage for the output pass (inverse
 * tonemap); training writes it as a planar 3-channel tensor for the loss. CPU reference:
 * framegenBlendCpu in src/reference/frame-generation-neural.ts; backward:
 * src/nn/backward/framegen-blend.ts.
 */
import { createKernel, groupsFor } from '../kernel.ts';
import type { GpuImage } from '../gpu-image.ts';
import { TILE, wgslPixelMain } from '../wgsl.ts';
import { uniformBlock } from '../uniforms.ts';
import { FRAMEGEN_CANDIDATES } from '../../core/framegen-neural.ts';
import type { Size } from '../../core/quality.ts';

const PARAMS = uniformBlock({
  width: 'u32',
  height: 'u32',
  paddedWidth: 'u32',
  paddedHeight: 'u32',
});

/**
 * WGSL shared with the backward: the bindings of features and logits (padded planar) and the
 * softmax weights and candidates of a pixel.
 */
export const WGSL_FRAMEGEN_BLEND = /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> features: array<f32>;
@group(0) @binding(2) var<storage, read> logits: array<f32>;
const CANDIDATES = ${FRAMEGEN_CANDIDATES}u;
fn blendWeights(o: u32, plane: u32) -> array<f32, ${FRAMEGEN_CANDIDATES}> {
  var w: array<f32, ${FRAMEGEN_CANDIDATES}>;
  var top = logits[o];
  for (var k = 1u; k < CANDIDATES; k++) { top = max(top, logits[k * plane + o]); }
  var sum = 0.0;
  for (var k = 0u; k < CANDIDATES; k++) {
    w[k] = exp(logits[k * plane + o] - top);
    sum += w[k];
  }
  for (var k = 0u; k < CANDIDATES; k++) { w[k] /= sum; }
  return w;
}
fn candidate(k: u32, o: u32, plane: u32) -> vec3f {
  return vec3f(features[(3u * k) * plane + o], features[(3u * k + 1u) * plane + o],
               features[(3u * k + 2u) * plane + o]);
}
`;

const code = (target: 'image' | 'tensor') => /* wgsl */ `
${WGSL_FRAMEGEN_BLEND}
@group(0) @binding(3) var<storage, read_write> blended: array<${target === 'image' ? 'vec4f' : 'f32'}>;

${wgslPixelMain(/* wgsl */ `
  let plane = u.paddedWidth * u.paddedHeight;
  let o = id.y * u.paddedWidth + id.x;
  let w = blendWeights(o, plane);
  var out = vec3f(0.0);
  for (var k = 0u; k < CANDIDATES; k++) { out += w[k] * candidate(k, o, plane); }
  let i = id.y * u.width + id.x;
  ${
    target === 'image'
      ? 'blended[i] = vec4f(out, 1.0);'
      : `let n = u.width * u.height;
  blended[i] = out.r;
  blended[n + i] = out.g;
  blended[2u * n + i] = out.b;`
  }`)}
`;

/** The uniforms of the blend and its backward. */
export function framegenBlendParams([width, height]: Size, [paddedWidth, paddedHeight]: Size) {
  if (paddedWidth < width || paddedHeight < height) {
    throw new RangeError(
      `framegen blend: padded size ${paddedWidth}x${paddedHeight} is below ${width}x${height}`,
    );
  }
  return PARAMS.pack({ width, height, paddedWidth, paddedHeight });
}

/**
 * Records the blend of display size `size` from `features` and `logits` (planar, padded size):
 * into a GpuImage (tonemapped rgb, a = 1) or a planar 3 × height × width f32 buffer.
 */
export function encodeFramegenBlend(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  inputs: { features: GPUBuffer; logits: GPUBuffer; size: Size; padded: Size },
  target: { image: GpuImage } | { tensor: GPUBuffer },
): void {
  const [width, height] = inputs.size;
  const kind = 'image' in target ? 'image' : 'tensor';
  createKernel(device, { label: `framegen blend ${kind}`, code: code(kind) }).dispatch(
    pass,
    [groupsFor(width, TILE), groupsFor(height, TILE)],
    [inputs.features, inputs.logits, 'image' in target ? target.image.buffer : target.tensor],
    framegenBlendParams(inputs.size, inputs.padded),
  );
}
