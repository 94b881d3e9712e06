/**
 * Backward of the fused activations, in place: grad ← grad · act'(z), with z's sign read from the
 * op's output (relu and leaky keep it). Turns dY into the dZ every linear backward starts from.
 * CPU: activationBackwardCpu.
 */
import { createKernel, flatDispatch } from '../../gpu/kernel.ts';
import { wgslElementwiseMain } from '../../gpu/wgsl.ts';
import { LEAKY_SLOPE, type Activation } from '../../core/graph.ts';
import { uniformBlock } from '../../gpu/uniforms.ts';

const PARAMS = uniformBlock({ count: 'u32', leaky: 'u32' });

const code = /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> outputValues: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;

${wgslElementwiseMain(
  'u.count',
  /* wgsl */ `
  if (outputValues[i] <= 0.0) { grad[i] *= select(0.0, ${LEAKY_SLOPE}, u.leaky != 0u); }`,
)}`;

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
    PARAMS.pack({ count, leaky: activation === 'leaky' }),
  );
}
