/**
 * Runs a network as INT8 on the GPU: the steps of an `Int8Plan` (src/core/int8-plan.ts) —
 * quantize the f32 input, then one kernel per weighted op (dot4I8Packed, or implicit GEMM on
 * subgroup matrices, which read tensors in the padded layout of ./ops/int8/padded.ts; or both,
 * each op on the kernel measured faster for it) with adds and concats folded in — in one compute
 * pass. Tensors are allocated and dispatches prepared (bind groups, uniform buffers) once per
 * input size and input buffer, so a steady frame only encodes. CPU oracle: `runInt8NetworkCpu`
 * in src/reference/nn/int8-network.ts.
 */
import type { Int8OpStep, Int8Plan } from '../core/int8-plan.ts';
import type { GpuTimer } from '../gpu/profiler.ts';
import type { WeightedOp } from '../core/graph.ts';
import {
  int8OutBlock,
  uploadInt8Op,
  type Conv3x3Bisect,
  type DirectBisect,
  type DirectRows,
  type DirectSplit,
  type Int8OpTargets,
  type Int8OpWeights,
} from './ops/int8/common.ts';
import { prepareInt8Op } from './ops/int8/encode.ts';
import { prepareQuantizeInt8 } from './ops/int8/quantize.ts';
import { prepareQuantizeCopies } from './ops/int8/quantize-copies.ts';
import { MAX_INT8_COPIES } from '../gpu/int8-quantize.ts';
import {
  subgroupMatricesUsable,
  uploadMatrixWeights,
  type MatrixBisect,
  type MatrixTiling,
  type Int8MatrixWeights,
} from './ops/int8/matrix.ts';
import type { PreparedDispatch } from '../gpu/kernel.ts';
import { createPaddedInt8Tensor, isPadded, paddedPitchBytes } from './ops/int8/padded.ts';
import { producerInConsumerRefusal, type Int8Producer } from './ops/int8/producer-in-consumer.ts';
import { haloKernelStorageBuffers, producerInHaloRefusal } from './ops/int8/producer-in-halo.ts';
import { prepareInt8Pad } from './ops/int8/pad.ts';
import {
  createGpuInt8Tensor,
  createGpuTensor,
  type GpuInt8Tensor,
  type GpuTensor,
} from './tensor.ts';

export interface Int8Network {
  readonly plan: Int8Plan;
  /** The kernels its weighted ops run on. */
  readonly kernels: Int8Kernels;
  /**
   * Records a forward of `input` (the graph input, f32, height and width multiples of the plan's
   * largest divisor). The returned f32 output stays valid until a run at another size.
   */
  run(encoder: GPUCommandEncoder, input: GpuTensor, options?: Int8RunOptions): GpuTensor;
  /**
   * Records every step but the last (the caller records it, from `lastStep`, with an epilogue of
   * its own): the f32 output is neither written nor, until a full `run`, allocated.
   */
  runWithoutLastStep(encoder: GPUCommandEncoder, input: GpuTensor, options?: Int8RunOptions): void;
  /**
   * The int8 tensors the input is quantized into at this input size, for a producer that writes
   * them itself (the features pass); then run with `inputQuantized`.
   */
  inputQuantizations(height: number, width: number): Int8InputTarget[];
  /**
   * The last step's weights and its input tensor at this input size, for a kernel that runs the
   * last step itself with another epilogue (after `runWithoutLastStep`).
   */
  lastStep(height: number, width: number): Int8LastStep;
  /**
   * The first step's weights, its int8 input (the quantized graph input, which a kernel that
   * computes that input itself never writes) and its targets at this input size, for a kernel
   * that runs the first step itself (then run with `firstStepDone`).
   */
  firstStep(height: number, width: number): Int8FirstStep;
  /** Bytes of the weights and of the tensors of the current size (uniform blocks not counted). */
  memoryBytes(): number;
  destroy(): void;
}

/** A quantized copy of the network's f32 input: channels from `outChannelOffset` on. */
export interface Int8InputTarget {
  readonly output: GpuInt8Tensor;
  readonly scale: number;
  readonly outChannelOffset: number;
}

/** What a kernel needs to run a network's last step itself. */
export interface Int8LastStep {
  readonly step: Int8OpStep;
  readonly weights: Int8OpWeights;
  /** Its input tensor: a placeholder of the input's shape where `producer` computes it. */
  readonly input: GpuInt8Tensor;
  /** The producer(s) a conv3x3 last step computes in its halo (`producersInConsumers`). */
  readonly producer?: Int8Producer;
}

/** What a kernel needs to run a network's first step itself. */
export interface Int8FirstStep extends Int8LastStep {
  /** The scale the graph input is quantized with into `input`. */
  readonly inputScale: number;
  readonly targets: Int8OpTargets & { readonly output: GpuInt8Tensor };
}

/** Options of `Int8Network.run`. */
export interface Int8RunOptions {
  /** Profiling: each step in a timed pass of its own, labelled by its node. */
  readonly timer?: GpuTimer;
  /** The input's int8 tensors are written already (`inputQuantizations`): skip quantizing. */
  readonly inputQuantized?: boolean;
  /**
   * The first step's output is written already (`firstStep`: a kernel that computes the input
   * and runs the first layer in one): skip the input's quantization and the first step.
   */
  readonly firstStepDone?: boolean;
}

