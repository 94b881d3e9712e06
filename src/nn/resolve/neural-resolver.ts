/**
 * The neural resolve (DESIGN §5 step 3, neural KPN): features → network → activations +
 * oriented-Gaussian filter of the jittered samples → blend with the reprojected history → new
 * history and recurrent state. Implements the frame API's `Resolver` (src/upscaler.ts loads this
 * module for method 'neural'). CPU twin: `neuralCpuResolver` in src/reference/nn/frame.ts.
 */
import { InputError } from '../../core/errors.ts';
import type { Size } from '../../core/quality.ts';
import { createGpuImage, type GpuImage, type ImageFormat } from '../../gpu/gpu-image.ts';
import { DEFAULT_HISTORY_FORMAT } from '../../core/image.ts';
import type { Resolver, ResolveInputs } from '../../gpu/resolver.ts';
import {
  FEATURE_CHANNELS,
  RAW_CHANNELS,
  REPROJECT_IN_FEATURES_BY_DEFAULT,
  paddedSize,
  type NeuralFrameParams,
  type NeuralModel,
} from '../../core/neural-frame.ts';
import {
  createNeuralFrameTargets,
  encodeNeuralFrame,
  type NeuralFrameTargets,
  type FrameNetwork,
} from './neural-frame.ts';
import { encodeFeaturesFirstLayer, featuresFirstLayerRefusal } from './features-first-layer.ts';
import type { FeatureGpuInputs } from './features.ts';
import type { FilterBlendBisect } from './filter-blend.ts';
import type { ReprojectFeaturesBisect } from './reproject-features.ts';
import { inferShapes } from '../../core/graph.ts';
import { createNetwork } from '../network.ts';
import type { GpuTensor, TensorDtype } from '../tensor.ts';
import { loadWeights, type NetworkWeights } from '../weights.ts';
import { readWeightsUrl, SHIPPED_MODEL } from '../shipped-weights.ts';
import {
  createInt8Network,
  defaultInt8Kernels,
  FEATURES_FIRST_LAYER_BY_DEFAULT,
  LAST_LAYER_FILTER_BLEND_BY_DEFAULT,
  type Int8Kernels,
} from '../int8-network.ts';
import { planInt8 } from '../../core/int8-plan.ts';
import { haloProducersOf } from '../ops/int8/producer-in-halo.ts';
import { int8RunsExactly } from '../int8-self-check.ts';
import {
  filterBlendKernel,
  type FilterBlendInputs,
  type FilterBlendTargets,
} from './filter-blend.ts';
import {
  encodeLastLayerFilterBlend,
  lastLayerFilterBlendKernel,
  lastLayerTile,
  lastLayerFilterBlendRefusal,
} from './last-layer-filter-blend.ts';
import type { KernelSpec } from '../../gpu/kernel.ts';

/** A model: a `.uplift` file path or its bytes, loaded weights, or a graph with parameters. */
export type NeuralModelSource =
  string | URL | ArrayBuffer | Uint8Array | NetworkWeights | NeuralModel;

/** Loads a model and checks that its graph has the neural frame's input / output contract (FEATURE_CHANNELS in, RAW_CHANNELS out). */
export async function loadNeuralModel(
  source: NeuralModelSource = SHIPPED_MODEL,
): Promise<NeuralModel> {
  const model =
    source instanceof URL
      ? await loadWeights(await readWeightsUrl(source), { name: source.pathname.split('/').pop()! })
      : typeof source === 'string' || source instanceof ArrayBuffer || source instanceof Uint8Array
        ? await loadWeights(source)
        : source;
  const { graph } = model;
  const input = graph.inputs[0];
  if (graph.inputs.length !== 1 || input?.channels !== FEATURE_CHANNELS) {
    throw new InputError(
      `model "${graph.name}": the neural frame needs one input of ${FEATURE_CHANNELS} channels`,
    );
  }
  const out = inferShapes(graph, 8, 8).get(graph.outputs[0]!)!;
  if (out.channels !== RAW_CHANNELS || out.width !== 8 || out.height !== 8) {
    throw new InputError(
      `model "${graph.name}": the neural frame needs an output of ${RAW_CHANNELS} channels at the input size, got ${out.channels}x${out.height}x${out.width} for 8x8`,
    );
  }
  return model;
}

