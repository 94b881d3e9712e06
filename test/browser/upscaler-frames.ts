// What both sides of test/upscaler-browser.test.ts compute: the last of three analytic frames
// through TAAU and through the neural method (network v2 with seeded untrained weights, so no
// file has to be fetched), read back as plain arrays.
import { analyticSequence } from '../../src/scene/analytic.ts';
import { uploadImage, readImage } from '../../src/gpu/resources.ts';
import { createUpscaler } from '../../src/upscaler.ts';
import { NETWORK_V2 } from '../../src/nn/network-v2.ts';
import { initWeights } from '../../src/nn/weights.ts';
import type { NeuralModel } from '../../src/core/neural-frame.ts';

export async function upscaleAnalyticFrames(
  device: GPUDevice,
): Promise<{ taau: number[]; neural: number[] }> {
  const seq = analyticSequence({ displaySize: [32, 24], ratio: 2, frames: 3, referenceSamples: 1 });
  const model: NeuralModel = { graph: NETWORK_V2, parameters: initWeights(NETWORK_V2, 3) };
  const run = async (method: 'taau' | 'neural') => {
    const up = await createUpscaler(device, {
      displaySize: seq.header.displaySize,
      quality: 2,
      method,
      ...(method === 'neural' ? { model, precision: 'f32' as const } : {}),
    });
    for (const frame of seq.frames) {
      const inputs = {
        color: uploadImage(device, frame.images.color),
        depth: uploadImage(device, frame.images.depth),
        motion: uploadImage(device, frame.images.motion),
      };
      const encoder = device.createCommandEncoder();
      up.dispatch(encoder, { ...frame.params, ...inputs });
      device.queue.submit([encoder.finish()]);
    }
    const out = await readImage(device, up.output);
    up.destroy();
    return [...out.data];
  };
  return { taau: await run('taau'), neural: await run('neural') };
}
