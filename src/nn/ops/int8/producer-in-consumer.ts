/**
 * A direct INT8 op (conv1x1 or down2x2, the consumer) that computes one part of its input itself:
 * where its input is a concat one part of which another direct op (the producer) writes and no
 * other kernel reads, each consumer thread runs the producer for the input pixels it reads —
 * the producer's weights staged beside its own, its accumulators requantized and packed exactly as
 * the producer's kernel writes them — and reads the concat's other parts from memory (stored with
 * the part's words left unread, or without them: `partNotStored`). The part is neither written nor
 * read back and the producer's dispatch is gone: network v2's `up0` (16 → 8 channels, 2 of the 5
 * words of each display pixel of `join`) computed in its 1×1 `mix`. The same bits as the two
 * kernels (CPU reference: `int8OpCpu` of each, src/reference/nn/int8-ops.ts;
 * test/nn-int8-producer-in-consumer.test.ts).
 *
 * Bindings: the consumer's at 0 to 4 (no residual), then the producer's input, weights and bias at
 * 5 to 7. Uniforms: INT8_PARAMS, the padded output's fields (./direct.ts; unused for the standard
 * layout) and the producer's input width, multiplier and activation.
 */
import { packedGroups } from '../../../core/int8.ts';
import { uniformBlock } from '../../../gpu/uniforms.ts';
import type { GpuInt8Tensor } from '../../tensor.ts';
import {
  int8OutBlock,
  int8UniformValues,
  wgslInt8Op,
  type Int8Epilogue,
  type Int8KernelRecipe,
  type Int8OpTargets,
  type Int8OpWeights,
} from './common.ts';
import {
  DIRECT_THREADS,
  DIRECT_TILE,
  PADDED_OUTPUT_PARAMS,
  int8DirectCodeWithEpilogue,
  type DirectOp,
} from './direct.ts';
import { int8Layout } from './padded.ts';
import {
  producerPixelOf,
  producerFields,
  producerUniformValues,
  wgslProducerPixel,
  wgslProducerStaging,
  type ProducerPixel,
} from './producer-pixel.ts';

/** The ops a consumer thread can compute its input for: each input pixel read by one thread. */
export const PRODUCER_CONSUMER_OPS: readonly DirectOp[] = ['conv1x1', 'down2x2'];
/** The ops it can run as producers: direct ops, whose output pixel reads its own input pixels. */
export const PRODUCER_OPS: readonly DirectOp[] = ['conv1x1', 'down2x2', 'up2x2'];

/** The producer a consumer runs: its weights, its input, and its channels' place in the concat. */
export interface Int8Producer {
  readonly weights: Int8OpWeights;
  readonly input: GpuInt8Tensor;
  readonly outChannelOffset: number;
  /**
   * The consumer's input buffer stores the concat without the producer's part (its words removed
   * from every pixel, the parts after it moved down), as a network stores a concat whose part
   * nobody writes (src/nn/int8-network.ts). Default false: the whole concat, the part unread.
   */
  readonly partNotStored?: boolean;
  /**
   * The producer's fused residual (packed int8 at its output's size): only a conv3x3 consumer
   * computes such a producer (./producer-in-halo.ts).
   */
  readonly residual?: GpuInt8Tensor;
  /**
   * The producer's own producer of a part of its input (a concat): a conv3x3 consumer computes
   * both in its halo (./producer-in-halo.ts; network v2's `mix` with its `up0`). One level.
   */
  readonly producer?: Int8Producer;
}

const PARAMS = uniformBlock({
  ...PADDED_OUTPUT_PARAMS.fields,
  ...producerFields('producer', false),
});

/** The consumer's kernel, computing words [wordOffset, wordOffset + producer words) of its input. */
const code = (
  consumer: { op: DirectOp; words: number },
  producer: ProducerPixel & { wordOffset: number; partNotStored: boolean },
  paddedOutput: boolean,
) => {
  const outWords = packedGroups(producer.outChannels);
  return (epilogue: Int8Epilogue) => {
    const header = /* wgsl */ `${wgslInt8Op(epilogue, PARAMS.wgsl)}
@group(0) @binding(5) var<storage, read> producerInput: array<u32>;
@group(0) @binding(6) var<storage, read> producerWeight: array<vec4u>;
@group(0) @binding(7) var<storage, read> producerBias: array<i32>;
${wgslProducerPixel(producer, { input: { array: 'producerInput' }, bias: 'producerBias' })}`;
    const end = producer.wordOffset + outWords;
    // Word g of the concat in the stored input: the part's words taken out, or in place.
    const storedWords = producer.partNotStored ? consumer.words - outWords : consumer.words;
    const stored = (g: number) => (producer.partNotStored && g >= end ? g - outWords : g);
    return int8DirectCodeWithEpilogue(
      consumer.op,
      consumer.words,
      epilogue.block,
      epilogue.channels,
      header,
      {
        perPixel: '\n  let made = producerWords(sx, sy);',
        word: '',
        wordAt: (g) =>
          g >= producer.wordOffset && g < end
            ? `made[${g - producer.wordOffset}]`
            : `input[(sy * u.inWidth + sx) * ${storedWords}u + ${stored(g)}u]`,
        staging: wgslProducerStaging(producer, 'producerWeight', DIRECT_THREADS),
      },
      paddedOutput,
    );
  };
};

