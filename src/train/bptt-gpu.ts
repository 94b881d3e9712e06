/**
 * BPTT over a clip entirely on the GPU: the reprojection, the neural frame (features, filter,
 * blend) and its backward (`createNeuralFrameBackward`), the network (its runner, its
 * backward) and the frame loss (./losses/frame-loss.ts). One command buffer per clip, one read-back
 * (the loss values). Exposure changes rescale the history as in the upscaler. Network activations
 * are not kept per frame: the backward of frame t re-runs the network forward on frame t's stored
 * features. Same clip loss and gradients as the CPU
 * reference (./bptt-cpu.ts); the tests compare them.
 */
import type { GraphDescription } from '../core/graph.ts';
import type { Size } from '../core/quality.ts';
import { createGpuImage, writeGpuImage, type GpuImage } from '../gpu/gpu-image.ts';
import { encodeReproject } from '../gpu/passes/reproject.ts';
import { encodeFeatures } from '../nn/resolve/features.ts';
import { encodeKpnFilter } from '../nn/resolve/kpn-filter.ts';
import { encodeBlend } from '../nn/resolve/blend.ts';
import {
  createNeuralFrameBackward,
  type NeuralFrameBackward,
} from '../nn/backward/neural-frame.ts';
import { encodeGradRoute } from '../nn/backward/accumulate.ts';
import { FEATURE_CHANNELS, paddedSize, type NeuralFrameParams } from '../core/neural-frame.ts';
import { createGpuTensor, type GpuTensor } from '../nn/tensor.ts';
import type { GpuNetworkRun } from '../nn/network.ts';
import { clipExposureSteps, type ClipFrameCpu } from './bptt-cpu.ts';
import type { TrainingClip } from './data/clip-source.ts';
import { encodePrepare } from '../gpu/passes/prepare.ts';
import { encodeTonemapReference } from './losses/tonemap-reference.ts';
import type { ClipGradientOptions } from './bptt.ts';
import { createFrameLoss, type FrameLoss } from './losses/frame-loss.ts';
import { scaleLossWeights, type LossValues, type LossWeights } from './losses/frame-loss-cpu.ts';
import { TRAINER_KEPT_SHAPES, type TrainableNetwork } from './trainable.ts';

/** GPU buffers of one clip frame. */
interface FrameSlot {
  readonly color: GpuImage;
  readonly motion: GpuImage;
  readonly reference: GpuImage;
  readonly reprojected: { history: GpuImage; state: GpuImage };
  readonly features: GpuTensor;
  readonly filtered: GpuImage;
  readonly output: GpuImage;
  readonly state: GpuImage;
  /** dLoss/d(output), filled by the loss and by frame t + 1's backward. */
  readonly dOutput: GpuImage;
}

/** Clip training on the GPU for one clip shape (frames, display and render size). */
export interface GpuClipTrainer {
  /**
   * Leaves dLoss/d(parameter) in `trainable.grads`; returns the clip loss and its frames'. All of
   * the clip's GPU work is submitted before the call returns: the promise only waits for the loss
   * to be read back, so a caller may prepare the next clip meanwhile (training keeps two steps in
   * flight).
   */
  gradient(
    clip: TrainerClip,
    options: ClipGradientOptions,
  ): Promise<{ loss: number; frames: (LossValues | undefined)[] }>;
  /**
   * Forward only (validation). `observe`, if given, records extra work after each frame's network
   * run, while its activations are live (activation calibration).
   */
  loss(
    clip: TrainerClip,
    options: ClipGradientOptions,
    observe?: NetworkObserver,
  ): Promise<{ loss: number; frames: (LossValues | undefined)[] }>;
  destroy(): void;
}

interface Shape {
  readonly frames: number;
  readonly display: Size;
  readonly render: Size;
}

/** What the forward needs to know of a clip frame besides its images. */
interface FrameMeta {
  readonly params: NeuralFrameParams;
  readonly display: Size;
  readonly render: Size;
  /** The reprojection's rescale of the history (exposure change; 1: none). */
  readonly historyScale: number;
}

/** A clip as the trainer takes it: per-frame metadata, and how to fill the frame slots. */
interface ClipInput {
  readonly frames: readonly FrameMeta[];
  load(encoder: GPUCommandEncoder, slots: readonly FrameSlot[]): void;
}

