/**
 * Shared machinery of the backward kernels of the ops with weights (conv3x3, conv1x1, down2x2,
 * up2x2). Each op supplies small WGSL snippets; this file turns them into three kernels:
 *
 * - **input gradient**: one thread per input value, gathering dZ through the weights;
 * - **weight gradient**: a sum over pixels, done deterministically in two passes — workgroups of
 *   64 threads each sum one chunk of pixels for one (co, ci) pair and all taps (fixed strides,
 *   then a fixed tree), writing partials; a second pass sums each weight's partials in chunk order;
 * - **bias gradient**: one workgroup per output channel, fixed strides and tree.
 *
 * No atomics anywhere, so the same inputs give the same bits on every run. Gradients are written,
 * or added to (`accumulate*`) when a tensor fans out or weights are shared across BPTT frames.
 * The CPU references are in src/reference/nn/backward.ts.
 */
import { createKernel, groupsFor } from '../../gpu/kernel.ts';
import { uniformBlock } from '../../gpu/uniforms.ts';

/** The uniform block every backward kernel of a linear op reads. */
const PARAMS = uniformBlock({
  inChannels: 'u32',
  outChannels: 'u32',
  inHeight: 'u32',
  inWidth: 'u32',
  outHeight: 'u32',
  outWidth: 'u32',
  count: 'u32',
  chunks: 'u32',
  chunkLength: 'u32',
  accumulate: 'u32',
});

const GROUP = 64;
const TILE = 8;
/** Pixels each weight-gradient workgroup sums at most (more chunks give more parallelism). */
const CHUNK_TARGET = 1024;
/** Most chunks per weight. */
const MAX_CHUNKS = 256;

/** What an op supplies. WGSL snippets see `u` (Params) and the bindings named below. */
export interface LinearOpSpec {
  readonly name: string;
  /** Weights per (co, ci) pair: 9, 4 or 1. */
  readonly taps: number;
  /** Output size from the input size. */
  outputSize(inHeight: number, inWidth: number): [number, number];
  /**
   * The weight gradient is Σ over this domain: the output pixels (conv, down) or the input pixels
   * (up, whose outputs don't overlap).
   */
  readonly sumOver: 'output' | 'input';
  /** `fn weightIndex(co: u32, ci: u32, tap: u32) -> u32`: layout of the op's weight tensor. */
  readonly weightIndexCode: string;
  /**
   * `fn product(co: u32, ci: u32, tap: u32, p: u32) -> f32`: the term of dW[co][ci][tap] at
   * domain pixel p, reading `input` and `dZ` (both array<f32>, planar CHW).
   */
  readonly productCode: string;
  /**
   * `fn inputGrad(ci: u32, y: u32, x: u32) -> f32`: dInput(ci, y, x), reading `dZ` and `weight`.
   */
  readonly inputGradCode: string;
}

/** Buffers and sizes of one backward call. All tensors are planar CHW array<f32>. */
export interface LinearBackwardArgs {
  /** The forward input, [inChannels][inHeight][inWidth]. */
  readonly input: GPUBuffer;
  readonly inChannels: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly weight: GPUBuffer;
  readonly outChannels: number;
  /** Pre-activation gradient, [outChannels][outHeight][outWidth] (see activation.ts). */
  readonly dZ: GPUBuffer;
  /** Receives the input gradient; omit when nobody needs it (the network input). */
  readonly dInput?: GPUBuffer;
  readonly accumulateInput?: boolean;
  readonly dWeight: GPUBuffer;
  readonly dBias: GPUBuffer;
  /** Add to dWeight and dBias instead of overwriting (weights shared over BPTT frames). */
  readonly accumulateParams?: boolean;
  /** At least `linearBackwardScratchFloats(...)` floats. */
  readonly scratch: GPUBuffer;
}

/** Records the backward of one op: input, weight and bias gradients. */
export type LinearBackward = (
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  args: LinearBackwardArgs,
) => void;

function chunking(count: number): { chunks: number; chunkLength: number } {
  const chunks = Math.min(MAX_CHUNKS, Math.max(1, Math.ceil(count / CHUNK_TARGET)));
  return { chunks, chunkLength: Math.ceil(count / chunks) };
}

/** Scratch floats the weight gradient of `spec` needs for these sizes. */
export function linearBackwardScratchFloats(
  spec: LinearOpSpec,
  inChannels: number,
  outChannels: number,
  inHeight: number,
  inWidth: number,
): number {
  const [outHeight, outWidth] = spec.outputSize(inHeight, inWidth);
  const count = spec.sumOver === 'output' ? outHeight * outWidth : inHeight * inWidth;
  return inChannels * outChannels * spec.taps * chunking(count).chunks;
}

