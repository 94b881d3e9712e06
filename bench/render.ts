/**
 * Data-engine speed: frames per second of the render-resolution inputs (color, depth, motion,
 * reactive in one MRT pass) and of the display-resolution ground truth at N samples per pixel.
 * Prints JSON. Usage:
 *   npx tsx bench/render.ts [--display 1920x1080] [--quality performance] [--samples 64]
 *                           [--frames 10] [--scene mix]
 * GPU work is timed from submission to onSubmittedWorkDone (no readback), after one warm-up frame.
 */
import { requestGpu } from '../src/gpu/device.ts';
import { parseQuality, parseSize, renderSizeFor } from '../src/core/quality.ts';
import { createSceneRenderer } from '../src/scene/renderer.ts';
import { loadScene } from '../src/scene/load.ts';

function arg(name: string, fallback: string): string {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 && process.argv[k + 1] ? process.argv[k + 1]! : fallback;
}

const displaySize = parseSize(arg('display', '1920x1080'), '--display');
const ratio = parseQuality(arg('quality', 'performance'));
const samples = Number(arg('samples', '64'));
const frames = Number(arg('frames', '10'));
const sceneName = arg('scene', 'mix');

const gpu = await requestGpu();
const scene = await loadScene(sceneName, 1);

/** Seconds per frame of renderFrame over `frames` frames (after one warm-up frame). */
async function secondsPerFrame(withSamples: number): Promise<number> {
  const renderer = createSceneRenderer(gpu.device, {
    scene,
    displaySize,
    ratio,
    samples: withSamples,
    frames: frames + 1,
    path: 'orbit',
  });
  await renderer.renderFrame(0);
  const start = performance.now();
  for (let i = 1; i <= frames; i++) await renderer.renderFrame(i);
  const seconds = (performance.now() - start) / 1000 / frames;
  renderer.destroy();
  return seconds;
}

const inputs = await secondsPerFrame(0);
const both = await secondsPerFrame(samples);
const reference = Math.max(both - inputs, 1e-9);
console.log(
  JSON.stringify(
    {
      adapter: gpu.adapterName,
      date: new Date().toISOString(),
      scene: sceneName,
      objects: scene.objects.length,
      displaySize,
      renderSize: renderSizeFor(displaySize, ratio),
      samples,
      frames,
      inputsFps: 1 / inputs,
      referenceFps: 1 / reference,
      referenceSamplesPerSecond: samples / reference,
      framesWithReferenceFps: 1 / both,
    },
    null,
    2,
  ),
);
process.exit(0);