/** Records work reading a frame's network run (`run.activations`) into `encoder`. */
export type NetworkObserver = (
  encoder: GPUCommandEncoder,
  run: GpuNetworkRun,
  frame: number,
) => void;

/** Either clip form: the CPU references' (prepared on the CPU), or the clip sampler's GPU images. */
export type TrainerClip = readonly ClipFrameCpu[] | TrainingClip;

function shapeOf(frames: readonly FrameMeta[]): Shape {
  return { frames: frames.length, display: frames[0]!.display, render: frames[0]!.render };
}

/** CPU-prepared frames: written to the slots with the queue. */
function cpuInput(device: GPUDevice, clip: readonly ClipFrameCpu[]): ClipInput {
  return {
    frames: clip.map((f) => ({
      params: f.params,
      display: [f.width, f.height],
      render: [f.prepared.color.width, f.prepared.color.height],
      historyScale: f.historyScale,
    })),
    load(_encoder, slots) {
      clip.forEach((frame, t) => {
        const slot = slots[t]!;
        writeGpuImage(device, slot.color, frame.prepared.color);
        writeGpuImage(device, slot.motion, frame.prepared.motion);
        device.queue.writeBuffer(
          slot.reference.buffer,
          0,
          frame.reference as Float32Array<ArrayBuffer>,
        );
      });
    },
  };
}

/**
 * GPU clip frames (the clip sampler): prepared by the prepare pass and the reference tonemapped on
 * the GPU — no read-back, no CPU work per pixel. Frame 0 is a reset (no history before the clip).
 */
function gpuInput(device: GPUDevice, clip: TrainingClip): ClipInput {
  const { renderSize, displaySize, depthInverted } = clip.header;
  const exposures = clipExposureSteps(clip.frames);
  return {
    frames: clip.frames.map((f, t) => ({
      params: { jitter: f.params.jitter, reset: f.params.reset || t === 0 },
      display: [displaySize[0], displaySize[1]],
      render: [renderSize[0], renderSize[1]],
      historyScale: exposures[t]!.historyScale,
    })),
    load(encoder, slots) {
      const pass = encoder.beginComputePass({ label: 'clip prepare' });
      clip.frames.forEach(({ params, gpu }, t) => {
        const slot = slots[t]!;
        // As prepareClipCpu: the previous frame's depth whenever there is one.
        const previousDepth = t > 0 ? clip.frames[t - 1]!.gpu.depth : undefined;
        encodePrepare(
          device,
          pass,
          {
            color: gpu.color,
            depth: gpu.depth,
            motion: gpu.motion,
            reactive: gpu.reactive,
            ...(previousDepth ? { previousDepth } : {}),
          },
          {
            exposure: exposures[t]!.scale,
            motionScale: params.motionScale,
            depthInverted,
            cameraNear: params.cameraNear,
            cameraFar: params.cameraFar,
          },
          { color: slot.color, motion: slot.motion },
        );
        encodeTonemapReference(device, pass, gpu.reference, exposures[t]!.scale, slot.reference);
      });
      pass.end();
    },
  };
}

/**
 * Creates the clip trainer of `trainable`: buffers per clip shape, the TRAINER_KEPT_SHAPES used
 * last kept (training alternates render sizes; reallocating them every clip, with the network's
 * plans that bind them, was a tenth of a step's CPU time).
 */
export function createGpuClipTrainer(
  device: GPUDevice,
  trainable: TrainableNetwork,
): GpuClipTrainer {
  /** Buffers per shape, least recently used first. */
  const kept: ClipBuffers[] = [];
  const buffersFor = (frames: readonly FrameMeta[]): ClipBuffers => {
    const shape = shapeOf(frames);
    const at = kept.findIndex((b) => sameShape(b.shape, shape));
    const buffers =
      at >= 0 ? kept.splice(at, 1)[0]! : allocateClipBuffers(device, trainable.graph, shape);
    kept.push(buffers);
    if (kept.length > TRAINER_KEPT_SHAPES) kept.shift()!.destroy();
    return buffers;
  };
  const inputOf = (clip: TrainerClip): ClipInput =>
    'header' in clip ? gpuInput(device, clip) : cpuInput(device, clip);

  return {
    async gradient(source, options) {
      const input = inputOf(source);
      const clip = buffersFor(input.frames);
      const encoder = encodeClipForward(device, trainable, clip, input, options);
      encodeClipBackward(device, trainable, clip, input.frames, encoder, options);
      device.queue.submit([encoder.finish()]);
      return readClipLosses(clip, input.frames, options.warmup);
    },
    async loss(source, options, observe) {
      const input = inputOf(source);
      const clip = buffersFor(input.frames);
      const encoder = encodeClipForward(device, trainable, clip, input, options, observe);
      device.queue.submit([encoder.finish()]);
      return readClipLosses(clip, input.frames, options.warmup);
    },
    destroy() {
      for (const buffers of kept.splice(0)) buffers.destroy();
    },
  };
}

