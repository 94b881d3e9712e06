/**
 * The frame API (DESIGN §4): one upscaler per output, fed one frame per dispatch.
 *
 *   const up = await createUpscaler(device, { displaySize, quality: 'performance' });
 *   await up.ready();   // optional: compiles the pipelines off the main thread
 *   up.dispatch(encoder, { color, depth, motion, jitter: up.jitter(i), reset, exposure,
 *                          motionScale, cameraNear, cameraFar, fovY, frameTimeDelta });
 *   // sample up.output (rgba32float, linear) after the encoder is submitted
 *
 * Per frame: load the input textures into GpuImages → prepare → (bilinear | Lanczos) or
 * (reproject → resolve) → output. The temporal resolve is pluggable (`Resolver`): the heuristic
 * TAAU here, the neural resolve from src/nn/resolve/neural-resolver.ts for method 'neural'. Both
 * write the output themselves on frames without sharpening (`Resolver.writesOutput`): the output
 * pass then does not run.
 *
 * Sizes: inputs whose size differs from `renderSize` but agree with each other are a dynamic
 * resolution change: history (display size) is kept, the render-size images are reused when the
 * new size fits in them (else replaced by larger ones), and only that frame's depth-based
 * disocclusion test is skipped (the previous depth has another size). Inputs that disagree with
 * each other, or exceed the display size, are a RangeError naming the input.
 */
import type { NeuralModelSource } from './nn/resolve/neural-resolver.ts';
import type { FrameParams } from './core/frame.ts';
import { jitterOffset, jitterPhaseCount } from './core/jitter.ts';
import type { Size } from './core/quality.ts';
import { createGpuImage, type GpuImage, type ImageFormat } from './gpu/gpu-image.ts';
import { DEFAULT_HISTORY_FORMAT } from './core/image.ts';
import { LOAD_TEXTURE_KERNEL } from './gpu/passes/load-texture.ts';
import { checkInput, checkOutputTexture, loadInput, type FrameInput } from './frame-inputs.ts';
import { encodePrepare, prepareKernel } from './gpu/passes/prepare.ts';
import { encodeExposure, EXPOSURE_TEXTURE_FORMATS, exposureKernel } from './gpu/passes/exposure.ts';
import { encodeReproject, type Reprojected } from './gpu/passes/reproject.ts';
import { encodeTaauResolve, taauResolveKernel } from './gpu/passes/taau-resolve.ts';
import { encodeBilinearUpscale } from './gpu/passes/bilinear.ts';
import { encodeLanczosUpscale } from './gpu/passes/lanczos.ts';
import { encodeOutput, OUTPUT_FORMATS, outputKernel } from './gpu/passes/output.ts';
import { withGpuErrorScope } from './gpu/error-scope.ts';
import { checkImageSize } from './gpu/size-limits.ts';
import { collectKernels, compileKernels, createKernel } from './gpu/kernel.ts';
import { DeviceLostError } from './core/errors.ts';
import { createDebugChecker, type DebugWarning } from './core/debug-checks.ts';
import { defaultFrameParams } from './core/frame.ts';
import type { GpuTimer } from './gpu/profiler.ts';
import { DEFAULT_TAAU_SETTINGS, type TaauSettings } from './core/taau-settings.ts';
import {
  checkDispatchParams,
  checkPrecision,
  checkMethod,
  checkSharpness,
  resolveSizes,
  type PrecisionChoice,
  type UpscalerMethod,
  type UpscalerSizing,
} from './core/upscaler-options.ts';
import type { Resolver, ResolveInputs, NeuralResolveModule } from './gpu/resolver.ts';
import {
  createRenderResources,
  createUpscalerResources,
  destroyRenderResources,
  destroyUpscalerResources,
  renderResourcesAt,
  upscalerResourceBytes,
  type RenderResources,
  type UpscalerResources,
} from './upscaler-resources.ts';

export type { UpscalerMethod } from './core/upscaler-options.ts';
export type { PreparedFrame } from './gpu/passes/prepare.ts';
export type { Reprojected } from './gpu/passes/reproject.ts';

export type { FrameInput } from './frame-inputs.ts';

