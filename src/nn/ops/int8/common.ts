/**
 * What the INT8 weighted ops share: their uniforms and bindings, the epilogue (optional fused
 * residual, requantization to packed int8 words — possibly a channel range of a wider tensor, a
 * concat's part — or a real f32 output), weight packing and upload, and the dispatch with its
 * checks. The arithmetic is src/core/int8.ts's; each op's kernel is in its own file.
 */
import type { WeightedOp } from '../../../core/graph.ts';
import { packedGroups, type Int8OpParams } from '../../../core/int8.ts';
import { shapeString, type TensorShape } from '../../../core/tensor.ts';
import { createKernel, groupsFor, type PreparedDispatch } from '../../../gpu/kernel.ts';
import { createStorageBuffer } from '../../../gpu/resources.ts';
import { uniformBlock, type UniformValues } from '../../../gpu/uniforms.ts';
import {
  INT8_OP_TAPS,
  int8OpOutputShape,
  int8WeightIndex,
} from '../../../reference/nn/int8-ops.ts';
import type { GpuInt8Tensor, GpuTensor } from '../../tensor.ts';
import { activationCode } from '../common.ts';
import { int8Layout } from './padded.ts';
import { WGSL_REQUANTIZE } from './requantize.ts';

/** Pixel tile edge of a workgroup (8×8 threads, one pixel each). */
export const INT8_TILE = 8;
/** Output pixels of a workgroup, across and down (one a thread). */
export interface Int8Tile {
  readonly x: number;
  readonly y: number;
}

/** The workgroups covering `width`×`height` output pixels in tiles, `z` deep. */
export function tileWorkgroups(
  tile: Int8Tile,
  width: number,
  height: number,
  z = 1,
): [number, number, number] {
  return [groupsFor(width, tile.x), groupsFor(height, tile.y), z];
}

/** Output channels a thread can compute: two, three, four or six packed words. */
export type Int8OutBlock = 8 | 12 | 16 | 24;

/**
 * The output block of an op with `outChannels` channels: the one that computes the fewest unused
 * channels, the larger on a tie (fewer workgroups stage the same input). Network v2's 9-channel
 * head runs one block of 12 instead of two of 8; its mix (24 channels) one of 24, reading its
 * input once; its 16- to 64-channel layers blocks of 16.
 */
export function int8OutBlock(outChannels: number): Int8OutBlock {
  const blocks: Int8OutBlock[] = [24, 16, 12, 8];
  const work = (b: number) => Math.ceil(outChannels / b) * b;
  return blocks.reduce((best, b) => (work(b) < work(best) ? b : best));
}

/**
 * An op's output block (`int8OutBlock`) and, where its channels are fewer than the block, those
 * channels: the `block` and `channels` of its kernels' Int8Epilogue.
 */
export function int8EpilogueBlock(outChannels: number): {
  block: Int8OutBlock;
  channels?: number;
} {
  const block = int8OutBlock(outChannels);
  return outChannels < block ? { block, channels: outChannels } : { block };
}

/**
 * WGSL adding four output channels of one input word to their accumulators: `acc` array, the
 * packed input word `v`, the staged weights `w` (a vec4u: channels 4q … 4q + 3), channel word `q`.
 * The caller loops over q: written out per word with constant indices instead, the dot4I8Packed
 * networks ran 11 % slower (NVIDIA H100, 2026-12-06, docs/PERFORMANCE.md).
 */
export function wgslAccumulateWord(
  acc: string,
  v: string,
  w: string,
  q: string,
  lanes = 4,
): string {
  return ['x', 'y', 'z', 'w']
    .slice(0, lanes)
    .map((c, k) => `${acc}[4u * ${q}${k ? ` + ${k}u` : ''}] += dot4I8Packed(${v}, ${w}.${c});`)
    .join('\n');
}

/**
 * WGSL adding input word `v` to the accumulators `acc` of a block of `block` output channels,
 * from the staged weights `taps` from index `t` on (an expression; one vec4u per four channels).
 * Where only the first `channels` of the block are real (an op of one block with fewer channels:
 * network v2's head and v3a's last layer write 9 of a block of 12), the dot4I8Packed of the
 * others are not issued: their weights are zero, so the sums are the same.
 */
