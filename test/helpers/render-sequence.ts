/** A small data-engine sequence written to disk, as the frame-generation CLI tests read it. */
import { createSequenceWriter } from '../../src/io/sequence.ts';
import { createSceneRenderer, sceneFrameSource } from '../../src/scene/renderer.ts';
import { testGpu } from './gpu.ts';

/**
 * Renders `frames` frames of the 'mix' scene at `fps` on `path` (seed 1012, 32×24 display, 2
 * samples) into `dir`. The same path at twice the fps and frames is its in-between truth.
 */
export async function renderTestSequence(
  dir: string,
  { path, fps, frames }: { path: 'orbit' | 'cut'; fps: number; frames: number },
): Promise<void> {
  const { device } = await testGpu();
  const renderer = createSceneRenderer(device, {
    scene: 'mix',
    path,
    displaySize: [32, 24],
    seed: 1012,
    samples: 2,
    frames,
    fps,
  });
  const source = sceneFrameSource(renderer);
  const writer = await createSequenceWriter(dir, renderer.header);
  for (let i = 0; i < frames; i++) {
    await writer.writeFrame(i, source.frameParams(i), await source.readFrame(i));
  }
  await writer.finish();
  renderer.destroy();
}