/** What one dispatch takes (FSR 2's dispatch description, DESIGN §4). */
export interface DispatchInputs extends Omit<FrameParams, 'exposure'> {
  /**
   * The exposure the color is tonemapped at (output is divided by it again): a number, or a 1×1
   * texture whose .r holds it (an engine's GPU auto-exposure: r32float, r16float, rg/rgba 16 or
   * 32 float, TEXTURE_BINDING usage). A change rescales history at once; a texel that is not a
   * positive finite number keeps the last good exposure.
   */
  exposure: number | GPUTexture;
  /** See DispatchParams.preExposure (default 1). */
  preExposure?: number;
  /**
   * Linear RGB(A), render size: rgba32float, rgba16float, rg11b10ufloat, rgba8unorm / bgra8unorm
   * (values as they are), their -srgb forms (decoded to linear), rgb10a2unorm, or a GpuImage.
   */
  color: FrameInput;
  /**
   * Device depth, render size: a depth texture (depth32float, depth24plus, depth16unorm, or a
   * depth-stencil format: its depth aspect) or r32float / r16float (.r is read).
   */
  depth: FrameInput;
  /** Motion vectors, render size: rg32float / rg16float texture (.rg is read). */
  motion: FrameInput;
  /** Optional reactive mask, render size (.r, 0..1): 1 = do not trust history. */
  reactive?: FrameInput;
  /**
   * Optional transparency-and-composition mask, render size (.r, 0..1): where alpha-blended or
   * composited content (without motion vectors of its own) covers the scene; history is trusted
   * less there (half of it joins the reactive mask).
   */
  transparency?: FrameInput;
  /** RCAS sharpness 0..1 for this frame (overrides the upscaler's); undefined = upscaler's. */
  sharpness?: number;
  /**
   * Write this frame into the caller's texture instead of `up.output`: display size,
   * STORAGE_BINDING usage, rgba32float, rgba16float or rgba8unorm (clamped to [0, 1]).
   */
  output?: GPUTexture;
}

export interface UpscalerOptions extends UpscalerSizing {
  /**
   * Model for method 'neural': a `.uplift` path (Node) or URL, its bytes, or a loaded model.
   * Default: the shipped weights/uplift-v3-int8.uplift (network v3a, INT8-ready; weights/uplift-v2.uplift
   * and weights/uplift-v3.uplift load by name).
   */
  model?: NeuralModelSource;
  /**
   * Network arithmetic of method 'neural': 'auto' (default: INT8 for an INT8-ready model on a
   * device that computes it exactly, else f32), 'f32', 'f16' or 'int8' (needs an INT8-ready model).
   */
  precision?: PrecisionChoice;
  /** A custom temporal resolve; overrides the method's own. */
  resolver?: Resolver;
  /**
   * Profiling only: GPU times of each frame's stages go to this timer under the labels prepare,
   * reproject, resolve (temporal methods) or upscale (spatial methods), and output (absent where
   * the resolve writes the output itself: Uplift's resolvers without sharpening).
   */
  timer?: GpuTimer;
  /**
   * Debug mode: every dispatch checks what it can see cheaply on the CPU (jitter missing, frozen
   * or in UV units, motionScale or frameTimeDelta in suspicious units, 8-bit UNORM color read as
   * linear) and reports each finding once, without stopping the frame: `true` logs with
   * console.warn, a function receives them. `uplift check` checks a capture's images too.
   */
  debugChecks?: boolean | ((warning: DebugWarning) => void);
}

