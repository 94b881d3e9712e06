/**
 * The CPU reference upscaler: the same frame API and the same passes as src/upscaler.ts, over
 * CPU `Image`s (plain loops). It is the oracle for the GPU upscaler's tests and for the training
 * code. Also home of the input checks both upscalers share.
 */
import { cloneImage, createImage, type Image } from '../core/image.ts';
import type { FrameImages, FrameParams } from '../core/frame.ts';
import { jitterOffset, jitterPhaseCount } from '../core/jitter.ts';
import { parseQuality, renderSizeFor, type QualityMode, type Size } from '../core/quality.ts';
import { prepareFrameCpu, type PreparedFrameCpu } from './prepare.ts';
import { reprojectCpu, type ReprojectedCpu } from './reproject.ts';
import { DEFAULT_TAAU_SETTINGS, taauResolveCpu, type TaauSettings } from './taau-resolve.ts';
import { bilinearUpscaleCpu } from './bilinear.ts';
import { lanczosUpscaleCpu } from './lanczos.ts';
import { outputCpu } from './output.ts';

/** How the display image is made: spatial baselines, the heuristic TAAU, or the network. */
export type UpscalerMethod = 'bilinear' | 'lanczos' | 'taau' | 'neural';

/** Sizes and method, shared by the GPU and CPU upscalers. */
export interface UpscalerSizing {
  /** Output size. */
  displaySize: Size;
  /** Quality mode or display/render ratio in [1, 3]; ignored when `renderSize` is given. */
  quality?: QualityMode | number;
  /** Render (input) size; default round(display / ratio of `quality`, default Performance). */
  renderSize?: Size;
  /** Default 'taau'. */
  method?: UpscalerMethod;
  /** RCAS sharpness 0..1 for every frame unless a frame says otherwise; undefined = off. */
  sharpness?: number;
  /** Device depth has near = 1 (reversed Z). */
  depthInverted?: boolean;
  /** Overrides of the TAAU tuning. */
  taau?: Partial<TaauSettings>;
}

/** Per-frame values of a dispatch (FrameParams plus an optional sharpness override). */
export interface DispatchParams extends FrameParams {
  /** RCAS sharpness 0..1 for this frame (overrides the upscaler's). */
  sharpness?: number;
}

/** Resolves the render size of the options, checking both sizes. */
export function resolveSizes(options: UpscalerSizing): { displaySize: Size; renderSize: Size } {
  const displaySize = checkSize(options.displaySize, 'displaySize');
  const renderSize = options.renderSize
    ? checkSize(options.renderSize, 'renderSize')
    : renderSizeFor(displaySize, parseQuality(options.quality ?? 'performance'));
  if (renderSize[0] > displaySize[0] || renderSize[1] > displaySize[1]) {
    throw new RangeError(
      `renderSize ${renderSize.join('x')} is larger than displaySize ${displaySize.join('x')}`,
    );
  }
  return { displaySize, renderSize };
}

function checkSize(size: Size, what: string): Size {
  if (
    !Array.isArray(size) ||
    size.length !== 2 ||
    !size.every((v) => Number.isInteger(v) && v >= 1 && v <= 16384)
  ) {
    throw new RangeError(
      `${what} must be [width, height] integers in 1..16384, got ${String(size)}`,
    );
  }
  return [size[0], size[1]];
}

/** Checks a method name and a sharpness value. */
export function checkMethod(method: unknown): UpscalerMethod {
  const known = ['bilinear', 'lanczos', 'taau', 'neural'];
  if (!known.includes(method as string)) {
    throw new RangeError(`method must be one of ${known.join(', ')}, got ${String(method)}`);
  }
  return method as UpscalerMethod;
}

function checkSharpness(sharpness: number | undefined, what: string): void {
  if (sharpness !== undefined && !(sharpness >= 0 && sharpness <= 1)) {
    throw new RangeError(`${what} must be in [0, 1], got ${sharpness}`);
  }
}

/** Checks the per-frame values; errors name the offending input. */
export function checkDispatchParams(params: DispatchParams): void {
  const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const pair = (v: unknown) => Array.isArray(v) && v.length === 2 && v.every(finite);
  if (!pair(params.jitter)) {
    throw new RangeError(`jitter must be two finite numbers, got ${String(params.jitter)}`);
  }
  if (!pair(params.motionScale)) {
    throw new RangeError(
      `motionScale must be two finite numbers, got ${String(params.motionScale)}`,
    );
  }
  if (!finite(params.exposure) || params.exposure <= 0) {
    throw new RangeError(`exposure must be a positive finite number, got ${params.exposure}`);
  }
  if (!finite(params.cameraNear) || params.cameraNear <= 0) {
    throw new RangeError(`cameraNear must be a positive finite number, got ${params.cameraNear}`);
  }
  if (!(params.cameraFar > params.cameraNear)) {
    throw new RangeError(
      `cameraFar must be greater than cameraNear (Infinity allowed), got ${params.cameraFar}`,
    );
  }
  checkSharpness(params.sharpness, 'sharpness');
}

/** Inputs of a resolve step on the CPU (the CPU form of the GPU `Resolver`'s inputs). */
export interface CpuResolveInputs {
  prepared: PreparedFrameCpu;
  reprojected: ReprojectedCpu;
  jitter: readonly [number, number];
  reset: boolean;
  renderSize: Size;
  displaySize: Size;
}

