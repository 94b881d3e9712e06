/**
 * Training clips generated on the fly: each optimizer step draws a short clip (a few consecutive
 * frames with ground truth) from the data engine, chosen by a generator seeded from (run seed,
 * step) — so a resumed run sees exactly the clips a straight run would. Sources:
 *
 * - `analytic`: a fresh CPU analytic sequence per clip (src/scene/analytic.ts, motion from the
 *   clip's seed);
 * - `scenes`: h4's procedural scenes rendered on the GPU (a pool of sequences, one per scene and
 *   layout seed, built once; each clip starts at a random frame of one of them);
 * - `sequences`: sequence directories on disk (with references): a random clip of a random one,
 *   cropped at a random place.
 *
 * Generated clips are rendered at the training size directly (a small camera frame is the crop).
 */
import { InputError } from '../core/errors.ts';
import type { FrameImages } from '../core/frame.ts';
import { cropImage, type Image } from '../core/image.ts';
import { mulberry32 } from '../core/random.ts';
import type { FrameSource } from '../eval/frame-source.ts';
import { openSequence } from '../io/index.ts';
import type { Size } from '../core/quality.ts';
import { analyticSequence } from '../scene/analytic.ts';
import { createSceneRenderer, sceneFrameSource, type SceneRenderer } from '../scene/renderer.ts';
import { prepareClipCpu, type ClipFrameCpu } from './bptt-cpu.ts';

export interface ClipDataConfig {
  readonly source: 'analytic' | 'scenes' | 'sequences';
  /** Sequence directories (source `sequences`). */
  readonly paths: readonly string[];
  /** Procedural scene names (source `scenes`). */
  readonly scenes: readonly string[];
  /** Display / render ratio of the clips. */
  readonly ratio: number;
  /** Frames per clip, warm-up included. */
  readonly clipFrames: number;
  /** Ground-truth samples per display pixel. */
  readonly referenceSamples: number;
  /** Scene sequences in the pool (source `scenes`); each scene gets layout seeds in turn. */
  readonly sequences: number;
  /** Frames per pooled sequence (clips start anywhere in it). */
  readonly sequenceFrames: number;
}

export interface ClipSampler {
  /** The clip of optimizer step `step` (deterministic). */
  sample(step: number): Promise<ClipFrameCpu[]>;
  destroy(): void;
}

/** A generator for step `step` of a run seeded `seed`. */
export function stepRandom(seed: number, step: number): () => number {
  return mulberry32(Math.imul(seed, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca6b));
}

/** Creates the sampler of a run (display size `size`). */
export function createClipSampler(
  device: GPUDevice,
  seed: number,
  size: Size,
  data: ClipDataConfig,
): ClipSampler {
  if (data.source === 'analytic') {
    return {
      async sample(step) {
        const random = stepRandom(seed, step);
        const sequence = analyticSequence({
          displaySize: size,
          ratio: data.ratio,
          frames: data.clipFrames,
          seed: 1 + Math.floor(random() * 1e9),
          referenceSamples: data.referenceSamples,
        });
        return prepareClipCpu(sequence.header, sequence.frames);
      },
      destroy() {},
    };
  }
  if (data.source === 'sequences') return sequenceSampler(seed, size, data);
  const pool: SceneRenderer[] = [];
  const renderer = (index: number) => {
    // Built on first use: a run of a few steps doesn't pay for the whole pool.
    pool[index] ??= createSceneRenderer(device, {
      scene: data.scenes[index % data.scenes.length]!,
      displaySize: size,
      ratio: data.ratio,
      seed: seed * 1000 + index,
      samples: data.referenceSamples,
      frames: data.sequenceFrames,
    });
    return pool[index]!;
  };
  return {
    async sample(step) {
      const random = stepRandom(seed, step);
      const index = Math.floor(random() * data.sequences);
      const start = Math.floor(random() * (data.sequenceFrames - data.clipFrames + 1));
      const source = sceneFrameSource(renderer(index));
      const frames = [];
      for (let t = 0; t < data.clipFrames; t++) {
        frames.push({
          params: source.frameParams(start + t),
          images: await source.readFrame(start + t),
        });
      }
      return prepareClipCpu(source.header, frames);
    },
    destroy() {
      for (const r of pool) r?.destroy();
    },
  };
}

/** Greatest common divisor of two positive integers. */
function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * Crops one frame: render images at (x0, y0) size cw × ch, the reference at the matching display
 * origin. Motion is in UV of the whole frame; in the crop's UV it is scaled by full / crop size.
 */
export function cropFrame(
  images: FrameImages,
  render: { x0: number; y0: number; width: number; height: number },
  display: { x0: number; y0: number; width: number; height: number },
): FrameImages {
  const r = render;
  const crop = (image: Image) => cropImage(image, r.x0, r.y0, r.width, r.height);
  const motion = crop(images.motion);
  const [sx, sy] = [images.motion.width / r.width, images.motion.height / r.height];
  for (let i = 0; i < motion.data.length; i += motion.channels) {
    motion.data[i] = motion.data[i]! * sx;
    motion.data[i + 1] = motion.data[i + 1]! * sy;
  }
  return {
    color: crop(images.color),
    depth: crop(images.depth),
    motion,
    ...(images.reactive ? { reactive: crop(images.reactive) } : {}),
    ...(images.reference
      ? {
          reference: cropImage(
            images.reference,
            display.x0,
            display.y0,
            display.width,
            display.height,
          ),
        }
      : {}),
  };
}

function sequenceSampler(seed: number, size: Size, data: ClipDataConfig): ClipSampler {
  const sources = new Map<string, Promise<FrameSource>>();
  const open = (path: string) => {
    let source = sources.get(path);
    if (!source) sources.set(path, (source = openSequence(path)));
    return source;
  };
  return {
    async sample(step) {
      const random = stepRandom(seed, step);
      const path = data.paths[Math.floor(random() * data.paths.length)]!;
      const source = await open(path);
      const [rw, rh] = source.header.renderSize;
      const [dw, dh] = source.header.displaySize;
      const [W, H] = size;
      const [cw, ch] = [(W * rw) / dw, (H * rh) / dh];
      if (!Number.isInteger(cw) || !Number.isInteger(ch) || W > dw || H > dh) {
        throw new InputError(
          `${path}: training size ${W}x${H} is not a crop of whole render pixels of its ${dw}x${dh} display (render ${rw}x${rh})`,
        );
      }
      if (source.frameCount < data.clipFrames) {
        throw new InputError(`${path}: ${source.frameCount} frames, clips need ${data.clipFrames}`);
      }
      // Render origins whose display origin is a whole pixel: multiples of rw / gcd(rw, dw).
      const origin = (render: number, crop: number, display: number) => {
        const q = render / gcd(render, display);
        const x0 = q * Math.floor(random() * (Math.floor((render - crop) / q) + 1));
        return [x0, (x0 * display) / render] as const;
      };
      const [x0, X0] = origin(rw, cw, dw);
      const [y0, Y0] = origin(rh, ch, dh);
      const start = Math.floor(random() * (source.frameCount - data.clipFrames + 1));
      const frames = [];
      for (let t = 0; t < data.clipFrames; t++) {
        const images = await source.readFrame(start + t);
        if (!images.reference) throw new InputError(`${path}: frame ${start + t} has no reference`);
        frames.push({
          params: source.frameParams(start + t),
          images: cropFrame(
            images,
            { x0, y0, width: cw, height: ch },
            { x0: X0, y0: Y0, width: W, height: H },
          ),
        });
      }
      return prepareClipCpu(source.header, frames);
    },
    destroy() {},
  };
}