export interface Upscaler {
  /** The display image after each dispatch: rgba32float, linear, alpha 1. Replaced by resize. */
  readonly output: GPUTexture;
  /** The same image as a GpuImage. Replaced by resize. */
  readonly outputImage: GpuImage;
  readonly method: UpscalerMethod;
  readonly renderSize: Size;
  readonly displaySize: Size;
  readonly jitterPhaseCount: number;
  /** The jitter the app should render frame `frameIndex` with (DESIGN §4). */
  jitter(frameIndex: number): [number, number];
  /** Records one frame into `encoder`. */
  dispatch(encoder: GPUCommandEncoder, inputs: DispatchInputs): void;
  /**
   * Changes sizes (reallocates; the next frame is a reset). Without `renderSize`, the render size
   * follows the options' `quality` (default Performance). A display size the device cannot hold
   * (maxTextureDimension2D, maxStorageBufferBindingSize) throws DeviceLimitError before anything
   * is freed: the upscaler keeps its sizes. A resize inside `dispatch` (new input sizes) records
   * into the caller's frame, so an error scope around the frame covers its allocations too.
   */
  resize(displaySize: Size, renderSize?: Size): void;
  /**
   * Compiles every pipeline a frame uses with createComputePipelineAsync (off the main thread in
   * a browser), then runs one frame of zeros, so the first real dispatch does not stall on shader
   * compilation or first use. Optional: a dispatch before it compiles what it needs
   * synchronously. Pipelines do not depend on sizes: no need to call it again after `resize`.
   * The next dispatch is a reset, as the first one is anyway.
   */
  ready(): Promise<void>;
  /**
   * Resolves when the device is lost (then `dispatch` throws DeviceLostError): create a new device
   * and a new upscaler. Never rejects.
   */
  readonly lost: Promise<{ reason: GPUDeviceLostReason; message: string }>;
  /**
   * Bytes of GPU memory the upscaler holds now: its images, the resolve's history and, for the
   * neural method, the network's weights and tensors (uniform blocks of a few bytes not counted).
   */
  readonly memoryBytes: number;
  destroy(): void;
}

/**
 * The heuristic TAAU resolve as a Resolver (owns its output history and state, stored as
 * `historyFormat`: DEFAULT_HISTORY_FORMAT, f32, unless asked otherwise).
 * It writes the frame's output itself on frames without sharpening (`Resolver.writesOutput`)
 * unless `foldOutput` is false (the separate output pass: to compare and to measure).
 */
export function createTaauResolver(
  device: GPUDevice,
  settings: Partial<TaauSettings> = {},
  historyFormat: ImageFormat = DEFAULT_HISTORY_FORMAT,
  { foldOutput = true }: { foldOutput?: boolean } = {},
): Resolver {
  const merged = { ...DEFAULT_TAAU_SETTINGS, ...settings };
  let output: Reprojected | undefined;
  const free = () => {
    output?.history.buffer.destroy();
    output?.state.buffer.destroy();
    output = undefined;
  };
  return {
    historyFormat,
    writesOutput: foldOutput,
    outputKernels: (format) => [taauResolveKernel(historyFormat, historyFormat, format)],
    resize(_renderSize, [width, height]) {
      free();
      output = {
        history: createGpuImage(device, width, height, 'taau history', historyFormat),
        state: createGpuImage(device, width, height, 'taau state', historyFormat),
      };
    },
    resolve(encoder, inputs) {
      if (!output) this.resize(inputs.renderSize, inputs.displaySize);
      const target = output!;
      const pass = encoder.beginComputePass({ label: 'taau resolve' });
      encodeTaauResolve(
        device,
        pass,
        inputs.prepared,
        inputs.reprojected,
        { jitter: inputs.jitter, reset: inputs.reset, settings: merged },
        target,
        foldOutput ? inputs.output : undefined,
      );
      pass.end();
      return target;
    },
    memoryBytes: () => (output ? output.history.buffer.size + output.state.buffer.size : 0),
    destroy: free,
  };
}

/** Stands in for a caller's resolver where the upscaler runs a frame of its own (ready()). */
const passThroughResolver: Resolver = {
  resolve: (_encoder, inputs) => inputs.reprojected,
  resize() {},
  destroy() {},
};