interface SizedTensors {
  readonly height: number;
  readonly width: number;
  /** The plan's int8 tensors: padded (./ops/int8/padded.ts) on the matrix kernels. */
  readonly int8: ReadonlyMap<string, GpuInt8Tensor>;
  /**
   * Matrix kernels only: the standard-layout tensors `inputQuantizations` hands out (a features
   * pass writes the standard layout), and the pad passes that copy them into the padded ones.
   */
  staging?: ReadonlyMap<string, GpuInt8Tensor>;
  pads?: readonly LabelledDispatch[];
  /** The f32 output: allocated by the first run that writes it. */
  output?: GpuTensor;
  /** The steps prepared for `input` (rebuilt when the input buffer changes). */
  prepared?: {
    readonly input: GPUBuffer;
    readonly quantizes: readonly LabelledDispatch[];
    /** Every step but the last. */
    readonly steps: readonly LabelledDispatch[];
    /** The last step, prepared by the first run that records it. */
    last?: LabelledDispatch;
  };
}

interface LabelledDispatch {
  readonly label: string;
  readonly dispatch: PreparedDispatch;
}

/**
 * Which kernels run the weighted ops: dot4I8Packed (every adapter), implicit GEMM on subgroup
 * matrices (tensor cores, where the device has them: ./ops/int8/matrix.ts), or the same GEMM with
 * its multiply emulated in scalar code (for tests); 'mixed' runs the matrices only for the ops
 * where they measured faster (`matrixSteps`) and dot4I8Packed for the rest ('emulated-mixed': the
 * same with the multiply emulated). All give the same bits.
 */
export type Int8Kernels =
  'dot4' | 'subgroup-matrix' | 'emulated-matrix' | 'mixed' | 'emulated-mixed';

/** Whether `kernels` multiply on real subgroup matrices (the device must offer them). */
function needsSubgroupMatrices(kernels: Int8Kernels): boolean {
  return kernels === 'subgroup-matrix' || kernels === 'mixed';
}

/**
 * Which steps of `plan` run on the matrix kernels. Every step for 'subgroup-matrix' and
 * 'emulated-matrix', none for 'dot4'. For 'mixed', a 3×3 conv at the input's resolution: the one
 * kind of op the matrices ran faster (network v2's head, 24 → 9 channels at 1920×1080: 0.179
 * against 0.254 ms; every other op of v2 and v3a slower; NVIDIA H100, 2026-12-05,
 * docs/PERFORMANCE.md; since the conv3x3's 16×8 tiles, 2026-12-07, slower there too), and only
 * where its input is written by a direct dot4I8Packed kernel (which can write the padded layout
 * the matrix kernel reads, ./ops/int8/direct.ts) and read by that step alone, so no other kernel
 * has to read the padded layout and no pad pass is needed.
 */
export function matrixSteps(plan: Int8Plan, kernels: Int8Kernels): boolean[] {
  if (kernels === 'dot4') return plan.steps.map(() => false);
  if (kernels === 'subgroup-matrix' || kernels === 'emulated-matrix') {
    return plan.steps.map(() => true);
  }
  const quantized = new Set(plan.quantizes.map((q) => q.output));
  return plan.steps.map((step) => {
    const input = step.input;
    if (step.op !== 'conv3x3' || plan.tensors.get(input)!.divisor !== 1) return false;
    if (quantized.has(input)) return false;
    const producers = plan.steps.filter((s) => s.output === input);
    const readers = plan.steps.filter((s) => s.input === input || s.residual === input);
    return (
      producers.length > 0 &&
      producers.every((s) => s.op !== 'conv3x3' && s.residual === undefined) &&
      readers.length === 1
    );
  });
}

/** What `producersInConsumers` may fuse. */
export interface ProducerFusionOptions {
  /** Whether conv3x3s compute their input in their halos (default true). */
  readonly halos?: boolean;
  /**
   * The device's maxStorageBuffersPerShaderStage (default: no limit): a halo whose kernel would
   * bind more is not fused. The last step's kernel is counted as the frame's last layer with
   * the filter + blend binds it (LAST_LAYER_EXTRA_STORAGE_BUFFERS more than the step's own).
   */
  readonly maxStorageBuffers?: number;
}

/**
 * Storage buffers the frame's last layer with the filter + blend binds beyond the op's own four
 * (src/nn/resolve/last-layer-filter-blend.ts: the reprojected history and state, the new ones,
 * the output image).
 */
export const LAST_LAYER_EXTRA_STORAGE_BUFFERS = 4;

/**
 * Which steps' kernels compute a producer's output themselves: consumer step index → producer
 * step index. Two kinds (never a producer at step 0, which a caller may run: `firstStep`; all on
 * dot4I8Packed):
 *
 * - a direct consumer, not the last step (a frame may run it with an epilogue of its own), whose
 *   input tensor it alone reads, and a direct producer without a residual writing a part of that
 *   tensor (a concat's) and nothing else (./ops/int8/producer-in-consumer.ts): network v2's `up0`
 *   computed in `mix`;
 * - with `halos` (default true), a conv3x3 consumer of one output block whose input tensor it
 *   alone reads, and the one direct producer writing all of that tensor, its residual too, and
 *   the producer's own producer if it has one of the first kind (./ops/int8/producer-in-halo.ts):
 *   v2's `up1` in `dec1`, and `mix` with its `up0` in the `head`, within `maxStorageBuffers`.
 *
 * The producer is then never dispatched and its output (part) never stored. The first qualifying
 * producer of each consumer.
 */