export function wgslAccumulateBlock(
  acc: string,
  v: string,
  taps: string,
  t: string,
  block: Int8OutBlock,
  channels: number = block,
): string {
  const real = Math.min(channels, block);
  const full = Math.floor(real / 4);
  const lanes = real % 4;
  const loop = /* wgsl */ `for (var q = 0u; q < ${full}u; q++) {
        let w = ${taps}[${t} + q];
        ${wgslAccumulateWord(acc, v, 'w', 'q')}
      }`;
  const partial = /* wgsl */ `{
        let w = ${taps}[${t} + ${full}u];
        ${wgslAccumulateWord(acc, v, 'w', `${full}u`, lanes)}
      }`;
  return [full > 0 ? loop : '', lanes > 0 ? partial : ''].filter(Boolean).join('\n      ');
}

export const INT8_PARAMS = uniformBlock({
  inGroups: 'u32',
  inHeight: 'u32',
  inWidth: 'u32',
  outChannels: 'u32',
  outHeight: 'u32',
  outWidth: 'u32',
  outGroups: 'u32',
  outGroupOffset: 'u32',
  activation: 'u32',
  multiplier: 'f32',
  residualGroups: 'u32',
  residualMultiplier: 'f32',
  residualActivation: 'u32',
});

/** Which epilogue and output block a kernel is built with. */
export interface Int8Epilogue {
  /** Output channels per thread (of the dot4I8Packed kernels' `finish`). */
  readonly block: Int8OutBlock;
  /** f32 planar output instead of packed int8. */
  readonly realOutput: boolean;
  /** A fused residual (packed int8, the output's shape) at @binding(5). */
  readonly residual: boolean;
  /**
   * The output channels where one block holds them all and fewer than it (`wgslAccumulateBlock`
   * skips the others' products); default the block.
   */
  readonly channels?: number;
  /** The weights' WGSL type: i32 for subgroup-matrix loads of i8; default vec4u. */
  readonly weightWords?: 'vec4u' | 'i32';
  /** The input words' WGSL type, likewise. Default u32. */
  readonly inputWords?: 'u32' | 'i32';
  /**
   * WGSL of the residual's pixel index for output pixel `p`, where the two tensors are stored in
   * different layouts (the matrix kernels: ./padded.ts). Default `p`.
   */
  readonly residualPixel?: string;
  /**
   * Packed words `finish` stores at once (the output bound as an array of vectors of them;
   * `int8StoreWords` says which width a layout allows). Default 1; `finishWord` needs 1.
   */
  readonly storeWords?: Int8StoreWords;
}

/** Packed output words per store: one, or a vec2u / vec4u of them. */
export type Int8StoreWords = 1 | 2 | 4;

/**
 * The bindings every INT8 weighted-op kernel reads, @binding(1) to (3): the packed int8 input, the
 * packed weights (`weightWords`: vec4u, four words of `int8WeightLayout` a load, for the
 * dot4I8Packed kernels; i32 for the matrix kernels' own layout) and the int32 bias. Kernels that
 * end in another epilogue (src/nn/resolve/last-layer-filter-blend.ts) declare them with this too.
 */
export function wgslInt8OpInputs(
  weightWords: 'vec4u' | 'i32' = 'vec4u',
  inputWords: 'u32' | 'i32' = 'u32',
): string {
  return /* wgsl */ `@group(0) @binding(1) var<storage, read> input: array<${inputWords}>;
@group(0) @binding(2) var<storage, read> weight: array<${weightWords}>;
@group(0) @binding(3) var<storage, read> bias: array<i32>;`;
}

/**
 * Bindings, uniforms, the requantization, `finishWord(acc, word, p)`, which writes output channels
 * 4·word … 4·word + 3 of output pixel p from their accumulators (bias not yet added; with
 * `storeWords` 1), and `finish(acc, co0, p)`, the same for channels co0 … co0 + block − 1
 * (`storeWords` words a store). `uniforms` replaces the
 * uniform block's WGSL by one with more fields (INT8_PARAMS' among them).
 */
