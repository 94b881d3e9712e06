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
 * With `engineInputs`, clips get engine-like degradations (no jitter, 8-bit depth and sRGB color,
 * wrong or missing motion on an object) with the given probabilities (engine-augment.ts); with
 * `exposureChanges`, a step or ramp of the exposure within the clip (exposure-changes.ts); with
 * `highlights`, scene clips' scenes get HDR sparkles (src/scene/procedural/highlights.ts).
 *
 * Frame 0 of every clip has `reset` set: the clip has no history before it. Clips are made one at
 * a time (calls queue), so a trainer may ask for the next clip before it is done with this one.
 * `readClipFrames` + `prepareClipCpu` (../bptt-cpu.ts) give the CPU references' form of a clip.
 *
 * This file holds the sampler's options, their checks and the mix; the clip itself is in
 * clip-source.ts, the sources in scene-clips.ts and uploaded-clips.ts.
 */
import type { FrameImages, FrameParams } from '../../core/frame.ts';
import { parseQuality, type Size } from '../../core/quality.ts';
import { readGpuImage } from '../../gpu/gpu-image.ts';
import { TRAIN, type SplitEntry } from '../splits.ts';
import {
  randomFor,
  STREAM_SOURCE,
  type ClipContent,
  type ClipSettings,
  type TrainingClip,
} from './clip-source.ts';
import {
  clipEngineInputs,
  degradeClipImages,
  degrades,
  NO_ENGINE_INPUTS,
  type EngineInputRates,
} from './engine-augment.ts';
import { NO_ZOOM, checkZoomRates, clipWindow, type ZoomRates } from './zoom-windows.ts';
import {
  checkExposureChangeRates,
  clipExposureChange,
  exposureAt,
  NO_EXPOSURE_CHANGES,
  type ExposureChangeRates,
} from './exposure-changes.ts';
import { createSceneClips, type SeedRange } from './scene-clips.ts';
import { analyticClip, createSequenceClips } from './uploaded-clips.ts';

/**
 * A source of clips and its share of the mix. `scenes`: `entries` default to TRAIN; `layoutSeeds`
 * replaces the entries' seeds by draws from the range (default: TRAIN_LAYOUT_SEEDS when `entries`
 * is absent, the entries' own seeds when it is given).
 */
export type ClipSourceSpec =
  | {
      kind: 'scenes';
      weight: number;
      entries?: readonly SplitEntry[];
      layoutSeeds?: SeedRange;
      /** Clip i shows entry i mod n (SceneSourceSpec.spread). */
      spread?: boolean;
      /** Shares of the groups drawn from one scene alone (SceneSourceSpec.sceneShares). */
      sceneShares?: Readonly<Record<string, number>>;
      /** Shares of the groups drawn from one camera path alone (SceneSourceSpec.pathShares). */
      pathShares?: Readonly<Record<string, number>>;
    }
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
  /** Probability per clip of each engine-like degradation. Default: all 0. */
  engineInputs?: EngineInputRates;
  /** Exposure changes within clips (exposure-changes.ts). Default: none. */
  exposureChanges?: ExposureChangeRates;
  /**
   * Probability per group of scene clips (one renderer) that the scene gets HDR highlights
   * (src/scene/procedural/highlights.ts). Default 0.
   */
  highlights?: number;
  /** Scene clips as windows of a larger display (zoom-windows.ts). Default: none. */
  zoom?: ZoomRates;
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

/** The sampler's options after its checks, with their defaults. */
interface CheckedOptions extends ClipSettings {
  readonly sources: readonly ClipSourceSpec[];
  /** Sum of the sources' weights (positive). */
  readonly totalWeight: number;
  readonly clipsPerRenderer: number;
  readonly rendererCache: number;
  readonly engineInputs: EngineInputRates;
  readonly exposureChanges: ExposureChangeRates;
  readonly zoom: ZoomRates;
}

