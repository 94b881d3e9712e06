/**
 * The frame API (DESIGN §4): one upscaler per output, fed one frame per dispatch.
 *
 *   const up = await createUpscaler(device, { displaySize, quality: 'performance' });
 *   up.dispatch(encoder, { color, depth, motion, jitter: up.jitter(i), reset, exposure,
 *                          motionScale, cameraNear, cameraFar, fovY, frameTimeDelta });
 *   // sample up.output (rgba32float, linear) after the encoder is submitted
 *
 * Per frame: load the input textures into GpuImages → prepare → (bilinear | Lanczos) or
 * (reproject → resolve) → output. The temporal resolve is pluggable (`Resolver`): the heuristic
 * TAAU here, the neural resolve from src/nn/neural-resolve.ts for method 'neural'.
 *
 * Sizes: inputs whose size differs from `renderSize` but agree with each other are a dynamic
 * resolution change: render-size resources are reallocated and the frame is a reset. Inputs that
 * disagree with each other, or exceed the display size, are a RangeError naming the input.
 */
import type { FrameParams } from './core/frame.ts';
import { jitterOffset, jitterPhaseCount } from './core/jitter.ts';
import type { Size } from './core/quality.ts';
import { createGpuImage, type GpuImage } from './gpu/gpu-image.ts';
import { encodeLoadTexture } from './gpu/passes/load-texture.ts';
import { encodePrepare, type PreparedFrame } from './gpu/passes/prepare.ts';
import { encodeReproject, type Reprojected } from './gpu/passes/reproject.ts';
import { encodeTaauResolve } from './gpu/passes/taau-resolve.ts';
import { encodeBilinearUpscale } from './gpu/passes/bilinear.ts';
import { encodeLanczosUpscale } from './gpu/passes/lanczos.ts';
import { encodeOutput } from './gpu/passes/output.ts';
import { formatChannels } from './gpu/resources.ts';
import type { GpuTimer } from './gpu/profiler.ts';
import { DEFAULT_TAAU_SETTINGS, type TaauSettings } from './core/taau-settings.ts';
import {
  checkDispatchParams,
  checkMethod,
  resolveSizes,
  type UpscalerMethod,
  type UpscalerSizing,
} from './core/upscaler-options.ts';
import type { Resolver, ResolveInputs, NeuralResolveModule } from './gpu/resolver.ts';

export type { UpscalerMethod } from './core/upscaler-options.ts';
export type { PreparedFrame } from './gpu/passes/prepare.ts';
export type { Reprojected } from './gpu/passes/reproject.ts';

/** A frame input: a float texture, or a GpuImage already in the pipeline's format. */
export type FrameInput = GPUTexture | GpuImage;

/** What one dispatch takes (FSR 2's dispatch description, DESIGN §4). */
export interface DispatchInputs extends FrameParams {
  /** Linear RGB(A), render size: rgba32float / rgba16float texture or GpuImage. */
  color: FrameInput;
  /** Device depth, render size: r32float / r16float texture (or any float format; .r is read). */
  depth: FrameInput;
  /** Motion vectors, render size: rg32float / rg16float texture (.rg is read). */
  motion: FrameInput;
  /** Optional reactive mask, render size (.r, 0..1). */
  reactive?: FrameInput;
  /** RCAS sharpness 0..1 for this frame (overrides the upscaler's); undefined = upscaler's. */
  sharpness?: number;
}

export interface UpscalerOptions extends UpscalerSizing {
  /** Model for method 'neural' (a weights file path or an already loaded model). */
  model?: unknown;
  /** A custom temporal resolve; overrides the method's own. */
  resolver?: Resolver;
  /**
   * Profiling only: GPU times of each frame's stages go to this timer under the labels prepare,
   * reproject, resolve (temporal methods) or upscale (spatial methods), and output.
   */
  timer?: GpuTimer;
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
   * follows the options' `quality` (default Performance).
   */
  resize(displaySize: Size, renderSize?: Size): void;
  destroy(): void;
}

/** The heuristic TAAU resolve as a Resolver (owns its output history and state). */
export function createTaauResolver(
  device: GPUDevice,
  settings: Partial<TaauSettings> = {},
): Resolver {
  const merged = { ...DEFAULT_TAAU_SETTINGS, ...settings };
  let output: Reprojected | undefined;
  const free = () => {
    output?.history.buffer.destroy();
    output?.state.buffer.destroy();
    output = undefined;
  };
  return {
    resize(_renderSize, [width, height]) {
      free();
      output = {
        history: createGpuImage(device, width, height, 'taau history'),
        state: createGpuImage(device, width, height, 'taau state'),
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
      );
      pass.end();
      return target;
    },
    destroy: free,
  };
}