/** Builds the backward of an op from its snippets. */
export function linearBackward(spec: LinearOpSpec): LinearBackward {
  const taps = spec.taps;
  const partialCode = /* wgsl */ `${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> dZ: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;
${spec.productCode}
var<workgroup> acc: array<f32, ${GROUP * taps}>;

@compute @workgroup_size(${GROUP})
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3u) {
  let pair = wg.y;
  let co = pair / u.inChannels;
  let ci = pair % u.inChannels;
  let start = wg.x * u.chunkLength;
  let end = min(start + u.chunkLength, u.count);
  var s: array<f32, ${taps}>;
  for (var p = start + lid; p < end; p += ${GROUP}u) {
    for (var t = 0u; t < ${taps}u; t++) { s[t] += product(co, ci, t, p); }
  }
  for (var t = 0u; t < ${taps}u; t++) { acc[t * ${GROUP}u + lid] = s[t]; }
  workgroupBarrier();
  for (var k = ${GROUP / 2}u; k > 0u; k >>= 1u) {
    if (lid < k) {
      for (var t = 0u; t < ${taps}u; t++) { acc[t * ${GROUP}u + lid] += acc[t * ${GROUP}u + lid + k]; }
    }
    workgroupBarrier();
  }
  if (lid < ${taps}u) { partials[(pair * ${taps}u + lid) * u.chunks + wg.x] = acc[lid * ${GROUP}u]; }
}
`;
  const finishCode = /* wgsl */ `${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> dWeight: array<f32>;
${spec.weightIndexCode}

@compute @workgroup_size(${GROUP})
fn main(@builtin(global_invocation_id) id: vec3u) {
  let k = id.x;
  if (k >= u.inChannels * u.outChannels * ${taps}u) { return; }
  var s = 0.0;
  for (var c = 0u; c < u.chunks; c++) { s += partials[k * u.chunks + c]; }
  let pair = k / ${taps}u;
  let w = weightIndex(pair / u.inChannels, pair % u.inChannels, k % ${taps}u);
  dWeight[w] = select(s, dWeight[w] + s, u.accumulate != 0u);
}
`;
  const inputCode = /* wgsl */ `${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> dZ: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> dInput: array<f32>;
${spec.inputGradCode}

@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x >= u.inWidth || id.y >= u.inHeight) { return; }
  let i = (id.z * u.inHeight + id.y) * u.inWidth + id.x;
  let g = inputGrad(id.z, id.y, id.x);
  dInput[i] = select(g, dInput[i] + g, u.accumulate != 0u);
}
`;
  const biasCode = /* wgsl */ `${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> dZ: array<f32>;
@group(0) @binding(2) var<storage, read_write> dBias: array<f32>;
var<workgroup> acc: array<f32, ${GROUP}>;

@compute @workgroup_size(${GROUP})
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3u) {
  let n = u.outHeight * u.outWidth;
  var s = 0.0;
  for (var p = lid; p < n; p += ${GROUP}u) { s += dZ[wg.x * n + p]; }
  acc[lid] = s;
  workgroupBarrier();
  for (var k = ${GROUP / 2}u; k > 0u; k >>= 1u) {
    if (lid < k) { acc[lid] += acc[lid + k]; }
    workgroupBarrier();
  }
  if (lid == 0u) { dBias[wg.x] = select(acc[0], dBias[wg.x] + acc[0], u.accumulate != 0u); }
}
`;
  return (device, pass, a) => {
    for (const [what, v] of [
      ['inChannels', a.inChannels],
      ['outChannels', a.outChannels],
      ['inHeight', a.inHeight],
      ['inWidth', a.inWidth],
    ] as const) {
      if (!Number.isInteger(v) || v <= 0)
        throw new RangeError(`${spec.name} backward: ${what} ${v}`);
    }
    const [outHeight, outWidth] = spec.outputSize(a.inHeight, a.inWidth);
    const count = spec.sumOver === 'output' ? outHeight * outWidth : a.inHeight * a.inWidth;
    const { chunks, chunkLength } = chunking(count);
    const pairs = a.inChannels * a.outChannels;
    if (pairs > 65535) throw new RangeError(`${spec.name} backward: ${pairs} channel pairs`);
    const needed = pairs * taps * chunks * 4;
    if (a.scratch.size < needed) {
      throw new RangeError(
        `${spec.name} backward: scratch has ${a.scratch.size} bytes, needs ${needed}`,
      );
    }
    const uniforms = (accumulate: boolean | undefined) =>
      PARAMS.pack({
        inChannels: a.inChannels,
        outChannels: a.outChannels,
        inHeight: a.inHeight,
        inWidth: a.inWidth,
        outHeight,
        outWidth,
        count,
        chunks,
        chunkLength,
        accumulate: !!accumulate,
      });
    const label = `${spec.name} backward`;
    if (a.dInput) {
      createKernel(device, { label: `${label} input`, code: inputCode }).dispatch(
        pass,
        [groupsFor(a.inWidth, TILE), groupsFor(a.inHeight, TILE), a.inChannels],
        [a.dZ, a.weight, a.dInput],
        uniforms(a.accumulateInput),
      );
    }
    createKernel(device, { label: `${label} weight partials`, code: partialCode }).dispatch(
      pass,
      [chunks, pairs],
      [a.input, a.dZ, a.scratch],
      uniforms(false),
    );
    createKernel(device, { label: `${label} weight`, code: finishCode }).dispatch(
      pass,
      [groupsFor(pairs * taps, GROUP)],
      [a.scratch, a.dWeight],
      uniforms(a.accumulateParams),
    );
    createKernel(device, { label: `${label} bias`, code: biasCode }).dispatch(
      pass,
      [a.outChannels],
      [a.dZ, a.dBias],
      uniforms(a.accumulateParams),
    );
  };
}
