/**
 * Training clips generated on the fly: each optimizer step draws a short clip (a few consecutive
 * frames with ground truth) from the data engine, chosen by a generator seeded from (run seed,
 * step) — so a resumed run sees exactly the clips a straight run would. Sources:
 *
 * - `analytic`: a fresh CPU analytic sequence per clip (src/scene/analytic.ts, motion from the
 *   clip's seed);
 * - `scenes`: h4's procedural scenes rendered on the GPU (a pool of sequences, one per scene and
 *   layout seed, built once; each clip starts at a random frame of one of them).
 *
 * Clips are rendered at the training size directly (a small camera frame is the crop).
 */
import { mulberry32 } from '../core/random.ts';
import type { Size } from '../core/quality.ts';
import { analyticSequence } from '../scene/analytic.ts';
import { createSceneRenderer, sceneFrameSource, type SceneRenderer } from '../scene/renderer.ts';
import { prepareClipCpu, type ClipFrameCpu } from './bptt-cpu.ts';

export interface ClipDataConfig {
  readonly source: 'analytic' | 'scenes';
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