export function producersInConsumers(
  plan: Int8Plan,
  kernels: Int8Kernels,
  { halos = true, maxStorageBuffers = Infinity }: ProducerFusionOptions = {},
): Map<number, number> {
  const matrices = matrixSteps(plan, kernels);
  const fused = new Map<number, number>();
  const last = plan.steps.length - 1;
  for (const [c, consumer] of plan.steps.entries()) {
    const halo = consumer.op === 'conv3x3';
    if (matrices[c] || (c === last && !halo)) continue;
    const tensor = consumer.input;
    const readers = plan.steps.filter((s) => s.input === tensor || s.residual === tensor);
    if (readers.length !== 1) continue;
    const writers = plan.steps.filter((s) => s.output === tensor);
    if (halo && (!halos || writers.length !== 1)) continue;
    const p = plan.steps.findIndex(
      (s, i) =>
        i > 0 &&
        i < c &&
        s.output === tensor &&
        !s.realOutput &&
        !matrices[i] &&
        (halo
          ? producerInHaloRefusal(
              { ...consumer, outChannels: consumer.params.bias.length },
              { op: s.op, outChannels: s.params.bias.length },
              s.outChannelOffset,
            ) === undefined
          : s.residual === undefined &&
            producerInConsumerRefusal(
              consumer,
              { op: s.op, outChannels: s.params.bias.length },
              s.outChannelOffset,
            ) === undefined),
    );
    if (p < 0) continue;
    if (halo) {
      // The producer's own producer (a first-kind pair) runs in the halo too: one level.
      const inner = fused.get(p);
      if (inner !== undefined && fused.has(inner)) continue;
      const producer = plan.steps[p]!;
      const buffers =
        haloKernelStorageBuffers(producer.residual !== undefined, inner !== undefined) +
        (c === last ? LAST_LAYER_EXTRA_STORAGE_BUFFERS : 0);
      if (buffers > maxStorageBuffers) continue;
    }
    fused.set(c, p);
  }
  return fused;
}

/**
 * The tensors a conv3x3 computes in its halo (`producersInConsumers` given as `producers`):
 * written and read by no kernel, so not stored.
 */
export function tensorsComputedInHalos(
  plan: Int8Plan,
  producers: ReadonlyMap<number, number>,
): Set<string> {
  return new Set(
    [...producers.keys()]
      .filter((c) => plan.steps[c]!.op === 'conv3x3')
      .map((c) => plan.steps[c]!.input),
  );
}

/**
 * The portable kernels, dot4I8Packed: the default of a network and of a frame created without a
 * choice. Whole networks on subgroup matrices were slower in both designs measured (the second,
 * padded tensors with left matrices loaded in place: v2 2.210 against 1.234 ms at 1080p, NVIDIA
 * H100, 2026-12-05); 'mixed' (v2's head on them) was the frame's default where the device had
 * exact matrices until the conv3x3's 16×8 tiles made the dot4I8Packed head faster (v2's frame
 * 0.995 against 1.021 ms at 1080p, NVIDIA H100, 2026-12-07, docs/PERFORMANCE.md).
 */
export function defaultInt8Kernels(): Int8Kernels {
  return 'dot4';
}

/**
 * Ops whose dot4I8Packed kernel computes a whole output block of a pixel in one thread (every one:
 * the direct kernels and the tiled conv3x3), so a block holding all channels can be used in registers.
 */
export const PIXEL_EPILOGUE_OPS: readonly WeightedOp[] = ['up2x2', 'conv1x1', 'conv3x3'];

/**
 * Whether the filter + blend runs in the last layer when the caller does not say (where the plan
 * and kernels allow it): yes, where it measured faster. Network v3's direct last layers (up2x2,
 * conv1x1) gained by it from the start (v3a at 1920×1080: 0.658 against 0.676 ms a frame,
 * 3840×2160: 2.106 against 2.189; NVIDIA H100, 2026-12-05); v2's tiled conv3x3 head lost then (1.368
 * against 1.349 ms) and gains since its 16×8 tiles (0.965 against 1.000 ms, 3.329 against 3.414;
 * NVIDIA H100, Dawn/Vulkan, 2026-12-07; docs/PERFORMANCE.md).
 */
export const LAST_LAYER_FILTER_BLEND_BY_DEFAULT = true;

/**
 * Whether the frame computes the features in the first layer when the caller does not say. No:
 * saving the int8 features' write and read (24 B a display pixel) did not pay for the fused
 * kernel, which computes each pixel's features in the ½-resolution layer's threads. Network v3a,
 * frame with the features pass against the fused kernel, loaded GPU, Dawn/Vulkan 580.159.04:
 * NVIDIA H200 0.607 / 1.954 ms against 0.622 / 1.971 (1920×1080 / 3840×2160); H100 0.634 / 2.023
 * against 0.640 / 2.025, and 0.631 / 2.019 against 0.636 / 2.023 in an earlier run
 * (docs/PERFORMANCE.md, 2026-12-05).
 */
export const FEATURES_FIRST_LAYER_BY_DEFAULT = false;

/**
 * Why the last step of `plan` on `kernels` cannot take a per-pixel epilogue over its outputs (a
 * kernel whose thread holds every output channel of its pixel and uses them in registers instead
 * of writing the f32 output: the KPN filter + blend, src/nn/resolve/last-layer-filter-blend.ts),
 * or undefined where it can: an up2x2, conv1x1 or conv3x3 to the f32 output, all its channels in one
 * output block, on the dot4I8Packed kernels.
 */
export function lastStepEpilogueRefusal(plan: Int8Plan, kernels: Int8Kernels): string | undefined {
  if (matrixSteps(plan, kernels).at(-1)) {
    return `the ${kernels} kernels run the last step on subgroup matrices, whose epilogue runs word by word, not a pixel's outputs per thread`;
  }
  const last = plan.steps[plan.steps.length - 1];
  if (!last?.realOutput) return 'the last step does not write the f32 output';
  if (!PIXEL_EPILOGUE_OPS.includes(last.op)) {
    return `the last step is a ${last.op} (a per-pixel epilogue needs ${PIXEL_EPILOGUE_OPS.join(' or ')})`;
  }
  const channels = last.params.bias.length;
  if (int8OutBlock(channels) < channels) {
    return `the last step's ${channels} channels take more than one output block`;
  }
  return undefined;
}

