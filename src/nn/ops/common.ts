/**
 * What the forward op kernels share: the kernel record (after onnxruntime-web's WebGPU kernels: a
 * label, the WGSL source, the dispatch size), the fused activation, and the bindings and argument
 * checks of the ops with weights. Each op lives in its own file beside its WGSL.
 */
import { createKernel, groupsFor, type PreparedDispatch } from '../../gpu/kernel.ts';
import { ACTIVATIONS, LEAKY_SLOPE, type Activation } from '../../core/graph.ts';
import { dtypeOf, type GpuTensor, type TensorDtype } from '../tensor.ts';
import { shapeString, sameShape, type TensorShape } from '../../core/tensor.ts';
import { uniformBlock } from '../../gpu/uniforms.ts';

const PARAMS = uniformBlock({
  inChannels: 'u32',
  outChannels: 'u32',
  inHeight: 'u32',
  inWidth: 'u32',
  outHeight: 'u32',
  outWidth: 'u32',
  activation: 'u32',
  split: 'u32',
  residualActivation: 'u32',
});

/** A forward op kernel: its WGSL and how many workgroups an output needs. */
export interface NnOpKernel {
  readonly label: string;
  /**
   * WGSL for these element types of the tensors it binds: [a, b, output] for add, [source,
   * output] for concat, [input, output, input2?, residual?] for the weighted ops (undefined where
   * an optional tensor is not bound).
   */
  getShaderSource(dtypes: readonly (TensorDtype | undefined)[]): string;
  /** Workgroups covering `output`. */
  dispatchSize(output: TensorShape): [number, number, number];
}

/** Output channels one thread of a blocked weighted-op kernel computes. */
export type OutputBlock = 4 | 8 | 12;

/**
 * The kernel records of a weighted op for each output block (`code(block)` is its WGSL): one
 * workgroup per PIXEL_TILE² output pixels and block of output channels. The label names the block
 * unless it is the op's usual one.
 */
export function blockedKernels(
  op: string,
  usualBlock: OutputBlock,
  code: (block: OutputBlock) => NnOpKernel['getShaderSource'],
): Readonly<Record<OutputBlock, NnOpKernel>> {
  const kernelFor = (block: OutputBlock): NnOpKernel => ({
    label: block === usualBlock ? `nn ${op}` : `nn ${op} block ${block}`,
    getShaderSource: code(block),
    dispatchSize: (output) => [
      groupsFor(output.width, PIXEL_TILE),
      groupsFor(output.height, PIXEL_TILE),
      groupsFor(output.channels, block),
    ],
  });
  return { 4: kernelFor(4), 8: kernelFor(8), 12: kernelFor(12) };
}

/**
 * Prepares one dispatch of an op: its pipeline (cached per device; the WGSL specialised to the
 * element types of `tensors`), uniform buffer and bind group. `buffers[i]` binds to
 * @binding(i + 1); undefined entries (optional tensors not used) bind nothing.
 */
export function prepareOp(
  device: GPUDevice,
  kernel: NnOpKernel,
  tensors: readonly (GpuTensor | undefined)[],
  workgroups: [number, number, number],
  buffers: readonly (GPUBuffer | undefined)[],
  uniforms: ArrayBuffer,
): PreparedDispatch {
  const dtypes = tensors.map((t) => (t ? dtypeOf(t) : undefined));
  return createKernel(device, {
    label: `${kernel.label} ${dtypes.map((d) => d ?? '-').join(' ')}`,
    code: kernel.getShaderSource(dtypes),
  }).prepare(workgroups, buffers, uniforms);
}

/** Uniform code of an activation (the index in ACTIVATIONS, as `activate` in WGSL expects). */
export function activationCode(activation: Activation = 'none'): number {
  const code = ACTIVATIONS.indexOf(activation);
  if (code < 0) throw new RangeError(`unknown activation "${activation}"`);
  return code;
}

/** WGSL `activate(v, code)` for 4 values at once (codes from `activationCode`). */
export const WGSL_ACTIVATE = /* wgsl */ `
fn activate(v: vec4f, code: u32) -> vec4f {
  if (code == 1u) { return max(v, vec4f(0.0)); }
  if (code == 2u) { return select(v * ${LEAKY_SLOPE}, v, v > vec4f(0.0)); }
  return v;
}
`;

/** Edge of the 2-D pixel tile of the weighted ops (8×8 threads per workgroup). */
export const PIXEL_TILE = 8;
/** Output channels one thread computes in the simple weighted ops (conv3x3 does 8). */
export const CHANNEL_BLOCK = 4;

/** The `enable f16;` directive when any tensor is f16 (it must open the module). */
export function wgslEnables(dtypes: readonly (TensorDtype | undefined)[]): string {
  return dtypes.includes('f16') ? 'enable f16;\n' : '';
}

/**
 * Bindings, uniforms and helpers of the weighted ops, for the element types of their tensors
 * [input, output, input2?, residual?] (weights, bias and arithmetic are f32). With input2 the op
 * reads the channel concatenation of input and input2 (`split` = input's channels); with residual
 * it adds that tensor (output's shape) after its activation and applies a second activation —
 * fused concat and add nodes, which spare the network their passes and buffers. `inputAt(ci, p)`
 * reads input channel ci at pixel p of the plane. A thread owns output pixel (x, y) and output
 * channels co0..co0+3; `weights4` reads the 4 weights of those channels (stride apart, clamped to
 * the last channel), `finish` adds bias, activates, adds the residual and writes.
 */
