/**
 * Training clips fed on the fly: `clip(index)` is a pure function of (sampler seed, index), so a
 * resumed run sees exactly the clips a straight run would. A clip is `clipLength` consecutive
 * frames as GPU images owned by the clip, from one of these sources, mixed by weight:
 *
 * - `scenes`: the data engine on the same GPU, rendering an entry of the TRAIN split (or the
 *   entries given) directly at the clip's display size and a ratio drawn from the ratio list;
 *   with `layoutSeeds` (the default for the TRAIN split: TRAIN_LAYOUT_SEEDS) the entry's scene
 *   and path get a layout seed drawn from that range instead of the entry's own, so training sees
 *   hundreds of layouts; consecutive clip indices in groups of `clipsPerRenderer` share the entry,
 *   seed and ratio, so a renderer (scene build, textures, pipelines) serves several clips;
 * - `sequences`: sequence directories on disk, read on the CPU, cropped at a random aligned
 *   position (crop.ts) and uploaded; their ratio is their own;
 * - `analytic`: a fresh CPU analytic sequence (src/scene/analytic.ts) with a random seed.
 *
 * Frame 0 of every clip has `reset` set: the clip has no history before it. Clips are made one at
 * a time (calls queue), so a trainer may ask for the next clip before it is done with this one.
 * `readClipFrames` + `prepareClipCpu` (../bptt-cpu.ts) give the CPU references' form of a clip.
 */
import { InputError } from '../../core/errors.ts';
import type { FrameImages, FrameParams, SequenceHeader, FrameSource } from '../../core/frame.ts';
import { createImage } from '../../core/image.ts';
import { parseQuality, type Size } from '../../core/quality.ts';
import { mulberry32 } from '../../core/random.ts';
import {
  createGpuImage,
  readGpuImage,
  uploadGpuImage,
  type GpuImage,
} from '../../gpu/gpu-image.ts';
import { openSequence } from '../../io/sequence.ts';
import { analyticSequence } from '../../scene/analytic.ts';
import { loadScene } from '../../scene/load.ts';
import { createSceneRenderer, type SceneRenderer } from '../../scene/renderer.ts';
import { entryScene, TRAIN, TRAIN_LAYOUT_SEEDS, type SplitEntry } from '../splits.ts';
import { cropFrameImages, cropSizeFor, randomCrop } from './crop.ts';

/** The GPU images of one clip frame (vec4 per pixel; DESIGN §4 layouts in the first channels). */
export interface ClipFrameImages {
  color: GpuImage;
  depth: GpuImage;
  motion: GpuImage;
  /** Zero where the source has no reactive mask. */
  reactive: GpuImage;
  reference: GpuImage;
}

export interface TrainingFrame {
  params: FrameParams;
  gpu: ClipFrameImages;
}

/** Where a clip came from (for logs and tests). */
export interface ClipOrigin {
  source: 'scenes' | 'sequences' | 'analytic';
  /** Split entry name (with the drawn layout seed), sequence directory, or `analytic`. */
  name: string;
  /** Scene and camera path (scene clips). */
  scene?: string;
  path?: string;
  /** Scene / analytic seed (absent for sequence directories). */
  seed?: number;
  ratio: number;
  /** Index of the clip's first frame in its sequence. */
  startFrame: number;
  /** Crop position (sequence directories; zero otherwise). */
  renderOffset: [number, number];
  displayOffset: [number, number];
}

export interface TrainingClip {
  /** Render and display size of the clip (the crop's, for sequence directories). */
  header: SequenceHeader;
  frames: TrainingFrame[];
  origin: ClipOrigin;
  /** Frees the clip's GPU buffers. */
  destroy(): void;
}

/** An inclusive range of layout seeds. */
export interface SeedRange {
  readonly first: number;
  readonly last: number;
}

/**
 * A source of clips and its share of the mix. `scenes`: `entries` default to TRAIN; `layoutSeeds`
 * replaces the entries' seeds by draws from the range (default: TRAIN_LAYOUT_SEEDS when `entries`
 * is absent, the entries' own seeds when it is given).
 */
export type ClipSourceSpec =
  | { kind: 'scenes'; weight: number; entries?: readonly SplitEntry[]; layoutSeeds?: SeedRange }
  | { kind: 'sequences'; weight: number; dirs: readonly string[] }
  | { kind: 'analytic'; weight: number };