/** Ops whose dot4I8Packed kernel reads an output pixel's input pixels itself, word by word. */
export const PIXEL_PROLOGUE_OPS: readonly WeightedOp[] = ['down2x2', 'conv1x1'];

/**
 * Why the first step of `plan` on `kernels` cannot read its input from a per-pixel prologue (a
 * kernel whose thread computes the graph input of the pixels it reads, quantizes it and runs the
 * first layer, the quantized input never stored: src/nn/resolve/features-first-layer.ts), or
 * undefined where it can: the graph input quantized once, into a tensor of its own that only the
 * first step reads, a down2x2 or conv1x1 to an int8 tensor without a residual, with every output
 * channel in one block, on the dot4I8Packed kernels.
 */
export function firstStepPrologueRefusal(plan: Int8Plan, kernels: Int8Kernels): string | undefined {
  const matrices = matrixSteps(plan, kernels);
  if (matrices[0]) {
    return `the ${kernels} kernels read their input in tiles shared by the workgroup, not per pixel`;
  }
  const [first, second] = plan.steps;
  if (first && plan.steps.some((s, i) => matrices[i] && s.input === first.output)) {
    return `the first step's output is read by a subgroup-matrix kernel (padded layout)`;
  }
  if (!first || !second) return 'the network has a single step';
  if (plan.quantizes.length !== 1) {
    return `the input is quantized into ${plan.quantizes.length} tensors (a prologue writes none)`;
  }
  const q = plan.quantizes[0]!;
  if (q.outChannelOffset !== 0 || plan.tensors.get(q.output)!.channels !== plan.inputChannels) {
    return `the input is part of a wider tensor (${q.output})`;
  }
  if (first.input !== q.output) return `the first step reads ${first.input}, not the input`;
  const readers = plan.steps.filter((s) => s.input === q.output || s.residual === q.output);
  if (readers.length !== 1) {
    return `${q.output} is read by ${readers.map((s) => s.node).join(', ')}, not the first step alone`;
  }
  if (!PIXEL_PROLOGUE_OPS.includes(first.op)) {
    return `the first step is a ${first.op} (a per-pixel prologue needs ${PIXEL_PROLOGUE_OPS.join(' or ')})`;
  }
  if (first.realOutput) return 'the first step writes the f32 output';
  if (first.residual !== undefined) return `the first step adds ${first.residual}`;
  const channels = first.params.bias.length;
  if (int8OutBlock(channels) < channels) {
    return `the first step's ${channels} channels take more than one output block (each would compute the input again)`;
  }
  return undefined;
}

export interface Int8NetworkOptions {
  /** Default: `defaultInt8Kernels()`. */
  readonly kernels?: Int8Kernels;
  /**
   * The first step's input is computed by the caller's kernel (`firstStep`; where
   * `firstStepPrologueRefusal` allows it) and never stored: the quantized input is not allocated
   * (its `firstStep().input` has the shape and a placeholder buffer), and every run passes
   * `firstStepDone`.
   */
  readonly firstStepInputComputed?: boolean;
  /**
   * Benchmarks only: every matrix step with a part of its kernel left out (MatrixBisect); the
   * outputs are wrong. Needs kernels on real subgroup matrices.
   */
  readonly matrixBisect?: MatrixBisect;
  /**
   * Benchmarks only: every conv3x3 on dot4I8Packed with a part of its kernel left out
   * (Conv3x3Bisect, ./ops/int8/conv3x3.ts); the outputs are wrong.
   */
  readonly conv3x3Bisect?: Conv3x3Bisect;
  /**
   * Benchmarks only: every direct op (conv1x1, down2x2, up2x2) on dot4I8Packed that runs its own
   * kernel with a part of it left out (DirectBisect, ./ops/int8/direct.ts); the outputs are wrong.
   */
  readonly directBisect?: DirectBisect;
  /**
   * Benchmarks only: every direct op (conv1x1, down2x2, up2x2) on dot4I8Packed that runs its own
   * kernel on ./ops/int8/direct-rows.ts's, this many output pixels a thread; the same outputs.
   */
  readonly directRows?: DirectRows;
  /**
   * Benchmarks only: every direct op on dot4I8Packed that runs its own kernel, and whose blocks
   * are all real channels, on ./ops/int8/direct-split.ts's, each pixel's block split over this
   * many threads; the same outputs.
   */
  readonly directSplit?: DirectSplit;
  /** Benchmarks only: the matrix kernels built with another tiling (MatrixTiling; same outputs). */
  readonly matrixTiling?: MatrixTiling;
  /**
   * Output pixels from which a conv3x3 on dot4I8Packed runs on the larger tile (`conv3x3Tile`,
   * ./ops/int8/conv3x3.ts; default CONV3X3_LARGE_TILE_FROM; 0: always, Infinity: never). Tests and
   * benchmarks only (same outputs).
   */
  readonly conv3x3LargeTileFrom?: number;
  /**
   * Whether consumers compute their producers' outputs where they can (`producersInConsumers`).
   * Default true; false runs every step as its own kernel (tests and benchmarks compare the two).
   */
  readonly producersInConsumers?: boolean;
  /**
   * Whether conv3x3s among them compute their input in their halos (`producersInConsumers`'
   * `halos`). Default true; tests and benchmarks only (the same outputs).
   */
  readonly producersInHalos?: boolean;
}

