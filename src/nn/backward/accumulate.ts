/**
 * Gradient routing for the ops without weights: `add` hands dZ to both inputs, `concat` hands each
 * input its channel slice. One kernel copies (or adds, when the tensor fans out and already has a
 * gradient) `count` values from `source[sourceOffset…]` to `target`. CPU: addBackwardCpu,
 * concatBackwardCpu.
 */
import { createKernel, FLAT_GROUP, WGSL_FLAT_INDEX, flatDispatch } from '../../gpu/kernel.ts';
import { packUniforms, u32 } from '../../gpu/wgsl.ts';

const code = /* wgsl */ `
struct Params { count: u32, sourceOffset: u32, accumulate: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> source: array<f32>;
@group(0) @binding(2) var<storage, read_write> destination: array<f32>;

${WGSL_FLAT_INDEX}
@compute @workgroup_size(${FLAT_GROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wg, groups, lid);
  if (i >= u.count) { return; }
  let g = source[u.sourceOffset + i];
  destination[i] = select(g, destination[i] + g, u.accumulate != 0u);
}
`;

/** Records target[i] (+)= source[sourceOffset + i] for i < count. */
export function encodeGradRoute(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  source: GPUBuffer,
  sourceOffset: number,
  target: GPUBuffer,
  count: number,
  accumulate: boolean,
): void {
  createKernel(device, { label: 'gradient route', code }).dispatch(
    pass,
    flatDispatch(count),
    [source, target],
    packUniforms([u32(count), u32(sourceOffset), u32(accumulate)]),
  );
}
