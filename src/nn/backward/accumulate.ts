/**
 * Gradient routing for the ops without weights: `add` hands dZ to both inputs, `concat` hands each
 * input its channel slice. One kernel copies (or adds, when the tensor fans out and already has a
 * gradient) `count` values from `source[sourceOffset…]` to `target`. CPU: addBackwardCpu,
 * concatBackwardCpu.
 */
import { createKernel, flatDispatch } from '../../gpu/kernel.ts';
import { wgslElementwiseMain } from '../../gpu/wgsl.ts';
import { uniformBlock } from '../../gpu/uniforms.ts';

const PARAMS = uniformBlock({ count: 'u32', sourceOffset: 'u32', accumulate: 'u32' });

const code = /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> source: array<f32>;
@group(0) @binding(2) var<storage, read_write> destination: array<f32>;

${wgslElementwiseMain(
  'u.count',
  /* wgsl */ `
  let g = source[u.sourceOffset + i];
  destination[i] = select(g, destination[i] + g, u.accumulate != 0u);`,
)}`;

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
    PARAMS.pack({ count, sourceOffset, accumulate }),
  );
}