/**
 * Why `producer` (weights and op) cannot be computed by the kernel of `consumer` reading it at
 * `outChannelOffset` of its input, or undefined where it can: a conv1x1 or down2x2 consumer
 * without a residual, a direct producer whose channels fit one output block (the weights of one
 * block are staged) and start at a word of the input.
 */
export function producerInConsumerRefusal(
  consumer: { readonly op: string; readonly residual?: unknown },
  producer: { readonly op: string; readonly outChannels: number },
  outChannelOffset: number,
): string | undefined {
  if (!(PRODUCER_CONSUMER_OPS as readonly string[]).includes(consumer.op)) {
    return `the consumer is a ${consumer.op} (it must read each input pixel in one thread: ${PRODUCER_CONSUMER_OPS.join(' or ')})`;
  }
  if (consumer.residual) return 'the consumer adds a residual';
  if (!(PRODUCER_OPS as readonly string[]).includes(producer.op)) {
    return `the producer is a ${producer.op} (${PRODUCER_OPS.join(', ')} only)`;
  }
  if (int8OutBlock(producer.outChannels) < producer.outChannels) {
    return `the producer's ${producer.outChannels} channels take more than one output block`;
  }
  if (outChannelOffset % 4 !== 0) {
    return `the producer's part starts at channel ${outChannelOffset}, not at a word`;
  }
  return undefined;
}

/**
 * The recipe of the consumer `weights` computing `producer`'s part of its input `input` (./encode.ts
 * prepares it like any op's); errors name the op and the tensor.
 */
export function int8ProducerInConsumerRecipe(
  weights: Int8OpWeights,
  input: GpuInt8Tensor,
  targets: Int8OpTargets,
  producer: Int8Producer,
  paddedOutput: boolean,
): Int8KernelRecipe {
  const p = producer.weights;
  const refusal = producerInConsumerRefusal(
    { op: weights.op, residual: targets.residual },
    p,
    producer.outChannelOffset,
  );
  if (refusal !== undefined || producer.residual || producer.producer) {
    throw new RangeError(
      `int8 ${weights.op} computing its ${p.op} input: ${refusal ?? (producer.residual ? 'the producer adds a residual' : 'the producer computes its own producer')}`,
    );
  }
  // The producer's tensors checked as its own kernel would check them, writing into the input.
  const produced = int8UniformValues(p, producer.input, {
    output: input,
    outChannelOffset: producer.outChannelOffset,
  });
  const partNotStored = producer.partNotStored === true;
  const storedChannels = input.channels - (partNotStored ? p.outChannels : 0);
  const storedBytes = packedGroups(storedChannels) * 4 * input.height * input.width;
  if (input.buffer.size < storedBytes) {
    throw new RangeError(
      `int8 ${weights.op} computing its ${p.op} input: the input buffer holds ${input.buffer.size} bytes, not the ${storedBytes} of ${storedChannels} stored channels`,
    );
  }
  const layout =
    paddedOutput && 'packed' in targets.output ? int8Layout(targets.output) : undefined;
  return {
    name: `computing its ${p.op} input`,
    code: code(
      { op: weights.op as DirectOp, words: packedGroups(weights.inChannels) },
      {
        ...producerPixelOf(p, false),
        wordOffset: producer.outChannelOffset / 4,
        partNotStored,
      },
      layout !== undefined,
    ),
    vectorStores: true,
    tile: DIRECT_TILE,
    extraBuffers: [producer.input.buffer, p.weightBuffer, p.biasBuffer],
    uniforms: (values) =>
      PARAMS.pack({
        ...values,
        ...(layout
          ? {
              outGroups: layout.pitchWords,
              outBorder: layout.border,
              outRowPixels: layout.rowPixels,
            }
          : { outBorder: 0, outRowPixels: 0 }),
        ...producerUniformValues('producer', p, Number(produced.inWidth)),
      }),
  };
}
