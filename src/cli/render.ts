/**
 * `uplift render`: renders a sequence directory with the data engine (DESIGN §4, §8): jittered
 * render-res color, depth, motion, reactive, and the supersampled display-res reference, plus a
 * preview strip (preview.png) of a few reference frames. --no-jitter, --depth-bits 8 and
 * --color-format srgb8 make the inputs look like a real engine's (docs/DECISIONS.md, Engine-like
 * inputs), as do --depth-inverted and --infinite-far (reversed Z with an infinite far plane);
 * --highlights adds HDR sparkles to the scene.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import type { EngineInputs } from '../core/engine-inputs.ts';
import { InputError } from '../core/errors.ts';
import { withGpuErrorScope } from '../gpu/error-scope.ts';
import { createImage, type Image } from '../core/image.ts';
import { parseQuality, parseSize } from '../core/quality.ts';
import { tonemapImage } from '../core/tonemap.ts';
import { createSequenceWriter } from '../io/sequence.ts';
import { writePng } from '../io/png.ts';
import { hstack } from '../report/compose.ts';
import { toDisplay } from '../report/write-report.ts';
import { CAMERA_PATHS } from '../scene/paths.ts';
import { PROCEDURAL_SCENES } from '../scene/procedural/scenes.ts';
import { loadScene } from '../scene/load.ts';
import { withHighlights } from '../scene/procedural/highlights.ts';
import { createSceneRenderer, sceneFrameSource } from '../scene/renderer.ts';
import { cliGpu } from './gpu-arg.ts';
import { prepareOutputDirectory } from './output-dir.ts';
import { parseInteger } from './flags.ts';
import { createProgress } from './progress.ts';

interface RenderOptions {
  scene: string;
  path?: string;
  frames: string;
  display: string;
  quality: string;
  seed: string;
  samples: string;
  fps: string;
  depthInverted?: boolean;
  infiniteFar?: boolean;
  highlights?: boolean;
  jitter: boolean;
  depthBits?: string;
  colorFormat?: string;
  output: string;
  overwrite?: boolean;
  quiet?: boolean;
}

/** Frames shown in the preview strip. */
const PREVIEW_FRAMES = 6;
/** Width of one preview frame in pixels (at most). */
const PREVIEW_WIDTH = 320;

/** Box-filtered downscale by an integer factor (preview thumbnails). */
function shrink(image: Image, factor: number): Image {
  if (factor <= 1) return image;
  const out = createImage(
    Math.max(1, Math.floor(image.width / factor)),
    Math.max(1, Math.floor(image.height / factor)),
    image.channels,
  );
  const c = image.channels;
  for (let y = 0; y < out.height; y++) {
    for (let x = 0; x < out.width; x++) {
      for (let k = 0; k < c; k++) {
        let sum = 0;
        for (let dy = 0; dy < factor; dy++) {
          for (let dx = 0; dx < factor; dx++)
            sum += image.data[((y * factor + dy) * image.width + x * factor + dx) * c + k]!;
        }
        out.data[(y * out.width + x) * c + k] = sum / (factor * factor);
      }
    }
  }
  return out;
}

/** The engine-like input flags (--no-jitter, --depth-bits, --color-format), checked. */
function parseEngineInputs(opts: RenderOptions): EngineInputs {
  if (opts.depthBits !== undefined && opts.depthBits !== '8')
    throw new InputError(
      `--depth-bits must be 8 (omit it for float depth), got "${opts.depthBits}"`,
    );
  if (opts.colorFormat !== undefined && opts.colorFormat !== 'srgb8')
    throw new InputError(
      `--color-format must be srgb8 (omit it for float color), got "${opts.colorFormat}"`,
    );
  return {
    noJitter: !opts.jitter,
    depth8: opts.depthBits === '8',
    srgb8: opts.colorFormat === 'srgb8',
  };
}

