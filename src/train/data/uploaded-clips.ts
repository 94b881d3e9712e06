/**
 * Clips made on the CPU and uploaded: the `sequences` source (sequence directories read from disk,
 * cropped at a random aligned position) and the `analytic` source (a fresh analytic sequence).
 */
import { InputError } from '../../core/errors.ts';
import type { FrameImages, FrameParams, FrameSource } from '../../core/frame.ts';
import { createImage } from '../../core/image.ts';
import { uploadGpuImage } from '../../gpu/gpu-image.ts';
import { openSequence } from '../../io/sequence.ts';
import { analyticSequence } from '../../scene/analytic.ts';
import { cropFrameImages, cropSizeFor, randomCrop } from './crop.ts';
import {
  randomFor,
  STREAM_CLIP,
  type ClipContent,
  type ClipSettings,
  type TrainingFrame,
} from './clip-source.ts';

/** Clip `index` of a sequences source with directories `dirs`. */
export type SequenceClips = (index: number, dirs: readonly string[]) => Promise<ClipContent>;

/** The sequence clips of a sampler (each directory opened once, on first use). */
export function createSequenceClips(device: GPUDevice, settings: ClipSettings): SequenceClips {
  const { seed, clipLength, displaySize } = settings;
  const sequences = new Map<string, Promise<FrameSource>>();
  return async (index, dirs) => {
    const random = randomFor(seed, STREAM_CLIP, index);
    const dir = dirs[Math.floor(random() * dirs.length)]!;
    if (!sequences.has(dir)) sequences.set(dir, openSequence(dir));
    const source = await sequences.get(dir)!;
    if (source.frameCount < clipLength)
      throw new InputError(
        `${dir}: ${source.frameCount} frames, fewer than the clip length ${clipLength}`,
      );
    const size = cropSizeFor(source.header, displaySize, dir);
    const rect = randomCrop(source.header, size, random);
    const startFrame = Math.floor(random() * (source.frameCount - clipLength + 1));
    const frames: TrainingFrame[] = [];
    for (let t = 0; t < clipLength; t++) {
      const images = cropFrameImages(await source.readFrame(startFrame + t), source.header, rect);
      frames.push(
        uploadFrame(
          device,
          source.frameParams(startFrame + t),
          images,
          `${dir} frame ${startFrame + t}`,
        ),
      );
    }
    return {
      header: {
        ...source.header,
        renderSize: rect.renderSize,
        displaySize: rect.displaySize,
        colorSpace: 'linear', // the readers return linear light
        source: { ...source.header.source, crop: rect },
      },
      frames,
      origin: {
        source: 'sequences',
        name: dir,
        ratio: source.header.displaySize[0] / source.header.renderSize[0],
        startFrame,
        renderOffset: rect.renderOffset,
        displayOffset: rect.displayOffset,
      },
    };
  };
}

/**
 * Analytic clip `index`: a ratio and a seed drawn for it, the sequence rendered on the CPU
 * (without jitter when `noJitter`).
 */
export function analyticClip(
  device: GPUDevice,
  settings: ClipSettings,
  index: number,
  noJitter: boolean,
): ClipContent {
  const { seed, ratios, displaySize, clipLength, samples } = settings;
  const random = randomFor(seed, STREAM_CLIP, index);
  const ratio = ratios[Math.floor(random() * ratios.length)]!;
  const clipSeed = 1 + Math.floor(random() * 0x7fffffff);
  const sequence = analyticSequence({
    displaySize,
    ratio,
    frames: clipLength,
    seed: clipSeed,
    referenceSamples: samples,
    noJitter,
  });
  return {
    header: sequence.header,
    frames: sequence.frames.map((f, t) =>
      uploadFrame(device, f.params, f.images, `analytic frame ${t}`),
    ),
    origin: {
      source: 'analytic',
      name: 'analytic',
      seed: clipSeed,
      ratio,
      startFrame: 0,
      renderOffset: [0, 0],
      displayOffset: [0, 0],
    },
  };
}

function uploadFrame(
  device: GPUDevice,
  params: FrameParams,
  images: FrameImages,
  what: string,
): TrainingFrame {
  if (!images.reference) throw new InputError(`${what}: no reference frame (training needs one)`);
  const reactive = images.reactive ?? createImage(images.color.width, images.color.height, 1);
  return {
    params,
    gpu: {
      color: uploadGpuImage(device, images.color, 'clip color'),
      depth: uploadGpuImage(device, images.depth, 'clip depth'),
      motion: uploadGpuImage(device, images.motion, 'clip motion'),
      reactive: uploadGpuImage(device, reactive, 'clip reactive'),
      reference: uploadGpuImage(device, images.reference, 'clip reference'),
    },
  };
}
