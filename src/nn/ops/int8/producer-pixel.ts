/**
 * A direct INT8 op (conv1x1, down2x2 or up2x2: the producer) run for one of its output pixels
 * inside another op's kernel, which needs that pixel's packed words and never reads them from
 * memory: a 1×1 or 2×2 consumer for the pixel it reads (./producer-in-consumer.ts), or a conv3x3
 * for each pixel of its staged halo (./producer-in-halo.ts). The producer's weights are staged in
 * workgroup memory beside the consumer's, its accumulators summed in the order of its own kernel
 * (./direct.ts), and requantized — with its fused residual, if it has one — exactly as its epilogue
 * (./common.ts), so the words are those its kernel would store. CPU reference: `int8OpCpu`
 * (src/reference/nn/int8-ops.ts).
 */
import { packedGroups } from '../../../core/int8.ts';
import { INT8_OP_TAPS } from '../../../reference/nn/int8-ops.ts';
import { activationCode } from '../common.ts';
import { int8OutBlock, int8WeightWords, wgslAccumulateWord, type Int8OpWeights } from './common.ts';
import { DIRECT_READS, wgslAccumulateInputWord, type DirectOp } from './direct.ts';

/** The producer as its kernel in another would run it. */
export interface ProducerPixel {
  readonly op: DirectOp;
  /** Packed words of its input pixels. */
  readonly words: number;
  readonly outChannels: number;
  /** Whether it adds a fused residual (packed int8 at its output's size, its channels). */
  readonly residual: boolean;
}

/** The producer of `weights` (and a residual or not) as a ProducerPixel. */
export function producerPixelOf(weights: Int8OpWeights, residual: boolean): ProducerPixel {
  return {
    op: weights.op as DirectOp,
    words: packedGroups(weights.inChannels),
    outChannels: weights.outChannels,
    residual,
  };
}

/** Its output blocks, as its own kernel splits its channels (int8WeightLayout). */
const blocksOf = (p: ProducerPixel) => {
  const block = int8OutBlock(p.outChannels);
  return { block, count: Math.ceil(p.outChannels / block) };
};

/** Vec4u words of its weights staged in workgroup memory: every block's, every word and tap. */
export const producerStagedWords = (p: ProducerPixel): number =>
  int8WeightWords(p.op, 4 * p.words, p.outChannels) / 4;

/**
 * The uniform fields the WGSL of a producer named `prefix` reads (beside the consumer's
 * `u.inWidth`, its output's width): its input's width, multiplier and activation, and with a
 * residual that's multiplier and the activation after it.
 */
export function producerFields(prefix: string, residual: boolean): Record<string, 'u32' | 'f32'> {
  return {
    [`${prefix}InWidth`]: 'u32',
    [`${prefix}Multiplier`]: 'f32',
    [`${prefix}Activation`]: 'u32',
    ...(residual
      ? { [`${prefix}ResidualMultiplier`]: 'f32', [`${prefix}ResidualActivation`]: 'u32' }
      : {}),
  };
}

/** Their values for the producer of `weights` reading an input `inWidth` pixels wide. */
export function producerUniformValues(
  prefix: string,
  weights: Int8OpWeights,
  inWidth: number,
): Record<string, number> {
  return {
    [`${prefix}InWidth`]: inWidth,
    [`${prefix}Multiplier`]: weights.multiplier,
    [`${prefix}Activation`]: activationCode(weights.activation),
    [`${prefix}ResidualMultiplier`]: weights.residualMultiplier ?? 0,
    [`${prefix}ResidualActivation`]: activationCode(weights.residualActivation),
  };
}

/**
 * Where a producer's input words come from: a packed storage array (`array`, its pixels
 * `u.<prefix>InWidth` wide), or per word (`wordAt(g)`, the WGSL expression of word g of input
 * pixel (sx, sy), after `perPixel` ran for that pixel): a concat one part of which another
 * producer computes.
 */
export type ProducerInput =
  | { readonly array: string }
  | { readonly perPixel: string; readonly wordAt: (g: number) => string };

