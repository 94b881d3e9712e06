/**
 * An INT8 conv3x3 (the consumer) that computes its whole input itself: where another direct op
 * (conv1x1, down2x2 or up2x2: the producer, with its fused residual if it has one) writes the
 * consumer's input and no other kernel reads it, the conv3x3's workgroups run the producer for
 * every pixel of their staged halo (./producer-pixel.ts) instead of loading the tile from memory.
 * The tensor is neither written nor read back and the producer's dispatch is gone; the halo's
 * border pixels are computed by both workgroups that stage them (16×16 tiles: 324 pixels for 256
 * outputs). The producer may itself compute a part of its input (a concat) as a 1×1 consumer does
 * (./producer-in-consumer.ts), one level deep. Network v2's `up1` (32 → 16 channels at ½
 * resolution, with the skip from `res1`) computed in `dec1`; its `mix` (1×1, 20 → 24 channels,
 * with its `up0` part) in the 3×3 `head`, in the network and in the frame's last layer
 * (src/nn/resolve/last-layer-filter-blend.ts). The same bits as the separate kernels (CPU
 * reference: `int8OpCpu` of each, src/reference/nn/int8-ops.ts;
 * test/nn-int8-producer-in-halo.test.ts). Measured on an H100 (docs/PERFORMANCE.md, 2026-12-07):
 * v2's frame 0.964 → 0.940 ms at 1080p, 3.299 → 3.238 at 4K — the saved traffic; the producer in
 * the halo cost about what its own kernel did (`up1` +30 µs in `dec1`), since the threads that
 * computed a second halo pixel (68 of 256) held the barrier. So a producer's output words are now
 * dealt over the threads in parts (`haloParts`: a thread computes a part of a pixel at a time,
 * 1.5 pixels' work instead of 2 for `up1`: `dec1` 76 → 72 µs at 1080p on an H100).
 *
 * Only a consumer with one output block: each workgroup of a wider conv3x3 would compute the
 * producer again for its own block. Bindings: the producer's input at 1 (where the consumer's
 * would be), the consumer's weights, bias and output at 2 to 4, then the producer's weights, bias
 * and residual, and the inner producer's input, weights and bias. Uniforms: INT8_PARAMS (the
 * consumer's; its input the producer's output) and `producerFields` of each producer.
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
  type Int8Tile,
} from './common.ts';
import { conv3x3Tile, int8Conv3x3CodeWithEpilogue, type Conv3x3HaloSource } from './conv3x3.ts';
import {
  PRODUCER_OPS,
  producerInConsumerRefusal,
  type Int8Producer,
} from './producer-in-consumer.ts';
import {
  producerFields,
  producerNames,
  producerPixelOf,
  producerUniformValues,
  wgslProducerPixel,
  wgslProducerStaging,
  type ProducerInput,
  type ProducerPixel,
} from './producer-pixel.ts';
import type { GpuInt8Tensor } from '../../tensor.ts';
import type { TensorShape } from '../../../core/tensor.ts';

/**
 * A halo's producers as its WGSL needs them (no tensors): the producer, and, where a part of the
 * producer's input (a concat) is computed by another producer (./producer-in-consumer.ts: v2's
 * `up0` in `mix`), that one (`inner`), its words' place in the concat and the concat's words as
 * stored.
 */
export interface HaloProducers {
  readonly producer: ProducerPixel;
  readonly inner?: {
    readonly pixel: ProducerPixel;
    readonly wordOffset: number;
    readonly partNotStored: boolean;
  };
}

/** How a kernel's label says what it computes in its halo: "computing its conv1x1 + up2x2 input". */
export const haloLabel = (producerOp: string, innerOp?: string) =>
  `computing its ${producerOp}${innerOp ? ` + ${innerOp}` : ''} input`;

/** The producers of `producer` as HaloProducers. */
export function haloProducersOf(producer: Int8Producer): HaloProducers {
  const inner = producer.producer;
  return {
    producer: producerPixelOf(producer.weights, producer.residual !== undefined),
    ...(inner
      ? {
          inner: {
            pixel: producerPixelOf(inner.weights, false),
            wordOffset: inner.outChannelOffset / 4,
            partNotStored: inner.partNotStored === true,
          },
        }
      : {}),
  };
}

/** The uniform block of a kernel with `INT8_PARAMS`-like `fields` and halo producers `h`. */
export const haloUniforms = (fields: Record<string, 'u32' | 'f32'>, h: HaloProducers) =>
  uniformBlock({
    ...fields,
    ...producerFields('producer', h.producer.residual),
    ...(h.inner ? producerFields('inner', false) : {}),
  });

