/**
 * Backward of the activations + KPN filter (display resolution, one thread per padded pixel):
 * from dLoss/d(filtered rgb, α) and dLoss/d(new state) to dLoss/d(raw network output), with the
 * blend's dLoss/d(raw β) copied into channel 8; padding gets 0. A per-pixel gather, deterministic.
 * CPU reference: `kpnFilterBackwardCpu` in src/reference/nn/frame-backward.ts.
 */
import { createKernel, groupsFor } from '../../gpu/kernel.ts';
import type { GpuImage } from '../../gpu/gpu-image.ts';
import { TILE } from '../../gpu/wgsl.ts';
import type { GpuTensor } from '../tensor.ts';
import type { Size } from '../../core/quality.ts';
import { WGSL_KPN, checkRawShape, kpnUniforms } from '../resolve/kpn-filter.ts';

const code = /* wgsl */ `
${WGSL_KPN}
@group(0) @binding(3) var<storage, read> dFiltered: array<vec4f>;
@group(0) @binding(4) var<storage, read> dState: array<vec4f>;
@group(0) @binding(5) var<storage, read> dBetaRaw: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> dRaw: array<f32>;

@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x >= u.paddedWidth || id.y >= u.paddedHeight) { return; }
  let plane = u.paddedWidth * u.paddedHeight;
  let o = id.y * u.paddedWidth + id.x;
  var d: array<f32, 9>;
  if (id.x < u.width && id.y < u.height) {
    let p = id.xy;
    let r0 = rawAt(0u, p);
    let r1 = rawAt(1u, p);
    let s1 = SIGMA_MIN + softplus(r0);
    let s2 = SIGMA_MIN + softplus(r1);
    let theta = rawAt(2u, p);
    let w = gatherWindow(p);
    let weights = windowWeights(w, s1, s2, theta);
    var sum = 0.0;
    var acc = vec3f(0.0);
    for (var n = 0u; n < w.count; n++) {
      sum += weights[n];
      acc += weights[n] * w.color[n];
    }
    let out = acc / sum;
    let i = id.y * u.width + id.x;
    let gf = dFiltered[i];
    let inv1 = 1.0 / (s1 * s1);
    let inv2 = 1.0 / (s2 * s2);
    var dS1 = 0.0;
    var dS2 = 0.0;
    var dTheta = 0.0;
    // d out / d q_n = -w_n (color_n - out) / (2 sum).
    for (var n = 0u; n < w.count; n++) {
      let dq = -0.5 * weights[n] * dot(gf.rgb, w.color[n] - out) / sum;
      let r = rotated(w.d[n], theta);
      dS1 += dq * (-2.0 * r.x * r.x * inv1) / s1;
      dS2 += dq * (-2.0 * r.y * r.y * inv2) / s2;
      dTheta += dq * 2.0 * r.x * r.y * (inv1 - inv2);
    }
    d[0] = dS1 * sigmoid(r0);
    d[1] = dS2 * sigmoid(r1);
    d[2] = dTheta;
    let alpha = sigmoid(rawAt(3u, p));
    // alpha_c depends on alpha alone (the coverage on the jitter and the sizes).
    d[3] = gf.a * coverageAlpha(p, alpha).y * alpha * (1.0 - alpha);
    let gs = dState[i];
    for (var k = 0u; k < 4u; k++) {
      let t = tanhSafe(rawAt(4u + k, p));
      d[4u + k] = gs[k] * (1.0 - t * t);
    }
    d[8] = dBetaRaw[i].x;
  }
  for (var k = 0u; k < 9u; k++) { dRaw[k * plane + o] = d[k]; }
}
`;

/** Upstream gradients of the filter (display size vec4). */
export interface KpnFilterUpstream {
  /** dLoss/d(filtered rgb), dLoss/dα in a (the blend backward's `filtered`). */
  readonly filtered: GpuImage;
  /** dLoss/d(new state). */
  readonly state: GpuImage;
  /** dLoss/d(raw channel 8) in x (the blend backward's `betaRaw`), copied into dRaw. */
  readonly betaRaw: GpuImage;
}

/**
 * Records the filter backward; `dRaw` has the raw output's shape (9 × padded display size);
 * `coveragePower` the model's coverage blend k, as the forward ran it.
 */
export function encodeKpnFilterBackward(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  raw: GpuTensor,
  color: GpuImage,
  jitter: readonly [number, number],
  upstream: KpnFilterUpstream,
  dRaw: GpuTensor,
  coveragePower = 0,
): void {
  const display: Size = [upstream.filtered.width, upstream.filtered.height];
  checkRawShape(raw, display);
  checkRawShape(dRaw, display);
  const kernel = createKernel(device, { label: 'nn kpn filter backward', code });
  kernel.dispatch(
    pass,
    [groupsFor(raw.width, TILE), groupsFor(raw.height, TILE)],
    [
      raw.buffer,
      color.buffer,
      upstream.filtered.buffer,
      upstream.state.buffer,
      upstream.betaRaw.buffer,
      dRaw.buffer,
    ],
    kpnUniforms([color.width, color.height], display, jitter, coveragePower),
  );
}