/** The kernels of `options` (a clear error where the device lacks them) and the computed input. */
function checkedOptions(device: GPUDevice, plan: Int8Plan, options: Int8NetworkOptions) {
  const kernels = options.kernels ?? defaultInt8Kernels();
  if (needsSubgroupMatrices(kernels) && !subgroupMatricesUsable(device)) {
    throw new Error(
      `int8 network: kernels "${kernels}" need the device feature chromium-experimental-subgroup-matrix with i8 16×16×32 matrices and 32-lane subgroups; use "dot4"`,
    );
  }
  const inputComputed = options.firstStepInputComputed === true;
  const refusal = inputComputed ? firstStepPrologueRefusal(plan, kernels) : undefined;
  if (refusal !== undefined) {
    throw new RangeError(`int8 network "${plan.name}": firstStepInputComputed, but ${refusal}`);
  }
  return { kernels, inputComputed };
}

/** The first step with its tensors of one size (`Int8Network.firstStep`). */
function firstStepAt(
  plan: Int8Plan,
  weights: Int8OpWeights,
  int8: ReadonlyMap<string, GpuInt8Tensor>,
): Int8FirstStep {
  const step = plan.steps[0]!;
  if (step.realOutput) {
    throw new RangeError(`int8 network "${plan.name}": the first step writes the f32 output`);
  }
  const residual = step.residual === undefined ? undefined : int8.get(step.residual)!;
  return {
    step,
    weights,
    input: int8.get(step.input)!,
    inputScale: plan.tensors.get(step.input)!.scale,
    targets: {
      output: int8.get(step.output)!,
      outChannelOffset: step.outChannelOffset,
      ...(residual ? { residual } : {}),
    },
  };
}

/** A concat stored without one part: that part's first channel and its channels. */
export interface StoredWithoutPart {
  readonly start: number;
  readonly channels: number;
}

/**
 * The concats whose part a consumer computes (`producersInConsumers`, given as `producers`):
 * nobody writes that part, so the network stores them without it, and the other parts' writes
 * fill whole 32-byte sectors (network v2's features into `join`: 120.6 against 152.8 µs written
 * into the 5-word pixels, NVIDIA H100, docs/PERFORMANCE.md). None where the input is staged for
 * the matrix kernels' pad passes, which copy whole concats.
 */
export function concatPartsNotStored(
  plan: Int8Plan,
  kernels: Int8Kernels,
  producers: ReadonlyMap<number, number> = producersInConsumers(plan, kernels),
): Map<string, StoredWithoutPart> {
  const pitches = matrixPitches(plan, kernels);
  if (plan.quantizes.some((q) => pitches?.has(q.output))) return new Map();
  const halos = tensorsComputedInHalos(plan, producers);
  return new Map(
    [...producers]
      .filter(([c]) => !halos.has(plan.steps[c]!.input))
      .map(([c, p]) => [
        plan.steps[c]!.input,
        { start: plan.steps[p]!.outChannelOffset, channels: plan.steps[p]!.params.bias.length },
      ]),
  );
}

/**
 * The plan's int8 tensors at one input size: zeroed, in the padded layout for the matrix kernels
 * (their borders and padding stay zero: no tensor shares a buffer with another), a placeholder
 * for those `notStored` (the input a caller's first-step kernel computes, the tensors computed in
 * conv3x3s' halos), and the concats in
 * `partsNotStored` with the channels of the other parts alone.
 */
function allocateTensors(
  device: GPUDevice,
  plan: Int8Plan,
  height: number,
  width: number,
  pitches: ReadonlyMap<string, number> | undefined,
  notStored: ReadonlySet<string>,
  partsNotStored: ReadonlyMap<string, StoredWithoutPart>,
): Map<string, GpuInt8Tensor> {
  const int8 = new Map<string, GpuInt8Tensor>();
  for (const [name, t] of plan.tensors) {
    const channels = t.channels - (partsNotStored.get(name)?.channels ?? 0);
    const shape = { channels, height: height / t.divisor, width: width / t.divisor };
    const label = `int8 ${name}`;
    const pitch = pitches?.get(name);
    if (pitch !== undefined) {
      int8.set(name, createPaddedInt8Tensor(device, shape, label, pitch));
      continue;
    }
    const placeholder = { channels: 4, height: 1, width: 1 };
    const stored = notStored.has(name) ? placeholder : shape;
    int8.set(name, { ...createGpuInt8Tensor(device, stored, label), ...shape });
  }
  return int8;
}

/**
 * Bytes per pixel of each padded tensor (./ops/int8/padded.ts): every tensor where every step
 * runs on the matrix kernels, the inputs of the matrix steps on 'mixed' kernels; the narrow pitch
 * where only down2x2 kernels read it, else its channels rounded up to 32 bytes. Undefined on the
 * dot4I8Packed kernels (every tensor in the standard layout).
 */
export function matrixPitches(
  plan: Int8Plan,
  kernels: Int8Kernels = 'subgroup-matrix',
): Map<string, number> | undefined {
  const matrices = matrixSteps(plan, kernels);
  if (!matrices.includes(true)) return undefined;
  const all = matrices.every(Boolean);
  const padded = new Set(plan.steps.filter((_, i) => matrices[i]).map((s) => s.input));
  return new Map(
    [...plan.tensors]
      .filter(([name]) => all || padded.has(name))
      .map(([name, t]) => {
        const readers = plan.steps.filter((s) => s.input === name);
        const narrow = readers.length > 0 && readers.every((s) => s.op === 'down2x2');
        return [name, paddedPitchBytes(t.channels, narrow)];
      }),
  );
}

