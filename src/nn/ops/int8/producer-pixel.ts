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
import { int8OutBlock, wgslAccumulateWord, type Int8OpWeights } from './common.ts';
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
export const producerStagedWords = (p: ProducerPixel): number => {
  const { block, count } = blocksOf(p);
  return (p.words * INT8_OP_TAPS[p.op] * count * block) / 4;
};

/** The uniform fields its WGSL reads (beside the consumer's `u.inWidth`, its output's width). */
export const PRODUCER_FIELDS = {
  producerInWidth: 'u32',
  producerMultiplier: 'f32',
  producerActivation: 'u32',
} as const;
/** The fields a producer with a residual reads besides. */
export const PRODUCER_RESIDUAL_FIELDS = {
  producerResidualMultiplier: 'f32',
  producerResidualActivation: 'u32',
} as const;

/** Their values for the producer of `weights` reading an input `inWidth` pixels wide. */
export function producerUniformValues(weights: Int8OpWeights, inWidth: number) {
  return {
    producerInWidth: inWidth,
    producerMultiplier: weights.multiplier,
    producerActivation: activationCode(weights.activation),
    producerResidualMultiplier: weights.residualMultiplier ?? 0,
    producerResidualActivation: activationCode(weights.residualActivation),
  };
}

const LANES = ['x', 'y', 'z', 'w'];

/** The names its WGSL gives its staged weights, accumulators and tap count. */
const names = { acc: 'producerAcc', taps: 'producerTaps', tapCount: 'PRODUCER_TAPS' };

/**
 * WGSL of the producer in a kernel: its staged weights `producerTaps` (workgroup), accumulators,
 * and `producerWords(x, y) -> array<u32, words>`, the packed words of its output pixel (x, y) — a
 * pixel inside its output (the caller checks the bounds). `arrays` names the storage arrays the
 * kernel binds: the producer's input (packed, `u.producerInWidth` pixels a row), its bias, and its
 * residual (at the output's size, `u.inWidth` pixels a row: the consumer reads the producer's
 * output as its input). Uniforms: PRODUCER_FIELDS (and PRODUCER_RESIDUAL_FIELDS). `producerStaging` fills the weights.
 */
export function wgslProducerPixel(
  p: ProducerPixel,
  arrays: { readonly input: string; readonly bias: string; readonly residual?: string },
): string {
  const { block, count } = blocksOf(p);
  const outWords = packedGroups(p.outChannels);
  if (p.residual !== (arrays.residual !== undefined)) {
    throw new RangeError('wgslProducerPixel: a residual needs its array, and only then');
  }
  const v = `${arrays.input}[(sy * u.producerInWidth + sx) * PRODUCER_WORDS + g]`;
  // One block: the loop of its own kernel. More: each block's weights in turn, as its own kernel
  // runs one block a workgroup (the same sums in the same order per channel).
  const accumulate =
    count === 1
      ? wgslAccumulateInputWord(block, v, 'g', names)
      : /* wgsl */ `    let v = ${v};
    for (var b = 0u; b < ${count}u; b++) {
      let t = ((b * PRODUCER_WORDS + g) * PRODUCER_TAPS + tap) * ${block / 4}u;
      for (var q = 0u; q < ${block / 4}u; q++) {
        let w = producerTaps[t + q];
        ${wgslAccumulateWord('producerAcc', 'v', 'w', `(q + ${block / 4}u * b)`)}
      }
    }`;
  // Lane c of word j: the requantized channel 4j + c (with the residual's lane), zero past them.
  const lane = (j: number, c: number) => {
    const k = 4 * j + c;
    if (k >= p.outChannels) return '0';
    const sum = `producerAcc[${k}] + ${arrays.bias}[${k}]`;
    return p.residual
      ? `requantize(producerWithResidual(${sum}, r${j}.${LANES[c]}), u.producerMultiplier, u.producerResidualActivation)`
      : `requantize(${sum}, u.producerMultiplier, u.producerActivation)`;
  };
  const words = Array.from({ length: outWords }, (_, j) => {
    const r = p.residual
      ? `  let r${j} = unpack4xI8(${arrays.residual}[(y * u.inWidth + x) * ${outWords}u + ${j}u]);\n`
      : '';
    return `${r}  made[${j}] = pack4xI8(vec4i(${LANES.map((_, c) => lane(j, c)).join(',\n    ')}));`;
  }).join('\n');
  return /* wgsl */ `
const PRODUCER_TAPS = ${INT8_OP_TAPS[p.op]}u;
const PRODUCER_WORDS = ${p.words}u;
var<workgroup> producerTaps: array<vec4u, ${producerStagedWords(p)}>;
var<private> producerAcc: array<i32, ${count * block}>;

fn readProducerPixel(sx: u32, sy: u32, tap: u32) {
  for (var g = 0u; g < PRODUCER_WORDS; g++) {
${accumulate}
  }
}
${
  p.residual
    ? /* wgsl */ `
// The producer's ReLU, then its residual r in accumulator units (the epilogue's withResidual).
fn producerWithResidual(t: i32, r: i32) -> i32 {
  var own = t;
  if (u.producerActivation == 1u) { own = max(t, 0); }
  return own + i32(round(f32(r) * u.producerResidualMultiplier));
}`
    : ''
}
// The producer's packed output words at its output pixel (x, y), as its own kernel stores them.
fn producerWords(x: u32, y: u32) -> array<u32, ${outWords}> {
  for (var k = 0u; k < ${count * block}u; k++) { producerAcc[k] = 0; }
  ${DIRECT_READS[p.op].replaceAll('readPixel(', 'readProducerPixel(')}
  var made: array<u32, ${outWords}>;
${words}
  return made;
}
`;
}

/**
 * WGSL every thread of a `threads`-thread workgroup (local index `li`) runs before a barrier:
 * the producer's weights from storage array `weight` into `producerTaps` (the layout's first
 * blocks, one contiguous run).
 */
export const wgslProducerStaging = (
  p: ProducerPixel,
  weight: string,
  threads: number,
) => /* wgsl */ `
  for (var i = li; i < ${producerStagedWords(p)}u; i += ${threads}u) {
    producerTaps[i] = ${weight}[i];
  }`;