function checkOptions(options: ClipSamplerOptions): CheckedOptions {
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
  const ratioList = typeof options.ratio === 'object' ? [...options.ratio] : [options.ratio ?? 2];
  if (ratioList.length === 0) throw new RangeError('ratio list is empty');
  const ratios = ratioList.map((r) => parseQuality(r));
  const sources = options.sources ?? [{ kind: 'scenes', weight: 1 }];
  const totalWeight = checkSources(sources, clipLength);
  const clipsPerRenderer = options.clipsPerRenderer ?? 4;
  const rendererCache = options.rendererCache ?? 4;
  if (!Number.isInteger(clipsPerRenderer) || clipsPerRenderer < 1)
    throw new RangeError(`clipsPerRenderer must be a positive integer, got ${clipsPerRenderer}`);
  if (!Number.isInteger(rendererCache) || rendererCache < 1)
    throw new RangeError(`rendererCache must be a positive integer, got ${rendererCache}`);
  const engineInputs = { ...NO_ENGINE_INPUTS, ...options.engineInputs };
  for (const [key, p] of Object.entries(engineInputs)) {
    if (!(p >= 0 && p <= 1))
      throw new RangeError(`engineInputs.${key} must be a probability in [0, 1], got ${p}`);
  }
  const exposureChanges = options.exposureChanges ?? NO_EXPOSURE_CHANGES;
  checkExposureChangeRates(exposureChanges, 'exposureChanges');
  const highlights = options.highlights ?? 0;
  if (!(highlights >= 0 && highlights <= 1))
    throw new RangeError(`highlights must be a probability in [0, 1], got ${highlights}`);
  const zoom = options.zoom ?? NO_ZOOM;
  checkZoomRates(zoom, 'zoom');
  return {
    seed,
    clipLength,
    displaySize,
    samples,
    ratios,
    sources,
    totalWeight,
    clipsPerRenderer,
    rendererCache,
    engineInputs,
    exposureChanges,
    highlights,
    zoom,
  };
}

/** Throws unless every source can make clips of `clipLength` frames; returns the total weight. */
function checkSources(sources: readonly ClipSourceSpec[], clipLength: number): number {
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
      let sum = 0;
      for (const [key, field] of [
        ['sceneShares', 'scene'],
        ['pathShares', 'path'],
      ] as const) {
        for (const [name, share] of Object.entries(s[key] ?? {})) {
          if (!(share > 0 && share < 1) || !(s.entries ?? TRAIN).some((e) => e[field] === name)) {
            throw new RangeError(
              `${key}: "${name}" must be a ${field} of the source's entries with a share in (0, 1), got ${share}`,
            );
          }
          sum += share;
        }
      }
      if (sum >= 1) {
        throw new RangeError('sceneShares and pathShares: the shares must sum to less than 1');
      }
      const short = (s.entries ?? TRAIN).find((e) => e.frames < clipLength);
      if ((s.entries ?? TRAIN).length === 0) throw new RangeError('a scenes source has no entries');
      if (short)
        throw new RangeError(`split entry ${short.name} has ${short.frames} frames < clipLength`);
    }
  }
  return totalWeight;
}

/** Creates a sampler of training clips on `device`. */
export function createClipSampler(device: GPUDevice, options: ClipSamplerOptions): ClipSampler {
  const settings = checkOptions(options);
  const { seed, sources, totalWeight } = settings;
  const sceneClips = createSceneClips(
    device,
    settings,
    settings.clipsPerRenderer,
    settings.rendererCache,
  );
  const sequenceClips = createSequenceClips(device, settings);
  let nextIndex = 0;

  async function makeClip(index: number): Promise<TrainingClip> {
    if (!Number.isInteger(index) || index < 0)
      throw new RangeError(`clip index must be a non-negative integer, got ${index}`);
    let pick = randomFor(seed, STREAM_SOURCE, index)() * totalWeight;
    const spec = sources.find((s) => (pick -= s.weight) < 0) ?? sources[sources.length - 1]!;
    const drawn = clipEngineInputs(settings.engineInputs, seed, index);
    // A sequence directory's jitter is in its pixels: it keeps it. The depth convention is the
    // data engine's to choose (scene clips).
    const engine =
      spec.kind === 'scenes'
        ? drawn
        : {
            ...drawn,
            noJitter: spec.kind === 'analytic' && drawn.noJitter,
            depthInverted: false,
            infiniteFar: false,
          };
    const made: ClipContent =
      spec.kind === 'scenes'
        ? await sceneClips.clip(index, spec, {
            ...engine,
            window: clipWindow(settings.zoom, seed, index),
          })
        : spec.kind === 'sequences'
          ? await sequenceClips(index, spec.dirs)
          : analyticClip(device, settings, index, engine.noJitter);
    made.frames[0]!.params = { ...made.frames[0]!.params, reset: true };
    if (degrades(engine)) {
      degradeClipImages(device, made, engine);
      made.origin.engineInputs = engine;
    }
    const exposure = clipExposureChange(settings.exposureChanges, seed, index, made.frames.length);
    if (exposure) {
      // On top of the source's own exposure (1 for rendered clips).
      for (const [t, frame] of made.frames.entries())
        frame.params = {
          ...frame.params,
          exposure: frame.params.exposure * exposureAt(exposure, t),
        };
      made.origin.exposureChange = exposure;
    }
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
    destroy: () => sceneClips.destroy(),
  };
}

/** Reads a clip back to CPU images (color RGB, depth, motion, reactive, reference RGB). */
export async function readClipFrames(
  device: GPUDevice,
  clip: TrainingClip,
): Promise<Array<{ params: FrameParams; images: Required<Omit<FrameImages, 'transparency'>> }>> {
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