export interface ClipSamplerOptions {
  /** Display size of the clips (the crop size for sequence directories, rounded down to align). */
  displaySize: Size;
  /** Display / render ratio, or ratios drawn uniformly per clip (scenes, analytic). Default 2. */
  ratio?: number | readonly number[];
  /** Consecutive frames per clip. */
  clipLength: number;
  /** Ground-truth samples per display pixel (scenes, analytic). Default 32. */
  samples?: number;
  seed: number;
  /** Default: the data engine on the TRAIN split only. */
  sources?: readonly ClipSourceSpec[];
  /** Consecutive scene clips that share one renderer. Default 4. */
  clipsPerRenderer?: number;
  /** Renderers kept alive at once (least recently used are destroyed). Default 4. */
  rendererCache?: number;
}

export interface ClipSampler {
  /** Clip number `index` (a pure function of the seed and the index). */
  clip(index: number): Promise<TrainingClip>;
  /** The clip at the cursor, then advances it. */
  next(): Promise<TrainingClip>;
  /** The cursor (index of the clip next() returns); save it to resume. */
  state(): { nextIndex: number };
  restore(state: { nextIndex: number }): void;
  destroy(): void;
}

/** A generator for a (seed, stream, index) triple: independent streams per decision. */
function randomFor(seed: number, stream: number, index: number): () => number {
  let h = Math.imul(seed ^ 0x3c6ef372, 0x9e3779b1);
  h = Math.imul(h ^ (stream + 0x7f4a7c15), 0x85ebca6b);
  h = Math.imul(h ^ (index + 0x165667b1), 0xc2b2ae35);
  return mulberry32(h ^ (h >>> 15));
}

/** What scene clip `index` of a sampler shows: entry (with its layout seed), ratio, first frame. */
export interface SceneClipChoice {
  readonly entry: SplitEntry;
  readonly ratio: number;
  readonly startFrame: number;
}

/**
 * The choice behind scene clip `index` (pure: the sampler renders exactly this). `ratios` are the
 * parsed ratio list; `clipsPerRenderer` defaults to 4 as in the sampler.
 */
export function sceneClipChoice(
  spec: { entries?: readonly SplitEntry[]; layoutSeeds?: SeedRange },
  options: {
    seed: number;
    index: number;
    clipLength: number;
    ratios: readonly number[];
    clipsPerRenderer?: number;
  },
): SceneClipChoice {
  const { seed, index, clipLength, ratios } = options;
  const entries = spec.entries ?? TRAIN;
  const layoutSeeds = spec.layoutSeeds ?? (spec.entries ? undefined : TRAIN_LAYOUT_SEEDS);
  const group = randomFor(seed, STREAM_GROUP, Math.floor(index / (options.clipsPerRenderer ?? 4)));
  let entry = entries[Math.floor(group() * entries.length)]!;
  const ratio = ratios[Math.floor(group() * ratios.length)]!;
  if (layoutSeeds) {
    const { first, last } = layoutSeeds;
    const layout = first + Math.floor(group() * (last - first + 1));
    const name = `${entry.scene}-${entry.path}-${layout}`;
    entry = { ...entry, name, seed: layout };
  }
  const startFrame = Math.floor(
    randomFor(seed, STREAM_CLIP, index)() * (entry.frames - clipLength + 1),
  );
  return { entry, ratio, startFrame };
}

const destroyRenderer = (renderer: SceneRenderer) => renderer.destroy();
/** A renderer whose scene failed to load has nothing to free (its clip already saw the error). */
const ignoreFailedLoad = () => undefined;

const STREAM_SOURCE = 1;
const STREAM_GROUP = 2;
const STREAM_CLIP = 3;