export function wgslWeighted(dtypes: readonly (TensorDtype | undefined)[]): string {
  const [input, output, input2, residual] = dtypes;
  return /* wgsl */ `${wgslEnables(dtypes)}
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> input: array<${input}>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<${output}>;
${input2 ? `@group(0) @binding(5) var<storage, read> input2: array<${input2}>;` : ''}
${residual ? `@group(0) @binding(6) var<storage, read> residual: array<${residual}>;` : ''}
fn inputAt(ci: u32, p: u32) -> f32 {
  let plane = u.inHeight * u.inWidth;
  ${input2 ? 'if (ci >= u.split) { return f32(input2[(ci - u.split) * plane + p]); }' : ''}
  return f32(input[ci * plane + p]);
}
${WGSL_ACTIVATE}
fn channelOf(co0: u32, k: u32) -> u32 { return min(co0 + k, u.outChannels - 1u); }

fn weights4(index0: u32, stride: u32, co0: u32) -> vec4f {
  let last = u.outChannels - 1u - co0;
  return vec4f(weight[index0], weight[index0 + min(1u, last) * stride],
               weight[index0 + min(2u, last) * stride], weight[index0 + min(3u, last) * stride]);
}

fn finish(sum: vec4f, co0: u32, x: u32, y: u32) {
  let b = vec4f(bias[channelOf(co0, 0u)], bias[channelOf(co0, 1u)], bias[channelOf(co0, 2u)],
                bias[channelOf(co0, 3u)]);
  var v = activate(sum + b, u.activation);
  let plane = u.outHeight * u.outWidth;
  let p = y * u.outWidth + x;
  ${
    residual
      ? `var r = vec4f(0.0);
  for (var k = 0u; k < 4u; k++) { r[k] = f32(residual[channelOf(co0, k) * plane + p]); }
  v = activate(v + r, u.residualActivation);`
      : ''
  }
  for (var k = 0u; k < 4u; k++) {
    if (co0 + k < u.outChannels) { output[(co0 + k) * plane + p] = ${output}(v[k]); }
  }
}
`;
}

/** Dispatch size of the weighted ops: 8×8 pixel tiles × blocks of 4 output channels. */
export function pixelBlockDispatch(output: TensorShape): [number, number, number] {
  return [
    groupsFor(output.width, PIXEL_TILE),
    groupsFor(output.height, PIXEL_TILE),
    groupsFor(output.channels, CHANNEL_BLOCK),
  ];
}

/** Arguments of a weighted op (conv3x3, conv1x1, down2x2, up2x2). */
export interface WeightedOpArgs {
  readonly input: GpuTensor;
  /** If given, the op reads concat(input, input2) along channels (same height and width). */
  readonly input2?: GpuTensor;
  /**
   * If given (output's shape), output = residualActivation(activation(op + bias) + residual): a
   * following add node fused in.
   */
  readonly residual?: GpuTensor;
  readonly residualActivation?: Activation;
  /** The op's weight tensor (layout per the contract), array<f32>. */
  readonly weight: GPUBuffer;
  /** [Cout], array<f32>. */
  readonly bias: GPUBuffer;
  /** Receives the result; its shape must be the op's output shape for `input`. */
  readonly output: GpuTensor;
  readonly activation?: Activation;
}

/** Shape of what a weighted op reads: input, or the channel concatenation of input and input2. */
export function weightedInput(args: WeightedOpArgs): TensorShape {
  const { input, input2 } = args;
  if (!input2) return input;
  if (input2.height !== input.height || input2.width !== input.width) {
    throw new RangeError(
      `second input ${shapeString(input2)} differs in size from ${shapeString(input)}`,
    );
  }
  return { channels: input.channels + input2.channels, height: input.height, width: input.width };
}

/**
 * Checks shapes and buffer sizes, then prepares the op. `outShape` is what the op makes of the
 * input with output.channels channels; `weightLength` the weight tensor's length.
 */
export function prepareWeighted(
  device: GPUDevice,
  kernel: NnOpKernel,
  args: WeightedOpArgs,
  outShape: TensorShape,
  weightLength: number,
): PreparedDispatch {
  const { output, input2, residual } = args;
  const input = weightedInput(args);
  if (residual && !sameShape(residual, output)) {
    throw new RangeError(
      `${kernel.label}: residual ${shapeString(residual)} differs from output ${shapeString(output)}`,
    );
  }
  if (!sameShape(outShape, output)) {
    throw new RangeError(
      `${kernel.label}: input ${shapeString(input)} gives ${shapeString(outShape)}, output is ${shapeString(output)}`,
    );
  }
  if (args.weight.size < weightLength * 4 || args.bias.size < output.channels * 4) {
    throw new RangeError(
      `${kernel.label}: weight needs ${weightLength} floats and bias ${output.channels}, buffers hold ${args.weight.size / 4} and ${args.bias.size / 4}`,
    );
  }
  const uniforms = PARAMS.pack({
    inChannels: input.channels,
    outChannels: output.channels,
    inHeight: input.height,
    inWidth: input.width,
    outHeight: output.height,
    outWidth: output.width,
    activation: activationCode(args.activation),
    split: args.input.channels,
    residualActivation: activationCode(args.residualActivation),
  });
  const tensors = [args.input, output, input2, residual];
  const buffers = [
    args.input.buffer,
    args.weight,
    args.bias,
    output.buffer,
    input2?.buffer,
    residual?.buffer,
  ];
  return prepareOp(device, kernel, tensors, kernel.dispatchSize(output), buffers, uniforms);
}
