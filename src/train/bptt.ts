/**
 * One BPTT training step over a clip with the network on the GPU and the frame around it (feature
 * assembly, filter, blend, reprojection and their backwards) on the CPU references of the passes and the neural frame.
 * The network dominates the cost (~tens of thousands of MACs per pixel against ~a hundred for the
 * frame), so this is the fast part on the GPU already; the frame moves to GPU kernels once they
 * exist. Network activations are not kept across frames: the backward of frame t re-runs the
 * forward of frame t (recompute instead of storing every frame's activations). Same math and clip
 * loss as the CPU reference (./bptt-cpu.ts), which the tests compare against.
 */
import { createImage, type Image } from '../core/image.ts';
import { readBuffer } from '../gpu/resources.ts';
import { reprojectCpu } from '../reference/reproject.ts';
import {
  assembleFeaturesCpu,
  blendCpu,
  kpnFilterCpu,
  type FeatureInputs,
  type FilterOutput,
  type Vec4Image,
} from '../reference/nn/frame.ts';
import {
  assembleFeaturesBackwardCpu,
  blendBackwardCpu,
  kpnFilterBackwardCpu,
  reprojectBackwardCpu,
} from '../reference/nn/frame-backward.ts';
import { createGpuTensor, writeGpuTensor, type GpuTensor } from '../nn/tensor.ts';
import { tensorLength, type Tensor } from '../core/tensor.ts';
import { staleTerm, type ClipFrameCpu, type ClipOptions } from './bptt-cpu.ts';
import { frameLossCpu, type LossValues } from './losses/frame-loss-cpu.ts';
import type { TrainableNetwork } from './trainable.ts';

interface FrameState {
  readonly inputs: FeatureInputs<Float32Array>;
  readonly features: Tensor<Float32Array>;
  readonly raw: Tensor<Float32Array>;
  readonly filter: FilterOutput<Float32Array>;
  readonly output: Vec4Image<Float32Array>;
}

function asImage(v: Vec4Image<Float32Array>): Image {
  return { width: v.width, height: v.height, channels: 4, data: v.data };
}

/** Network runs on the GPU for one input size: upload features, forward, backward, read back. */
function gpuNetworkRunner(device: GPUDevice, trainable: TrainableNetwork) {
  let input: GpuTensor | undefined;
  const upload = (features: Tensor<Float32Array>) => {
    if (!input || input.width !== features.width || input.height !== features.height) {
      input?.buffer.destroy();
      input = createGpuTensor(device, features, 'bptt features');
    }
    writeGpuTensor(device, input, features);
    return input;
  };
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  return {
    /** The model's history guard and coverage blend, for the frame around the network. */
    historyGuard: trainable.graph.historyGuard,
    coverageBlend: trainable.graph.coverageBlend ?? 0,
    async forward(features: Tensor<Float32Array>): Promise<Tensor<Float32Array>> {
      const encoder = device.createCommandEncoder();
      const run = trainable.forward(encoder, upload(features));
      device.queue.submit([encoder.finish()]);
      const data = await readBuffer(device, run.output.buffer, tensorLength(run.output) * 4);
      return {
        channels: run.output.channels,
        height: run.output.height,
        width: run.output.width,
        data,
      };
    },
    /** Parameter gradients are written (`first`) or added; returns dLoss/d(features). */
    async backward(
      features: Tensor<Float32Array>,
      dRaw: Float64Array,
      first: boolean,
    ): Promise<Float32Array> {
      const encoder = device.createCommandEncoder();
      const run = trainable.forward(encoder, upload(features));
      const gradRaw = device.createBuffer({ label: 'd raw', size: dRaw.length * 4, usage });
      device.queue.writeBuffer(gradRaw, 0, new Float32Array(dRaw));
      const pass = encoder.beginComputePass({ label: 'network backward' });
      const inputGrads = trainable.encodeBackward(
        pass,
        run,
        new Map([[trainable.graph.outputs[0]!, gradRaw]]),
        !first,
      );
      pass.end();
      device.queue.submit([encoder.finish()]);
      const dFeatures = inputGrads.get(trainable.graph.inputs[0]!.name)!;
      const out = await readBuffer(device, dFeatures.buffer, tensorLength(dFeatures) * 4);
      gradRaw.destroy();
      return out;
    },
    destroy: () => input?.buffer.destroy(),
  };
}

interface ClipForward {
  readonly states: FrameState[];
  readonly frames: (LossValues | undefined)[];
  /** dLoss/d(output) of each frame from the loss terms (vec4). */
  readonly dOutput: Float64Array[];
  readonly loss: number;
}

type NetworkRunner = ReturnType<typeof gpuNetworkRunner>;

