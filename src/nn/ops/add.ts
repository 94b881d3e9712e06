/**
 * add forward: elementwise a + b of two tensors of one shape, fused activation (skip connections
 * and residual blocks). CPU reference: addCpu in src/reference/nn/ops.ts.
 */
import { packUniforms, u32 } from '../../gpu/wgsl.ts';
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
import {
  FLAT_GROUP,
  WGSL_FLAT_INDEX,
  flatDispatch,
  type PreparedDispatch,
} from '../../gpu/kernel.ts';

const code = ([
  a,
  b,
  output,
]: readonly TensorDtype[]) => /* wgsl */ `${wgslEnables([a!, b!, output!])}
struct Params { count: u32, activation: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> a: array<${a}>;
@group(0) @binding(2) var<storage, read> b: array<${b}>;
@group(0) @binding(3) var<storage, read_write> output: array<${output}>;
${WGSL_ACTIVATE}
${WGSL_FLAT_INDEX}
@compute @workgroup_size(${FLAT_GROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wg, groups, lid);
  if (i >= u.count) { return; }
  output[i] = ${output}(activate(vec4f(f32(a[i]) + f32(b[i])), u.activation).x);
}
`;

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
  const uniforms = packUniforms([u32(tensorLength(a)), u32(activationCode(args.activation))]);
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
