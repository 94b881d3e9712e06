/**
 * Data-engine speed: frames per second of the render-resolution inputs (color, depth, motion,
 * reactive in one MRT pass) and of the display-resolution ground truth at N samples per pixel.
 * `benchRender` is the data-engine part of bench/all.ts; run directly it prints JSON:
 *   npx tsx bench/render.ts [--display 1920x1080] [--quality performance] [--samples 64]
 *                           [--frames 10] [--scene mix]
 * GPU work is timed per frame from encoding to onSubmittedWorkDone (no readback), after warm-up
 * frames; the renderer submits its own passes, so there are no per-pass GPU timestamps. The CPU's
 * share (`encodeMs`: renderFrame until it returns, before waiting) is what bounds training,
 * whose GPU work overlaps the next frame's encoding; the reference is measured with its draws in a
 * render bundle (the default) and issued per sample.
 */
import { parseQuality, parseSize, renderSizeFor, type Size } from '../src/core/quality.ts';
import { createSceneRenderer } from '../src/scene/renderer.ts';
import { loadScene } from '../src/scene/load.ts';
import type { Scene } from '../src/scene/types.ts';
import { runCases, summarize, type BenchCase, type BenchSettings } from './stats.ts';

/** What one render measurement renders. */
export interface RenderBenchOptions {
  displaySize: Size;
  /** Display/render ratio. */
  ratio: number;
  /** Ground-truth samples per display pixel (0 = inputs only). */
  samples: number;
  /** Measured frames. */
  frames: number;
  /** Unmeasured frames first. */
  warmup: number;
  /** Stop measuring after this many seconds (the frames so far are kept). */
  maxSeconds?: number;
  /** Reference draws in a render bundle (default true). */
  referenceBundles?: boolean;
}

/** Wall ms of each measured `renderFrame` of `scene` along its orbit path, and its CPU share. */
export async function renderFrameTimes(
  device: GPUDevice,
  scene: Scene,
  options: RenderBenchOptions,
): Promise<{ wall: number[]; encode: number[] }> {
  const total = options.warmup + options.frames;
  const renderer = createSceneRenderer(device, {
    scene,
    displaySize: options.displaySize,
    ratio: options.ratio,
    samples: options.samples,
    frames: total,
    path: 'orbit',
    ...(options.referenceBundles === undefined
      ? {}
      : { referenceBundles: options.referenceBundles }),
  });
  const times: number[] = [];
  const encode: number[] = [];
  const started = performance.now();
  try {
    for (let i = 0; i < total; i++) {
      const t0 = performance.now();
      await renderer.renderFrame(i);
      const t1 = performance.now();
      await device.queue.onSubmittedWorkDone(); // renderFrame only submits
      if (i < options.warmup) continue;
      times.push(performance.now() - t0);
      encode.push(t1 - t0);
      if ((performance.now() - started) / 1e3 > (options.maxSeconds ?? Infinity)) break;
    }
  } finally {
    renderer.destroy();
  }
  return { wall: times, encode };
}

/**
 * The cases of bench/all.ts: inputs alone, inputs + 64 spp ground truth, and the same with the
 * reference draws issued per sample instead of a render bundle (tiny with quick).
 */
export function benchRender(device: GPUDevice, settings: BenchSettings): Promise<BenchCase[]> {
  const displaySize: Size = settings.quick ? [48, 32] : [1920, 1080];
  const ratio = parseQuality('performance');
  const sceneName = 'mix';
  const spp = settings.quick ? 2 : 64;
  const cases = [
    { samples: 0, bundles: true },
    { samples: spp, bundles: true },
    { samples: spp, bundles: false },
  ];
  const nameOf = ({ samples, bundles }: (typeof cases)[number]) =>
    `${sceneName} ${displaySize.join('x')} ${samples ? `+ ${samples} spp` : 'inputs'}` +
    (samples && !bundles ? ', draws per sample' : '');
  // Ground truth at 64 spp is ~64 scene renders per frame: fewer frames are enough (and a
  // frame of the mix scene takes about a second on lavapipe, so quick runs take two).
  const frames = Math.min(settings.frames, settings.quick ? 2 : 30);
  let scene: Promise<Scene> | undefined;
  return runCases('render', cases, nameOf, settings, async (c) => {
    scene ??= loadScene(sceneName, 1);
    const times = await renderFrameTimes(device, await scene, {
      displaySize,
      ratio,
      samples: c.samples,
      frames,
      warmup: Math.min(settings.warmup, settings.quick ? 1 : 3),
      referenceBundles: c.bundles,
      maxSeconds: Math.min(settings.caseSeconds, (settings.deadline - performance.now()) / 1e3),
    });
    const wallMs = summarize(times.wall);
    return {
      name: nameOf(c),
      params: {
        scene: sceneName,
        display: displaySize.join('x'),
        render: renderSizeFor(displaySize, ratio).join('x'),
        samples: c.samples,
        referenceBundles: c.bundles,
      },
      frames: times.wall.length,
      gpuMs: {},
      wallMs,
      encodeMs: summarize(times.encode),
      derived: { framesPerSecond: 1e3 / wallMs.median },
    };
  });
}

async function main(): Promise<void> {
  const { requestGpu } = await import('../src/gpu/device.ts');
  const arg = (name: string, fallback: string) => {
    const k = process.argv.indexOf(`--${name}`);
    return k >= 0 && process.argv[k + 1] ? process.argv[k + 1]! : fallback;
  };
  const displaySize = parseSize(arg('display', '1920x1080'), '--display');
  const ratio = parseQuality(arg('quality', 'performance'));
  const samples = Number(arg('samples', '64'));
  const frames = Number(arg('frames', '10'));
  const sceneName = arg('scene', 'mix');
  const gpu = await requestGpu();
  const scene = await loadScene(sceneName, 1);
  const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length / 1e3;
  const options = { displaySize, ratio, frames, warmup: 1 };
  const inputs = mean((await renderFrameTimes(gpu.device, scene, { ...options, samples: 0 })).wall);
  const bundled = await renderFrameTimes(gpu.device, scene, { ...options, samples });
  const perSample = await renderFrameTimes(gpu.device, scene, {
    ...options,
    samples,
    referenceBundles: false,
  });
  const both = mean(bundled.wall);
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
        // The CPU's share of a frame with its reference (median ms): draws in a render bundle
        // replayed per sample, and every draw issued per sample.
        encodeMs: {
          bundled: summarize(bundled.encode).median,
          drawsPerSample: summarize(perSample.encode).median,
        },
      },
      null,
      2,
    ),
  );
  process.exit(0);
}

// Run directly (not when bundled into bench/all.ts, where every module shares one import.meta.url).
if (/[\\/]render\.[mc]?[jt]s$/.test(process.argv[1] ?? '')) await main();
