/**
 * concat forward: the channels of the inputs in order (same height and width), fused activation.
 * Planar CHW makes each input one contiguous block of the output: one dispatch per input copies it
 * at its offset. CPU reference: concatCpu in src/reference/nn/ops.ts.
 */
import type { Activation } from '../../core/graph.ts';
import type { GpuTensor, TensorDtype } from '../tensor.ts';
import { shapeString, tensorLength } from '../../core/tensor.ts';
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

const PARAMS = uniformBlock({ count: 'u32', offset: 'u32', activation: 'u32' });

const code = ([
  source,
  output,
]: readonly TensorDtype[]) => /* wgsl */ `${wgslEnables([source!, output!])}
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> source: array<${source}>;
@group(0) @binding(2) var<storage, read_write> output: array<${output}>;
${WGSL_ACTIVATE}
${wgslElementwiseMain(
  'u.count',
  /* wgsl */ `
  output[u.offset + i] = ${output}(activate(vec4f(f32(source[i])), u.activation).x);`,
)}`;

/** The concat kernel record; one dispatch per input, sized by that input. */
export const concatKernel: NnOpKernel = {
  label: 'nn concat',
  getShaderSource: code,
  dispatchSize: (part) => flatDispatch(tensorLength(part)),
};

/** Arguments of `concat`. */
export interface ConcatArgs {
  readonly inputs: readonly GpuTensor[];
  /** Channels = sum of the inputs' channels; same height and width. */
  readonly output: GpuTensor;
  readonly activation?: Activation;
}

/** Prepares output = activation(concat(inputs)): one dispatch per input. */
export function prepareConcat(device: GPUDevice, args: ConcatArgs): PreparedDispatch {
  const { inputs, output } = args;
  const channels = inputs.reduce((s, t) => s + t.channels, 0);
  const mismatch = inputs.some((t) => t.height !== output.height || t.width !== output.width);
  if (inputs.length === 0 || mismatch || channels !== output.channels) {
    throw new RangeError(
      `nn concat: inputs ${inputs.map(shapeString).join(', ')} do not make ${shapeString(output)}`,
    );
  }
  let offset = 0;
  const parts = inputs.map((part) => {
    const count = tensorLength(part);
    const uniforms = PARAMS.pack({ count, offset, activation: activationCode(args.activation) });
    offset += count;
    const size = concatKernel.dispatchSize(part);
    return prepareOp(
      device,
      concatKernel,
      [part, output],
      size,
      [part.buffer, output.buffer],
      uniforms,
    );
  });
  return {
    label: concatKernel.label,
    encode(pass) {
      for (const part of parts) part.encode(pass);
    },
    destroy() {
      for (const part of parts) part.destroy();
    },
  };
}

/** Records output = activation(concat(inputs)) into `pass`. */
export function concat(device: GPUDevice, pass: GPUComputePassEncoder, args: ConcatArgs): void {
  prepareConcat(device, args).encode(pass);
}
