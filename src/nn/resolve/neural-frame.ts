/**
 * Forward of one whole neural frame on the GPU: features → network → activations + filter →
 * blend. Shared by the neural resolver (inference: filter and blend fused in one pass, or, for an
 * INT8 network ending in a direct op, in its last layer's epilogue) and training (with a network
 * that keeps its activations for `createNeuralFrameBackward`, and the filtered image the backward
 * reads: filter and blend as two passes). CPU twin: `neuralFrameCpu` in src/reference/nn/frame.ts.
 */
import type { GpuTimer } from '../../gpu/profiler.ts';
import type { Size } from '../../core/quality.ts';
import { createGpuImage, type GpuImage, type ImageFormat } from '../../gpu/gpu-image.ts';
import { createGpuTensor, type GpuTensor } from '../tensor.ts';
import {
  FEATURE_CHANNELS,
  REPROJECT_FEATURES_LABEL,
  paddedSize,
  type NeuralFrameParams,
} from '../../core/neural-frame.ts';
import type { Int8InputTarget } from '../int8-network.ts';
import { encodeBlend } from './blend.ts';
import { encodeReprojectAndFeatures, type ReprojectFeaturesBisect } from './reproject-features.ts';
import type { ReprojectSource } from '../../gpu/resolver.ts';
import { encodeFeatures, type FeatureGpuInputs } from './features.ts';
import { FEATURES_FIRST_LAYER_LABEL } from './features-first-layer.ts';
import { encodeKpnFilter } from './kpn-filter.ts';
import {
  encodeKpnFilterBlend,
  type FilterBlendBisect,
  type FilterBlendInputs,
  type FilterBlendTargets,
} from './filter-blend.ts';
import { LAST_LAYER_FILTER_BLEND_LABEL } from './last-layer-filter-blend.ts';
import type { FoldedOutput } from '../../gpu/passes/output.ts';

/** The images of one frame, display size (the network's own buffers apart). */
export interface NeuralFrameTargets {
  readonly displaySize: Size;
  /**
   * Network input, FEATURE_CHANNELS × padded display size. Without f32 features (an INT8 network
   * reads its own int8 copies) only its shape is real: the buffer is a 16-byte placeholder.
   */
  readonly features: GpuTensor;
  /**
   * Filtered color, rgb, with α in a; undefined when the targets were made without it (the
   * frame then filters and blends in one pass and never writes it).
   */
  readonly filtered: GpuImage | undefined;
  /** New history: tonemapped rgb, a = 1 (in the targets' history format). */
  readonly history: GpuImage;
  /** New recurrent state (same format). */
  readonly state: GpuImage;
  destroy(): void;
}

/** What `createNeuralFrameTargets` allocates besides the history and state, and their format. */
export interface NeuralFrameTargetOptions {
  /**
   * How the new history and state are stored (default rgba32float, as training's passes read
   * them; the resolver's are rgba16float). rgba16float needs the fused filter + blend (no
   * filtered image).
   */
  readonly historyFormat?: ImageFormat;
  /** The f32 features (default true; an INT8 network reads int8 copies instead). */
  readonly f32Features?: boolean;
  /**
   * The filtered image (default true: the backward reads it). Without it the frame runs the
   * filter and the blend as one pass (src/nn/resolve/filter-blend.ts).
   */
  readonly filtered?: boolean;
}

/** Allocates a frame's targets for `displaySize` (with the filtered image unless asked not to). */
export function createNeuralFrameTargets(
  device: GPUDevice,
  displaySize: Size,
  options?: NeuralFrameTargetOptions & { readonly filtered?: true },
): NeuralFrameTargets & { readonly filtered: GpuImage };
export function createNeuralFrameTargets(
  device: GPUDevice,
  displaySize: Size,
  options: NeuralFrameTargetOptions,
): NeuralFrameTargets;
export function createNeuralFrameTargets(
  device: GPUDevice,
  displaySize: Size,
  { f32Features = true, filtered = true, historyFormat }: NeuralFrameTargetOptions = {},
): NeuralFrameTargets {
  if (filtered && historyFormat === 'rgba16float') {
    throw new RangeError(
      'neural frame targets: an rgba16float history needs the fused filter + blend (filtered: false)',
    );
  }
  const [width, height] = displaySize;
  const [pw, ph] = paddedSize(displaySize);
  const d = (label: string, format?: ImageFormat) =>
    createGpuImage(device, width, height, label, format);
  const shape = { channels: FEATURE_CHANNELS, height: ph, width: pw };
  const features = f32Features
    ? createGpuTensor(device, shape, 'nn features')
    : { ...shape, buffer: createGpuTensor(device, { channels: 4, height: 1, width: 1 }).buffer };
  const images = {
    filtered: filtered ? d('nn filtered') : undefined,
    history: d('nn history', historyFormat),
    state: d('nn state', historyFormat),
  };
  return {
    displaySize,
    features,
    ...images,
    destroy() {
      features.buffer.destroy();
      for (const image of Object.values(images)) image?.buffer.destroy();
    },
  };
}

