/**
 * fakequant forward: every value rounded onto the symmetric grid k·scale, |k| ≤ qmax, as an INT8
 * kernel would read the tensor (quantization-aware training, INT8 simulation). Half rounds up, as
 * the CPU reference: fakeQuantCpu in src/reference/nn/ops.ts.
 */
import { quantMax } from '../../core/graph.ts';
import type { GpuTensor, TensorDtype } from '../tensor.ts';
import { sameShape, shapeString, tensorLength } from '../../core/tensor.ts';
import { prepareOp, wgslEnables, type NnOpKernel } from './common.ts';
import { flatDispatch, type PreparedDispatch } from '../../gpu/kernel.ts';
import { wgslElementwiseMain } from '../../gpu/wgsl.ts';
import { uniformBlock } from '../../gpu/uniforms.ts';

const PARAMS = uniformBlock({ count: 'u32', scale: 'f32', qmax: 'f32' });

/** WGSL `quantize(v, s, qmax)`: v on the grid k·s, |k| ≤ qmax (s > 0). */
export const WGSL_QUANTIZE = /* wgsl */ `
fn quantize(v: f32, s: f32, qmax: f32) -> f32 {
  return clamp(floor(v / s + 0.5), -qmax, qmax) * s;
}
`;

const code = ([input, output]: readonly (TensorDtype | undefined)[]) => /* wgsl */ `${wgslEnables([
  input,
  output,
])}
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> input: array<${input}>;
@group(0) @binding(2) var<storage, read_write> output: array<${output}>;
${WGSL_QUANTIZE}
${wgslElementwiseMain(
  'u.count',
  /* wgsl */ `
  output[i] = ${output}(quantize(f32(input[i]), u.scale, u.qmax));`,
)}`;

/** The fakequant kernel record. */
export const fakeQuantKernel: NnOpKernel = {
  label: 'nn fakequant',
  getShaderSource: code,
  dispatchSize: (output) => flatDispatch(tensorLength(output)),
};

/** Arguments of `fakequant`: input and output of one shape, the grid step and bits. */
export interface FakeQuantArgs {
  readonly input: GpuTensor;
  readonly output: GpuTensor;
  readonly scale: number;
  readonly bits: number;
}

/** Prepares output = input rounded onto the grid k·scale, |k| ≤ 2^(bits−1) − 1. */
export function prepareFakeQuant(device: GPUDevice, args: FakeQuantArgs): PreparedDispatch {
  const { input, output, scale, bits } = args;
  if (!sameShape(input, output)) {
    throw new RangeError(
      `nn fakequant: shapes ${shapeString(input)} -> ${shapeString(output)} differ`,
    );
  }
  if (!(scale > 0) || !Number.isFinite(scale)) {
    throw new RangeError(`nn fakequant: scale must be a positive number, got ${scale}`);
  }
  const uniforms = PARAMS.pack({ count: tensorLength(input), scale, qmax: quantMax(bits) });
  return prepareOp(
    device,
    fakeQuantKernel,
    [input, output],
    fakeQuantKernel.dispatchSize(output),
    [input.buffer, output.buffer],
    uniforms,
  );
}