/**
 * Storage buffers a conv3x3 computing its input in its halo binds (`producerHaloSource`): its own
 * four, the producer's weights and bias (and residual), the inner producer's input, weights and
 * bias (where it has one).
 */
export const haloKernelStorageBuffers = (residual: boolean, inner: boolean) =>
  4 + 2 + (residual ? 1 : 0) + (inner ? 3 : 0);

/**
 * How many parts a producer's output words are dealt in over a workgroup's `threads` threads for
 * its `pixels` halo pixels: each thread computes one part of one pixel at a time, so the phase
 * lasts ⌈pixels · parts / threads⌉ parts instead of ⌈pixels / threads⌉ whole pixels (a 16×16
 * tile's 324 pixels over 256 threads: 1.5 or 1.33 pixels' work instead of 2). The fewest parts
 * that take least, dividing its words; one for a producer of several blocks. Each part reads the
 * producer's input pixel again.
 */
export function haloParts(pixels: number, threads: number, p: ProducerPixel): number {
  const words = packedGroups(p.outChannels);
  if (int8OutBlock(p.outChannels) < p.outChannels) return 1;
  let best = 1;
  const rounds = (k: number) => Math.ceil((pixels * k) / threads) / k;
  for (let k = 2; k <= words; k++) {
    if (words % k === 0 && rounds(k) < rounds(best)) best = k;
  }
  return best;
}

/**
 * WGSL filling the staged tile with the producer's words for every halo pixel, zero outside the
 * input: a pixel a thread, or with `parts` > 1 a part of a pixel's words a thread (`haloParts`;
 * consecutive threads take consecutive pixels of one part, reading the same weight words).
 */
const staging = (p: ProducerPixel, parts: number, tile: Int8Tile) => {
  const pixels = (tile.x + 2) * (tile.y + 2);
  const words = packedGroups(p.outChannels) / parts;
  const n = producerNames('producer');
  const [loop, call, first] =
    parts > 1
      ? [
          `for (var i = li; i < ${pixels * parts}u; i += ${tile.x * tile.y}u) {
      let part = i / ${pixels}u;
      let r = i % ${pixels}u;`,
          `${n.part}(u32(sx), u32(sy), part)`,
          `part * ${words}u + `,
        ]
      : [
          `for (var r = li; r < ${pixels}u; r += ${tile.x * tile.y}u) {`,
          `${n.words}(u32(sx), u32(sy))`,
          '',
        ];
  return /* wgsl */ `
    ${loop}
      let sy = i32(y0 + r / HALO_X) - 1;
      let sx = i32(x0 + r % HALO_X) - 1;
      // Zero outside the input (set each time: a declaration alone was not re-zeroed in a loop on
      // lavapipe).
      var made = array<u32, ${words}>();
      if (sy >= 0 && sy < H && sx >= 0 && sx < W) { made = ${call}; }
      for (var k = 0u; k < ${words}u; k++) { tile[(${first}k) * ${pixels}u + r] = made[k]; }
    }`;
};

/**
 * The halo source of a conv3x3 on `tile` whose input is the output of the producers `h`, their
 * bindings from `binding` on (the producer's weights, bias and residual; the inner producer's
 * input, weights and bias), the producer's input the kernel's `input` at @binding(1) (a concat,
 * with the inner producer's part, or without it: `partNotStored`). A producer without an inner
 * one is dealt over the threads in parts (`haloParts`); with one, a pixel a thread, the inner
 * producer computed inside it. (Measured on an H100, 2026-12-07: v2's `up0` first for all halo
 * pixels into workgroup memory, then `mix` in thirds, made the head 25 µs slower at 1080p.)
 */