/** Every GPU buffer the trainer needs for clips of one shape. */
interface ClipBuffers {
  readonly shape: Shape;
  readonly slots: readonly FrameSlot[];
  /** The history and state before frame 0. */
  readonly zeros: { readonly history: GpuImage; readonly state: GpuImage };
  /** dLoss/d(state), carried from frame t to frame t − 1. */
  readonly dState: GpuImage;
  readonly backward: NeuralFrameBackward;
  readonly frameLoss: FrameLoss;
  destroy(): void;
}

function sameShape(a: Shape, b: Shape): boolean {
  return (
    a.frames === b.frames &&
    a.display.join() === b.display.join() &&
    a.render.join() === b.render.join()
  );
}

function allocateClipBuffers(
  device: GPUDevice,
  graph: GraphDescription,
  shape: Shape,
): ClipBuffers {
  const images: GpuImage[] = [];
  const image = (size: Size, label: string) => {
    const g = createGpuImage(device, size[0], size[1], label);
    images.push(g);
    return g;
  };
  const [pw, ph] = paddedSize(shape.display);
  const slots: FrameSlot[] = [];
  for (let t = 0; t < shape.frames; t++) {
    const d = (label: string) => image(shape.display, `clip ${t} ${label}`);
    slots.push({
      color: image(shape.render, `clip ${t} color`),
      motion: image(shape.render, `clip ${t} motion`),
      reference: d('reference'),
      reprojected: { history: d('reprojected history'), state: d('reprojected state') },
      features: createGpuTensor(device, { channels: FEATURE_CHANNELS, height: ph, width: pw }),
      filtered: d('filtered'),
      output: d('output'),
      state: d('state'),
      dOutput: d('d output'),
    });
  }
  const zeros = {
    history: image(shape.display, 'no history'),
    state: image(shape.display, 'no state'),
  };
  const dState = image(shape.display, 'd state');
  const backward = createNeuralFrameBackward(device, graph, shape.display);
  const frameLoss = createFrameLoss(device, shape.display[0], shape.display[1], shape.frames);
  return {
    shape,
    slots,
    zeros,
    dState,
    backward,
    frameLoss,
    destroy() {
      for (const image of images) image.buffer.destroy();
      for (const slot of slots) slot.features.buffer.destroy();
      backward.destroy();
      frameLoss.destroy();
    },
  };
}

/** Loads the clip and records its forward and loss; returns the command encoder. */
function encodeClipForward(
  device: GPUDevice,
  trainable: TrainableNetwork,
  buffers: ClipBuffers,
  input: ClipInput,
  options: ClipGradientOptions,
  observe?: NetworkObserver,
): GPUCommandEncoder {
  const { slots, dState } = buffers;
  const weights = frameLossWeights(input.frames.length, options);
  const encoder = device.createCommandEncoder({ label: 'clip' });
  input.load(encoder, slots);
  for (const slot of slots) encoder.clearBuffer(slot.dOutput.buffer);
  encoder.clearBuffer(dState.buffer);
  input.frames.forEach((frame, t) => {
    const slot = slots[t]!;
    const previous =
      t > 0 ? { history: slots[t - 1]!.output, state: slots[t - 1]!.state } : buffers.zeros;
    let pass = encoder.beginComputePass({ label: `clip frame ${t} features` });
    encodeReproject(device, pass, slot.motion, previous, frame.params.reset, slot.reprojected, {
      historyScale: frame.historyScale,
    });
    encodeFeatures(
      device,
      pass,
      { color: slot.color, motion: slot.motion, ...slot.reprojected },
      frame.params,
      slot.features,
    );
    pass.end();
    const run = trainable.network.run(encoder, slot.features);
    observe?.(encoder, run, t);
    const raw = run.output;
    pass = encoder.beginComputePass({ label: `clip frame ${t} filter, blend, loss` });
    encodeKpnFilter(
      device,
      pass,
      raw,
      slot.color,
      frame.params.jitter,
      slot,
      trainable.graph.coverageBlend ?? 0,
    );
    encodeBlend(
      device,
      pass,
      slot.filtered,
      slot.reprojected.history,
      {
        color: slot.color,
        raw,
        reset: frame.params.reset,
        historyGuard: trainable.graph.historyGuard,
      },
      slot.output,
    );
    if (t >= options.warmup) {
      encodeFrameLoss(pass, buffers, t, frame, weights, options.staleOffscreen);
    }
    pass.end();
  });
  return encoder;
}

