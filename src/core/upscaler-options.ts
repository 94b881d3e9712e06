/**
 * The upscaler's options and per-frame values, and their checks, shared by the GPU upscaler
 * (src/upscaler.ts) and the CPU reference (src/reference/upscaler.ts). Errors name the input.
 */
import type { FrameParams } from './frame.ts';
import { parseQuality, renderSizeFor, type QualityMode, type Size } from './quality.ts';
import type { TaauSettings } from './taau-settings.ts';

/**
 * Arithmetic of the network (method 'neural'): f32, f16 intermediates (adapters with
 * shader-f16), or INT8 throughout (models quantized to 8-bit weights and activations).
 */
export type NetworkPrecision = 'f32' | 'f16' | 'int8';

/**
 * The precision a caller asks for: one of `NetworkPrecision`, or 'auto' (the default) — INT8
 * where the model carries INT8 scales and the device computes INT8 exactly (a one-time check
 * against the CPU reference), else f32.
 */
export type PrecisionChoice = NetworkPrecision | 'auto';

/** Checks a network precision ('auto' included). */
export function checkPrecision(precision: unknown): PrecisionChoice {
  const known = ['auto', 'f32', 'f16', 'int8'];
  if (!known.includes(precision as string)) {
    throw new RangeError(`precision must be one of ${known.join(', ')}, got ${String(precision)}`);
  }
  return precision as PrecisionChoice;
}

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
  /**
   * The factor the engine already multiplied the color by (FSR's pre-exposure; default 1): the
   * input is divided by it and the output multiplied by it, so both stay in the engine's units
   * while history does not jump when it changes.
   */
  preExposure?: number;
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

export function checkSharpness(sharpness: number | undefined, what: string): void {
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
  if (
    params.preExposure !== undefined &&
    (!finite(params.preExposure) || params.preExposure <= 0)
  ) {
    throw new RangeError(`preExposure must be a positive finite number, got ${params.preExposure}`);
  }
  if (!finite(params.cameraNear) || params.cameraNear <= 0) {
    throw new RangeError(`cameraNear must be a positive finite number, got ${params.cameraNear}`);
  }
  if (!(params.cameraFar > params.cameraNear)) {
    throw new RangeError(
      `cameraFar must be greater than cameraNear (Infinity allowed), got ${params.cameraFar}`,
    );
  }
  // Checked although no pass reads them yet (FSR's dispatch description has them; `uplift check`
  // and motion-scaled heuristics will): a NaN here is a caller's bug worth naming.
  if (!finite(params.fovY) || params.fovY <= 0 || params.fovY >= Math.PI) {
    throw new RangeError(`fovY must be radians in (0, π), got ${params.fovY}`);
  }
  if (
    params.frameTimeDelta !== undefined &&
    (!finite(params.frameTimeDelta) || params.frameTimeDelta <= 0)
  ) {
    throw new RangeError(
      `frameTimeDelta must be a positive finite number of seconds, got ${params.frameTimeDelta}`,
    );
  }
  checkSharpness(params.sharpness, 'sharpness');
}
