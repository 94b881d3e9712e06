/**
 * An INT8 conv3x3 (the consumer) that computes its whole input itself: where another direct op
 * (conv1x1, down2x2 or up2x2: the producer, with its fused residual if it has one) writes the
 * consumer's input and no other kernel reads it, the conv3x3's workgroups run the producer for
 * every pixel of their staged halo (./producer-pixel.ts) instead of loading the tile from memory.
 * The tensor is neither written nor read back and the producer's dispatch is gone; the halo's
 * border pixels are computed by both workgroups that stage them (16×16 tiles: 324 pixels for 256
 * outputs). Network v2's `up1` (32 → 16 channels at ½ resolution, with the skip from `res1`)
 * computed in `dec1`. The same bits as the two kernels (CPU reference: `int8OpCpu` of each,
 * src/reference/nn/int8-ops.ts; test/nn-int8-producer-in-halo.test.ts).
 *
 * Only a consumer with one output block: each workgroup of a wider conv3x3 would compute the
 * producer again for its own block. Bindings: the producer's input at 1 (where the consumer's
 * would be), the consumer's weights, bias and output at 2 to 4, then the producer's weights, bias
 * and residual. Uniforms: INT8_PARAMS (the consumer's; its input the producer's output) and
 * PRODUCER_FIELDS.
 */
import { packedGroups } from '../../../core/int8.ts';
import { uniformBlock } from '../../../gpu/uniforms.ts';
import {
  int8OutBlock,
  int8UniformValues,
  wgslInt8Op,
  INT8_PARAMS,
  type Int8Epilogue,
  type Int8KernelRecipe,
  type Int8OpTargets,
  type Int8OpWeights,
} from './common.ts';
import { conv3x3Tile, int8Conv3x3CodeWithEpilogue, type Conv3x3HaloSource } from './conv3x3.ts';
import { PRODUCER_OPS, type Int8Producer } from './producer-in-consumer.ts';
import {
  PRODUCER_FIELDS,
  PRODUCER_RESIDUAL_FIELDS,
  producerPixelOf,
  producerUniformValues,
  wgslProducerPixel,
  wgslProducerStaging,
  type ProducerPixel,
} from './producer-pixel.ts';
import type { GpuInt8Tensor } from '../../tensor.ts';

const PARAMS = uniformBlock({ ...INT8_PARAMS.fields, ...PRODUCER_FIELDS });
const PARAMS_WITH_RESIDUAL = uniformBlock({
  ...INT8_PARAMS.fields,
  ...PRODUCER_FIELDS,
  ...PRODUCER_RESIDUAL_FIELDS,
});

/**
 * The halo source of a conv3x3 whose input is `producer`'s output, the producer's bindings from
 * `binding` on (weights, bias, residual), its input the kernel's `input` at @binding(1).
 */
export function producerHaloSource(
  producer: ProducerPixel,
  binding: number,
  threads: number,
): Conv3x3HaloSource {
  const residual = producer.residual
    ? `\n@group(0) @binding(${binding + 2}) var<storage, read> producerResidual: array<u32>;`
    : '';
  return {
    declarations: /* wgsl */ `@group(0) @binding(${binding}) var<storage, read> producerWeight: array<vec4u>;
@group(0) @binding(${binding + 1}) var<storage, read> producerBias: array<i32>;${residual}
${wgslProducerPixel(producer, {
  input: 'input',
  bias: 'producerBias',
  ...(producer.residual ? { residual: 'producerResidual' } : {}),
})}`,
    prologue: wgslProducerStaging(producer, 'producerWeight', threads),
    pixelWords: (x, y) => `producerWords(${x}, ${y})`,
  };
}

/**
 * Why the conv3x3 `consumer` cannot compute its input as `producer`'s output written at
 * `outChannelOffset`, or undefined where it can: a conv3x3 without a residual whose output is one
 * block, a direct producer writing the consumer's whole input.
 */
export function producerInHaloRefusal(
  consumer: {
    readonly op: string;
    readonly inChannels: number;
    readonly outChannels: number;
    readonly residual?: unknown;
  },
  producer: { readonly op: string; readonly outChannels: number },
  outChannelOffset: number,
): string | undefined {
  if (consumer.op !== 'conv3x3') return `the consumer is a ${consumer.op}, not a conv3x3`;
  if (consumer.residual) return 'the consumer adds a residual';
  if (int8OutBlock(consumer.outChannels) < consumer.outChannels) {
    return `the consumer's ${consumer.outChannels} channels take more than one output block (each would compute the producer again)`;
  }
  if (!(PRODUCER_OPS as readonly string[]).includes(producer.op)) {
    return `the producer is a ${producer.op} (${PRODUCER_OPS.join(', ')} only)`;
  }
  if (outChannelOffset !== 0 || producer.outChannels !== consumer.inChannels) {
    return `the producer writes channels ${outChannelOffset}–${outChannelOffset + producer.outChannels - 1} of the consumer's ${consumer.inChannels}, not all of them`;
  }
  return undefined;
}

/**
 * The recipe of the conv3x3 `weights` computing its input `input` (its shape; its buffer is not
 * read) as `producer`'s output; errors name the ops and the tensor.
 */
export function int8ProducerInHaloRecipe(
  weights: Int8OpWeights,
  input: GpuInt8Tensor,
  targets: Int8OpTargets,
  producer: Int8Producer,
): Int8KernelRecipe {
  const p = producer.weights;
  const label = `int8 ${weights.op} computing its ${p.op} input`;
  const refusal = producerInHaloRefusal(
    { ...weights, residual: targets.residual },
    p,
    producer.outChannelOffset,
  );
  if (refusal !== undefined) throw new RangeError(`${label}: ${refusal}`);
  if (producer.partNotStored) throw new RangeError(`${label}: its input is not a concat's part`);
  const residual = producer.residual !== undefined;
  // The producer's tensors checked as its own kernel would check them, writing the input.
  const produced = int8UniformValues(p, producer.input, {
    output: input,
    ...(producer.residual ? { residual: producer.residual } : {}),
  });
  const tile = conv3x3Tile(input.width, input.height, weights.conv3x3LargeTileFrom);
  const pixel = producerPixelOf(p, residual);
  const params = residual ? PARAMS_WITH_RESIDUAL : PARAMS;
  return {
    name: `computing its ${p.op} input`,
    code: (epilogue: Int8Epilogue) =>
      int8Conv3x3CodeWithEpilogue(
        packedGroups(weights.inChannels),
        epilogue.block,
        wgslInt8Op(epilogue, params.wgsl),
        tile,
        producerHaloSource(pixel, epilogue.residual ? 6 : 5, tile.x * tile.y),
      ),
    vectorStores: true,
    tile,
    inputBuffer: producer.input.buffer,
    extraBuffers: [
      p.weightBuffer,
      p.biasBuffer,
      ...(producer.residual ? [producer.residual.buffer] : []),
    ],
    uniforms: (values) =>
      params.pack({ ...values, ...producerUniformValues(p, Number(produced.inWidth)) }),
  };
}