export function register(program: Command): void {
  program
    .command('render')
    .description(
      'render a training / test sequence (inputs + supersampled reference) with the data engine',
    )
    .requiredOption('-o, --output <dir>', 'sequence directory to write')
    .option('--scene <name|file>', 'built-in scene or a .gltf / .glb file', 'mix')
    .option('--path <name>', "camera path (default: the scene's)")
    .option('--frames <n>', 'number of frames', '60')
    .option('--display <WxH>', 'display (reference) size', '1280x720')
    .option(
      '--quality <mode|ratio>',
      'native | quality | balanced | performance | ultra-performance, or a ratio in [1, 3]',
      'performance',
    )
    .option('--seed <s>', 'chooses layout, materials, motion and path parameters', '1')
    .option('--samples <n>', 'reference samples per display pixel (0 = no reference)', '64')
    .option('--fps <n>', 'frames per second of scene time', '60')
    .option('--depth-inverted', 'write inverted depth (near = 1, far = 0)')
    .option(
      '--infinite-far',
      'project with an infinite far plane (cameraFar null in sequence.json), as reversed-Z engines do',
    )
    .option(
      '--highlights',
      'add HDR highlights to the scene: emissive sparkles of 8-250x white and polished metal beads',
    )
    .option('--no-jitter', 'render every frame at jitter (0, 0), as engines without TAA do')
    .option('--depth-bits <8>', 'quantize depth as an 8-bit depth target does: round(d·255)/255')
    .option(
      '--color-format <srgb8>',
      'color as an 8-bit sRGB render target gives it (clamped to [0, 1]); the reference stays full precision',
    )
    .option('--overwrite', 'replace an existing sequence in the output directory')
    .option('-q, --quiet', 'no progress output')
    .addHelpText(
      'after',
      `\nBuilt-in scenes: ${Object.keys(PROCEDURAL_SCENES).join(', ')} (or a glTF file)\n` +
        `Camera paths: ${Object.keys(CAMERA_PATHS).join(', ')}\n\n` +
        'Examples:\n  uplift render --scene foliage --path shake --frames 120 -o seq/foliage\n' +
        '  uplift render --scene assets/gltf/FlightHelmet/FlightHelmet.gltf --display 1920x1080 --quality quality -o seq/helmet\n' +
        '  uplift render --scene city --no-jitter --depth-bits 8 --color-format srgb8 -o seq/city-engine   # engine-like inputs\n' +
        '  uplift render --scene city --depth-inverted --infinite-far --highlights -o seq/city-reversed-z   # reversed Z, HDR',
    )
    .action(async (opts: RenderOptions) => {
      const frames = parseInteger(opts.frames, '--frames', 1);
      const samples = parseInteger(opts.samples, '--samples', 0);
      const seed = parseInteger(opts.seed, '--seed', 0);
      const fps = Number(opts.fps);
      if (!(Number.isFinite(fps) && fps > 0 && fps <= 1000)) {
        throw new InputError(`--fps must be a number in (0, 1000], got "${opts.fps}"`);
      }
      const displaySize = parseSize(opts.display, '--display');
      const ratio = parseQuality(opts.quality);
      if (opts.path !== undefined && !(opts.path in CAMERA_PATHS)) {
        throw new InputError(
          `--path must be one of ${Object.keys(CAMERA_PATHS).join(', ')}, got "${opts.path}"`,
        );
      }
      const engineInputs = parseEngineInputs(opts);
      const loaded = await loadScene(opts.scene, seed);
      const scene = opts.highlights ? withHighlights(loaded, seed) : loaded;
      const { device } = await cliGpu(opts.quiet);
      const renderer = createSceneRenderer(device, {
        scene,
        displaySize,
        ratio,
        seed,
        samples,
        frames,
        fps,
        depthInverted: opts.depthInverted ?? false,
        infiniteFar: opts.infiniteFar ?? false,
        engineInputs,
        ...(opts.path ? { path: opts.path } : {}),
      });
      // A file, a symlink loop or an uncreatable path is an InputError naming it; the sequence
      // writer then keeps its own rule for an existing sequence (--overwrite).
      prepareOutputDirectory(opts.output, { inputs: [], overwrite: false });
      const writer = await createSequenceWriter(opts.output, renderer.header, {
        overwrite: opts.overwrite ?? false,
        // Half floats would move 8-bit sRGB values off their grid (and full precision is cheap).
        colorPixelType: engineInputs.srgb8 ? 'float' : 'half',
      });
      const source = sceneFrameSource(renderer);
      const previewAt = new Set(
        Array.from({ length: Math.min(PREVIEW_FRAMES, frames) }, (_, k) =>
          Math.round((k * (frames - 1)) / Math.max(1, Math.min(PREVIEW_FRAMES, frames) - 1)),
        ),
      );
      const preview: Image[] = [];
      const progress = createProgress(`render ${scene.name}`, frames, opts.quiet);
      for (let i = 0; i < frames; i++) {
        // A frame the GPU refused is an error before sequence.json (written last) exists.
        const images = await withGpuErrorScope(
          device,
          `render: frame ${i} (sequence.json not written)`,
          () => source.readFrame(i),
        );
        await writer.writeFrame(i, source.frameParams(i), images);
        if (previewAt.has(i)) {
          const shown = images.reference ?? images.color;
          preview.push(
            shrink(toDisplay(tonemapImage(shown)), Math.ceil(shown.width / PREVIEW_WIDTH)),
          );
        }
        progress.tick(`frame ${i}`);
      }
      progress.stop();
      await writer.finish();
      writePng(join(opts.output, 'preview.png'), hstack(preview));
      renderer.destroy();
      if (!opts.quiet)
        console.error(`uplift: wrote ${frames} frames of ${scene.name} to ${opts.output}`);
    });
}