interface RenderResources {
  color: GpuImage;
  depth: GpuImage;
  motion: GpuImage;
  reactive: GpuImage;
  previousDepth: GpuImage;
  prepared: PreparedFrame;
}

interface DisplayResources {
  reprojected: Reprojected;
  /** The spatial methods' tonemapped result. */
  spatial: GpuImage;
  /** The previous frame's history and state before the first resolve (zeros). */
  empty: Reprojected;
  outputImage: GpuImage;
  output: GPUTexture;
}

function isGpuImage(input: FrameInput): input is GpuImage {
  return 'buffer' in input;
}

function inputSize(input: FrameInput): Size {
  return [input.width, input.height];
}

/** Creates an upscaler. Async because the neural resolve loads its model. */
export async function createUpscaler(
  device: GPUDevice,
  options: UpscalerOptions,
): Promise<Upscaler> {
  const method = checkMethod(options.method ?? 'taau');
  if (options.sharpness !== undefined && !(options.sharpness >= 0 && options.sharpness <= 1)) {
    throw new RangeError(`sharpness must be in [0, 1], got ${options.sharpness}`);
  }
  let sizes = resolveSizes(options);
  let resolver = options.resolver;
  if (!resolver && method === 'taau') resolver = createTaauResolver(device, options.taau);
  if (!resolver && method === 'neural') {
    if (options.model === undefined) throw new RangeError("method 'neural' needs a model");
    // Loaded on first use (a literal specifier, so bundlers include it) to keep the network
    // code out of programs that never ask for it.
    const module = (await import('./nn/resolve/neural-resolver.ts')) as NeuralResolveModule;
    resolver = await module.createNeuralResolver(device, { model: options.model, ...sizes });
  }
  const temporal = resolver;

  let render: RenderResources | undefined;
  let display: DisplayResources | undefined;
  let previous: Reprojected | undefined;
  let mustReset = true;

  const destroyRender = () => {
    if (!render) return;
    for (const image of [render.color, render.depth, render.motion, render.reactive]) {
      image.buffer.destroy();
    }
    render.previousDepth.buffer.destroy();
    render.prepared.color.buffer.destroy();
    render.prepared.motion.buffer.destroy();
    render = undefined;
  };
  const destroyDisplay = () => {
    if (!display) return;
    const { reprojected, spatial, empty, outputImage, output } = display;
    for (const image of [reprojected.history, reprojected.state, spatial, empty.history]) {
      image.buffer.destroy();
    }
    empty.state.buffer.destroy();
    outputImage.buffer.destroy();
    output.destroy();
    display = undefined;
  };
  const allocate = () => {
    const [rw, rh] = sizes.renderSize;
    const [dw, dh] = sizes.displaySize;
    const r = (label: string) => createGpuImage(device, rw, rh, label);
    const d = (label: string) => createGpuImage(device, dw, dh, label);
    render = {
      color: r('input color'),
      depth: r('input depth'),
      motion: r('input motion'),
      reactive: r('input reactive'),
      previousDepth: r('previous depth'),
      prepared: { color: r('prepared color'), motion: r('prepared motion') },
    };
    display = {
      reprojected: { history: d('reprojected history'), state: d('reprojected state') },
      spatial: d('spatial upscale'),
      empty: { history: d('empty history'), state: d('empty state') },
      outputImage: d('output'),
      output: device.createTexture({
        label: 'uplift output',
        size: [dw, dh],
        format: 'rgba32float',
        usage:
          GPUTextureUsage.STORAGE_BINDING |
          GPUTextureUsage.TEXTURE_BINDING |
          GPUTextureUsage.COPY_SRC,
      }),
    };
    temporal?.resize(sizes.renderSize, sizes.displaySize);
    previous = undefined;
    mustReset = true;
  };
  const resize = (displaySize: Size, renderSize?: Size) => {
    sizes = resolveSizes({ ...options, displaySize, renderSize });
    destroyRender();
    destroyDisplay();
    allocate();
  };
  allocate();

  /** Checks an input's size and format (before any pass opens, so errors leave `encoder` usable). */
  const checkInput = (
    input: FrameInput | undefined,
    what: string,
    minChannels: number,
    [width, height]: Size,
  ) => {
    if (!input) return;
    if (input.width !== width || input.height !== height) {
      throw new RangeError(
        `${what} is ${input.width}x${input.height}, expected ${width}x${height} (the color size)`,
      );
    }
    if (isGpuImage(input)) return;
    let channels: number;
    try {
      channels = formatChannels(input.format);
    } catch {
      throw new RangeError(`${what} must be a float texture (e.g. r32float), got ${input.format}`);
    }
    if (channels < minChannels) {
      throw new RangeError(`${what} needs ${minChannels}+ channels, got a ${input.format} texture`);
    }
  };
  /** The input as a GpuImage, loading a texture into `target`. */
  const loadInput = (pass: GPUComputePassEncoder, input: FrameInput, target: GpuImage) => {
    if (isGpuImage(input)) return input;
    encodeLoadTexture(device, pass, input, target);
    return target;
  };

  const upscaler: Upscaler = {
    get output() {
      return display!.output;
    },
    get outputImage() {
      return display!.outputImage;
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
    destroy() {
      destroyRender();
      destroyDisplay();
      temporal?.destroy();
    },
    dispatch(encoder, inputs) {
      checkDispatchParams(inputs);
      const colorSize = inputSize(inputs.color);
      checkInput(inputs.color, 'color', 3, colorSize);
      checkInput(inputs.depth, 'depth', 1, colorSize);
      checkInput(inputs.motion, 'motion', 2, colorSize);
      checkInput(inputs.reactive, 'reactive', 1, colorSize);
      const [rw, rh] = colorSize;
      if (rw !== sizes.renderSize[0] || rh !== sizes.renderSize[1]) {
        // Dynamic resolution: restart at the inputs' size.
        resize(sizes.displaySize, [rw, rh]);
      }
      const res = render!;
      const out = display!;
      const reset = inputs.reset || mustReset;
      mustReset = false;

      const stage = (name: string): GPUComputePassDescriptor => ({
        label: `uplift ${name}`,
        timestampWrites: options.timer?.computePass(name),
      });
      const pass = encoder.beginComputePass(stage('prepare'));
      const color = loadInput(pass, inputs.color, res.color);
      const depth = loadInput(pass, inputs.depth, res.depth);
      const motion = loadInput(pass, inputs.motion, res.motion);
      const reactive = inputs.reactive && loadInput(pass, inputs.reactive, res.reactive);
      encodePrepare(
        device,
        pass,
        {
          color,
          depth,
          motion,
          reactive,
          previousDepth: reset ? undefined : res.previousDepth,
        },
        { ...inputs, depthInverted: options.depthInverted ?? false },
        res.prepared,
      );
      pass.end();
      let tonemapped: GpuImage;
      if (temporal) {
        const reprojectPass = encoder.beginComputePass(stage('reproject'));
        encodeReproject(
          device,
          reprojectPass,
          res.prepared.motion,
          previous ?? out.empty,
          reset,
          out.reprojected,
        );
        reprojectPass.end();
        const resolveInputs: ResolveInputs = {
          prepared: res.prepared,
          reprojected: out.reprojected,
          jitter: inputs.jitter,
          reset,
          renderSize: sizes.renderSize,
          displaySize: sizes.displaySize,
        };
        const resolve = () => temporal.resolve(encoder, resolveInputs);
        previous = options.timer ? options.timer.span(encoder, 'resolve', resolve) : resolve();
        tonemapped = previous.history;
      } else {
        const spatialPass = encoder.beginComputePass(stage('upscale'));
        const spatial = method === 'bilinear' ? encodeBilinearUpscale : encodeLanczosUpscale;
        spatial(device, spatialPass, res.prepared.color, inputs.jitter, out.spatial);
        spatialPass.end();
        tonemapped = out.spatial;
      }
      const outputPass = encoder.beginComputePass(stage('output'));
      encodeOutput(
        device,
        outputPass,
        tonemapped,
        inputs.exposure,
        inputs.sharpness ?? options.sharpness,
        { image: out.outputImage, texture: out.output },
      );
      outputPass.end();
      encoder.copyBufferToBuffer(depth.buffer, 0, res.previousDepth.buffer, 0, rw * rh * 16);
    },
  };
  return upscaler;
}