const LANES = ['x', 'y', 'z', 'w'];

/** The WGSL names of a producer called `prefix` (e.g. `producer`: producerWords, PRODUCER_TAPS). */
export function producerNames(prefix: string) {
  const upper = prefix.toUpperCase();
  const capital = prefix[0]!.toUpperCase() + prefix.slice(1);
  return {
    acc: `${prefix}Acc`,
    taps: `${prefix}Taps`,
    tapCount: `${upper}_TAPS`,
    wordCount: `${upper}_WORDS`,
    read: `read${capital}Pixel`,
    words: `${prefix}Words`,
    part: `${prefix}Part`,
    word0: `${prefix}Word0`,
    withResidual: `${prefix}WithResidual`,
  };
}

/**
 * WGSL of the producer in a kernel, its names from `prefix` (`producerNames`): its staged weights
 * (workgroup), accumulators, and `<prefix>Words(x, y) -> array<u32, words>`, the packed words of
 * its output pixel (x, y) — a pixel inside its output (the caller checks the bounds). `arrays`
 * says where its input comes from and names the storage arrays of its bias and its residual (at
 * the output's size, `u.inWidth` pixels a row: the consumer reads the producer's output as its
 * input). Uniforms: `producerFields(prefix, p.residual)`. `wgslProducerStaging` fills the weights.
 * With `parts` > 1 (a producer of one block, its words a multiple of them) it declares
 * `<prefix>Part(x, y, part) -> array<u32, words / parts>` instead: the pixel's words of one part,
 * so that threads can share a pixel's work (./producer-in-halo.ts).
 */
