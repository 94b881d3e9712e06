/**
 * One frame of CPU images through a GPU upscaler, frames of a neural upscaler (or of one made
 * from resolver options) read back, and how far two images are apart.
 */
import { defaultFrameParams, type FrameImages } from '../../src/core/frame.ts';
import { readGpuImage, type GpuImage } from '../../src/gpu/gpu-image.ts';
import type { Image } from '../../src/core/image.ts';
import { readImage, uploadImage } from '../../src/gpu/resources.ts';
import { createUpscaler, type DispatchInputs, type Upscaler } from '../../src/upscaler.ts';
import type { Size } from '../../src/core/quality.ts';
import {
  createNeuralResolver,
  type NeuralResolverOptions,
} from '../../src/nn/resolve/neural-resolver.ts';

/** A dispatch's values without its images. */
export type FrameValues = Omit<
  DispatchInputs,
  'color' | 'depth' | 'motion' | 'reactive' | 'transparency' | 'output'
>;

/** Uploads the images (masks too, if given), dispatches one frame and reads `up.output` back. */
export async function gpuFrame(
  device: GPUDevice,
  up: Upscaler,
  images: FrameImages,
  values: FrameValues,
): Promise<Image> {
  const color = uploadImage(device, images.color);
  const depth = uploadImage(device, images.depth);
  const motion = uploadImage(device, images.motion);
  const reactive = images.reactive && uploadImage(device, images.reactive);
  const transparency = images.transparency && uploadImage(device, images.transparency);
  const encoder = device.createCommandEncoder();
  up.dispatch(encoder, { ...values, color, depth, motion, reactive, transparency });
  device.queue.submit([encoder.finish()]);
  const out = await readImage(device, up.output);
  for (const t of [color, depth, motion, reactive, transparency]) t?.destroy();
  return out;
}

/** Largest |a − b| / (1 + |b|) over RGB. */
export function relativeError(a: Image, b: Image): number {
  let max = 0;
  for (let i = 0; i < b.data.length; i++) {
    if (i % 4 === 3) continue;
    max = Math.max(max, Math.abs(a.data[i]! - b.data[i]!) / (1 + Math.abs(b.data[i]!)));
  }
  return max;
}

/**
 * Dispatches `frames` through `up` (the first a reset, the upscaler's jitter), reading back the
 * upscaler's output and `resolver`'s new history and state after each (3 images a frame), and
 * the label of the pipeline of every compute dispatch meanwhile (which kernels the frames ran;
 * bind groups are kept between frames, so they no longer count dispatches).
 */
export async function neuralFrames(
  device: GPUDevice,
  up: Upscaler,
  resolver: { readonly lastFrame: { history: GpuImage; state: GpuImage } | undefined },
  frames: readonly Pick<DispatchInputs, 'color' | 'depth' | 'motion'>[],
): Promise<{ outputs: Float32Array[]; labels: string[] }> {
  const labels: string[] = [];
  const createCommandEncoder = device.createCommandEncoder.bind(device);
  device.createCommandEncoder = (d?: GPUCommandEncoderDescriptor) => {
    const encoder = createCommandEncoder(d);
    const beginComputePass = encoder.beginComputePass.bind(encoder);
    encoder.beginComputePass = (p?: GPUComputePassDescriptor) => {
      const pass = beginComputePass(p);
      const setPipeline = pass.setPipeline.bind(pass);
      pass.setPipeline = (pipeline: GPUComputePipeline) => {
        labels.push(pipeline.label);
        setPipeline(pipeline);
      };
      return pass;
    };
    return encoder;
  };
  const outputs: Float32Array[] = [];
  try {
    for (const [i, f] of frames.entries()) {
      const encoder = device.createCommandEncoder();
      up.dispatch(encoder, { ...defaultFrameParams(), ...f, jitter: up.jitter(i), reset: i === 0 });
      device.queue.submit([encoder.finish()]);
      const last = resolver.lastFrame!;
      for (const image of [up.outputImage, last.history, last.state]) {
        outputs.push((await readGpuImage(device, image)).data);
      }
    }
  } finally {
    device.createCommandEncoder = createCommandEncoder;
  }
  return { outputs, labels };
}

/**
 * `frames` through a neural upscaler of `displaySize` from `renderSize` whose resolver
 * `createNeuralResolver` makes of `options`: `neuralFrames`' outputs and kernel labels, and
 * whether the resolver reprojected and its memory (read before the upscaler is destroyed).
 */
export async function neuralResolverFrames(
  device: GPUDevice,
  options: NeuralResolverOptions,
  displaySize: Size,
  renderSize: Size,
  frames: readonly Pick<DispatchInputs, 'color' | 'depth' | 'motion'>[],
): Promise<{
  outputs: Float32Array[];
  labels: string[];
  reprojects: boolean | undefined;
  memory: number | undefined;
}> {
  const resolver = await createNeuralResolver(device, options);
  const up = await createUpscaler(device, { displaySize, renderSize, method: 'neural', resolver });
  try {
    const { outputs, labels } = await neuralFrames(device, up, resolver, frames);
    return { outputs, labels, reprojects: resolver.reprojects, memory: resolver.memoryBytes?.() };
  } finally {
    up.destroy();
  }
}
