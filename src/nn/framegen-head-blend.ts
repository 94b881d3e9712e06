/**
 * Learned frame generation, the network's last layer, the blend and the output in one pass
 * (inference, display resolution): the head conv3x3 (4 logits, one per candidate) keeps its sums
 * in registers, weighs the candidates (read from the features tensor) by their softmax and writes
 * the output image and texture, so the logits and the blended image are never written or read
 * back and two dispatches go. Same arithmetic, in the same order, as the conv3x3 op (blocks of 4
 * outputs), the blend pass (src/gpu/passes/framegen-blend.ts) and the output pass without
 * sharpening (exposure 1): bit for bit the separate passes' output on Mesa lavapipe
 * (test/framegen-neural.test.ts). CPU reference: generateFrameNeuralCpu.
 */
import { createKernel, groupsFor } from '../gpu/kernel.ts';
import { uniformBlock } from '../gpu/uniforms.ts';
import {
  checkOutputFormat,
  outputTextureView,
  WGSL_OUTPUT_STORE,
  type OutputTargets,
} from '../gpu/passes/output.ts';
import { FRAMEGEN_CANDIDATES } from '../core/framegen-neural.ts';
import type { Activation, GraphDescription, GraphNode } from '../core/graph.ts';
import type { Size } from '../core/quality.ts';
import { activationCode, PIXEL_TILE, WGSL_ACTIVATE } from './ops/common.ts';
import { wgslConv3x3Main } from './ops/conv3x3.ts';
import type { GpuTensor } from './tensor.ts';

const PARAMS = uniformBlock({
  inHeight: 'u32',
  inWidth: 'u32',
  inChannels: 'u32',
  outChannels: 'u32',
  split: 'u32',
  activation: 'u32',
  width: 'u32',
  height: 'u32',
});

const code = (twoInputs: boolean, format: GPUTextureFormat) => /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> input: array<f32>;
${twoInputs ? '@group(0) @binding(2) var<storage, read> input2: array<f32>;' : ''}
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> features: array<f32>;
@group(0) @binding(6) var<storage, read_write> outImage: array<vec4f>;
@group(0) @binding(7) var outTexture: texture_storage_2d<${format}, write>;
// The head reads concat(input, input2) in place, as the conv3x3 op does.
fn inputAt(ci: u32, p: u32) -> f32 {
  let plane = u.inHeight * u.inWidth;
  ${twoInputs ? 'if (ci >= u.split) { return input2[(ci - u.split) * plane + p]; }' : ''}
  return input[ci * plane + p];
}
${WGSL_ACTIVATE}
${WGSL_OUTPUT_STORE}
${wgslConv3x3Main(
  4,
  /* wgsl */ `  if (x < u.width && y < u.height) {
    let logits = activate(acc[0] + vec4f(bias[0], bias[1], bias[2], bias[3]), u.activation);
    // The blend pass's softmax and sum, in its order.
    var top = logits[0];
    for (var k = 1u; k < ${FRAMEGEN_CANDIDATES}u; k++) { top = max(top, logits[k]); }
    var w: vec4f;
    var sum = 0.0;
    for (var k = 0u; k < ${FRAMEGEN_CANDIDATES}u; k++) {
      w[k] = exp(logits[k] - top);
      sum += w[k];
    }
    for (var k = 0u; k < ${FRAMEGEN_CANDIDATES}u; k++) { w[k] /= sum; }
    let plane = u.inHeight * u.inWidth;
    let o = y * u.inWidth + x;
    var out = vec3f(0.0);
    for (var k = 0u; k < ${FRAMEGEN_CANDIDATES}u; k++) {
      out += w[k] * vec3f(features[(3u * k) * plane + o], features[(3u * k + 1u) * plane + o],
                          features[(3u * k + 2u) * plane + o]);
    }
    storeOutput(vec2u(x, y), y * u.width + x, out, 1.0);
  }`,
)}
`;

/** The head: a conv3x3 of `inputs` (one tensor, or two read as their concatenation). */
export interface FramegenHead {
  readonly inputs: readonly [GpuTensor] | readonly [GpuTensor, GpuTensor];
  /** [4][Cin][3][3] and [4], f32. */
  readonly weight: GPUBuffer;
  readonly bias: GPUBuffer;
  readonly activation?: Activation;
}

/**
 * Records the fused head + blend + output of display size `size`: `features` is the network's
 * input (padded planar, the candidates in its first 12 channels), the head's inputs have its
 * padded height and width.
 */
export function encodeFramegenHeadBlend(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  head: FramegenHead,
  features: GpuTensor,
  size: Size,
  targets: OutputTargets,
): void {
  const [width, height] = size;
  const [first, second] = head.inputs;
  for (const t of head.inputs) {
    if (t.height !== features.height || t.width !== features.width) {
      throw new RangeError(
        `framegen head: input ${t.width}x${t.height} differs from the features' ${features.width}x${features.height}`,
      );
    }
  }
  if (features.width < width || features.height < height) {
    throw new RangeError(
      `framegen head: features ${features.width}x${features.height} below ${width}x${height}`,
    );
  }
  const format = checkOutputFormat(targets.texture.format);
  const kernel = createKernel(device, {
    label: `framegen head + blend ${format}`,
    code: code(second !== undefined, format),
  });
  kernel.dispatch(
    pass,
    [groupsFor(width, PIXEL_TILE), groupsFor(height, PIXEL_TILE)],
    [
      first.buffer,
      second?.buffer,
      head.weight,
      head.bias,
      features.buffer,
      targets.image.buffer,
      outputTextureView(targets.texture),
    ],
    PARAMS.pack({
      inHeight: features.height,
      inWidth: features.width,
      inChannels: first.channels + (second?.channels ?? 0),
      outChannels: FRAMEGEN_CANDIDATES,
      split: first.channels,
      activation: activationCode(head.activation),
      width,
      height,
    }),
  );
}

