/**
 * add forward: elementwise a + b of two tensors of one shape, fused activation (skip connections
 * and residual blocks). CPU reference: addCpu in src/reference/nn/ops.ts.
 */
import type { Activation } from '../../core/graph.ts';
import type { GpuTensor, TensorDtype } from '../tensor.ts';
import { sameShape, shapeString, tensorLength } from '../../core/tensor.ts';
import {
  WGSL_ACTIVATE,
  activationCode,
  prepareOp,
  wgslEnables,
  type NnOpKernel,
} from './common.ts';
import { flatDispatch, type PreparedDispatch } from '../../gpu/kernel.ts';
import { wgslElementwiseMain } from '../../gpu/wgsl.ts';
import { uniformBlock } from '../../gpu/uniforms.ts';

const PARAMS = uniformBlock({ count: 'u32', activation: 'u32' });

const code = ([
  a,
  b,
  output,
]: readonly TensorDtype[]) => /* wgsl */ `${wgslEnables([a!, b!, output!])}
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> a: array<${a}>;
@group(0) @binding(2) var<storage, read> b: array<${b}>;
@group(0) @binding(3) var<storage, read_write> output: array<${output}>;
${WGSL_ACTIVATE}
${wgslElementwiseMain(
  'u.count',
  /* wgsl */ `
  output[i] = ${output}(activate(vec4f(f32(a[i]) + f32(b[i])), u.activation).x);`,
)}`;

/** The add kernel record. */
export const addKernel: NnOpKernel = {
  label: 'nn add',
  getShaderSource: code,
  dispatchSize: (output) => flatDispatch(tensorLength(output)),
};

/** Arguments of `add`: a, b and output of one shape (output may alias neither input). */
export interface AddArgs {
  readonly a: GpuTensor;
  readonly b: GpuTensor;
  readonly output: GpuTensor;
  readonly activation?: Activation;
}

/** Prepares output = activation(a + b). */
export function prepareAdd(device: GPUDevice, args: AddArgs): PreparedDispatch {
  const { a, b, output } = args;
  if (!sameShape(a, b) || !sameShape(a, output)) {
    throw new RangeError(
      `nn add: shapes ${shapeString(a)} + ${shapeString(b)} -> ${shapeString(output)} differ`,
    );
  }
  const uniforms = PARAMS.pack({
    count: tensorLength(a),
    activation: activationCode(args.activation),
  });
  return prepareOp(
    device,
    addKernel,
    [a, b, output],
    addKernel.dispatchSize(output),
    [a.buffer, b.buffer, output.buffer],
    uniforms,
  );
}

/** Records output = activation(a + b) into `pass`. */
export function add(device: GPUDevice, pass: GPUComputePassEncoder, args: AddArgs): void {
  prepareAdd(device, args).encode(pass);
}