/** The intermediates of the latest frame (valid until the next resolve; for debug views). */
export interface NeuralFrameGpu {
  /**
   * Network input, 12 × padded display size, in f32; undefined for an INT8 network (it reads int8
   * copies) unless the resolver was created with `debugViews: true`.
   */
  readonly features: GpuTensor | undefined;
  /**
   * Network output, RAW_CHANNELS × padded display size (before activations); undefined where the
   * network's last layer ran the filter + blend and never wrote it (an INT8 network ending in a
   * direct op, without `debugViews`).
   */
  readonly raw: GpuTensor | undefined;
  /**
   * Filtered color, rgb, with α in a (display size); undefined: the resolver filters and blends
   * in one pass and never writes it.
   */
  readonly filtered: GpuImage | undefined;
  readonly history: GpuImage;
  readonly state: GpuImage;
}

/** The neural `Resolver`, with access to its latest frame's intermediates. */
export interface NeuralResolver extends Resolver {
  readonly model: NeuralModel;
  /** The network's arithmetic ('auto' resolved). */
  readonly precision: TensorDtype | 'int8';
  /** Undefined before the first resolve. */
  readonly lastFrame: NeuralFrameGpu | undefined;
}

/** Options of `createNeuralResolver` (the frame API passes the model and the sizes). */
export interface NeuralResolverOptions {
  /** A `NeuralModelSource` (typed unknown to match the frame API's loader contract). */
  readonly model: unknown;
  readonly renderSize?: Size;
  readonly displaySize?: Size;
  /**
   * Network intermediates in f32 or f16 (needs the adapter feature shader-f16), or the whole
   * network in INT8 (needs a model quantized to 8-bit weights and activations, as
   * weights/uplift-v2-int8.uplift is: src/core/int8-plan.ts); 'auto' (default) picks INT8 for an
   * INT8-ready model on a device whose INT8 kernels pass the self-check, else f32.
   */
  readonly precision?: TensorDtype | 'int8' | 'auto';
  /**
   * Keep every intermediate `readDebugViews` reads (the f32 features of an INT8 network, and its
   * raw output: the filter + blend then runs as its own pass, not in the last layer).
   */
  readonly debugViews?: boolean;
  /**
   * INT8 networks on dot4I8Packed (network v3's last layer, v2's 3×3 head): run the KPN filter +
   * blend in the last layer's epilogue (true), or keep the raw output and the separate pass
   * (false). Default: in the last layer, where it measured faster (both, since v2's head took
   * 16×8 tiles: `LAST_LAYER_FILTER_BLEND_BY_DEFAULT`). Ignored where it does not apply.
   */
  readonly lastLayerFilterBlend?: boolean;
  /**
   * INT8 networks whose first layer is a direct op reading only the features (network v3's
   * down2x2): compute the features in that layer's kernel, never writing them (true), or run the
   * features pass (default: it measured faster, FEATURES_FIRST_LAYER_BY_DEFAULT). Ignored where
   * it does not apply, and with `debugViews` (they read the f32 features).
   */
  readonly featuresFirstLayer?: boolean;
  /**
   * Reproject in the features pass (./reproject-features.ts) instead of the upscaler's reproject
   * pass: the reprojected state is never written or read back, one pass less; the same bits
   * (default REPROJECT_IN_FEATURES_BY_DEFAULT, true: measured faster). Ignored (the upscaler's
   * reproject pass runs) where the features are computed in the first layer, with `debugViews`
   * and with `zeroState`.
   */
  readonly reprojectInFeatures?: boolean;
  /**
   * How history and recurrent state are stored between frames (default DEFAULT_HISTORY_FORMAT,
   * f32; rgba16float halves their bytes but measured slower: src/core/image.ts).
   */
  readonly historyFormat?: ImageFormat;
  /**
   * Write the frame's output in the filter + blend (pass or last layer) when the upscaler asks
   * (`Resolver.writesOutput`; default true): false keeps the separate output pass, to compare and
   * to measure what folding it saves.
   */
  readonly foldOutput?: boolean;
  /**
   * Ablation: the network sees zeros instead of its reprojected recurrent state every frame (what
   * the model loses without its memory; `uplift eval --methods neural@zero-state`).
   */
  readonly zeroState?: boolean;
  /**
   * The kernels of an INT8 network (default `defaultInt8Kernels()`: 'dot4', dot4I8Packed, the
   * fastest measured): 'subgroup-matrix' runs it on tensor cores where the device offers WGSL
   * subgroup matrices (an error naming the feature elsewhere), without the first- and last-layer
   * fusions, which need dot4I8Packed; 'mixed' runs there only the ops the matrices once measured
   * faster on (`matrixSteps`: network v2's head) and keeps the fusions wherever those steps run on
   * dot4I8Packed.
   */
  readonly int8Kernels?: Int8Kernels;
  /**
   * Tests and benchmarks: the output pixels from which an INT8 conv3x3 runs on the larger tile
   * (src/nn/ops/int8/conv3x3.ts `conv3x3Tile`; default CONV3X3_LARGE_TILE_FROM; 0: always,
   * Infinity: never). The same outputs.
   */
  readonly conv3x3LargeTileFrom?: number;
  /**
   * Tests and benchmarks: false runs every INT8 producer a conv3x3 would compute in its halo as
   * its own kernel (src/nn/int8-network.ts `producersInConsumers`; default true). The same outputs.
   */
  readonly producersInHalos?: boolean;
  /**
   * Benchmarks only: the filter + blend (pass or last layer) with a part left out, to time the
   * rest (./filter-blend.ts `FilterBlendBisect`; the outputs are wrong).
   */
  readonly filterBlendBisect?: FilterBlendBisect;
  /**
   * Benchmarks only: the reproject + features pass with a part left out, to time the rest
   * (./reproject-features.ts `ReprojectFeaturesBisect`; the outputs are wrong).
   */
  readonly reprojectFeaturesBisect?: ReprojectFeaturesBisect;
}

