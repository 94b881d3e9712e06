/**
 * Fake-quantized weights: a weight tensor rounded onto its symmetric per-tensor grid, scale =
 * max|w| / qmax, written to a second buffer. One workgroup per tensor (the largest of network v2
 * has 36,864 values): a strided max, a tree reduction in workgroup memory, then the rounding. Run
 * before the forward whenever the stored weights may have changed (every training forward: the
 * optimizer updates the f32 weights; the rounded copy is what the ops read). CPU reference:
 * quantizeWeightCpu in src/reference/nn/ops.ts.
 */
import { quantMax } from '../../core/graph.ts';
import { prepareOp, type NnOpKernel } from './common.ts';
import type { PreparedDispatch } from '../../gpu/kernel.ts';
import { WGSL_QUANTIZE } from './fakequant.ts';
import { uniformBlock } from '../../gpu/uniforms.ts';

const PARAMS = uniformBlock({ count: 'u32', qmax: 'f32' });

const GROUP = 256;

const code = () => /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read_write> quantized: array<f32>;
var<workgroup> partial: array<f32, ${GROUP}>;
${WGSL_QUANTIZE}
@compute @workgroup_size(${GROUP})
fn main(@builtin(local_invocation_index) lid: u32) {
  var m = 0.0;
  for (var i = lid; i < u.count; i += ${GROUP}u) { m = max(m, abs(weight[i])); }
  partial[lid] = m;
  workgroupBarrier();
  for (var half = ${GROUP / 2}u; half > 0u; half /= 2u) {
    if (lid < half) { partial[lid] = max(partial[lid], partial[lid + half]); }
    workgroupBarrier();
  }
  let s = partial[0] / u.qmax;
  for (var i = lid; i < u.count; i += ${GROUP}u) {
    // An all-zero tensor (s = 0) stays zero.
    quantized[i] = select(0.0, quantize(weight[i], s, u.qmax), s > 0.0);
  }
}
`;

const kernel: NnOpKernel = {
  label: 'nn quantize weight',
  getShaderSource: code,
  dispatchSize: () => [1, 1, 1],
};

/** Prepares quantized ← `weight` (`count` f32 values) on its `bits`-bit per-tensor grid. */
export function prepareQuantizeWeight(
  device: GPUDevice,
  weight: GPUBuffer,
  quantized: GPUBuffer,
  count: number,
  bits: number,
): PreparedDispatch {
  return prepareOp(
    device,
    kernel,
    [],
    [1, 1, 1],
    [weight, quantized],
    PARAMS.pack({ count, qmax: quantMax(bits) }),
  );
}
