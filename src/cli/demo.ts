/**
 * `uplift demo`: the main job on a built-in default, no files needed. Generates the analytic
 * sequences and renders a small scene with the data engine (the city: rendered content, where the
 * network's win over TAAU shows), runs every method on them and writes the report (Markdown and
 * HTML).
 */
import type { Command } from 'commander';
import type { FrameImages, FrameSource } from '../core/frame.ts';
import { InputError } from '../core/errors.ts';
import { parseQuality, type Size } from '../core/quality.ts';
import { createSceneRenderer, sceneFrameSource } from '../scene/renderer.ts';
import { PROCEDURAL_SCENES } from '../scene/procedural/scenes.ts';
import { parseMethods } from '../eval/run-method.ts';
import { shippedWeights } from '../eval/shipped-weights.ts';
import { evaluateSource } from '../eval/evaluate.ts';
import { writeReport } from '../report/write-report.ts';
import { parseSize } from '../core/quality.ts';
import { openSequenceArg } from './sequence-arg.ts';
import { cliGpu } from './gpu-arg.ts';
import { createProgress } from './progress.ts';
import { printSummaryTable } from './summary-table.ts';

interface DemoOptions {
  report: string;
  display: string;
  quality: string;
  frames: string;
  scene: string;
  sceneFrames: string;
  quiet?: boolean;
}

/** Reference samples per display pixel of the rendered scene (enough for 2x; 64 adds ~0.1 dB). */
const SCENE_SAMPLES = 16;

/**
 * Renders every frame of a built-in scene once and keeps it in memory: each method reads the
 * same frames, and rendering them again per method would cost more than the methods.
 */
async function renderedScene(
  device: GPUDevice,
  name: string,
  options: { displaySize: Size; quality: string; frames: number },
): Promise<FrameSource> {
  const renderer = createSceneRenderer(device, {
    scene: name,
    displaySize: options.displaySize,
    ratio: parseQuality(options.quality),
    frames: options.frames,
    samples: SCENE_SAMPLES,
  });
  const live = sceneFrameSource(renderer);
  const frames: FrameImages[] = [];
  for (let i = 0; i < live.frameCount; i++) frames.push(await live.readFrame(i));
  renderer.destroy();
  return { ...live, readFrame: async (i) => frames[i]! };
}

export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'upscale the built-in analytic sequences and a scene rendered by the data engine with every method (the network with its shipped weights) and write a report (report.md, report.html)',
    )
    .option('--report <dir>', 'report directory', 'out/demo')
    .option('--display <WxH>', 'display size', '192x128')
    .option('--quality <mode>', 'quality mode or ratio', 'performance')
    .option('--frames <n>', 'frames per analytic sequence', '32')
    .option(
      '--scene <name>',
      `built-in scene the data engine renders (${Object.keys(PROCEDURAL_SCENES).join(', ')}), or none`,
      'city',
    )
    .option('--scene-frames <n>', 'frames of the rendered scene', '24')
    .option('-q, --quiet', 'no progress output')
    .action(async (opts: DemoOptions) => {
      const builtin = {
        displaySize: parseSize(opts.display, '--display'),
        quality: opts.quality,
        frames: Number(opts.frames),
      };
      const sources = [
        await openSequenceArg('builtin:analytic:1', builtin),
        await openSequenceArg('builtin:analytic:2', builtin),
      ];
      if (opts.scene !== 'none' && !(opts.scene in PROCEDURAL_SCENES)) {
        throw new InputError(
          `--scene must be a built-in scene (${Object.keys(PROCEDURAL_SCENES).join(', ')}) or none, got "${opts.scene}"`,
        );
      }
      // The trained network joins when its shipped weights are there (they are in the repository).
      const methods = parseMethods(
        shippedWeights()
          ? 'bilinear,lanczos,taau,taau-rcas,neural'
          : 'bilinear,lanczos,taau,taau-rcas',
      );
      const gpu = await cliGpu(opts.quiet);
      if (opts.scene !== 'none') {
        const frames = Number(opts.sceneFrames);
        if (!Number.isInteger(frames) || frames < 2) {
          throw new InputError(
            `--scene-frames must be an integer of at least 2, got "${opts.sceneFrames}"`,
          );
        }
        if (!opts.quiet) console.error(`uplift: rendering ${opts.scene} (${frames} frames)`);
        sources.push(
          await renderedScene(gpu.device, opts.scene, {
            ...builtin,
            quality: opts.quality,
            frames,
          }),
        );
      }
      const progress = createProgress(
        'demo',
        sources.reduce((n, s) => n + s.frameCount * methods.length, 0),
        opts.quiet,
      );
      const results = [];
      for (const source of sources) {
        results.push(
          await evaluateSource(gpu.device, source, methods, {
            // The default 8 frames of warm-up, fewer for a shorter --frames (a steady frame left).
            warmupFrames: Math.min(8, source.frameCount - 1),
            onProgress: (m, i) => progress.tick(`${source.name} ${m} ${i}`),
          }),
        );
      }
      progress.stop();
      writeReport(opts.report, results, {
        device: gpu.adapterName,
        command: ['uplift', ...process.argv.slice(2)].join(' '),
      });
      printSummaryTable(results);
      if (!opts.quiet) {
        console.error(`uplift: report in ${opts.report}/report.md and ${opts.report}/report.html`);
      }
    });
}