export function wgslInt8Op(
  {
    realOutput,
    residual,
    block,
    weightWords,
    inputWords,
    residualPixel,
    storeWords = 1,
  }: Int8Epilogue,
  uniforms: string = INT8_PARAMS.wgsl,
): string {
  const outputType = realOutput ? 'f32' : storeWords === 1 ? 'u32' : `vec${storeWords}u`;
  const finishBody = (j: number) =>
    realOutput || storeWords === 1
      ? `  finishWord(${wgslAccWord(j)}, co0 / 4u + ${j}u, p);`
      : wgslVectorStore(storeWords, j);
  const finalActivation = residual ? 'u.residualActivation' : 'u.activation';
  // Lane c of a word: its accumulator plus bias (and the residual's lane c), as an i32.
  const accumulator = (c: number) => {
    const sum = `acc.${LANE[c]} + bias[co + ${c}u]`;
    return residual ? `withResidual(${sum}, r.${LANE[c]})` : sum;
  };
  // Written out per lane, constant indices only, the residual's word read once (a loop over the
  // lanes indexed q[k] and acc[k] and read the word per lane): the INT8 frames 3–5 % faster,
  // v2's 1×1 mix on dot4I8Packed 118 → 87 µs (NVIDIA H100, 2026-12-06; docs/PERFORMANCE.md).
  const lanes = (write: (c: number) => string) =>
    [0, 1, 2, 3].map((c) => `  if (co + ${c}u < u.outChannels) { ${write(c)} }`).join('\n');
  const residualWord = residual
    ? `\n  let r = unpack4xI8(residual[${residualPixel ?? 'p'} * u.residualGroups + word]);`
    : '';
  return /* wgsl */ `
${uniforms}
${wgslInt8OpInputs(weightWords, inputWords)}
@group(0) @binding(4) var<storage, read_write> output: array<${outputType}>;
${residual ? '@group(0) @binding(5) var<storage, read> residual: array<u32>;' : ''}
${WGSL_REQUANTIZE}
${
  residual
    ? /* wgsl */ `
// The op's ReLU on the accumulator, then the residual r in accumulator units (src/core/int8.ts).
fn withResidual(t: i32, r: i32) -> i32 {
  var own = t;
  if (u.activation == 1u) { own = max(t, 0); }
  return own + i32(round(f32(r) * u.residualMultiplier));
}`
    : ''
}

${
  realOutput
    ? /* wgsl */ `fn finishWord(acc: vec4i, word: u32, p: u32) {
  if (word * 4u >= u.outChannels) { return; }
  let plane = u.outHeight * u.outWidth;
  let co = word * 4u;${residualWord}
${lanes((c) => `output[(co + ${c}u) * plane + p] = dequantize(${accumulator(c)}, u.multiplier, ${finalActivation});`)}
}`
    : /* wgsl */ `fn packWord(acc: vec4i, word: u32, p: u32) -> u32 {
  let co = word * 4u;${residualWord}
  var q = vec4i(0);
${lanes((c) => `q.${LANE[c]} = requantize(${accumulator(c)}, u.multiplier, ${finalActivation});`)}
  return pack4xI8(q);
}
// The index of output pixel p's packed word \`word\`.
fn outWord(p: u32, word: u32) -> u32 {
  return p * u.outGroups + u.outGroupOffset + word;
}
${
  storeWords === 1
    ? /* wgsl */ `
fn finishWord(acc: vec4i, word: u32, p: u32) {
  if (word * 4u >= u.outChannels) { return; }
  output[outWord(p, word)] = packWord(acc, word, p);
}`
    : ''
}`
}

// The block's words in order, unrolled (constant indices into acc); the first word past the op's
// channels ends it.
fn finish(acc: array<i32, ${block}>, co0: u32, p: u32) {
${Array.from({ length: block / 4 / storeWords }, (_, i) => finishBody(i * storeWords)).join('\n')}
}
`;
}

/** Vector components by lane. */
const LANE = ['x', 'y', 'z', 'w'] as const;

/** WGSL of output channels 4·(j + k) … 4·(j + k) + 3 of `finish`'s accumulators, as a vec4i. */
const wgslAccWord = (j: number, k = 0) =>
  `vec4i(${[0, 1, 2, 3].map((c) => `acc[${4 * (j + k) + c}]`).join(', ')})`;

/**
 * WGSL of `finish`'s loop body storing words j … j + storeWords − 1 of its block at once (the
 * output bound as an array of vectors of that many words); the words lie all within the op's
 * channels or all past them (`int8StoreWords`).
 */