/** A frame-generation graph split before its head, for encodeFramegenHeadBlend. */
export interface FramegenHeadSplit {
  /** The graph without the head (and the concat only the head reads); its outputs feed the head. */
  readonly trunk: GraphDescription;
  readonly head: GraphNode;
  /** The tensors the head reads, in concatenation order (trunk outputs or the graph input). */
  readonly headInputs: readonly string[];
}

/**
 * Splits `graph` before its head when the fused pass can run it: a single output written by an
 * f32 conv3x3 of FRAMEGEN_CANDIDATES channels reading one tensor, or a concat of two that only
 * the head reads, with a trunk of f32 nodes before it. Undefined otherwise (the separate passes).
 */
export function splitFramegenHead(graph: GraphDescription): FramegenHeadSplit | undefined {
  const head = graph.nodes.at(-1);
  if (
    graph.outputs.length !== 1 ||
    !head ||
    head.output !== graph.outputs[0] ||
    head.op !== 'conv3x3' ||
    head.outChannels !== FRAMEGEN_CANDIDATES ||
    graph.nodes.some((n) => n.op === 'fakequant' || n.weightBits !== undefined)
  ) {
    return undefined;
  }
  const read = head.inputs[0]!;
  const join = graph.nodes.find((n) => n.output === read);
  const readers = graph.nodes.filter((n) => n.inputs.includes(read));
  const fused = join?.op === 'concat' && join.inputs.length === 2 && readers.length === 1;
  const headInputs = fused ? join.inputs : [read];
  const graphInputs = new Set(graph.inputs.map((i) => i.name));
  const outputs = headInputs.filter((name) => !graphInputs.has(name));
  if (outputs.length === 0) return undefined;
  const trunk: GraphDescription = {
    ...graph,
    name: `${graph.name} trunk`,
    outputs,
    nodes: graph.nodes.filter((n) => n !== head && !(fused && n === join)),
  };
  return { trunk, head, headInputs };
}