/** Standard-layout twins of the tensors the input is quantized into (matrix kernels). */
function stagingTensors(
  device: GPUDevice,
  plan: Int8Plan,
  int8: ReadonlyMap<string, GpuInt8Tensor>,
): Map<string, GpuInt8Tensor> {
  const names = [...new Set(plan.quantizes.map((q) => q.output))];
  return new Map(
    names.map((name) => [name, createGpuInt8Tensor(device, int8.get(name)!, `int8 ${name} in`)]),
  );
}

/** The pad passes of the input's channels from the staging tensors into the padded ones. */
function padDispatches(
  device: GPUDevice,
  plan: Int8Plan,
  staging: ReadonlyMap<string, GpuInt8Tensor>,
  int8: ReadonlyMap<string, GpuInt8Tensor>,
): LabelledDispatch[] {
  return plan.quantizes.map((q) => {
    const to = int8.get(q.output)!;
    if (!isPadded(to)) throw new Error(`int8 network: ${q.output} is not padded`);
    return {
      label: `pad ${q.output}`,
      dispatch: prepareInt8Pad(
        device,
        staging.get(q.output)!,
        to,
        q.outChannelOffset,
        plan.inputChannels,
      ),
    };
  });
}

/** The right matrices of the steps that run on the matrix kernels (undefined for the others). */
function uploadMatrixSteps(
  device: GPUDevice,
  plan: Int8Plan,
  kernels: Int8Kernels,
  pitches: ReadonlyMap<string, number> | undefined,
  weights: readonly Int8OpWeights[],
  bisect: MatrixBisect | undefined,
  tiling: MatrixTiling | undefined,
): (Int8MatrixWeights | undefined)[] {
  const onMatrices = matrixSteps(plan, kernels);
  const multiply = needsSubgroupMatrices(kernels) ? 'subgroup-matrix' : 'emulated';
  return weights.map((w, i) =>
    onMatrices[i]
      ? uploadMatrixWeights(device, w, multiply, pitches!.get(plan.steps[i]!.input), bisect, tiling)
      : undefined,
  );
}

/** What a network's consumers computing their producers change (`producersInConsumers`). */
interface ProducerFusions {
  /** Consumer step → the producer step its kernel computes. */
  readonly producers: ReadonlyMap<number, number>;
  /** The producers, never dispatched themselves. */
  readonly computedByConsumer: ReadonlySet<number>;
  readonly partsNotStored: ReadonlyMap<string, StoredWithoutPart>;
  /** The tensors conv3x3s compute in their halos, never stored. */
  readonly computedInHalos: ReadonlySet<string>;
  /** A write at channel `offset` of tensor `name`, in the tensor as stored. */
  storedOffset(name: string, offset: number): number;
}

function producerFusions(
  plan: Int8Plan,
  kernels: Int8Kernels,
  options: Int8NetworkOptions,
  maxStorageBuffers: number,
): ProducerFusions {
  const producers =
    options.producersInConsumers !== false
      ? producersInConsumers(plan, kernels, {
          halos: options.producersInHalos !== false,
          maxStorageBuffers,
        })
      : new Map<number, number>();
  const partsNotStored = concatPartsNotStored(plan, kernels, producers);
  return {
    producers,
    computedByConsumer: new Set(producers.values()),
    partsNotStored,
    computedInHalos: tensorsComputedInHalos(plan, producers),
    storedOffset(name, offset) {
      const part = partsNotStored.get(name);
      return part === undefined || offset < part.start ? offset : offset - part.channels;
    },
  };
}

/**
 * What the kernel of the consumer computing step `p` needs of it (`producersInConsumers`): its
 * weights, input and residual tensors, and its own producer if it has one.
 */
function producerAt(
  plan: Int8Plan,
  fusions: Pick<ProducerFusions, 'producers' | 'partsNotStored'>,
  weights: readonly Int8OpWeights[],
  int8: ReadonlyMap<string, GpuInt8Tensor>,
  p: number,
  /** The consumer's input: a concat the consumer reads as stored without the producer's part. */
  consumerInput: string,
): Int8Producer {
  const { producers, partsNotStored } = fusions;
  const step = plan.steps[p]!;
  const inner = producers.get(p);
  return {
    weights: weights[p]!,
    input: int8.get(step.input)!,
    outChannelOffset: step.outChannelOffset,
    partNotStored: partsNotStored.has(consumerInput),
    ...(step.residual !== undefined ? { residual: int8.get(step.residual)! } : {}),
    ...(inner !== undefined
      ? { producer: producerAt(plan, fusions, weights, int8, inner, step.input) }
      : {}),
  };
}

/**
 * Step i's dispatch with the network's weights and the tensors of one size (`output`: the f32
 * output, allocated on first use); a consumer computing its producers is labelled by all.
 */
function stepDispatch(
  device: GPUDevice,
  plan: Int8Plan,
  fusions: ProducerFusions,
  uploaded: {
    readonly weights: readonly Int8OpWeights[];
    readonly matrices: readonly (Int8MatrixWeights | undefined)[];
    readonly int8: ReadonlyMap<string, GpuInt8Tensor>;
  },
  i: number,
  output: () => GpuTensor,
): LabelledDispatch {
  const { producers, partsNotStored, storedOffset } = fusions;
  const { weights, matrices, int8 } = uploaded;
  const step = plan.steps[i]!;
  const residual = step.residual === undefined ? undefined : int8.get(step.residual)!;
  const p = producers.get(i);
  const input = int8.get(step.input)!;
  const partNotStored = partsNotStored.has(step.input);
  return {
    label: fusedLabel(plan, producers, i),
    dispatch: prepareInt8Op(
      device,
      weights[i]!,
      // A concat stored without the part is read as the whole concat by the kernel computing it.
      partNotStored ? { ...input, channels: plan.tensors.get(step.input)!.channels } : input,
      {
        output: step.realOutput ? output() : int8.get(step.output)!,
        outChannelOffset: storedOffset(step.output, step.outChannelOffset),
        ...(residual ? { residual } : {}),
      },
      matrices[i],
      p === undefined ? undefined : producerAt(plan, fusions, weights, int8, p, step.input),
    ),
  };
}