function checkOptions(options: ClipSamplerOptions): number[] {
  const { clipLength, displaySize, seed } = options;
  if (!Number.isInteger(clipLength) || clipLength < 1)
    throw new RangeError(`clipLength must be a positive integer, got ${clipLength}`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  if (!displaySize.every((v) => Number.isInteger(v) && v >= 1))
    throw new RangeError(`displaySize must be positive integers, got ${displaySize.join('x')}`);
  const samples = options.samples ?? 32;
  if (!Number.isInteger(samples) || samples < 1)
    throw new RangeError(
      `samples must be a positive integer (clips need a reference), got ${samples}`,
    );
  const ratios = typeof options.ratio === 'object' ? [...options.ratio] : [options.ratio ?? 2];
  if (ratios.length === 0) throw new RangeError('ratio list is empty');
  return ratios.map((r) => parseQuality(r));
}

/** Creates a sampler of training clips on `device`. */
export function createClipSampler(device: GPUDevice, options: ClipSamplerOptions): ClipSampler {
  const ratios = checkOptions(options);
  const { clipLength, displaySize, seed } = options;
  const samples = options.samples ?? 32;
  const sources = options.sources ?? [{ kind: 'scenes', weight: 1 }];
  const totalWeight = sources.reduce((sum, s) => sum + s.weight, 0);
  if (sources.length === 0 || !sources.every((s) => s.weight >= 0) || !(totalWeight > 0))
    throw new RangeError('sources need non-negative weights with a positive sum');
  for (const s of sources) {
    if (s.kind === 'sequences' && s.dirs.length === 0)
      throw new RangeError('a sequences source needs at least one directory');
    if (s.kind === 'scenes') {
      const range = s.layoutSeeds;
      if (
        range &&
        !(
          Number.isInteger(range.first) &&
          Number.isInteger(range.last) &&
          range.first <= range.last
        )
      )
        throw new RangeError(
          `layoutSeeds must be integers first ≤ last, got ${JSON.stringify(range)}`,
        );
      const short = (s.entries ?? TRAIN).find((e) => e.frames < clipLength);
      if ((s.entries ?? TRAIN).length === 0) throw new RangeError('a scenes source has no entries');
      if (short)
        throw new RangeError(`split entry ${short.name} has ${short.frames} frames < clipLength`);
    }
  }
  const clipsPerRenderer = options.clipsPerRenderer ?? 4;
  const cacheSize = options.rendererCache ?? 4;
  if (!Number.isInteger(clipsPerRenderer) || clipsPerRenderer < 1)
    throw new RangeError(`clipsPerRenderer must be a positive integer, got ${clipsPerRenderer}`);
  if (!Number.isInteger(cacheSize) || cacheSize < 1)
    throw new RangeError(`rendererCache must be a positive integer, got ${cacheSize}`);
  const renderers = new Map<string, Promise<SceneRenderer>>();
  const sequences = new Map<string, Promise<FrameSource>>();
  let nextIndex = 0;

  const pickRatio = (random: () => number) => ratios[Math.floor(random() * ratios.length)]!;

  const rendererFor = (entry: SplitEntry, ratio: number): Promise<SceneRenderer> => {
    const key = `${entry.name}@${ratio}`;
    let renderer = renderers.get(key);
    if (renderer)
      renderers.delete(key); // re-inserted below: Map order is recency
    else {
      renderer = loadScene(entryScene(entry), entry.seed).then((scene) =>
        createSceneRenderer(device, {
          scene,
          path: entry.path,
          seed: entry.seed,
          frames: entry.frames,
          displaySize,
          ratio,
          samples,
        }),
      );
      // A scene that fails to load is not cached (the caller still sees the error).
      renderer.catch(() => renderers.delete(key));
    }
    renderers.set(key, renderer);
    while (renderers.size > cacheSize) {
      const [oldest, evicted] = renderers.entries().next().value!;
      renderers.delete(oldest);
      void evicted.then(destroyRenderer, ignoreFailedLoad);
    }
    return renderer;
  };

  const copyImage = (encoder: GPUCommandEncoder, source: GpuImage, label: string): GpuImage => {
    const target = createGpuImage(device, source.width, source.height, label);
    encoder.copyBufferToBuffer(
      source.buffer,
      0,
      target.buffer,
      0,
      source.width * source.height * 16,
    );
    return target;
  };

  async function sceneClip(
    index: number,
    spec: Extract<ClipSourceSpec, { kind: 'scenes' }>,
  ): Promise<Omit<TrainingClip, 'destroy'>> {
    const { entry, ratio, startFrame } = sceneClipChoice(spec, {
      seed,
      index,
      clipLength,
      ratios,
      clipsPerRenderer,
    });
    const renderer = await rendererFor(entry, ratio);
    const frames: TrainingFrame[] = [];
    for (let t = 0; t < clipLength; t++) {
      // The renderer reuses two sets of buffers: copy each frame out before the next render.
      const { params, gpu } = await renderer.renderFrame(startFrame + t);
      const encoder = device.createCommandEncoder({ label: 'clip copy' });
      const copy = (image: GpuImage, what: string) => copyImage(encoder, image, `clip ${what}`);
      frames.push({
        params,
        gpu: {
          color: copy(gpu.color, 'color'),
          depth: copy(gpu.depth, 'depth'),
          motion: copy(gpu.motion, 'motion'),
          reactive: copy(gpu.reactive, 'reactive'),
          reference: copy(gpu.reference!, 'reference'),
        },
      });
      device.queue.submit([encoder.finish()]);
    }
    return {
      header: renderer.header,
      frames,
      origin: {
        source: 'scenes',
        name: entry.name,
        scene: entry.scene,
        path: entry.path,
        seed: entry.seed,
        ratio,
        startFrame,
        renderOffset: [0, 0],
        displayOffset: [0, 0],
      },
    };
  }

  const upload = (params: FrameParams, images: FrameImages, what: string): TrainingFrame => {
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
  };

  async function sequenceClip(
    index: number,
    dirs: readonly string[],
  ): Promise<Omit<TrainingClip, 'destroy'>> {
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
        upload(source.frameParams(startFrame + t), images, `${dir} frame ${startFrame + t}`),
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
  }

  function analyticClip(index: number): Omit<TrainingClip, 'destroy'> {
    const random = randomFor(seed, STREAM_CLIP, index);
    const ratio = pickRatio(random);
    const clipSeed = 1 + Math.floor(random() * 0x7fffffff);
    const sequence = analyticSequence({
      displaySize,
      ratio,
      frames: clipLength,
      seed: clipSeed,
      referenceSamples: samples,
    });
    return {
      header: sequence.header,
      frames: sequence.frames.map((f, t) => upload(f.params, f.images, `analytic frame ${t}`)),
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

  async function makeClip(index: number): Promise<TrainingClip> {
    if (!Number.isInteger(index) || index < 0)
      throw new RangeError(`clip index must be a non-negative integer, got ${index}`);
    let pick = randomFor(seed, STREAM_SOURCE, index)() * totalWeight;
    const spec = sources.find((s) => (pick -= s.weight) < 0) ?? sources[sources.length - 1]!;
    const made =
      spec.kind === 'scenes'
        ? await sceneClip(index, spec)
        : spec.kind === 'sequences'
          ? await sequenceClip(index, spec.dirs)
          : analyticClip(index);
    made.frames[0]!.params = { ...made.frames[0]!.params, reset: true };
    return {
      ...made,
      destroy() {
        for (const frame of made.frames) {
          for (const image of Object.values(frame.gpu)) image.buffer.destroy();
        }
      },
    };
  }

  // One clip at a time (a caller may prefetch the next clip while training on this one): clips
  // share renderers, whose output buffers are only valid until their next two frames.
  let queue: Promise<unknown> = Promise.resolve();
  const clip = (index: number): Promise<TrainingClip> => {
    const made = queue.then(() => makeClip(index));
    queue = made.catch(() => undefined);
    return made;
  };

  return {
    clip,
    next: () => clip(nextIndex++),
    state: () => ({ nextIndex }),
    restore(state) {
      if (!Number.isInteger(state.nextIndex) || state.nextIndex < 0)
        throw new RangeError(
          `sampler state nextIndex must be a non-negative integer, got ${state.nextIndex}`,
        );
      nextIndex = state.nextIndex;
    },
    destroy() {
      for (const renderer of renderers.values())
        void renderer.then(destroyRenderer, ignoreFailedLoad);
      renderers.clear();
    },
  };
}

/** Reads a clip back to CPU images (color RGB, depth, motion, reactive, reference RGB). */
export async function readClipFrames(
  device: GPUDevice,
  clip: TrainingClip,
): Promise<Array<{ params: FrameParams; images: Required<FrameImages> }>> {
  const out = [];
  for (const { params, gpu } of clip.frames) {
    out.push({
      params,
      images: {
        color: await readGpuImage(device, gpu.color, 3),
        depth: await readGpuImage(device, gpu.depth, 1),
        motion: await readGpuImage(device, gpu.motion, 2),
        reactive: await readGpuImage(device, gpu.reactive, 1),
        reference: await readGpuImage(device, gpu.reference, 3),
      },
    });
  }
  return out;
}