/** A pluggable temporal resolve on the CPU: new history (tonemapped rgb) and 4-channel state. */
export interface CpuResolver {
  resolve(inputs: CpuResolveInputs): ReprojectedCpu;
}

/** The heuristic TAAU resolve as a CpuResolver. */
export function taauCpuResolver(settings: Partial<TaauSettings> = {}): CpuResolver {
  const merged = { ...DEFAULT_TAAU_SETTINGS, ...settings };
  return {
    resolve: (i) =>
      taauResolveCpu(i.prepared, i.reprojected, {
        jitter: i.jitter,
        reset: i.reset,
        displaySize: i.displaySize,
        settings: merged,
      }),
  };
}

export interface ReferenceUpscalerOptions extends UpscalerSizing {
  /** A custom temporal resolve (the neural one); default: the TAAU resolve for 'taau'. */
  resolver?: CpuResolver;
}

export interface ReferenceUpscaler {
  readonly displaySize: Size;
  readonly renderSize: Size;
  readonly jitterPhaseCount: number;
  /** Jitter for frame `frameIndex` (DESIGN §4). */
  jitter(frameIndex: number): [number, number];
  /** Upscales one frame; returns the linear display image (rgb, a = 1). */
  dispatch(inputs: FrameImages, params: DispatchParams): Image;
  /** The latest tonemapped history and state (temporal methods), e.g. for training targets. */
  readonly history: ReprojectedCpu | undefined;
  /** Changes sizes; the next frame starts fresh (reset). */
  resize(displaySize: Size, renderSize?: Size): void;
}

/** A CPU upscaler with the GPU upscaler's behaviour, frame by frame. */
export function createReferenceUpscaler(options: ReferenceUpscalerOptions): ReferenceUpscaler {
  const method = checkMethod(options.method ?? 'taau');
  checkSharpness(options.sharpness, 'sharpness');
  if (method === 'neural' && !options.resolver) {
    throw new RangeError("method 'neural' needs a resolver on the CPU");
  }
  const resolver =
    options.resolver ?? (method === 'taau' ? taauCpuResolver(options.taau) : undefined);
  let sizes = resolveSizes(options);
  let history: ReprojectedCpu | undefined;
  let previousDepth: Image | undefined;
  let mustReset = true;

  const upscaler: ReferenceUpscaler = {
    get displaySize() {
      return sizes.displaySize;
    },
    get renderSize() {
      return sizes.renderSize;
    },
    get jitterPhaseCount() {
      return jitterPhaseCount(sizes.renderSize[0], sizes.displaySize[0]);
    },
    get history() {
      return history;
    },
    jitter: (i) => jitterOffset(i, upscaler.jitterPhaseCount),
    resize(displaySize, renderSize) {
      sizes = resolveSizes({ ...options, displaySize, renderSize });
      history = undefined;
      previousDepth = undefined;
      mustReset = true;
    },
    dispatch(inputs, params) {
      checkDispatchParams(params);
      const [rw, rh] = [inputs.color.width, inputs.color.height];
      checkInputImage(inputs.color, 'color', rw, rh, 3);
      checkInputImage(inputs.depth, 'depth', rw, rh, 1);
      checkInputImage(inputs.motion, 'motion', rw, rh, 2);
      if (inputs.reactive) checkInputImage(inputs.reactive, 'reactive', rw, rh, 1);
      if (rw !== sizes.renderSize[0] || rh !== sizes.renderSize[1]) {
        // Dynamic resolution: the inputs changed size mid-sequence. Restart at the new size.
        upscaler.resize(sizes.displaySize, [rw, rh]);
      }
      const reset = params.reset || mustReset;
      mustReset = false;
      const prepared = prepareFrameCpu(inputs, reset ? undefined : previousDepth, {
        ...params,
        depthInverted: options.depthInverted ?? false,
      });
      previousDepth = cloneImage(inputs.depth);
      const sharpness = params.sharpness ?? options.sharpness;
      if (!resolver) {
        const spatial = method === 'bilinear' ? bilinearUpscaleCpu : lanczosUpscaleCpu;
        return outputCpu(
          spatial(prepared.color, params.jitter, sizes.displaySize),
          params.exposure,
          sharpness,
        );
      }
      const [dw, dh] = sizes.displaySize;
      const previous = history ?? {
        history: createImage(dw, dh, 4),
        state: createImage(dw, dh, 4),
      };
      const reprojected = reprojectCpu(prepared.motion, previous.history, previous.state, reset);
      history = resolver.resolve({
        prepared,
        reprojected,
        jitter: params.jitter,
        reset,
        renderSize: sizes.renderSize,
        displaySize: sizes.displaySize,
      });
      return outputCpu(history.history, params.exposure, sharpness);
    },
  };
  return upscaler;
}

/** Checks one input image's size and channel count; errors name the input. */
export function checkInputImage(
  image: Image,
  what: string,
  width: number,
  height: number,
  minChannels: number,
): void {
  if (image.width !== width || image.height !== height) {
    throw new RangeError(
      `${what} is ${image.width}x${image.height}, expected ${width}x${height} (the color size)`,
    );
  }
  if (image.channels < minChannels) {
    throw new RangeError(`${what} needs at least ${minChannels} channels, got ${image.channels}`);
  }
}