/** Step i's label: its node's, after those of the producers its kernel computes. */
export function fusedLabel(
  plan: Int8Plan,
  producers: ReadonlyMap<number, number>,
  i: number,
): string {
  const p = producers.get(i);
  const node = plan.steps[i]!.node;
  return p === undefined ? node : `${fusedLabel(plan, producers, p)} + ${node}`;
}

/** Each step's weights on the GPU, with the options' bisections and the conv3x3s' tile threshold. */
function uploadStepWeights(
  device: GPUDevice,
  plan: Int8Plan,
  options: Int8NetworkOptions,
): Int8OpWeights[] {
  const { conv3x3Bisect, conv3x3LargeTileFrom, directBisect, directRows, directSplit } = options;
  return plan.steps.map((step) => {
    const w = uploadInt8Op(device, step.op, step.params, step.inChannels, `int8 ${step.node}`);
    if (step.op !== 'conv3x3') {
      if (!directBisect && directRows === undefined && directSplit === undefined) return w;
      return {
        ...w,
        ...(directBisect ? { directBisect } : {}),
        ...(directRows !== undefined ? { directRows } : {}),
        ...(directSplit !== undefined ? { directSplit } : {}),
      };
    }
    return {
      ...w,
      ...(conv3x3Bisect ? { conv3x3Bisect } : {}),
      ...(conv3x3LargeTileFrom !== undefined ? { conv3x3LargeTileFrom } : {}),
    };
  });
}

/** A quantization pass's label, as per-node timings and `describeInt8Plan` name it. */
export const quantizeLabel = (quantizes: Int8Plan['quantizes']): string =>
  `quantize ${quantizes.map((q) => q.output).join(' + ')}`;

/**
 * Whether the input's copies are written by one pass (./ops/int8/quantize-copies.ts): at most
 * MAX_INT8_COPIES of them and none padded (read by a matrix kernel); else one pass a copy.
 */
export function quantizeInOnePass(plan: Int8Plan, kernels: Int8Kernels): boolean {
  const pitches = matrixPitches(plan, kernels);
  return (
    plan.quantizes.length > 0 &&
    plan.quantizes.length <= MAX_INT8_COPIES &&
    !plan.quantizes.some((q) => pitches?.has(q.output))
  );
}

/** The input's quantizations into `int8` (one size's tensors), as `quantizeInOnePass` says. */
function quantizeDispatches(
  device: GPUDevice,
  plan: Int8Plan,
  kernels: Int8Kernels,
  fusions: Pick<ProducerFusions, 'storedOffset'>,
  int8: ReadonlyMap<string, GpuInt8Tensor>,
  input: GpuTensor,
): LabelledDispatch[] {
  const copies = plan.quantizes.map((q) => ({
    output: int8.get(q.output)!,
    scale: q.scale,
    outChannelOffset: fusions.storedOffset(q.output, q.outChannelOffset),
  }));
  if (quantizeInOnePass(plan, kernels)) {
    const dispatch = prepareQuantizeCopies(device, input, copies);
    return [{ label: quantizeLabel(plan.quantizes), dispatch }];
  }
  return copies.map((c, k) => ({
    label: quantizeLabel([plan.quantizes[k]!]),
    dispatch: prepareQuantizeInt8(device, input, c.scale, c.output, c.outChannelOffset),
  }));
}