/** The precision 'auto' resolves to for `model` on `device`. */
export async function autoPrecision(
  device: GPUDevice,
  model: NeuralModel,
): Promise<'f32' | 'int8'> {
  try {
    planInt8(model.graph, model.parameters);
  } catch {
    return 'f32'; // not INT8-ready: f32 weights, or activations without scales
  }
  return (await int8RunsExactly(device)) ? 'int8' : 'f32';
}

/** Creates the neural resolve (the export `createUpscaler` loads for method 'neural'). */
export async function createNeuralResolver(
  device: GPUDevice,
  options: NeuralResolverOptions,
): Promise<NeuralResolver> {
  const model = await loadNeuralModel(
    (options.model as NeuralModelSource | undefined) ?? SHIPPED_MODEL,
  );
  const precision =
    (options.precision ?? 'auto') === 'auto'
      ? await autoPrecision(device, model)
      : (options.precision as TensorDtype | 'int8');
  const network: FrameNetwork<{ readonly output: GpuTensor }> & {
    /**
     * The kernel of the filter + blend (pass or last layer) writing the output as `format` at
     * `displaySize`.
     */
    outputKernel(history: ImageFormat, format: GPUTextureFormat, displaySize: Size): KernelSpec;
    destroy(): void;
    memoryBytes(): number;
  } =
    precision === 'int8'
      ? int8FrameNetwork(device, model, {
          lastLayer: options.debugViews !== true && (options.lastLayerFilterBlend ?? 'default'),
          firstLayer:
            options.debugViews !== true &&
            (options.featuresFirstLayer ?? FEATURES_FIRST_LAYER_BY_DEFAULT),
          kernels: options.int8Kernels ?? defaultInt8Kernels(),
          conv3x3LargeTileFrom: options.conv3x3LargeTileFrom,
          producersInHalos: options.producersInHalos !== false,
        })
      : f32FrameNetwork(device, model, precision);
  const historyFormat = options.historyFormat ?? DEFAULT_HISTORY_FORMAT;
  let targets: NeuralFrameTargets | undefined;
  let lastFrame: NeuralFrameGpu | undefined;
  let zeros: GpuImage | undefined;
  // An INT8 network reads the int8 copies the features pass writes: no f32 features needed.
  const f32Features = precision !== 'int8' || options.debugViews === true;
  const allocate = (displaySize: Size): NeuralFrameTargets => {
    targets?.destroy();
    lastFrame = undefined;
    // No filtered image: inference fuses the filter and the blend (nothing reads it afterwards).
    return (targets = createNeuralFrameTargets(device, displaySize, {
      f32Features,
      filtered: false,
      historyFormat,
    }));
  };

  return {
    model,
    precision,
    historyFormat,
    writesOutput: options.foldOutput !== false,
    reprojects:
      (options.reprojectInFeatures ?? REPROJECT_IN_FEATURES_BY_DEFAULT) &&
      options.debugViews !== true &&
      options.zeroState !== true &&
      network.featuresFirstLayer === undefined,
    outputKernels: (format, displaySize) => [
      network.outputKernel(historyFormat, format, displaySize),
    ],
    get lastFrame() {
      return lastFrame;
    },
    resize(_renderSize, displaySize) {
      allocate(displaySize);
    },
    resolve(encoder, inputs: ResolveInputs) {
      const [dw, dh] = inputs.displaySize;
      const t =
        targets && targets.displaySize[0] === dw && targets.displaySize[1] === dh
          ? targets
          : allocate(inputs.displaySize);
      if (options.zeroState && (zeros?.width !== dw || zeros.height !== dh)) {
        zeros?.buffer.destroy();
        zeros = createGpuImage(device, dw, dh, 'nn zero state', historyFormat);
      }
      // The model's history guard and coverage blend (none for models trained without them) go
      // with the frame.
      const guarded = {
        ...inputs,
        historyGuard: model.graph.historyGuard,
        coverageBlend: model.graph.coverageBlend,
        ...(options.filterBlendBisect ? { filterBlendBisect: options.filterBlendBisect } : {}),
        ...(options.reprojectFeaturesBisect
          ? { reprojectFeaturesBisect: options.reprojectFeaturesBisect }
          : {}),
      };
      const frameInputs = zeros
        ? { ...guarded, reprojected: { ...inputs.reprojected, state: zeros } }
        : guarded;
      const output = options.foldOutput !== false ? inputs.output : undefined;
      const run = encodeNeuralFrame(device, encoder, network, frameInputs, t, {
        f32Features,
        ...(output ? { output } : {}),
      });
      const { filtered, history, state } = t;
      const features = f32Features ? t.features : undefined;
      lastFrame = { features, raw: run?.output, filtered, history, state };
      return { history: t.history, state: t.state };
    },
    memoryBytes() {
      const images = targets
        ? [targets.features, targets.filtered, targets.history, targets.state, zeros]
        : [zeros];
      return network.memoryBytes() + images.reduce((sum, t) => sum + (t?.buffer.size ?? 0), 0);
    },
    destroy() {
      targets?.destroy();
      targets = undefined;
      zeros?.buffer.destroy();
      zeros = undefined;
      lastFrame = undefined;
      network.destroy();
    },
  };
}

