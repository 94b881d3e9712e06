/**
 * The pluggable temporal resolve of the frame API (DESIGN §5 step 3): the heuristic TAAU
 * (src/upscaler.ts) and the neural resolve (src/nn/resolve/) implement it, and callers may bring
 * their own.
 */
import type { GpuTimer } from './profiler.ts';
import type { Size } from '../core/quality.ts';
import type { PrecisionChoice } from '../core/upscaler-options.ts';
import type { PreparedFrame } from './passes/prepare.ts';
import type { Reprojected } from './passes/reproject.ts';
import type { ImageFormat } from './gpu-image.ts';
import type { FoldedOutput } from './passes/output.ts';
import type { KernelSpec } from './kernel.ts';

/** Inputs of one temporal resolve step. */
export interface ResolveInputs {
  /** The prepared frame (render size). */
  prepared: PreparedFrame;
  /**
   * The previous history and state reprojected to this frame (display size; history a = valid).
   * For a resolver that `reprojects` itself: the display-size images to reproject into (not yet
   * written), with `reproject` saying from what.
   */
  reprojected: Reprojected;
  /**
   * Given only to a resolver that `reprojects`: what the reproject pass would have read besides
   * `prepared.motion` (the last resolve's history and state, the exposure pass's state), for the
   * resolver to reproject in its own kernel (src/nn/resolve/reproject-features.ts).
   */
  reproject?: ReprojectSource;
  jitter: readonly [number, number];
  /** True when history and state must be ignored (they are also zero and marked invalid). */
  reset: boolean;
  renderSize: Size;
  displaySize: Size;
  /** Profiling only: a resolver may time its own passes here (labels of its choice). */
  timer?: GpuTimer;
  /**
   * Given only to a resolver that `writesOutput`, on frames without sharpening: the frame's output
   * targets, which the resolve then writes from its new history (see `Resolver.writesOutput`).
   */
  output?: FoldedOutput;
}

/** What a resolver that reprojects itself reads (`ResolveInputs.reproject`). */
export interface ReprojectSource {
  /** The last resolve's history and state (or zeros, marked invalid, before the first). */
  readonly previous: Reprojected;
  /** The exposure pass's state buffer (src/gpu/passes/exposure.ts). */
  readonly exposureState: GPUBuffer;
}

/**
 * A temporal resolve (the pluggable step 3 of DESIGN §5). `resolve` records its work into
 * `encoder` and returns the new history (tonemapped rgb; a is ignored) and 4-channel state, both
 * display size, owned by the resolver and left untouched until its next `resolve` (the next frame
 * reprojects them). `resize` is called whenever the sizes change, before the next resolve.
 */
export interface Resolver {
  /**
   * The format of the history and state `resolve` returns and of the reprojected ones it is given
   * (src/gpu/gpu-image.ts); default 'rgba32float'. Uplift's own resolvers keep 'rgba16float'.
   */
  readonly historyFormat?: ImageFormat;
  /**
   * True: when `inputs.output` is given, `resolve` also writes the frame's output image and
   * texture from its new history, exactly as the output pass does without sharpening (declare the
   * output with `wgslFoldedOutput` and bind `foldedOutputResources`, both in `uplift/gpu`), and
   * the upscaler records no output pass. Uplift's own resolvers do; a resolver without it gets no
   * `output` and the output pass runs as before.
   */
  readonly writesOutput?: boolean;
  /**
   * With `writesOutput`: the kernels `resolve` runs to write an output texture of `format` at
   * display size `displaySize`, which `Upscaler.ready` compiles ahead for every output format
   * (src/gpu/kernel.ts KernelSpec).
   */
  outputKernels?(format: GPUTextureFormat, displaySize: Size): KernelSpec[];
  /**
   * True: the upscaler records no reproject pass and gives `resolve` the `reproject` inputs
   * instead; the resolver reprojects in its own kernel exactly as the pass would
   * (`reprojectPixel`, src/gpu/passes/reproject.ts). Read at every frame.
   */
  readonly reprojects?: boolean;
  resolve(encoder: GPUCommandEncoder, inputs: ResolveInputs): Reprojected;
  resize(renderSize: Size, displaySize: Size): void;
  /** Bytes of GPU memory the resolver holds now (for `Upscaler.memoryBytes`; optional). */
  memoryBytes?(): number;
  destroy(): void;
}

/** The contract of src/nn/resolve/neural-resolver.ts, loaded on demand for method 'neural'. */
export interface NeuralResolveModule {
  createNeuralResolver(
    device: GPUDevice,
    options: {
      model: unknown;
      renderSize: Size;
      displaySize: Size;
      precision?: PrecisionChoice;
      historyFormat?: ImageFormat;
    },
  ): Promise<Resolver>;
}
