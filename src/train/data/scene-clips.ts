/**
 * Clips of the `scenes` source: which split entry, layout seed, ratio and first frame clip
 * `index` shows (a pure choice), the renderers that draw them (cached: consecutive clips share
 * one), and a clip's frames copied out of its renderer.
 */
import { createGpuImage, type GpuImage } from '../../gpu/gpu-image.ts';
import { loadScene } from '../../scene/load.ts';
import { withHighlights } from '../../scene/procedural/highlights.ts';
import {
  createSceneRenderer,
  type FrameOverrides,
  type SceneRenderer,
} from '../../scene/renderer.ts';
import { entryScene, TRAIN, TRAIN_LAYOUT_SEEDS, type SplitEntry } from '../splits.ts';
import {
  randomFor,
  STREAM_CLIP,
  STREAM_GROUP,
  STREAM_HIGHLIGHTS,
  STREAM_SCENE_SHARE,
  type ClipContent,
  type ClipSettings,
  type TrainingFrame,
} from './clip-source.ts';

/** An inclusive range of layout seeds. */
export interface SeedRange {
  readonly first: number;
  readonly last: number;
}

/** Which entries a scenes source draws from, and the layout seeds it gives them. */
export interface SceneSourceSpec {
  readonly entries?: readonly SplitEntry[];
  readonly layoutSeeds?: SeedRange;
  /**
   * Clip i shows entry i mod n, each clip its own draw of ratio and start (no groups sharing an
   * entry): n clips cover all n entries, as a validation set should.
   */
  readonly spread?: boolean;
  /**
   * Shares of the groups of clips drawn from one scene's entries alone (scene name → share in
   * (0, 1), the shares' sum below 1); the other groups draw from all entries. Empty or absent:
   * every group draws from all (the stream of choices is then what it was without this).
   */
  readonly sceneShares?: Readonly<Record<string, number>>;
  /** The same by camera path (path name → share), after the scenes' shares on the same draw. */
  readonly pathShares?: Readonly<Record<string, number>>;
}

/**
 * The entries a group draws from: one scene's or one camera path's, with its share of the groups
 * (an own stream, so the group's other draws stay as they were), else all.
 */
function sharedPool(
  entries: readonly SplitEntry[],
  spec: SceneSourceSpec,
  seed: number,
  groupIndex: number,
): readonly SplitEntry[] {
  const named = [
    ...Object.entries(spec.sceneShares ?? {}).map(
      ([name, share]) => ['scene', name, share] as const,
    ),
    ...Object.entries(spec.pathShares ?? {}).map(([name, share]) => ['path', name, share] as const),
  ];
  if (named.length === 0) return entries;
  let pick = randomFor(seed, STREAM_SCENE_SHARE, groupIndex)();
  for (const [field, name, share] of named) {
    if ((pick -= share) < 0) return entries.filter((e) => e[field] === name);
  }
  return entries;
}

/**
 * What scene clip `index` of a sampler shows: entry (with its layout seed), ratio, first frame,
 * and whether the scene gets HDR highlights.
 */
export interface SceneClipChoice {
  readonly entry: SplitEntry;
  readonly ratio: number;
  readonly startFrame: number;
  readonly highlights: boolean;
}

/**
 * The choice behind scene clip `index` (pure: the sampler renders exactly this). `ratios` are the
 * parsed ratio list; `clipsPerRenderer` defaults to 4 as in the sampler.
 */
export function sceneClipChoice(
  spec: SceneSourceSpec,
  options: {
    seed: number;
    index: number;
    clipLength: number;
    ratios: readonly number[];
    clipsPerRenderer?: number;
    /** Probability of HDR highlights per group of clips (default 0). */
    highlights?: number;
  },
): SceneClipChoice {
  const { seed, index, clipLength, ratios } = options;
  const entries = spec.entries ?? TRAIN;
  const layoutSeeds = spec.layoutSeeds ?? (spec.entries ? undefined : TRAIN_LAYOUT_SEEDS);
  const groupIndex = spec.spread ? index : Math.floor(index / (options.clipsPerRenderer ?? 4));
  const group = randomFor(seed, STREAM_GROUP, groupIndex);
  // Own stream: a highlights probability changes nothing else about the clips.
  const highlights = randomFor(seed, STREAM_HIGHLIGHTS, groupIndex)() < (options.highlights ?? 0);
  const pool = sharedPool(entries, spec, seed, groupIndex);
  let entry = spec.spread ? pool[index % pool.length]! : pool[Math.floor(group() * pool.length)]!;
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
  return { entry, ratio, startFrame, highlights };
}

