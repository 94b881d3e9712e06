/**
 * Backward of the fused activations, in place: grad ← grad · act'(z), with z's sign read from the
 * op's output (relu and leaky keep it). Turns dY into the dZ every linear backward starts from.
 * CPU: activationBackwardCpu.
 */
import { createKernel, FLAT_GROUP, WGSL_FLAT_INDEX, flatDispatch } from '../../gpu/kernel.ts';
import { packUniforms, u32 } from '../../gpu/wgsl.ts';
import { LEAKY_SLOPE, type Activation } from '../../core/graph.ts';

const code = /* wgsl */ `
struct Params { count: u32, leaky: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> outputValues: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;

${WGSL_FLAT_INDEX}
@compute @workgroup_size(${FLAT_GROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wg, groups, lid);
  if (i >= u.count) { return; }
  if (outputValues[i] <= 0.0) { grad[i] *= select(0.0, ${LEAKY_SLOPE}, u.leaky != 0u); }
}
`;

/** Records grad ← grad · act'(output) over `count` values ('none' records nothing). */
export function encodeActivationBackward(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  activation: Activation,
  output: GPUBuffer,
  grad: GPUBuffer,
  count: number,
): void {
  if (activation === 'none') return;
  createKernel(device, { label: 'activation backward', code }).dispatch(
    pass,
    flatDispatch(count),
    [output, grad],
    packUniforms([u32(count), u32(activation === 'leaky')]),
  );
}