function wgslVectorStore(storeWords: 2 | 4, j: number): string {
  const words = Array.from(
    { length: storeWords },
    (_, k) => `packWord(${wgslAccWord(j, k)}, word + ${k}u, p)`,
  );
  return /* wgsl */ `  {
    let word = co0 / 4u + ${j}u;
    if (word * 4u >= u.outChannels) { return; }
    output[outWord(p, word) / ${storeWords}u] = vec${storeWords}u(
      ${words.join(',\n      ')});
  }`;
}

/**
 * The widest store of packed words a dot4I8Packed epilogue can use: it divides the thread's
 * words (`block` / 4), the output's pitch and the op's offset in it (so every store is aligned),
 * and the op's own words (so no store reaches past the op's channels into another op's part of a
 * concat, or past the tensor's real words into padding another kernel reads as zero).
 */
export function int8StoreWords(
  block: Int8OutBlock,
  pitchWords: number,
  offsetWords: number,
  opWords: number,
): Int8StoreWords {
  const fits = (v: number) =>
    [block / 4, pitchWords, offsetWords, opWords].every((n) => n % v === 0);
  return fits(4) ? 4 : fits(2) ? 2 : 1;
}

/**
 * Input words (4 channels each) a conv3x3 kernel stages in workgroup memory per step, for an input
 * of `words` words per pixel: the largest step from 1 to 6 that divides `words`, so that no step
 * stages zero padding and the fewest barriers run. Network v2's head input (6 words) runs one
 * step of 6, not 4 + 4.
 */
export function int8GroupStep(words: number): number {
  return [6, 5, 4, 3, 2, 1].find((s) => words % s === 0)!;
}

/**
 * How the dot4I8Packed kernels' weights are laid out, in the order a workgroup stages them: per
 * block of `block` output channels (a workgroup's), per input word g, per tap, the block's output
 * channels k — word ((cb · words + g) · taps + tap) · block + k holds four input channels of
 * output channel cb · block + k (zero past the op's channels). A workgroup stages all its words
 * (direct kernels) or `int8GroupStep` of them at a time (conv3x3; the step divides the words),
 * each time one contiguous run of vec4u loads.
 */
export function int8WeightLayout(op: WeightedOp, inChannels: number, outChannels: number) {
  return {
    block: int8OutBlock(outChannels),
    taps: INT8_OP_TAPS[op],
    words: packedGroups(inChannels),
  };
}

/** Words of an op's packed weights in `int8WeightLayout` (zero words included). */
export function int8WeightWords(op: WeightedOp, inChannels: number, outChannels: number): number {
  const { block, taps, words } = int8WeightLayout(op, inChannels, outChannels);
  return Math.ceil(outChannels / block) * words * taps * block;
}

/** An INT8 op's weights on the GPU: packed words (`int8WeightLayout`), bias, multipliers. */
export interface Int8OpWeights extends Int8OpParams {
  readonly op: WeightedOp;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly weightBuffer: GPUBuffer;
  readonly biasBuffer: GPUBuffer;
  /** Benchmarks only: a conv3x3's dot4I8Packed kernel with a part left out (./conv3x3.ts). */
  readonly conv3x3Bisect?: Conv3x3Bisect;
  /** Benchmarks only: a direct op's dot4I8Packed kernel with a part left out (./direct.ts). */
  readonly directBisect?: DirectBisect;
  /**
   * Benchmarks only: a direct op on the kernel that loads a pixel's words before its products,
   * this many output pixels a thread (./direct-rows.ts; the same outputs).
   */
  readonly directRows?: DirectRows;
  /**
   * Benchmarks only: a direct op whose blocks are all real channels on the kernel that splits each
   * pixel's block over this many threads (./direct-split.ts; the same outputs).
   */
  readonly directSplit?: DirectSplit;
  /**
   * A conv3x3's output pixels from which its dot4I8Packed kernel runs on the larger tile
   * (`conv3x3Tile` in ./conv3x3.ts; default CONV3X3_LARGE_TILE_FROM; tests and benchmarks set it).
   */
  readonly conv3x3LargeTileFrom?: number;
}

/**
 * Benchmarks only: the kernel with one part left out, to time the rest (the outputs are wrong).
 * `no-input-loads` stages made-up words instead of the input's (the index arithmetic and bounds
 * stay), `no-weight-loads` likewise for the weights, `no-barriers` drops the two barriers of each
 * step, `no-product` skips the dot4I8Packed loop (staging and epilogue only), `no-epilogue` skips
 * the requantization and the writes (the kernel: ./conv3x3.ts). A part skipped at run time stays
 * in the shader behind a condition no dispatch meets, so the compiler keeps what feeds it (as
 * ./matrix.ts's MatrixBisect).
 */