async function forwardClip(
  network: NetworkRunner,
  clip: readonly ClipFrameCpu[],
  options: ClipOptions,
): Promise<ClipForward> {
  const lossFrames = clip.length - options.warmup;
  if (lossFrames < 1) {
    throw new RangeError(
      `clip of ${clip.length} frames has no frame after ${options.warmup} warm-up frames`,
    );
  }
  const states: FrameState[] = [];
  const frameLosses: (LossValues | undefined)[] = [];
  const dOutput: Float64Array[] = [];
  let loss = 0;
  for (let t = 0; t < clip.length; t++) {
    const { prepared, params, reference, width, height, historyScale } = clip[t]!;
    const previous = states[t - 1];
    const reprojected = reprojectCpu(
      prepared.motion,
      previous ? asImage(previous.output) : createImage(width, height, 4),
      previous ? asImage(previous.filter.state) : createImage(width, height, 4),
      params.reset,
      historyScale,
    );
    const inputs = {
      color: prepared.color,
      motion: prepared.motion,
      history: reprojected.history,
      state: reprojected.state,
    };
    const features = assembleFeaturesCpu(inputs, params);
    const raw = await network.forward(features);
    const filter = kpnFilterCpu(
      raw,
      prepared.color,
      [width, height],
      params.jitter,
      network.coverageBlend,
    );
    const output = blendCpu(filter.filtered, reprojected.history, {
      color: prepared.color,
      raw,
      reset: params.reset,
      historyGuard: network.historyGuard,
    });
    states.push({ inputs, features, raw, filter, output });
    dOutput.push(new Float64Array(width * height * 4));
    if (t < options.warmup) {
      frameLosses.push(undefined);
      continue;
    }
    const prior = previous
      ? {
          output: previous.output.data,
          reference: clip[t - 1]!.reference,
          ...staleTerm(clip, t, options),
        }
      : undefined;
    const l = frameLossCpu(width, height, output.data, reference, options.weights, prior);
    frameLosses.push(l);
    loss += l.total / lossFrames;
    for (let i = 0; i < l.gradOutput.length; i++) dOutput[t]![i]! += l.gradOutput[i]! / lossFrames;
    if (l.gradPreviousOutput) {
      for (let i = 0; i < l.gradPreviousOutput.length; i++)
        dOutput[t - 1]![i]! += l.gradPreviousOutput[i]! / lossFrames;
    }
  }
  return { states, frames: frameLosses, dOutput, loss };
}

/** The clip loss and each frame's loss terms (forward only: validation). */
export async function clipLossGpu(
  device: GPUDevice,
  trainable: TrainableNetwork,
  clip: readonly ClipFrameCpu[],
  options: ClipOptions,
): Promise<{ loss: number; frames: (LossValues | undefined)[] }> {
  const network = gpuNetworkRunner(device, trainable);
  try {
    const { loss, frames } = await forwardClip(network, clip, options);
    return { loss, frames };
  } finally {
    network.destroy();
  }
}

export interface ClipGradientOptions extends ClipOptions {
  /** Add to the parameter gradients instead of overwriting them (several clips per step). */
  readonly accumulate?: boolean;
}

/**
 * Forward and backward of one clip: leaves dLoss/d(parameter) in `trainable.grads` (the caller
 * then steps Adam) and returns the clip loss and each frame's loss terms.
 */
export async function clipGradientGpu(
  device: GPUDevice,
  trainable: TrainableNetwork,
  clip: readonly ClipFrameCpu[],
  options: ClipGradientOptions,
): Promise<{ loss: number; frames: (LossValues | undefined)[] }> {
  const network = gpuNetworkRunner(device, trainable);
  try {
    const { states, frames, dOutput, loss } = await forwardClip(network, clip, options);
    let dState: Float64Array = new Float64Array(dOutput[0]!.length);
    for (let t = clip.length - 1; t >= 0; t--) {
      const { prepared, params, width, height, historyScale } = clip[t]!;
      const s = states[t]!;
      const blend = blendBackwardCpu(
        s.filter.filtered,
        s.inputs.history,
        {
          color: prepared.color,
          raw: s.raw,
          reset: params.reset,
          historyGuard: network.historyGuard,
        },
        dOutput[t]!,
      );
      const dRaw = kpnFilterBackwardCpu(
        s.raw,
        prepared.color,
        [width, height],
        params.jitter,
        blend.filtered,
        dState,
        blend.betaRaw,
        network.coverageBlend,
      );
      const first = t === clip.length - 1 && !options.accumulate;
      const dFeatures = await network.backward(s.features, dRaw, first);
      const reprojectedGrads = assembleFeaturesBackwardCpu(s.inputs, params, dFeatures);
      for (let i = 0; i < blend.history.length; i++)
        reprojectedGrads.history[i]! += blend.history[i]!;
      if (t === 0 || options.throughTime === false) {
        dState = new Float64Array(dState.length);
        continue;
      }
      const previous = reprojectBackwardCpu(
        prepared.motion,
        states[t - 1]!.output,
        params.reset,
        reprojectedGrads.history,
        reprojectedGrads.state,
        historyScale,
      );
      for (let i = 0; i < previous.history.length; i++) dOutput[t - 1]![i]! += previous.history[i]!;
      dState = previous.state;
    }
    return { loss, frames };
  } finally {
    network.destroy();
  }
}