/** Uploads the plan's weights; tensors follow the first input size. */
export function createInt8Network(
  device: GPUDevice,
  plan: Int8Plan,
  options: Int8NetworkOptions = {},
): Int8Network {
  const { kernels, inputComputed } = checkedOptions(device, plan, options);
  const fusions = producerFusions(
    plan,
    kernels,
    options,
    device.limits.maxStorageBuffersPerShaderStage,
  );
  const { computedByConsumer, partsNotStored, storedOffset } = fusions;
  /** The int8 tensors nobody stores: computed in halos, and the first step's input if computed. */
  const notStored = new Set(fusions.computedInHalos);
  if (inputComputed) notStored.add(plan.steps[0]!.input);
  const pitches = matrixPitches(plan, kernels);
  /** Whether a quantized input is padded: the features pass then writes a staging tensor. */
  const paddedInput = plan.quantizes.some((q) => pitches?.has(q.output));
  const weights = uploadStepWeights(device, plan, options);
  const matrices = uploadMatrixSteps(
    device,
    plan,
    kernels,
    pitches,
    weights,
    options.matrixBisect,
    options.matrixTiling,
  );
  const largestDivisor = Math.max(...[...plan.tensors.values()].map((t) => t.divisor));
  let sized: SizedTensors | undefined;

  const freePrepared = (s: SizedTensors) => {
    const p = s.prepared;
    const prepared = p ? [...p.quantizes, ...p.steps, ...(p.last ? [p.last] : [])] : [];
    for (const step of prepared) step.dispatch.destroy();
    s.prepared = undefined;
  };
  const freeSized = () => {
    if (!sized) return;
    freePrepared(sized);
    for (const pad of sized.pads ?? []) pad.dispatch.destroy();
    for (const t of [...sized.int8.values(), ...(sized.staging?.values() ?? [])]) {
      t.buffer.destroy();
    }
    sized.output?.buffer.destroy();
    sized = undefined;
  };
  const tensorsFor = (height: number, width: number): SizedTensors => {
    if (sized && sized.height === height && sized.width === width) return sized;
    if (height % largestDivisor !== 0 || width % largestDivisor !== 0) {
      throw new RangeError(
        `int8 network "${plan.name}": input ${width}x${height} is not a multiple of ${largestDivisor}`,
      );
    }
    freeSized();
    const int8 = allocateTensors(device, plan, height, width, pitches, notStored, partsNotStored);
    sized = { height, width, int8 };
    return sized;
  };
  const outputOf = (s: SizedTensors): GpuTensor =>
    (s.output ??= createGpuTensor(
      device,
      { channels: plan.outputChannels, height: s.height, width: s.width },
      `int8 ${plan.output}`,
    ));

  /** Step i's dispatch at one size. */
  const prepareStep = (s: SizedTensors, i: number): LabelledDispatch =>
    stepDispatch(device, plan, fusions, { weights, matrices, int8: s.int8 }, i, () => outputOf(s));

  /**
   * The quantizations of the input and one dispatch per step but the last, at one size (neither
   * the quantization nor the first step where the caller computes the first step's input).
   */
  const prepare = (s: SizedTensors, input: GpuTensor) => ({
    input: input.buffer,
    quantizes: inputComputed
      ? []
      : quantizeDispatches(device, plan, kernels, fusions, s.int8, input),
    steps: plan.steps
      .slice(0, -1)
      .flatMap((_, i) =>
        (inputComputed && i === 0) || computedByConsumer.has(i) ? [] : [prepareStep(s, i)],
      ),
  });

  /** Records the run; the last step too unless `withoutLast`. */
  const record = (
    encoder: GPUCommandEncoder,
    input: GpuTensor,
    options: Int8RunOptions,
    withoutLast: boolean,
  ): SizedTensors => {
    const { timer, inputQuantized, firstStepDone } = options;
    if (inputComputed && !firstStepDone) {
      throw new RangeError(
        `int8 network "${plan.name}": its first step's input is computed by the caller (firstStepInputComputed); run with firstStepDone`,
      );
    }
    const s = tensorsFor(input.height, input.width);
    if (s.prepared?.input !== input.buffer) {
      freePrepared(s);
      s.prepared = prepare(s, input);
    }
    const p = s.prepared;
    if (!withoutLast) p.last ??= prepareStep(s, plan.steps.length - 1);
    if (firstStepDone && plan.steps.length < 2) {
      throw new RangeError(`int8 network "${plan.name}": firstStepDone needs a second step`);
    }
    // On the matrix kernels, a quantized input written in the standard layout is padded first.
    if (inputQuantized && !firstStepDone && s.staging) {
      s.pads ??= padDispatches(device, plan, s.staging, s.int8);
    }
    const dispatches = [
      ...(inputQuantized && !firstStepDone && s.staging ? s.pads! : []),
      ...(inputQuantized || firstStepDone ? [] : p.quantizes),
      ...(firstStepDone && !inputComputed ? p.steps.slice(1) : p.steps),
      ...(withoutLast ? [] : [p.last!]),
    ];
    let pass = encoder.beginComputePass({ label: `int8 ${plan.name}` });
    for (const { label, dispatch } of dispatches) {
      if (timer) {
        pass.end();
        pass = encoder.beginComputePass({ label, timestampWrites: timer.computePass(label) });
      }
      dispatch.encode(pass);
    }
    pass.end();
    return s;
  };

  return {
    plan,
    kernels,
    run(encoder, input, options = {}) {
      return outputOf(record(encoder, input, options, false));
    },
    runWithoutLastStep(encoder, input, options = {}) {
      record(encoder, input, options, true);
    },
    inputQuantizations(height, width) {
      if (inputComputed) {
        throw new RangeError(
          `int8 network "${plan.name}": no input quantizations, the first step's input is computed (firstStepInputComputed)`,
        );
      }
      const s = tensorsFor(height, width);
      if (paddedInput) s.staging ??= stagingTensors(device, plan, s.int8);
      const tensors = s.staging ?? s.int8;
      return plan.quantizes.map((q) => ({
        output: tensors.get(q.output)!,
        scale: q.scale,
        outChannelOffset: storedOffset(q.output, q.outChannelOffset),
      }));
    },
    lastStep(height, width) {
      const s = tensorsFor(height, width);
      const i = plan.steps.length - 1;
      const step = plan.steps[i]!;
      const p = fusions.producers.get(i);
      return {
        step,
        weights: weights[i]!,
        input: s.int8.get(step.input)!,
        ...(p !== undefined
          ? { producer: producerAt(plan, fusions, weights, s.int8, p, step.input) }
          : {}),
      };
    },
    firstStep(height, width) {
      const first = firstStepAt(plan, weights[0]!, tensorsFor(height, width).int8);
      const offset = storedOffset(first.step.output, first.step.outChannelOffset);
      return { ...first, targets: { ...first.targets, outChannelOffset: offset } };
    },
    memoryBytes() {
      let bytes = 0;
      for (const w of weights) bytes += w.weightBuffer.size + w.biasBuffer.size;
      for (const m of matrices) bytes += m?.buffer.size ?? 0;
      for (const t of sized?.int8.values() ?? []) bytes += t.buffer.size;
      for (const t of sized?.staging?.values() ?? []) bytes += t.buffer.size;
      return bytes + (sized?.output?.buffer.size ?? 0);
    },
    destroy() {
      freeSized();
      for (const w of weights) {
        w.weightBuffer.destroy();
        w.biasBuffer.destroy();
      }
      for (const m of matrices) m?.buffer.destroy();
    },
  };
}
