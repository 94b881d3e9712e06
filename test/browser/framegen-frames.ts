// What both sides of test/framegen-browser.test.ts use: the inputs of one generated frame (a
// bright square moving over a textured background, another surface behind it, noise, a reactive
// patch), made from a seed so that the browser and Node build the same images, and the frame
// generator run on them.
import { createImage, type Image } from '../../src/core/image.ts';
import { mulberry32 } from '../../src/core/random.ts';
import type { FrameGenerationParams } from '../../src/core/frame-generation.ts';
import type { FrameGenerationImages } from '../../src/reference/frame-generation.ts';
import { readImage, uploadImage } from '../../src/gpu/resources.ts';
import { createFrameGenerator, type FrameGeneratorMethod } from '../../src/frame-generator.ts';
import type { FramegenModelSource } from '../../src/nn/framegen-model.ts';

export const DISPLAY = [32, 24] as const;
const RENDER = [16, 12] as const;

export const PARAMS: FrameGenerationParams = {
  t: 0.5,
  motionScale: [1, 1],
  cameraNear: 0.1,
  cameraFar: 100,
  reset: false,
};

/** The previous and current frames (display size), motion, depth and reactive (render size). */
export function framegenInputs(): FrameGenerationImages {
  const random = mulberry32(1818);
  const [W, H] = DISPLAY;
  const [w, h] = RENDER;
  const speed = 6;
  const inSquare = (x: number, y: number, time: number) =>
    x >= 6 + speed * time && x < 16 + speed * time && y >= 6 && y < 16;
  const frame = (time: number) => {
    const color = createImage(W, H, 3);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const square = inSquare(x + 0.5, y + 0.5, time);
        const noise = 0.05 * random();
        color.data.set(
          square ? [2.5, 2, 1.5] : [0.2 + 0.1 * Math.sin(x) + noise, 0.3, 0.2 + 0.02 * y],
          (y * W + x) * 3,
        );
      }
    }
    return color;
  };
  const motion = createImage(w, h, 2);
  const depth = createImage(w, h, 1);
  const reactive = createImage(w, h, 1);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const square = inSquare(2 * x + 1, 2 * y + 1, 1);
      motion.data[i * 2] = square ? -speed / W : 0.01 * (random() - 0.5);
      motion.data[i * 2 + 1] = square ? 0 : 0.01 * (random() - 0.5);
      depth.data[i] = square ? 0.2 : 0.8 + 0.1 * random();
      reactive.data[i] = x >= 12 && y >= 8 ? 0.5 : 0;
    }
  }
  return { previous: frame(0), current: frame(1), motion, depth, reactive };
}

/**
 * The generated frame (RGBA, display size) from the frame generator on `device`, by the given
 * method (the neural method with the given weights).
 */
export async function generateOnGpu(
  device: GPUDevice,
  method: FrameGeneratorMethod = 'heuristic',
  weights?: FramegenModelSource,
): Promise<number[]> {
  const images = framegenInputs();
  const fg = await createFrameGenerator(device, { displaySize: [...DISPLAY], method, weights });
  const encoder = device.createCommandEncoder();
  fg.dispatch(encoder, {
    ...PARAMS,
    previous: uploadImage(device, images.previous),
    current: uploadImage(device, images.current),
    motion: uploadImage(device, images.motion),
    depth: uploadImage(device, images.depth),
    reactive: uploadImage(device, images.reactive!),
  });
  device.queue.submit([encoder.finish()]);
  const out: Image = await readImage(device, fg.output);
  fg.destroy();
  return [...out.data];
}
