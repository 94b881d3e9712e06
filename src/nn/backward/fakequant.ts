/**
 * Backward of fakequant, the straight-through estimator: dX (+)= dY where |x| ≤ qmax·scale, 0
 * where the grid clamped x (rounding itself is passed through as the identity). CPU:
 * fakeQuantBackwardCpu in src/reference/nn/backward.ts.
 */
import { createKernel, FLAT_GROUP, WGSL_FLAT_INDEX, flatDispatch } from '../../gpu/kernel.ts';
import { f32, packUniforms, u32 } from '../../gpu/wgsl.ts';
import { quantMax } from '../../core/graph.ts';

const code = /* wgsl */ `
struct Params { count: u32, limit: f32, accumulate: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> gradOutput: array<f32>;
@group(0) @binding(3) var<storage, read_write> gradInput: array<f32>;

${WGSL_FLAT_INDEX}
@compute @workgroup_size(${FLAT_GROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wg, groups, lid);
  if (i >= u.count) { return; }
  let g = select(0.0, gradOutput[i], abs(input[i]) <= u.limit);
  gradInput[i] = select(g, gradInput[i] + g, u.accumulate != 0u);
}
`;

/** Records dInput (+)= dOutput · [|input| ≤ qmax·scale] over `count` values. */
export function encodeFakeQuantBackward(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  input: GPUBuffer,
  dOutput: GPUBuffer,
  dInput: GPUBuffer,
  count: number,
  scale: number,
  bits: number,
  accumulate: boolean,
): void {
  createKernel(device, { label: 'fakequant backward', code }).dispatch(
    pass,
    flatDispatch(count),
    [input, dOutput, dInput],
    packUniforms([u32(count), f32(quantMax(bits) * scale), u32(accumulate)]),
  );
}
