/**
 * Runs one upscaling method over a frame source on the GPU, frame by frame, handing each
 * display-resolution output (linear RGB) to a callback. The upscale and eval commands share it,
 * so every method sees identical inputs.
 */
import { shippedWeightsPath } from './shipped-weights.ts';
import { GpuRefusedError } from '../core/errors.ts';
import { type Image, withChannels } from '../core/image.ts';
import type { FrameImages, FrameParams, FrameSource } from '../core/frame.ts';
import { uploadImage, readImage } from '../gpu/resources.ts';
import { withGpuErrorScope } from '../gpu/error-scope.ts';
import { createUpscaler, type Upscaler, type UpscalerMethod } from '../upscaler.ts';
import type { Resolver } from '../gpu/resolver.ts';
import { checkPrecision, type PrecisionChoice } from '../core/upscaler-options.ts';
import { createNeuralResolver } from '../nn/resolve/neural-resolver.ts';

/**
 * A method as the CLI names it: `bilinear`, `lanczos`, `taau`, `taau-rcas`, `neural`,
 * `neural:<file>`; a neural method may end in `@f32`, `@f16` or `@int8` (its network precision)
 * and in `@zero-state` (the recurrent-state ablation), e.g. `neural@int8@zero-state`; any method
 * in `@rcas` or `@rcas=<sharpness>` (RCAS sharpening after it, 0.5 unless given).
 */
export interface MethodSpec {
  /** The name in reports (e.g. "taau-rcas"). */
  name: string;
  method: UpscalerMethod;
  /** RCAS sharpness 0..1, or undefined for none. */
  sharpness?: number;
  /** Weights file for the neural method (default: the shipped weights, weights/). */
  model?: string;
  /** Network precision of the neural method (default auto). */
  precision?: PrecisionChoice;
  /** A temporal resolve built by the caller (e.g. a neural resolver whose debug views it reads). */
  resolver?: Resolver;
  /** Ablation: the network's recurrent state is zeroed every frame (`@zero-state`). */
  zeroState?: boolean;
}

const KNOWN = ['bilinear', 'lanczos', 'taau', 'taau-rcas', 'neural'] as const;

/** Parses a comma-separated method list such as "bilinear,lanczos,taau". */
export function parseMethods(text: string, model?: string): MethodSpec[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new RangeError('--methods: give at least one method');
  return names.map((name) => parseMethod(name, model));
}

/**
 * One method by name; `taau-rcas` is TAAU with RCAS sharpening at 0.5; `neural:<file.uplift>` is
 * the neural method with those weights (named after the file in reports), so one run can compare
 * several models.
 */
export function parseMethod(name: string, model?: string): MethodSpec {
  // Any method may end in @rcas (RCAS at 0.5) or @rcas=<sharpness in [0, 1]>.
  const rcas = /@rcas(?:=([^@]*))?$/.exec(name);
  if (rcas) {
    const spec = parseMethod(name.slice(0, rcas.index), model);
    const sharpness = rcas[1] === undefined ? 0.5 : Number(rcas[1]);
    if (rcas[1] === '' || !(sharpness >= 0 && sharpness <= 1)) {
      throw new RangeError(`method ${name}: @rcas=<sharpness> needs a number in [0, 1]`);
    }
    return { ...spec, name: `${spec.name}@rcas=${sharpness}`, sharpness };
  }
  const at = name.lastIndexOf('@');
  if (name.startsWith('neural') && at > 0) {
    const spec = parseMethod(name.slice(0, at), model);
    const modifier = name.slice(at + 1);
    if (modifier === 'zero-state')
      return { ...spec, name: `${spec.name}@zero-state`, zeroState: true };
    const precision = checkPrecision(modifier);
    return { ...spec, name: `${spec.name}@${precision}`, precision };
  }
  if (name.startsWith('neural:')) {
    const file = name.slice('neural:'.length);
    if (!file) throw new RangeError('method neural:<file> needs a weights file after the colon');
    const label = file.replace(/^.*[\\/]/, '').replace(/\.uplift$/, '');
    return { name: `neural:${label}`, method: 'neural', model: file };
  }
  switch (name) {
    case 'bilinear':
    case 'lanczos':
    case 'taau':
      return { name, method: name };
    case 'taau-rcas':
      return { name, method: 'taau', sharpness: 0.5 };
    case 'neural':
      // Without --model, the shipped weights (an InputError names the places tried).
      return { name, method: 'neural', model: model ?? shippedWeightsPath() };
    default:
      throw new RangeError(`unknown method "${name}" (known: ${KNOWN.join(', ')})`);
  }
}

export interface RunMethodOptions {
  /** Called after each frame with its display-resolution linear RGB output and its inputs. */
  onFrame(index: number, output: Image, inputs: FrameImages): void | Promise<void>;
  /** Called after each frame (progress). */
  onProgress?(index: number): void;
}

/** Upscales every frame of `source` with `spec`, in order, carrying history across frames. */
export async function runMethod(
  device: GPUDevice,
  source: FrameSource,
  spec: MethodSpec,
  options: RunMethodOptions,
): Promise<void> {
  const { header } = source;
  // The ablation is a knob of the neural resolve, not of the frame API: build that resolve here.
  const resolver =
    spec.resolver ??
    (spec.zeroState
      ? await createNeuralResolver(device, {
          model: spec.model,
          precision: spec.precision,
          zeroState: true,
        })
      : undefined);
  const upscaler = await createUpscaler(device, {
    displaySize: header.displaySize,
    renderSize: header.renderSize,
    method: spec.method,
    sharpness: spec.sharpness,
    model: spec.model,
    precision: spec.precision,
    resolver,
    depthInverted: header.depthInverted,
  });
  try {
    for (let i = 0; i < source.frameCount; i++) {
      const params = source.frameParams(i);
      const images = await source.readFrame(i);
      const output = await upscaleFrame(device, upscaler, images, {
        ...params,
        sharpness: spec.sharpness,
      }).catch((error: unknown) => {
        if (!(error instanceof GpuRefusedError)) throw error;
        throw new GpuRefusedError(
          `${spec.name}: frame ${source.frameNumber(i)} failed, no output was written for it: ${error.message}`,
        );
      });
      await options.onFrame(i, output, images);
      options.onProgress?.(i);
    }
  } finally {
    upscaler.destroy();
  }
}

/**
 * One frame through `upscaler`, read back as rgb. A frame the GPU refuses (a validation error,
 * out of memory) rejects instead of returning an empty image.
 */
async function upscaleFrame(
  device: GPUDevice,
  upscaler: Upscaler,
  images: FrameImages,
  params: FrameParams & { sharpness?: number },
): Promise<Image> {
  const color = uploadImage(device, images.color);
  const depth = uploadImage(device, images.depth);
  const motion = uploadImage(device, images.motion);
  const reactive = images.reactive ? uploadImage(device, images.reactive) : undefined;
  try {
    return await withGpuErrorScope(device, 'the frame', async () => {
      const encoder = device.createCommandEncoder({ label: 'uplift frame' });
      upscaler.dispatch(encoder, { ...params, color, depth, motion, reactive });
      device.queue.submit([encoder.finish()]);
      return withChannels(await readImage(device, upscaler.output), 3);
    });
  } finally {
    for (const t of [color, depth, motion, reactive]) t?.destroy();
  }
}