export function producerHaloSource(
  h: HaloProducers,
  binding: number,
  tile: Int8Tile,
): Conv3x3HaloSource {
  const { producer, inner } = h;
  const threads = tile.x * tile.y;
  const names = [
    'producerWeight: array<vec4u>',
    'producerBias: array<i32>',
    ...(producer.residual ? ['producerResidual: array<u32>'] : []),
    ...(inner
      ? ['innerInput: array<u32>', 'innerWeight: array<vec4u>', 'innerBias: array<i32>']
      : []),
  ];
  const bindings = names
    .map((n, i) => `@group(0) @binding(${binding + i}) var<storage, read> ${n};`)
    .join('\n');
  const parts = inner ? 1 : haloParts((tile.x + 2) * (tile.y + 2), threads, producer);
  let input: ProducerInput = { array: 'input' };
  if (inner) {
    // The concat's words: the inner producer's computed, the others read as stored.
    const own = packedGroups(inner.pixel.outChannels);
    const end = inner.wordOffset + own;
    const stored = inner.partNotStored ? producer.words - own : producer.words;
    const storedWord = (g: number) => (inner.partNotStored && g >= end ? g - own : g);
    input = {
      perPixel: '  let made = innerWords(sx, sy);',
      wordAt: (g) =>
        g >= inner.wordOffset && g < end
          ? `made[${g - inner.wordOffset}]`
          : `input[(sy * u.producerInWidth + sx) * ${stored}u + ${storedWord(g)}u]`,
    };
  }
  return {
    declarations: /* wgsl */ `${bindings}
${inner ? wgslProducerPixel(inner.pixel, { input: { array: 'innerInput' }, bias: 'innerBias' }, 'inner') : ''}
${wgslProducerPixel(
  producer,
  {
    input,
    bias: 'producerBias',
    ...(producer.residual ? { residual: 'producerResidual' } : {}),
  },
  'producer',
  parts,
)}`,
    prologue:
      wgslProducerStaging(producer, 'producerWeight', threads) +
      (inner ? wgslProducerStaging(inner.pixel, 'innerWeight', threads, 'inner') : ''),
    staging: staging(producer, parts, tile),
  };
}

/** The halo producers' buffers, in `producerHaloSource`'s binding order. */
export function haloBuffers(producer: Int8Producer): GPUBuffer[] {
  const p = producer.weights;
  const inner = producer.producer;
  return [
    p.weightBuffer,
    p.biasBuffer,
    ...(producer.residual ? [producer.residual.buffer] : []),
    ...(inner ? [inner.input.buffer, inner.weights.weightBuffer, inner.weights.biasBuffer] : []),
  ];
}

/**
 * Checks the halo producers' tensors (errors name the ops and the tensor) and returns their
 * uniform values, for a conv3x3 whose input is `input` (its shape).
 */
export function haloUniformValues(
  label: string,
  input: TensorShape,
  producer: Int8Producer,
): Record<string, number> {
  const p = producer.weights;
  if (producer.partNotStored) throw new RangeError(`${label}: its input is not a concat's part`);
  const inner = producer.producer;
  // The producer's input as the kernel reads it: the whole concat, whatever its buffer stores.
  const concat = inner?.partNotStored
    ? { ...producer.input, channels: producer.input.channels + inner.weights.outChannels }
    : producer.input;
  if (inner) {
    const refusal = producerInConsumerRefusal(p, inner.weights, inner.outChannelOffset);
    if (refusal !== undefined || inner.residual || inner.producer) {
      throw new RangeError(
        `${label}: its ${p.op} cannot compute its ${inner.weights.op} input: ${refusal ?? 'one level only, without a residual'}`,
      );
    }
    int8UniformValues(inner.weights, inner.input, {
      output: concat,
      outChannelOffset: inner.outChannelOffset,
    });
  }
  // The producer's tensors checked as its own kernel would check them, writing the input.
  const produced = int8UniformValues(p, concat, {
    output: input,
    ...(producer.residual ? { residual: producer.residual } : {}),
  });
  return {
    ...producerUniformValues('producer', p, Number(produced.inWidth)),
    ...(inner ? producerUniformValues('inner', inner.weights, inner.input.width) : {}),
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
  const values = haloUniformValues(label, input, producer);
  const tile = conv3x3Tile(input.width, input.height, weights.conv3x3LargeTileFrom);
  const h = haloProducersOf(producer);
  const params = haloUniforms(INT8_PARAMS.fields, h);
  return {
    name: haloLabel(p.op, h.inner?.pixel.op),
    code: (epilogue: Int8Epilogue) =>
      int8Conv3x3CodeWithEpilogue(
        packedGroups(weights.inChannels),
        epilogue.block,
        epilogue.channels,
        wgslInt8Op(epilogue, params.wgsl),
        tile,
        producerHaloSource(h, epilogue.residual ? 6 : 5, tile),
      ),
    vectorStores: true,
    tile,
    inputBuffer: producer.input.buffer,
    extraBuffers: haloBuffers(producer),
    uniforms: (v) => params.pack({ ...v, ...values }),
  };
}