/** The loss weights of one frame: the clip's weights spread over the frames after the warm-up. */
function frameLossWeights(frames: number, options: ClipGradientOptions): LossWeights {
  const lossFrames = frames - options.warmup;
  if (lossFrames < 1) {
    throw new RangeError(
      `clip of ${frames} frames has no frame after ${options.warmup} warm-up frames`,
    );
  }
  return scaleLossWeights(options.weights, 1 / lossFrames);
}

/** Records frame t's loss, accumulating its gradient into frame t's (and t − 1's) dOutput. */
function encodeFrameLoss(
  pass: GPUComputePassEncoder,
  { slots, frameLoss }: ClipBuffers,
  t: number,
  frame: FrameMeta,
  weights: LossWeights,
  staleOffscreen = 1,
): void {
  const slot = slots[t]!;
  const prior = slots[t - 1];
  frameLoss.encode(
    pass,
    {
      output: slot.output,
      reference: slot.reference,
      gradOutput: slot.dOutput,
      accumulate: true,
      ...(prior
        ? {
            previous: {
              output: prior.output,
              reference: prior.reference,
              gradOutput: prior.dOutput,
              staleness: {
                motion: slot.motion,
                reset: frame.params.reset,
                historyScale: frame.historyScale,
                offscreen: staleOffscreen,
              },
            },
          }
        : {}),
      slot: t,
    },
    weights,
  );
}

/**
 * Records the backward of the clip, last frame first, into `encoder` (after its forward): the
 * parameter gradients land in `trainable.grads`.
 */
function encodeClipBackward(
  device: GPUDevice,
  trainable: TrainableNetwork,
  { slots, dState, backward }: ClipBuffers,
  clip: readonly FrameMeta[],
  encoder: GPUCommandEncoder,
  options: ClipGradientOptions,
): void {
  for (let t = clip.length - 1; t >= 0; t--) {
    const frame = clip[t]!;
    const slot = slots[t]!;
    const run = trainable.network.run(encoder, slot.features);
    backward.encode(encoder, {
      prepared: { color: slot.color, motion: slot.motion },
      reprojected: slot.reprojected,
      jitter: frame.params.jitter,
      reset: frame.params.reset,
      filtered: slot.filtered,
      activations: run.activations,
      params: trainable.network.runParameters,
      paramGrads: trainable.grads,
      accumulateParams: !!options.accumulate || t !== clip.length - 1,
      dHistory: slot.dOutput,
      dState,
      ...(t > 0 && options.throughTime !== false ? { previousHistory: slots[t - 1]!.output } : {}),
      historyScale: frame.historyScale,
    });
    if (t === 0) continue;
    if (options.throughTime === false) {
      encoder.clearBuffer(dState.buffer);
      continue;
    }
    // Carry the reprojection's gradients to frame t − 1.
    const pass = encoder.beginComputePass({ label: `clip frame ${t} carry` });
    const n = slot.output.width * slot.output.height * 4;
    encodeGradRoute(
      device,
      pass,
      backward.previous.history.buffer,
      0,
      slots[t - 1]!.dOutput.buffer,
      n,
      true,
    );
    encodeGradRoute(device, pass, backward.previous.state.buffer, 0, dState.buffer, n, false);
    pass.end();
  }
}

/** The clip loss and its frames' (none for the warm-up frames), read back once. */
async function readClipLosses(
  { frameLoss }: ClipBuffers,
  clip: readonly FrameMeta[],
  warmup: number,
) {
  const values = await frameLoss.read();
  const frames = values.map((v, t) => (t < warmup ? undefined : v)).slice(0, clip.length);
  return { loss: frames.reduce((sum, v) => sum + (v?.total ?? 0), 0), frames };
}