export function wgslProducerPixel(
  p: ProducerPixel,
  arrays: { readonly input: ProducerInput; readonly bias: string; readonly residual?: string },
  prefix = 'producer',
  parts = 1,
): string {
  const n = producerNames(prefix);
  const { block, count } = blocksOf(p);
  const outWords = packedGroups(p.outChannels);
  if (p.residual !== (arrays.residual !== undefined)) {
    throw new RangeError('wgslProducerPixel: a residual needs its array, and only then');
  }
  if (parts !== 1 && (count !== 1 || outWords % parts !== 0)) {
    throw new RangeError(
      `wgslProducerPixel: ${parts} parts of a ${p.op} writing ${p.outChannels} channels (one block, whole words a part)`,
    );
  }
  // Output words a call computes: all, or a part's (`${n.word0}` the first).
  const callWords = outWords / parts;
  const { input } = arrays;
  // One block: the loop of its own kernel (a part: its words' weights). More: each block's
  // weights in turn, as its own kernel runs one block a workgroup (the same sums in the same
  // order per channel; an integer sum's order does not change it).
  const accumulate = (v: string, g: string) =>
    parts > 1
      ? /* wgsl */ `    let v = ${v};
    let t = (${g} * ${n.tapCount} + tap) * ${block / 4}u + ${n.word0};
    for (var q = 0u; q < ${callWords}u; q++) {
      let w = ${n.taps}[t + q];
      ${wgslAccumulateWord(n.acc, 'v', 'w', 'q')}
    }`
      : count === 1
        ? wgslAccumulateInputWord(block, v, g, n, p.outChannels)
        : /* wgsl */ `    let v = ${v};
    for (var b = 0u; b < ${count}u; b++) {
      let t = ((b * ${n.wordCount} + ${g}) * ${n.tapCount} + tap) * ${block / 4}u;
      for (var q = 0u; q < ${block / 4}u; q++) {
        let w = ${n.taps}[t + q];
        ${wgslAccumulateWord(n.acc, 'v', 'w', `(q + ${block / 4}u * b)`)}
      }
    }`;
  const read =
    'array' in input
      ? `  for (var g = 0u; g < ${n.wordCount}; g++) {
${accumulate(`${input.array}[(sy * u.${prefix}InWidth + sx) * ${n.wordCount} + g]`, 'g')}
  }`
      : `${input.perPixel}
${Array.from(
  { length: p.words },
  (_, g) => `  {
${accumulate(input.wordAt(g), `${g}u`)}
  }`,
).join('\n')}`;
  // Lane c of the call's word j: the requantized channel 4j + c of the call's (with the
  // residual's lane), zero past the op's; of a part, channel 4j + c after its first word's.
  const lane = (j: number, c: number) => {
    const k = 4 * j + c;
    if (parts === 1 && k >= p.outChannels) return '0';
    const channel = parts > 1 ? `4u * ${n.word0} + ${k}u` : `${k}`;
    // A part's last word may run past the op's channels: its bias read clamped, its lane zero.
    const past = parts > 1 && 4 * outWords > p.outChannels;
    const sum = `${n.acc}[${k}] + ${arrays.bias}[${past ? `min(${channel}, ${p.outChannels - 1}u)` : channel}]`;
    const value = p.residual
      ? `requantize(${n.withResidual}(${sum}, r${j}.${LANES[c]}), u.${prefix}Multiplier, u.${prefix}ResidualActivation)`
      : `requantize(${sum}, u.${prefix}Multiplier, u.${prefix}Activation)`;
    return past ? `select(0, ${value}, ${channel} < ${p.outChannels}u)` : value;
  };
  const word = (j: number) => (parts > 1 ? `${n.word0} + ${j}u` : `${j}u`);
  const words = Array.from({ length: callWords }, (_, j) => {
    const r = p.residual
      ? `  let r${j} = unpack4xI8(${arrays.residual}[(y * u.inWidth + x) * ${outWords}u + ${word(j)}]);\n`
      : '';
    return `${r}  made[${j}] = pack4xI8(vec4i(${LANES.map((_, c) => lane(j, c)).join(',\n    ')}));`;
  }).join('\n');
  return /* wgsl */ `
const ${n.tapCount} = ${INT8_OP_TAPS[p.op]}u;
const ${n.wordCount} = ${p.words}u;
var<workgroup> ${n.taps}: array<vec4u, ${producerStagedWords(p)}>;
var<private> ${n.acc}: array<i32, ${parts > 1 ? 4 * callWords : count * block}>;
${parts > 1 ? `var<private> ${n.word0}: u32;\n` : ''}
fn ${n.read}(sx: u32, sy: u32, tap: u32) {
${read}
}
${
  p.residual
    ? /* wgsl */ `
// The producer's ReLU, then its residual r in accumulator units (the epilogue's withResidual).
fn ${n.withResidual}(t: i32, r: i32) -> i32 {
  var own = t;
  if (u.${prefix}Activation == 1u) { own = max(t, 0); }
  return own + i32(round(f32(r) * u.${prefix}ResidualMultiplier));
}`
    : ''
}
${
  parts > 1
    ? `// Words ${callWords}·part … of the producer's packed output at its output pixel (x, y), as its own
// kernel stores them.
fn ${n.part}(x: u32, y: u32, part: u32) -> array<u32, ${callWords}> {
  ${n.word0} = part * ${callWords}u;
  for (var k = 0u; k < ${4 * callWords}u; k++) { ${n.acc}[k] = 0; }`
    : `// The producer's packed output words at its output pixel (x, y), as its own kernel stores them.
fn ${n.words}(x: u32, y: u32) -> array<u32, ${outWords}> {
  for (var k = 0u; k < ${count * block}u; k++) { ${n.acc}[k] = 0; }`
}
  ${DIRECT_READS[p.op].replaceAll('readPixel(', `${n.read}(`)}
  var made: array<u32, ${callWords}>;
${words}
  return made;
}
`;
}

/**
 * WGSL every thread of a `threads`-thread workgroup (local index `li`) runs before a barrier:
 * the weights of the producer called `prefix` from storage array `weight` into its workgroup
 * array (the layout's first blocks, one contiguous run).
 */
export const wgslProducerStaging = (
  p: ProducerPixel,
  weight: string,
  threads: number,
  prefix = 'producer',
) => /* wgsl */ `
  for (var i = li; i < ${producerStagedWords(p)}u; i += ${threads}u) {
    ${producerNames(prefix).taps}[i] = ${weight}[i];
  }`;