/** Creates an upscaler. Async because the neural resolve loads its model. */
export async function createUpscaler(
  device: GPUDevice,
  options: UpscalerOptions,
): Promise<Upscaler> {
  const method = checkMethod(options.method ?? 'taau');
  checkSharpness(options.sharpness, 'sharpness');
  let sizes = resolveSizes(options);
  // What the device refuses while the upscaler is made (a texture above maxTextureDimension2D,
  // out of memory) rejects here instead of leaving an upscaler that outputs zeros.
  return withGpuErrorScope(device, 'createUpscaler', async () => {
    const temporal = await createResolver(device, options, method, sizes);

    let resources: UpscalerResources | undefined;
    let previous: Reprojected | undefined;
    // Zero: no previous exposure (the first frame's history scale is 1). UNIFORM: a resolve that
    // writes the output reads it as a uniform (output.ts).
    const exposureState = device.createBuffer({
      label: 'uplift exposure state',
      size: 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.UNIFORM,
    });
    let mustReset = true;
    const debug = options.debugChecks
      ? createDebugChecker(
          () => sizes,
          typeof options.debugChecks === 'function'
            ? options.debugChecks
            : (w) => console.warn(`uplift debugChecks: ${w.message} (${w.id}, frame ${w.frame})`),
        )
      : undefined;
    /** The render size of the depth the last frame kept; undefined: none. */
    let previousDepthSize: Size | undefined;
    /** Which of resources.render.keptDepth the next frame writes (the other holds the last). */
    let depthTurn: 0 | 1 = 0;
    const free = () => {
      if (resources) destroyUpscalerResources(resources);
      resources = undefined;
    };
    const allocate = () => {
      resources = createUpscalerResources(
        device,
        sizes.renderSize,
        sizes.displaySize,
        temporal && (temporal.historyFormat ?? 'rgba32float'),
        temporal?.reprojects === true,
      );
      temporal?.resize(sizes.renderSize, sizes.displaySize);
      previous = undefined;
      previousDepthSize = undefined;
      mustReset = true;
    };
    /**
     * Dynamic resolution: the inputs' size changed. History is display size and stays; the
     * render images are reused when the new size fits them, else replaced by larger ones.
     */
    const changeRenderSize = (renderSize: Size) => {
      const next = resolveSizes({ ...options, displaySize: sizes.displaySize, renderSize });
      const { color } = resources!.render.prepared;
      if (renderSize[0] * renderSize[1] > color.width * color.height) {
        checkImageSize(device, renderSize, 'dynamic resolution');
        destroyRenderResources(resources!.render);
        resources = { ...resources!, render: createRenderResources(device, renderSize) };
      }
      sizes = next;
    };
    const resize = (displaySize: Size, renderSize?: Size) => {
      const next = resolveSizes({ ...options, displaySize, renderSize });
      // Outside createUpscaler's error scope, WebGPU would only report it to uncapturederror.
      checkImageSize(device, next.displaySize, 'resize');
      sizes = next;
      free();
      allocate();
    };
    allocate();
    let lostInfo: { reason: GPUDeviceLostReason; message: string } | undefined;
    const lost = device.lost.then(
      (info) => (lostInfo = { reason: info.reason, message: info.message }),
    );
    const checkAlive = () => {
      if (lostInfo) {
        throw new DeviceLostError(
          `the GPU device was lost (${lostInfo.reason}${lostInfo.message ? `: ${lostInfo.message}` : ''}); create a new device and a new upscaler`,
        );
      }
    };

    const upscaler: Upscaler = {
      get output() {
        return resources!.display.output;
      },
      get outputImage() {
        return resources!.display.outputImage;
      },
      method,
      get renderSize() {
        return sizes.renderSize;
      },
      get displaySize() {
        return sizes.displaySize;
      },
      get jitterPhaseCount() {
        return jitterPhaseCount(sizes.renderSize[0], sizes.displaySize[0]);
      },
      jitter: (frameIndex) => jitterOffset(frameIndex, upscaler.jitterPhaseCount),
      resize,
      lost,
      get memoryBytes() {
        return (
          exposureState.size +
          (resources ? upscalerResourceBytes(resources) : 0) +
          (temporal?.memoryBytes?.() ?? 0)
        );
      },
      async ready() {
        checkAlive();
        // One frame of the upscaler's own (zero) images. A caller's resolver is not asked to
        // record it: the reprojected history stands in for its result.
        const [rw, rh] = sizes.renderSize;
        const zeros = ['color', 'depth', 'motion', 'reactive'].map((name) =>
          createGpuImage(device, rw, rh, `uplift ready: zero ${name}`),
        );
        const [color, depth, motion, reactive] = zeros as [GpuImage, GpuImage, GpuImage, GpuImage];
        const frameOfZeros = (encoder: GPUCommandEncoder, extra: Partial<DispatchInputs> = {}) =>
          encodeFrame(
            device,
            encoder,
            { ...defaultFrameParams(), color, depth, motion, reactive, reset: true, ...extra },
            {
              options: { ...options, timer: undefined },
              method,
              temporal: options.resolver ? passThroughResolver : temporal,
              sizes,
              resources: resources!,
              previous: undefined,
              reset: true,
              previousDepth: undefined,
              depthOut: resources!.render.keptDepth[0],
              exposureState,
            },
          );
        const kernels = readyKernels(device, temporal, options, sizes.displaySize, frameOfZeros);
        try {
          await withGpuErrorScope(device, 'ready', async () => {
            await compileKernels(kernels);
            // Then run once, so that the first real frame does not pay for first use either
            // (bind groups, buffers the implementation initialises on first use). It changes
            // nothing the next frame sees: that frame is a reset.
            const encoder = device.createCommandEncoder({ label: 'uplift ready (warm-up)' });
            frameOfZeros(encoder);
            device.queue.submit([encoder.finish()]);
            await device.queue.onSubmittedWorkDone();
          });
        } finally {
          for (const image of zeros) image.buffer.destroy();
        }
        mustReset = true;
        previous = undefined;
        previousDepthSize = undefined;
      },
      destroy() {
        free();
        temporal?.destroy();
        exposureState.destroy();
      },
      dispatch(encoder, inputs) {
        checkAlive();
        const [rw, rh] = checkDispatchInputs(inputs);
        debug?.frame({ ...inputs, colorFormat: (inputs.color as Partial<GPUTexture>).format });
        if (inputs.output) checkOutputTexture(inputs.output, sizes.displaySize);
        if (rw !== sizes.renderSize[0] || rh !== sizes.renderSize[1]) changeRenderSize([rw, rh]);
        const reset = inputs.reset || mustReset;
        mustReset = false;
        const render = renderResourcesAt(resources!.render, sizes.renderSize);
        const sameDepthSize =
          previousDepthSize?.[0] === sizes.renderSize[0] &&
          previousDepthSize[1] === sizes.renderSize[1];
        const frame = {
          options,
          method,
          temporal,
          sizes,
          resources: { ...resources!, render },
          previous,
          reset,
          // The last depth at another size cannot be compared pixel by pixel.
          previousDepth: reset || !sameDepthSize ? undefined : render.keptDepth[1 - depthTurn]!,
          depthOut: render.keptDepth[depthTurn],
          exposureState,
        };
        previous = encodeFrame(device, encoder, inputs, frame);
        previousDepthSize = sizes.renderSize;
        depthTurn = depthTurn === 0 ? 1 : 0;
      },
    };
    return upscaler;
  });
}