/** The model's f32 / f16 network (intermediates share buffers once read: only the raw output is needed after). */
function f32FrameNetwork(device: GPUDevice, model: NeuralModel, precision: TensorDtype) {
  const network = createNetwork(device, model.graph, model.parameters, {
    keepActivations: false,
    precision,
  });
  const weights = new Set([...network.parameters.values(), ...network.runParameters.values()]);
  return {
    run: network.run.bind(network),
    outputKernel: (history: ImageFormat, format: GPUTextureFormat) =>
      filterBlendKernel(history, history, format),
    memoryBytes: () =>
      network.intermediateBytes() + [...weights].reduce((sum, b) => sum + b.size, 0),
    destroy: () => network.destroy(),
  };
}

/**
 * The model as an INT8 network (src/nn/int8-network.ts) in the frame's network interface; with
 * `fuse.lastLayer`, its last layer runs the filter + blend where it can
 * (./last-layer-filter-blend.ts), with `fuse.firstLayer` its first layer computes the features
 * where it can (./features-first-layer.ts).
 */
function int8FrameNetwork(
  device: GPUDevice,
  model: NeuralModel,
  fuse: {
    /** 'default': where it measured faster (`LAST_LAYER_FILTER_BLEND_BY_DEFAULT`). */
    readonly lastLayer: boolean | 'default';
    readonly firstLayer: boolean;
    readonly kernels: Int8Kernels;
    readonly conv3x3LargeTileFrom: number | undefined;
    readonly producersInHalos: boolean;
  },
) {
  const plan = planInt8(model.graph, model.parameters);
  const firstFusable =
    fuse.firstLayer && featuresFirstLayerRefusal(plan, fuse.kernels) === undefined;
  // With the features in the first layer, the int8 features are never stored.
  const network = createInt8Network(device, plan, {
    firstStepInputComputed: firstFusable,
    kernels: fuse.kernels,
    producersInHalos: fuse.producersInHalos,
    ...(fuse.conv3x3LargeTileFrom !== undefined
      ? { conv3x3LargeTileFrom: fuse.conv3x3LargeTileFrom }
      : {}),
  });
  const wanted = fuse.lastLayer === 'default' ? LAST_LAYER_FILTER_BLEND_BY_DEFAULT : fuse.lastLayer;
  const fusable =
    wanted && lastLayerFilterBlendRefusal(network.plan, network.kernels) === undefined;
  // The features pass writes the int8 input tensors itself (inputQuantizations), so the network
  // skips quantizing the f32 features again; after the first layer computed them, it skips that
  // layer too.
  const afterFeatures = { inputQuantized: true };
  const afterFirst = { firstStepDone: true };
  return {
    run: (encoder: GPUCommandEncoder, features: GpuTensor) => ({
      output: network.run(encoder, features, afterFeatures),
    }),
    ...(firstFusable
      ? {
          featuresFirstLayer: {
            encode(
              pass: GPUComputePassEncoder,
              inputs: FeatureGpuInputs,
              params: NeuralFrameParams,
              height: number,
              width: number,
            ) {
              encodeFeaturesFirstLayer(
                device,
                pass,
                network.firstStep(height, width),
                inputs,
                params,
              );
            },
            runAfterFirst: (encoder: GPUCommandEncoder, features: GpuTensor) => ({
              output: network.run(encoder, features, afterFirst),
            }),
            runAllButFirstAndLast(encoder: GPUCommandEncoder, features: GpuTensor) {
              network.runWithoutLastStep(encoder, features, afterFirst);
            },
          },
        }
      : {}),
    ...(fusable
      ? {
          lastLayerFilterBlend: {
            runAllButLast(encoder: GPUCommandEncoder, features: GpuTensor) {
              network.runWithoutLastStep(encoder, features, afterFeatures);
            },
            encodeLastLayer(
              pass: GPUComputePassEncoder,
              inputs: FilterBlendInputs,
              targets: FilterBlendTargets,
            ) {
              const [width, height] = paddedSize([targets.history.width, targets.history.height]);
              const last = network.lastStep(height, width);
              encodeLastLayerFilterBlend(device, pass, last, inputs, targets);
            },
          },
        }
      : {}),
    inputQuantizations: (height: number, width: number) =>
      network.inputQuantizations(height, width),
    outputKernel: (history: ImageFormat, format: GPUTextureFormat, displaySize: Size) => {
      if (!fusable) return filterBlendKernel(history, history, format);
      // The last step as the frame will run it (encodeLastLayerFilterBlend): its tile from its
      // weights, the producers a conv3x3 last step computes in its halo.
      const [width, height] = paddedSize(displaySize);
      const { step, weights, producer } = network.lastStep(height, width);
      const tile = lastLayerTile(step.op, displaySize, weights.conv3x3LargeTileFrom);
      const halo = producer && haloProducersOf(producer);
      return lastLayerFilterBlendKernel(step, tile, history, history, format, halo);
    },
    memoryBytes: () => network.memoryBytes(),
    destroy: () => network.destroy(),
  };
}
