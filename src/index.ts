/**
 * Uplift's main entry: the frame API and what a caller needs around it. Subsystems have their own
 * entries: `uplift/core`, `uplift/gpu`, `uplift/io`, `uplift/metrics`, `uplift/nn`, `uplift/scene`.
 */
export { createUpscaler } from './upscaler.ts';
export type {
  DispatchInputs,
  FrameInput,
  Upscaler,
  UpscalerMethod,
  UpscalerOptions,
} from './upscaler.ts';
export { createFrameGenerator } from './frame-generator.ts';
export type {
  FrameGenerationInputs,
  FrameGenerator,
  FrameGeneratorMethod,
  FrameGeneratorOptions,
} from './frame-generator.ts';
export type { Resolver, ResolveInputs, ReprojectSource } from './gpu/resolver.ts';
export { requestGpu, NoGpuError } from './gpu/device.ts';
export type { GpuContext, GpuFeatures } from './gpu/device.ts';
export { QUALITY_RATIOS, parseQuality, renderSizeFor, mipBias } from './core/quality.ts';
export type { QualityMode, Size } from './core/quality.ts';
export { jitterOffset, jitterPhaseCount } from './core/jitter.ts';
export type { FrameParams } from './core/frame.ts';
export { InputError } from './core/errors.ts';