/**
 * The temporal resolve: the options' own, else the method's (the heuristic TAAU, or the neural
 * resolve with its model); undefined for the spatial methods.
 */
async function createResolver(
  device: GPUDevice,
  options: UpscalerOptions,
  method: UpscalerMethod,
  sizes: { renderSize: Size; displaySize: Size },
): Promise<Resolver | undefined> {
  if (options.resolver) return options.resolver;
  if (method === 'taau') return createTaauResolver(device, options.taau);
  if (method !== 'neural') return undefined;
  // Loaded on first use (a literal specifier, so bundlers include it) to keep the network
  // code out of programs that never ask for it.
  const module = (await import('./nn/resolve/neural-resolver.ts')) as NeuralResolveModule;
  const precision = checkPrecision(options.precision ?? 'auto');
  return module.createNeuralResolver(device, { model: options.model, precision, ...sizes });
}

/**
 * The kernels `ready()` compiles, found without running them: those of a frame of zeros
 * (`frameOfZeros` records one into an encoder never submitted) and those a later frame's inputs
 * may switch to: texture inputs, every output format and, for a resolve that writes the output,
 * its kernel for each output format and (the upscaler's own resolve, unless every frame is
 * sharpened) the plain one, for frames whose sharpness turns the output pass on.
 */