export type Conv3x3Bisect =
  'no-input-loads' | 'no-weight-loads' | 'no-barriers' | 'no-product' | 'no-epilogue';
export const CONV3X3_BISECTS: readonly Conv3x3Bisect[] = [
  'no-input-loads',
  'no-weight-loads',
  'no-barriers',
  'no-product',
  'no-epilogue',
];

/**
 * The bisections' condition no dispatch meets (an output of 2³² − 1 channels): the part it guards
 * is skipped at run time but stays in the shader, so the compiler keeps what feeds it (a part
 * removed from the source let the driver drop the work whose results only it read, and Dawn the
 * bindings only it used).
 */
export const INT8_BISECT_NEVER = 'u.outChannels == 0xffffffffu';

/**
 * WGSL staging `count` vec4u words of the weights, from `weightBase` on, into the workgroup
 * array `taps`, `threads` threads at a time (`li` their index): the dot4I8Packed kernels'
 * staging of their block's weights. `madeUp` (a bisection's no-weight-loads): made-up words
 * staged instead, the reads kept behind INT8_BISECT_NEVER.
 */
export const wgslStageWeights = (
  count: number,
  threads: number,
  madeUp = false,
): string => /* wgsl */ `for (var i = li; i < ${count}u; i += ${threads}u) {
    ${madeUp ? `taps[i] = vec4u(i, i ^ weightBase, i * 3u, weightBase); if (${INT8_BISECT_NEVER}) {` : '{'}
      taps[i] = weight[weightBase + i];
    }
  }`;

/** Output pixels a thread of ./direct-rows.ts's kernel computes, DIRECT_TILE.y rows apart. */
export type DirectRows = 1 | 2 | 4;

/** Threads ./direct-split.ts's kernel splits an output pixel's block over. */
export type DirectSplit = 2;

/**
 * Benchmarks only: a direct kernel (conv1x1, down2x2, up2x2 on dot4I8Packed, ./direct.ts) with
 * one part left out, to time the rest (the outputs are wrong): `no-input-loads` made-up input
 * words (the index arithmetic stays), `no-weight-loads` made-up staged weights, `no-product` no
 * input reads nor dot4I8Packed (the weights' staging and the epilogue only), `no-epilogue` no
 * requantization nor writes. As Conv3x3Bisect, a part skipped stays behind a condition no
 * dispatch meets.
 */
export type DirectBisect = 'no-input-loads' | 'no-weight-loads' | 'no-product' | 'no-epilogue';
export const DIRECT_BISECTS: readonly DirectBisect[] = [
  'no-input-loads',
  'no-weight-loads',
  'no-product',
  'no-epilogue',
];

/** Packs an op's int8 weight (its f32 layout) into words of 4 channels: `int8WeightLayout`. */
function packInt8Weight(
  op: WeightedOp,
  weight: Int8Array,
  outChannels: number,
  inChannels: number,
): Uint32Array<ArrayBuffer> {
  const { block, taps, words: inWords } = int8WeightLayout(op, inChannels, outChannels);
  const words = new Uint32Array(int8WeightWords(op, inChannels, outChannels));
  for (let co = 0; co < outChannels; co++) {
    const [cb, k] = [Math.floor(co / block), co % block];
    for (let ci = 0; ci < inChannels; ci++) {
      for (let tap = 0; tap < taps; tap++) {
        const byte = weight[int8WeightIndex(op, co, ci, tap, inChannels, outChannels)]! & 0xff;
        words[((cb * inWords + (ci >> 2)) * taps + tap) * block + k]! |= byte << ((ci % 4) * 8);
      }
    }
  }
  return words;
}

/** Uploads an op's integer parameters (`inChannels` input channels). */
export function uploadInt8Op(
  device: GPUDevice,
  op: WeightedOp,
  params: Int8OpParams,
  inChannels: number,
  label = `int8 ${op}`,
): Int8OpWeights {
  const outChannels = params.bias.length;
  if (params.weight.length !== outChannels * inChannels * INT8_OP_TAPS[op]) {
    throw new RangeError(
      `${label}: weight has ${params.weight.length} values, want ${outChannels * inChannels * INT8_OP_TAPS[op]}`,
    );
  }
  const packed = packInt8Weight(op, params.weight, outChannels, inChannels);
  return {
    ...params,
    op,
    inChannels,
    outChannels,
    weightBuffer: createStorageBuffer(device, packed, GPUBufferUsage.STORAGE, `${label} weight`),
    biasBuffer: createStorageBuffer(device, params.bias, GPUBufferUsage.STORAGE, `${label} bias`),
  };
}

/** Where an op writes and what it adds. */
export interface Int8OpTargets {
  /** Packed int8 (requantized) or f32 (real output, the network's raw output). */
  readonly output: GpuInt8Tensor | GpuTensor;
  /** Channel offset in a wider packed output (a concat's part); a multiple of 4. Default 0. */
  readonly outChannelOffset?: number;
  /** A residual to add (packed int8, the op's output shape). */
  readonly residual?: GpuInt8Tensor;
}

const sameSize = (a: TensorShape, b: TensorShape) => a.height === b.height && a.width === b.width;

/**
 * Checks an op's tensors and returns its uniform values (errors name the op and the tensor); the
 * output may also be given by its shape alone, for an epilogue that writes no tensor.
 */
export function int8UniformValues(
  weights: Int8OpWeights,
  input: GpuInt8Tensor,
  targets: Omit<Int8OpTargets, 'output'> & {
    readonly output: GpuInt8Tensor | GpuTensor | TensorShape;
  },
): UniformValues<typeof INT8_PARAMS.fields> {
  const label = `int8 ${weights.op}`;
  const { output, residual } = targets;
  const offset = targets.outChannelOffset ?? 0;
  if (input.channels !== weights.inChannels) {
    throw new RangeError(
      `${label}: input has ${input.channels} channels, the weights ${weights.inChannels}`,
    );
  }
  const want = int8OpOutputShape(weights.op, input, weights.outChannels);
  const packed = 'packed' in output;
  if (
    !sameSize(output, want) ||
    (packed ? output.channels < offset + want.channels : output.channels !== want.channels)
  ) {
    throw new RangeError(
      `${label}: output ${shapeString(output)} does not hold ${shapeString(want)}`,
    );
  }
  if (offset % 4 !== 0 || (offset > 0 && !packed)) {
    throw new RangeError(
      `${label}: outChannelOffset ${offset} must be a multiple of 4 in a packed output`,
    );
  }
  if (residual) {
    if (residual.channels !== want.channels || !sameSize(residual, want)) {
      throw new RangeError(
        `${label}: residual ${shapeString(residual)} is not ${shapeString(want)}`,
      );
    }
    if (weights.residualMultiplier === undefined || weights.activation === 'leaky') {
      throw new RangeError(
        `${label}: a fused residual needs residualMultiplier and no leaky activation before it`,
      );
    }
  }
  return {
    inGroups: packedGroups(input.channels),
    inHeight: input.height,
    inWidth: input.width,
    outChannels: want.channels,
    outHeight: want.height,
    outWidth: want.width,
    outGroups: packedGroups(output.channels),
    outGroupOffset: offset / 4,
    activation: activationCode(weights.activation),
    multiplier: weights.multiplier,
    residualGroups: residual ? packedGroups(residual.channels) : 0,
    residualMultiplier: weights.residualMultiplier ?? 0,
    residualActivation: activationCode(weights.residualActivation),
  };
}

/** An op's uniform block, after the checks. */
function int8Uniforms(weights: Int8OpWeights, input: GpuInt8Tensor, targets: Int8OpTargets) {
  return INT8_PARAMS.pack(int8UniformValues(weights, input, targets));
}

/** How an INT8 op's kernel is built and launched. */
export interface Int8KernelRecipe {
  /** The kernel's WGSL for an epilogue. */
  readonly code: (epilogue: Int8Epilogue) => string;
  /** Its workgroups for an output shape (default: `tile` output pixels × one output block each). */
  readonly workgroups?: (output: TensorShape) => [number, number, number];
  /** Output pixels of a workgroup (default INT8_TILE × INT8_TILE). */
  readonly tile?: Int8Tile;
  /** The weights it binds at @binding(2) (default: the dot4I8Packed layout, `weightBuffer`). */
  readonly weightBuffer?: GPUBuffer;
  /**
   * The buffer it binds at @binding(1) (default the input's): a kernel computing its input from
   * another tensor binds that one (./producer-in-halo.ts).
   */
  readonly inputBuffer?: GPUBuffer;
  /** Its name in labels. */
  readonly name?: string;
  /** Buffers it binds after the op's own (after the residual, if any). */
  readonly extraBuffers?: readonly GPUBuffer[];
  /**
   * Its epilogue writes through `finish` (the dot4I8Packed kernels), which may store several
   * words at once where the output's layout allows (`int8StoreWords`); the matrix kernels write
   * through `finishWord`.
   */
  readonly vectorStores?: boolean;
  /**
   * Its uniform block from the checked values (default: INT8_PARAMS of them), for a kernel whose
   * uniforms have more fields or whose tensors are laid out otherwise.
   */
  readonly uniforms?: (
    values: UniformValues<typeof INT8_PARAMS.fields>,
    input: GpuInt8Tensor,
    targets: Int8OpTargets,
  ) => ArrayBuffer;
}

/** One INT8 op's kernel, workgroups, buffers and uniforms, after the checks. */
function int8Dispatch(
  device: GPUDevice,
  recipe: Int8KernelRecipe,
  weights: Int8OpWeights,
  input: GpuInt8Tensor,
  targets: Int8OpTargets,
) {
  const uniforms = recipe.uniforms
    ? recipe.uniforms(int8UniformValues(weights, input, targets), input, targets)
    : int8Uniforms(weights, input, targets);
  const block = int8OutBlock(weights.outChannels);
  const { output } = targets;
  const storeWords =
    recipe.vectorStores && 'packed' in output
      ? int8StoreWords(
          block,
          int8Layout(output).pitchWords,
          (targets.outChannelOffset ?? 0) / 4,
          packedGroups(weights.outChannels),
        )
      : 1;
  const epilogue = {
    realOutput: !('packed' in output),
    residual: !!targets.residual,
    ...int8EpilogueBlock(weights.outChannels),
    storeWords,
  };
  const out = int8OpOutputShape(weights.op, input, weights.outChannels);
  const stores = storeWords > 1 ? ` stores ${storeWords}` : '';
  const variant = `${recipe.name ? ` ${recipe.name}` : ''}${epilogue.realOutput ? ' to f32' : ''}${epilogue.residual ? ' + residual' : ''} block ${block}${epilogue.channels ? ` of ${epilogue.channels}` : ''}${stores}`;
  const weightBuffer = recipe.weightBuffer ?? weights.weightBuffer;
  const inputBuffer = recipe.inputBuffer ?? input.buffer;
  const buffers = [inputBuffer, weightBuffer, weights.biasBuffer, targets.output.buffer];
  if (targets.residual) buffers.push(targets.residual.buffer);
  buffers.push(...(recipe.extraBuffers ?? []));
  const kernel = createKernel(device, {
    label: `int8 ${weights.op}${variant}`,
    code: recipe.code(epilogue),
  });
  const workgroups: [number, number, number] = recipe.workgroups
    ? recipe.workgroups(out)
    : tileWorkgroups(
        recipe.tile ?? { x: INT8_TILE, y: INT8_TILE },
        out.width,
        out.height,
        groupsFor(out.channels, block),
      );
  return { kernel, workgroups, buffers, uniforms };
}

/** Records one INT8 op with the kernel of `recipe`. */
export function encodeInt8Kernel(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  recipe: Int8KernelRecipe,
  weights: Int8OpWeights,
  input: GpuInt8Tensor,
  targets: Int8OpTargets,
): void {
  const d = int8Dispatch(device, recipe, weights, input, targets);
  d.kernel.dispatch(pass, d.workgroups, d.buffers, d.uniforms);
}

/**
 * Prepares one INT8 op to encode many times (its bind group and uniform buffer built once): what
 * a network does for each step at a size, so that a frame only encodes.
 */
export function prepareInt8Kernel(
  device: GPUDevice,
  recipe: Int8KernelRecipe,
  weights: Int8OpWeights,
  input: GpuInt8Tensor,
  targets: Int8OpTargets,
): PreparedDispatch {
  const d = int8Dispatch(device, recipe, weights, input, targets);
  return d.kernel.prepare(d.workgroups, d.buffers, d.uniforms);
}