/** What one frame reads: the prepared frame (render size) and the reprojected images. */
export interface NeuralFrameInputs extends NeuralFrameParams {
  readonly prepared: { readonly color: GpuImage; readonly motion: GpuImage };
  readonly reprojected: { readonly history: GpuImage; readonly state: GpuImage };
  /**
   * Reproject in the features pass (./reproject-features.ts): from these previous images into
   * `reprojected.history` (the reprojected state is then not written: nothing else reads it). Not
   * with a network whose first layer computes the features.
   */
  readonly reproject?: ReprojectSource;
  /**
   * Profiling only: times the features pass, the network and the filter + blend pass (or the
   * last layer with the filter + blend).
   */
  readonly timer?: GpuTimer;
  /** Benchmarks only: the filter + blend with a part left out (the outputs are wrong). */
  readonly filterBlendBisect?: FilterBlendBisect;
  /** Benchmarks only: the reproject + features pass with a part left out (the outputs are wrong). */
  readonly reprojectFeaturesBisect?: ReprojectFeaturesBisect;
}

/**
 * A network the frame can run: f32 features in, f32 raw output out (the f32 / f16 `Network` of
 * src/nn/network.ts, or the INT8 one of src/nn/int8-network.ts).
 */
export interface FrameNetwork<Run extends { readonly output: GpuTensor }> {
  run(encoder: GPUCommandEncoder, features: GpuTensor): Run;
  /**
   * For a network that reads the features as int8: where the features pass should also write
   * them (`run` then reads those instead of quantizing the f32 features again).
   */
  inputQuantizations?(height: number, width: number): Int8InputTarget[];
  /**
   * For a network whose last layer can run the filter + blend in its epilogue
   * (./last-layer-filter-blend.ts): records every layer but the last (the raw output is then
   * never written), and the last with that epilogue. Used by frames without a filtered image.
   */
  readonly lastLayerFilterBlend?: {
    runAllButLast(encoder: GPUCommandEncoder, features: GpuTensor): void;
    encodeLastLayer(
      pass: GPUComputePassEncoder,
      inputs: FilterBlendInputs,
      targets: FilterBlendTargets,
    ): void;
  };
  /**
   * For an INT8 network whose first layer can compute the features itself
   * (./features-first-layer.ts): records the features and that layer in `pass` (the features
   * are not written), then the rest of the network. Used by frames without f32 features.
   */
  readonly featuresFirstLayer?: {
    encode(
      pass: GPUComputePassEncoder,
      inputs: FeatureGpuInputs,
      params: NeuralFrameParams,
      height: number,
      width: number,
    ): void;
    /** `run`, every layer after the first. */
    runAfterFirst(encoder: GPUCommandEncoder, features: GpuTensor): Run;
    /** `lastLayerFilterBlend.runAllButLast`, every layer after the first. */
    runAllButFirstAndLast(encoder: GPUCommandEncoder, features: GpuTensor): void;
  };
}

/** Options of `encodeNeuralFrame`. */
export interface NeuralFrameOptions {
  /** Write the f32 features (default true; see `encodeNeuralFrame`). */
  readonly f32Features?: boolean;
  /**
   * The frame's output: the filter + blend (pass or last layer) also writes it from the new
   * history, as the output pass does without sharpening. Needs targets without a filtered image.
   */
  readonly output?: FoldedOutput;
}

/**
 * Records the whole frame into `encoder`; returns the network's run (raw output, …), or
 * undefined where the last layer ran the filter + blend (no raw output written). With
 * `f32Features: false` and a network that reads int8 copies of the features, the f32 features
 * tensor is not written (its contents are then stale), and a network whose first layer computes
 * the features runs them in that layer (timer label FEATURES_FIRST_LAYER_LABEL instead of `nn
 * features`; `nn network` then times every layer after it). Targets without a filtered image get the
 * filter + blend in the network's last layer where the network offers it (timer label
 * LAST_LAYER_FILTER_BLEND_LABEL; `nn network` then times every layer but the last), else the
 * fused filter + blend pass; targets with one get the filter and the blend as two passes.
 */