function readyKernels(
  device: GPUDevice,
  temporal: Resolver | undefined,
  options: UpscalerOptions,
  displaySize: Size,
  frameOfZeros: (encoder: GPUCommandEncoder, extra?: Partial<DispatchInputs>) => void,
): ReturnType<typeof collectKernels> {
  return collectKernels(() => {
    const unsubmitted = device.createCommandEncoder({ label: 'uplift ready (not submitted)' });
    frameOfZeros(unsubmitted);
    if (temporal?.writesOutput) {
      for (const format of OUTPUT_FORMATS) {
        for (const spec of temporal.outputKernels?.(format, displaySize) ?? []) {
          createKernel(device, spec);
        }
      }
      if (!options.resolver && options.sharpness === undefined) {
        frameOfZeros(unsubmitted, { sharpness: 0.5 });
      }
    }
    // Texture inputs and a caller's output texture: their kernels do not depend on sizes.
    createKernel(device, LOAD_TEXTURE_KERNEL);
    createKernel(
      device,
      prepareKernel({
        colorTexture: true,
        depthTexture: true,
        motionTexture: true,
        writeDepth: true,
      }),
    );
    const tonemapped = temporal?.historyFormat ?? 'rgba32float';
    for (const format of OUTPUT_FORMATS) createKernel(device, outputKernel(format, tonemapped));
    createKernel(device, exposureKernel(true));
  });
}

/**
 * Checks a dispatch's values and every input's size (the color's) and format, before any pass
 * opens, so errors leave the encoder usable. Returns the color size.
 */
function checkDispatchInputs(inputs: DispatchInputs): Size {
  const { exposure } = inputs;
  checkDispatchParams({ ...inputs, exposure: typeof exposure === 'number' ? exposure : 1 });
  if (typeof exposure !== 'number') checkExposureTexture(exposure);
  const colorSize: Size = [inputs.color.width, inputs.color.height];
  checkInput(inputs.color, 'color', 3, colorSize, 'the color size');
  checkInput(inputs.depth, 'depth', 1, colorSize, 'the color size');
  checkInput(inputs.motion, 'motion', 2, colorSize, 'the color size');
  checkInput(inputs.reactive, 'reactive', 1, colorSize, 'the color size');
  checkInput(inputs.transparency, 'transparency', 1, colorSize, 'the color size');
  return colorSize;
}

/** Checks an exposure texture: a 1×1 float texture that can be bound. */
function checkExposureTexture(texture: GPUTexture): void {
  if (typeof texture?.createView !== 'function') {
    throw new RangeError(
      `exposure must be a positive finite number or a GPUTexture, got ${String(texture)}`,
    );
  }
  if (!EXPOSURE_TEXTURE_FORMATS.includes(texture.format)) {
    throw new RangeError(
      `exposure: format ${texture.format} is not read; use one of ${EXPOSURE_TEXTURE_FORMATS.join(', ')}`,
    );
  }
  if ((texture.usage & GPUTextureUsage.TEXTURE_BINDING) === 0) {
    throw new RangeError('exposure: the texture needs GPUTextureUsage.TEXTURE_BINDING');
  }
}

/** What a frame's passes use besides its inputs. */
interface FrameState {
  readonly options: UpscalerOptions;
  readonly method: UpscalerMethod;
  /** The temporal resolve; undefined for the spatial methods. */
  readonly temporal: Resolver | undefined;
  readonly sizes: { renderSize: Size; displaySize: Size };
  readonly resources: UpscalerResources;
  /** The last resolve's history and state; undefined before the first resolve at these sizes. */
  readonly previous: Reprojected | undefined;
  /** Ignore history: the inputs ask for it, or the frame is the first at these sizes. */
  readonly reset: boolean;
  /** The last frame's depth for prepare's disocclusion test; undefined: none to compare. */
  readonly previousDepth: GpuImage | undefined;
  /** Where prepare keeps this frame's depth (not `previousDepth`). */
  readonly depthOut: GpuImage;
  /** The exposure pass's state (src/gpu/passes/exposure.ts), kept across frames. */
  readonly exposureState: GPUBuffer;
}

