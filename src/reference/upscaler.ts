/**
 * The CPU reference upscaler: the same frame API and the same passes as src/upscaler.ts, over
 * CPU `Image`s (plain loops). It is the oracle for the GPU upscaler's tests and for the training
 * code. The option and frame checks it shares with the GPU upscaler are in
 * src/core/upscaler-options.ts.
 */
import {
  cloneImage,
  createImage,
  storedImage,
  DEFAULT_HISTORY_FORMAT,
  type Image,
  type ImageFormat,
} from '../core/image.ts';
import type { FrameImages } from '../core/frame.ts';
import { jitterOffset, jitterPhaseCount } from '../core/jitter.ts';
import type { Size } from '../core/quality.ts';
import { prepareFrameCpu, type PreparedFrameCpu } from './prepare.ts';
import { exposureStepCpu } from './exposure.ts';
import { reprojectCpu, type ReprojectedCpu } from './reproject.ts';
import { taauResolveCpu } from './taau-resolve.ts';
import { DEFAULT_TAAU_SETTINGS, type TaauSettings } from '../core/taau-settings.ts';
import { bilinearUpscaleCpu } from './bilinear.ts';
import { lanczosUpscaleCpu } from './lanczos.ts';
import { outputCpu } from './output.ts';
import {
  checkMethod,
  checkSharpness,
  resolveSizes,
  checkDispatchParams,
  type UpscalerSizing,
  type DispatchParams,
} from '../core/upscaler-options.ts';

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
  /**
   * How the GPU twin stores history and state (the GPU `Resolver`'s historyFormat; default
   * rgba32float): `resolve` returns the values so stored, and the upscaler rounds the reprojected
   * images it gives it the same way (`storedImage`).
   */
  readonly historyFormat?: ImageFormat;
  resolve(inputs: CpuResolveInputs): ReprojectedCpu;
}

/** The stored form of a history and state (`storedImage` of both). */
export function storedHistory(images: ReprojectedCpu, format: ImageFormat): ReprojectedCpu {
  return { history: storedImage(images.history, format), state: storedImage(images.state, format) };
}

/** The heuristic TAAU resolve as a CpuResolver (history stored as the GPU's by default). */
export function taauCpuResolver(
  settings: Partial<TaauSettings> = {},
  historyFormat: ImageFormat = DEFAULT_HISTORY_FORMAT,
): CpuResolver {
  const merged = { ...DEFAULT_TAAU_SETTINGS, ...settings };
  return {
    historyFormat,
    resolve: (i) =>
      storedHistory(
        taauResolveCpu(i.prepared, i.reprojected, {
          jitter: i.jitter,
          reset: i.reset,
          displaySize: i.displaySize,
          settings: merged,
        }),
        historyFormat,
      ),
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
  /** The last frame's exposure (history's units); undefined before the first frame. */
  let previousExposure: number | undefined;
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
      if (inputs.transparency) checkInputImage(inputs.transparency, 'transparency', rw, rh, 1);
      if (rw !== sizes.renderSize[0] || rh !== sizes.renderSize[1]) {
        // Dynamic resolution: history (display size) stays; the previous depth, at another
        // size, cannot be compared pixel by pixel.
        sizes = resolveSizes({ ...options, displaySize: sizes.displaySize, renderSize: [rw, rh] });
        previousDepth = undefined;
      }
      const reset = params.reset || mustReset;
      mustReset = false;
      const exposure = exposureStepCpu(
        previousExposure,
        params.exposure,
        params.preExposure ?? 1,
        reset,
      );
      previousExposure = exposure.exposure;
      const prepared = prepareFrameCpu(inputs, reset ? undefined : previousDepth, {
        ...params,
        exposure: exposure.scale,
        depthInverted: options.depthInverted ?? false,
      });
      previousDepth = cloneImage(inputs.depth);
      const sharpness = params.sharpness ?? options.sharpness;
      if (!resolver) {
        const spatial = method === 'bilinear' ? bilinearUpscaleCpu : lanczosUpscaleCpu;
        return outputCpu(
          spatial(prepared.color, params.jitter, sizes.displaySize),
          exposure.scale,
          sharpness,
        );
      }
      const [dw, dh] = sizes.displaySize;
      const previous = history ?? {
        history: createImage(dw, dh, 4),
        state: createImage(dw, dh, 4),
      };
      const reprojected = storedHistory(
        reprojectCpu(
          prepared.motion,
          previous.history,
          previous.state,
          reset,
          exposure.historyScale,
        ),
        resolver.historyFormat ?? 'rgba32float',
      );
      history = resolver.resolve({
        prepared,
        reprojected,
        jitter: params.jitter,
        reset,
        renderSize: sizes.renderSize,
        displaySize: sizes.displaySize,
      });
      return outputCpu(history.history, exposure.scale, sharpness);
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