/** What a clip renders differently from its renderer's defaults. */
export type ClipRenderOverrides = Pick<
  FrameOverrides,
  'noJitter' | 'depthInverted' | 'infiniteFar' | 'window'
>;

/** The scene clips of a sampler. */
export interface SceneClips {
  /**
   * Scene clip `index` of the source `spec` (its choice is sceneClipChoice's), rendered without
   * jitter, with reversed Z or an infinite far plane as `overrides` say.
   */
  clip(index: number, spec: SceneSourceSpec, overrides: ClipRenderOverrides): Promise<ClipContent>;
  /** Destroys the cached renderers. */
  destroy(): void;
}

/**
 * `clipsPerRenderer` consecutive clips share a choice and so a renderer; `rendererCache`
 * renderers are kept alive at once.
 */
export function createSceneClips(
  device: GPUDevice,
  settings: ClipSettings,
  clipsPerRenderer: number,
  rendererCache: number,
): SceneClips {
  const { seed, clipLength, ratios, highlights } = settings;
  const renderers = createRendererCache(device, settings, rendererCache);
  return {
    async clip(index, spec, overrides) {
      const choice = sceneClipChoice(spec, {
        seed,
        index,
        clipLength,
        ratios,
        clipsPerRenderer,
        highlights,
      });
      const renderer = await renderers.get(choice.entry, choice.ratio, choice.highlights);
      return renderSceneClip(device, renderer, choice, clipLength, overrides);
    },
    destroy: () => renderers.destroy(),
  };
}

/** Renderers by entry and ratio, the least recently used destroyed beyond `size`. */
interface RendererCache {
  get(entry: SplitEntry, ratio: number, highlights: boolean): Promise<SceneRenderer>;
  destroy(): void;
}

const destroyRenderer = (renderer: SceneRenderer) => renderer.destroy();
/** A renderer whose scene failed to load has nothing to free (its clip already saw the error). */
const ignoreFailedLoad = () => undefined;

function createRendererCache(
  device: GPUDevice,
  { displaySize, samples }: ClipSettings,
  size: number,
): RendererCache {
  const renderers = new Map<string, Promise<SceneRenderer>>();
  return {
    get(entry, ratio, highlights) {
      const key = `${entry.name}@${ratio}${highlights ? '+highlights' : ''}`;
      let renderer = renderers.get(key);
      if (renderer)
        renderers.delete(key); // re-inserted below: Map order is recency
      else {
        renderer = loadScene(entryScene(entry), entry.seed).then((scene) =>
          createSceneRenderer(device, {
            scene: highlights ? withHighlights(scene, entry.seed) : scene,
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
      while (renderers.size > size) {
        const [oldest, evicted] = renderers.entries().next().value!;
        renderers.delete(oldest);
        void evicted.then(destroyRenderer, ignoreFailedLoad);
      }
      return renderer;
    },
    destroy() {
      for (const renderer of renderers.values())
        void renderer.then(destroyRenderer, ignoreFailedLoad);
      renderers.clear();
    },
  };
}

/** The frames of `choice` from `renderer`, copied into buffers the clip owns. */
async function renderSceneClip(
  device: GPUDevice,
  renderer: SceneRenderer,
  { entry, ratio, startFrame, highlights }: SceneClipChoice,
  clipLength: number,
  { noJitter, depthInverted, infiniteFar, window }: ClipRenderOverrides,
): Promise<ClipContent> {
  const frames: TrainingFrame[] = [];
  const overrides = { noJitter, depthInverted, infiniteFar, ...(window ? { window } : {}) };
  for (let t = 0; t < clipLength; t++) {
    // The renderer reuses two sets of buffers: copy each frame out before the next render.
    const { params, gpu } = await renderer.renderFrame(startFrame + t, overrides);
    const encoder = device.createCommandEncoder({ label: 'clip copy' });
    const copy = (image: GpuImage, what: string) =>
      copyImage(device, encoder, image, `clip ${what}`);
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
    header: { ...renderer.header, depthInverted: depthInverted ?? renderer.header.depthInverted },
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
      ...(highlights ? { highlights } : {}),
      ...(window ? { window } : {}),
    },
  };
}

function copyImage(
  device: GPUDevice,
  encoder: GPUCommandEncoder,
  source: GpuImage,
  label: string,
): GpuImage {
  const target = createGpuImage(device, source.width, source.height, label);
  encoder.copyBufferToBuffer(source.buffer, 0, target.buffer, 0, source.width * source.height * 16);
  return target;
}
