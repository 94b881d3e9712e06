// Browser side of test/scene-browser.test.ts: render one frame of a built-in scene in Chromium
// with the same data engine code Node runs, and report its images.
import { requestGpu } from '../src/gpu/device.ts';
import { createSceneRenderer, sceneFrameSource } from '../src/scene/renderer.ts';

const report = (v: unknown) =>
  (window as unknown as { __report: (v: unknown) => void }).__report(v);

try {
  const { device, runtime } = await requestGpu();
  const renderer = createSceneRenderer(device, {
    scene: 'particles',
    displaySize: [32, 24],
    samples: 2,
    frames: 4,
    seed: 2,
  });
  const frame = await sceneFrameSource(renderer).readFrame(2);
  report({
    runtime,
    color: Array.from(frame.color.data),
    depth: Array.from(frame.depth.data),
    motion: Array.from(frame.motion.data),
    reference: Array.from(frame.reference!.data),
  });
} catch (error) {
  report({ error: String((error as Error).stack ?? error) });
}