/**
 * Records one frame: load and prepare, then reproject and resolve (temporal methods) or upscale
 * (spatial methods), then output — inside the resolve where the resolver writes it (no
 * sharpening). Returns the resolve's history and state for the next frame.
 */
function encodeFrame(
  device: GPUDevice,
  encoder: GPUCommandEncoder,
  inputs: DispatchInputs,
  frame: FrameState,
): Reprojected | undefined {
  const { options, temporal, reset } = frame;
  const { render, display } = frame.resources;
  const stage = (name: string): GPUComputePassDescriptor => ({
    label: `uplift ${name}`,
    timestampWrites: options.timer?.computePass(name),
  });
  const pass = encoder.beginComputePass(stage('prepare'));
  const exposureState = frame.exposureState;
  encodeExposure(device, pass, inputs.exposure, inputs.preExposure ?? 1, reset, exposureState);
  encodeLoadAndPrepare(device, pass, inputs, render, frame, options);
  pass.end();
  let resolved: Reprojected | undefined;
  let tonemapped: GpuImage;
  const sharpness = inputs.sharpness ?? options.sharpness;
  const targets = { image: display.outputImage, texture: inputs.output ?? display.output };
  let folded = false;
  if (temporal) {
    const previous = frame.previous ?? display.empty;
    // A resolver that reprojects in its own kernel gets what this pass would read instead.
    const reproject = temporal.reprojects === true ? { previous, exposureState } : undefined;
    if (!reproject) {
      const reprojectPass = encoder.beginComputePass(stage('reproject'));
      encodeReproject(
        device,
        reprojectPass,
        render.prepared.motion,
        previous,
        reset,
        display.reprojected,
        { state: exposureState },
      );
      reprojectPass.end();
    }
    // Without sharpening a resolve that can writes the output itself: no output pass.
    folded = temporal.writesOutput === true && sharpness === undefined;
    const resolveInputs: ResolveInputs = {
      prepared: render.prepared,
      reprojected: display.reprojected,
      ...(reproject ? { reproject } : {}),
      jitter: inputs.jitter,
      reset,
      renderSize: frame.sizes.renderSize,
      displaySize: frame.sizes.displaySize,
      ...(options.timer ? { timer: options.timer } : {}),
      ...(folded ? { output: { ...targets, exposureState } } : {}),
    };
    const resolve = () => temporal.resolve(encoder, resolveInputs);
    resolved = options.timer ? options.timer.span(encoder, 'resolve', resolve) : resolve();
    tonemapped = resolved.history;
  } else {
    const spatialPass = encoder.beginComputePass(stage('upscale'));
    const spatial = frame.method === 'bilinear' ? encodeBilinearUpscale : encodeLanczosUpscale;
    spatial(device, spatialPass, render.prepared.color, inputs.jitter, display.spatial);
    spatialPass.end();
    tonemapped = display.spatial;
  }
  if (folded) return resolved;
  const outputPass = encoder.beginComputePass(stage('output'));
  encodeOutput(
    device,
    outputPass,
    tonemapped,
    1, // unused: the exposure comes from exposureState
    sharpness,
    targets,
    exposureState,
  );
  outputPass.end();
  return resolved;
}

/**
 * Prepares the frame in `pass`: color, depth and motion are read where the caller has them
 * (texture or GpuImage), texture masks are loaded into `render` first; this frame's depth is kept
 * in `frame.depthOut` for the next.
 */
function encodeLoadAndPrepare(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  inputs: DispatchInputs,
  render: RenderResources,
  frame: Pick<FrameState, 'previousDepth' | 'depthOut' | 'exposureState'>,
  options: UpscalerOptions,
): void {
  const reactive = inputs.reactive && loadInput(device, pass, inputs.reactive, render.reactive);
  const transparency =
    inputs.transparency && loadInput(device, pass, inputs.transparency, render.transparency);
  encodePrepare(
    device,
    pass,
    {
      color: inputs.color,
      depth: inputs.depth,
      motion: inputs.motion,
      reactive,
      transparency,
      previousDepth: frame.previousDepth,
      exposureState: frame.exposureState,
      depthOut: frame.depthOut,
    },
    { ...inputs, exposure: 1, depthInverted: options.depthInverted ?? false },
    render.prepared,
  );
}
