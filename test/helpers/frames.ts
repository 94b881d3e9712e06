/** One frame of CPU images through a GPU upscaler, and how far two images are apart. */
import type { FrameImages } from '../../src/core/frame.ts';
import type { Image } from '../../src/core/image.ts';
import { readImage, uploadImage } from '../../src/gpu/resources.ts';
import type { DispatchInputs, Upscaler } from '../../src/upscaler.ts';

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
