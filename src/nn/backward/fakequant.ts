/**
 * Backward of fakequant, the straight-through estimator: dX (+)= dY where |x| ≤ qmax·scale, 0
 * where the grid clamped x (rounding itself is passed through as the identity). CPU:
 * fakeQuantBackwardCpu in src/reference/nn/backward.ts.
 */
import { createKernel, flatDispatch } from '../../gpu/kernel.ts';
import { wgslElementwiseMain } from '../../gpu/wgsl.ts';
import { quantMax } from '../../core/graph.ts';
import { uniformBlock } from '../../gpu/uniforms.ts';

const PARAMS = uniformBlock({ count: 'u32', limit: 'f32', accumulate: 'u32' });

const code = /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> gradOutput: array<f32>;
@group(0) @binding(3) var<storage, read_write> gradInput: array<f32>;

${wgslElementwiseMain(
  'u.count',
  /* wgsl */ `
  let g = select(0.0, gradOutput[i], abs(input[i]) <= u.limit);
  gradInput[i] = select(g, gradInput[i] + g, u.accumulate != 0u);`,
)}`;

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
    PARAMS.pack({ count, limit: quantMax(bits) * scale, accumulate }),
  );
}