export function encodeNeuralFrame<Run extends { readonly output: GpuTensor }>(
  device: GPUDevice,
  encoder: GPUCommandEncoder,
  network: FrameNetwork<Run>,
  inputs: NeuralFrameInputs,
  targets: NeuralFrameTargets & { readonly filtered: GpuImage },
  options?: NeuralFrameOptions,
): Run;
export function encodeNeuralFrame<Run extends { readonly output: GpuTensor }>(
  device: GPUDevice,
  encoder: GPUCommandEncoder,
  network: FrameNetwork<Run>,
  inputs: NeuralFrameInputs,
  targets: NeuralFrameTargets,
  options?: NeuralFrameOptions,
): Run | undefined;
export function encodeNeuralFrame<Run extends { readonly output: GpuTensor }>(
  device: GPUDevice,
  encoder: GPUCommandEncoder,
  network: FrameNetwork<Run>,
  inputs: NeuralFrameInputs,
  targets: NeuralFrameTargets,
  options: NeuralFrameOptions = {},
): Run | undefined {
  const { history, state } = inputs.reprojected;
  const { color, motion } = inputs.prepared;
  const { timer } = inputs;
  const timed = (label: string): GPUComputePassDescriptor => ({
    label,
    ...(timer ? { timestampWrites: timer.computePass(label) } : {}),
  });
  const { height, width } = targets.features;
  // Without f32 features, a network whose first layer computes the features does so.
  const firstLayer = options.f32Features === false ? network.featuresFirstLayer : undefined;
  let pass: GPUComputePassEncoder;
  if (firstLayer && inputs.reproject) {
    throw new RangeError(
      'neural frame: a first layer computing the features reads reprojected images; reproject before it, not in the features pass',
    );
  }
  // The int8 copies the features pass writes; a network reading only them needs no f32 features
  // (unless asked, for views).
  const quantized = firstLayer ? [] : (network.inputQuantizations?.(height, width) ?? []);
  const writeF32 = options.f32Features !== false || quantized.length === 0;
  if (inputs.reproject) {
    pass = encoder.beginComputePass(timed(REPROJECT_FEATURES_LABEL));
    encodeReprojectAndFeatures(
      device,
      pass,
      { color, motion, ...inputs.reproject },
      inputs,
      history,
      targets.features,
      quantized,
      writeF32,
      inputs.reprojectFeaturesBisect,
    );
  } else if (firstLayer) {
    pass = encoder.beginComputePass(timed(FEATURES_FIRST_LAYER_LABEL));
    firstLayer.encode(pass, { color, motion, history, state }, inputs, height, width);
  } else {
    pass = encoder.beginComputePass(timed('nn features'));
    const features = { color, motion, history, state };
    encodeFeatures(device, pass, features, inputs, targets.features, quantized, writeF32);
  }
  pass.end();

  const { filtered } = targets;
  if (filtered && options.output) {
    throw new RangeError(
      'neural frame: the output is written by the fused filter + blend; targets with a filtered image run two passes',
    );
  }
  const written = { history: targets.history, state: targets.state, output: options.output };
  const fused = filtered ? undefined : network.lastLayerFilterBlend;
  if (fused) {
    const runBody = () =>
      firstLayer
        ? firstLayer.runAllButFirstAndLast(encoder, targets.features)
        : fused.runAllButLast(encoder, targets.features);
    if (timer) timer.span(encoder, 'nn network', runBody);
    else runBody();
    pass = encoder.beginComputePass(timed(LAST_LAYER_FILTER_BLEND_LABEL));
    fused.encodeLastLayer(
      pass,
      {
        color,
        history,
        jitter: inputs.jitter,
        reset: inputs.reset,
        historyGuard: inputs.historyGuard,
        coverageBlend: inputs.coverageBlend,
        bisect: inputs.filterBlendBisect,
      },
      written,
    );
    pass.end();
    return undefined;
  }
  const runNetwork = () =>
    firstLayer
      ? firstLayer.runAfterFirst(encoder, targets.features)
      : network.run(encoder, targets.features);
  const run = timer ? timer.span(encoder, 'nn network', runNetwork) : runNetwork();
  pass = encoder.beginComputePass(timed('nn filter + blend'));
  if (filtered) {
    encodeKpnFilter(
      device,
      pass,
      run.output,
      color,
      inputs.jitter,
      { filtered, state: targets.state },
      inputs.coverageBlend ?? 0,
    );
    encodeBlend(
      device,
      pass,
      filtered,
      history,
      { color, raw: run.output, reset: inputs.reset, historyGuard: inputs.historyGuard },
      targets.history,
    );
  } else {
    encodeKpnFilterBlend(
      device,
      pass,
      run.output,
      {
        color,
        history,
        jitter: inputs.jitter,
        reset: inputs.reset,
        historyGuard: inputs.historyGuard,
        coverageBlend: inputs.coverageBlend,
        bisect: inputs.filterBlendBisect,
      },
      written,
    );
  }
  pass.end();
  return run;
}
