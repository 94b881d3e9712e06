/**
 * The ways of making the frame between two displayed frames that `uplift interpolate` and
 * `uplift eval --higher-rate` run: the frame generator's methods on the GPU (`heuristic`,
 * `neural`, `neural:<file.uplift>` for other weights) and two baselines on the CPU, `blend`
 * ((1 − t)·previous + t·current per pixel) and `repeat` (the previous frame). Every method is
 * handed the same displayed frames, motion and depth.
 */
import { InputError } from '../core/errors.ts';
import { createImage, type Image } from '../core/image.ts';
import type { Size } from '../core/quality.ts';
import type { FrameImages } from '../core/frame.ts';
import type { FrameGenerationParams, FrameGeneratorMethod } from '../core/frame-generation.ts';
import { readGpuImage, uploadGpuImage } from '../gpu/gpu-image.ts';
import { withGpuErrorScope } from '../gpu/error-scope.ts';
import { createFrameGenerator, type FrameGenerator } from '../frame-generator.ts';

/** A method as the CLI names it. */
export interface InterpolationMethodSpec {
  /** The name in reports (e.g. "neural:my-weights"). */
  name: string;
  /** A frame generator method, or a baseline. */
  kind: FrameGeneratorMethod | 'blend' | 'repeat';
  /** Weights file of the neural method (default: the shipped weights/framegen-v1.uplift). */
  weights?: string;
}

export const INTERPOLATION_METHODS = ['heuristic', 'neural', 'blend', 'repeat'] as const;

/** One method by name: heuristic, neural, neural:<file.uplift>, blend or repeat. */
export function parseInterpolationMethod(name: string): InterpolationMethodSpec {
  if (name.startsWith('neural:')) {
    const file = name.slice('neural:'.length);
    if (!file) throw new InputError('method neural:<file> needs a weights file after the colon');
    const label = file.replace(/^.*[\\/]/, '').replace(/\.uplift$/, '');
    return { name: `neural:${label}`, kind: 'neural', weights: file };
  }
  if (!(INTERPOLATION_METHODS as readonly string[]).includes(name)) {
    throw new InputError(
      `unknown frame generation method "${name}" (known: ${INTERPOLATION_METHODS.join(', ')}, neural:<file.uplift>)`,
    );
  }
  return { name, kind: name as InterpolationMethodSpec['kind'] };
}

/** Parses a comma-separated list such as "heuristic,neural,blend,repeat". */
export function parseInterpolationMethods(text: string): InterpolationMethodSpec[] {
  const specs = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(parseInterpolationMethod);
  if (specs.length === 0) throw new InputError('--methods: give at least one method');
  const seen = new Set<string>();
  for (const s of specs) {
    // Two columns of one name would be indistinguishable in the report.
    if (seen.has(s.name)) throw new InputError(`--methods names ${s.name} twice`);
    seen.add(s.name);
  }
  return specs;
}

/** A method ready to run: one frame at time t between two displayed frames. */
export interface InterpolationMethod {
  readonly name: string;
  generate(
    previous: Image,
    current: Image,
    inputs: FrameImages,
    params: FrameGenerationParams,
  ): Promise<Image>;
  destroy(): void;
}

/** Per pixel (1 − t)·previous + t·current, RGB. */
export function blendFrames(previous: Image, current: Image, t: number): Image {
  const blend = createImage(previous.width, previous.height, 3);
  for (let p = 0; p < previous.width * previous.height; p++) {
    for (let c = 0; c < 3; c++) {
      blend.data[p * 3 + c] =
        (1 - t) * previous.data[p * previous.channels + c]! +
        t * current.data[p * current.channels + c]!;
    }
  }
  return blend;
}

/** Builds a method for frames of `displaySize` (a frame generator for heuristic and neural). */
export async function createInterpolationMethod(
  device: GPUDevice,
  spec: InterpolationMethodSpec,
  displaySize: Size,
): Promise<InterpolationMethod> {
  const { name } = spec;
  if (spec.kind === 'blend') {
    return { name, generate: async (p, c, _, params) => blendFrames(p, c, params.t), destroy() {} };
  }
  if (spec.kind === 'repeat') {
    return { name, generate: async (previous) => previous, destroy() {} };
  }
  const generator = await createFrameGenerator(device, {
    displaySize,
    method: spec.kind,
    ...(spec.weights ? { weights: spec.weights } : {}),
  });
  return {
    name,
    generate: (previous, current, inputs, params) =>
      generateFrame(device, generator, previous, current, inputs, params),
    destroy: () => generator.destroy(),
  };
}

/** One generated frame, read back as RGB. */
async function generateFrame(
  device: GPUDevice,
  generator: FrameGenerator,
  previous: Image,
  current: Image,
  inputs: FrameImages,
  params: FrameGenerationParams,
): Promise<Image> {
  const images = [previous, current, inputs.motion, inputs.depth, inputs.reactive].map(
    (image) => image && uploadGpuImage(device, image),
  );
  const [p, c, motion, depth, reactive] = images;
  try {
    return await withGpuErrorScope(device, 'frame generation', async () => {
      const encoder = device.createCommandEncoder({ label: 'uplift frame generation' });
      generator.dispatch(encoder, {
        ...params,
        previous: p!,
        current: c!,
        motion: motion!,
        depth: depth!,
        reactive,
      });
      device.queue.submit([encoder.finish()]);
      return readGpuImage(device, generator.outputImage, 3);
    });
  } finally {
    for (const image of images) image?.buffer.destroy();
  }
}
