/**
 * Backward of the learned frame generation's blend (src/gpu/passes/framegen-blend.ts): from
 * dLoss/d(tonemapped blend) (planar 3 × display size) to dLoss/d(logits) (planar, padded size,
 * 0 in the padding): d/dz_k = w_k · Σ_c g_c · (candidate_k,c − out_c), the softmax's Jacobian.
 * The features need no gradient (nothing before them trains). CPU reference:
 * framegenBlendBackwardCpu in src/reference/frame-generation-neural.ts.
 */
import { createKernel, groupsFor } from '../../gpu/kernel.ts';
import { TILE } from '../../gpu/wgsl.ts';
import { WGSL_FRAMEGEN_BLEND, framegenBlendParams } from '../../gpu/passes/framegen-blend.ts';
import type { Size } from '../../core/quality.ts';

const code = /* wgsl */ `
${WGSL_FRAMEGEN_BLEND}
@group(0) @binding(3) var<storage, read> dOut: array<f32>;
@group(0) @binding(4) var<storage, read_write> dLogits: array<f32>;

@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x >= u.paddedWidth || id.y >= u.paddedHeight) { return; }
  let plane = u.paddedWidth * u.paddedHeight;
  let o = id.y * u.paddedWidth + id.x;
  if (id.x >= u.width || id.y >= u.height) {
    for (var k = 0u; k < CANDIDATES; k++) { dLogits[k * plane + o] = 0.0; }
    return;
  }
  let w = blendWeights(o, plane);
  var out = vec3f(0.0);
  for (var k = 0u; k < CANDIDATES; k++) { out += w[k] * candidate(k, o, plane); }
  let n = u.width * u.height;
  let i = id.y * u.width + id.x;
  let g = vec3f(dOut[i], dOut[n + i], dOut[2u * n + i]);
  for (var k = 0u; k < CANDIDATES; k++) {
    dLogits[k * plane + o] = w[k] * dot(g, candidate(k, o, plane) - out);
  }
}
`;

/** Records the blend's backward over display size `size` (features and logits at `padded`). */
export function encodeFramegenBlendBackward(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  inputs: { features: GPUBuffer; logits: GPUBuffer; size: Size; padded: Size },
  dOut: GPUBuffer,
  dLogits: GPUBuffer,
): void {
  const [paddedWidth, paddedHeight] = inputs.padded;
  createKernel(device, { label: 'framegen blend backward', code }).dispatch(
    pass,
    [groupsFor(paddedWidth, TILE), groupsFor(paddedHeight, TILE)],
    [inputs.features, inputs.logits, dOut, dLogits],
    framegenBlendParams(inputs.size, inputs.padded),
  );
}
