/**
 * Training samples of frame generation: frame pairs of data-engine clips with the true frame
 * between them. A clip is rendered at `fps` and, on the same path and seed, at f times `fps` for
 * the factor f of each pair's instant t = j / f (the paths place their events at the same
 * instants at every rate); the displayed frames are the supersampled references of frames k − 1
 * and k of the first, motion, depth and reactive mask those of frame k, the truth the reference
 * of frame (k − 1)·f + j of the second (2k − 1 at t = 0.5). Rendering is the
 * slow part on a CPU adapter, so the samples of a run are kept in one file in its directory
 * (samples.bin, checked against the run's data config and seed) and read back on resume.
 *
 *   "UPLFGSMP" | u32 version | u32 header length | header JSON | f32 LE data | SHA-256 of all before
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { InputError } from '../../core/errors.ts';
import { createImage, type Image } from '../../core/image.ts';
import { mulberry32 } from '../../core/random.ts';
import { renderSizeFor, type Size } from '../../core/quality.ts';
import { CAMERA_PATHS } from '../../scene/paths.ts';
import { PROCEDURAL_SCENES } from '../../scene/procedural/scenes.ts';
import { createSceneRenderer, sceneFrameSource } from '../../scene/renderer.ts';
import type { FrameImages } from '../../core/frame.ts';
import { writeFileAtomic } from '../checkpoint.ts';
import { isHeldOut, pathSuits, TRAIN_LAYOUT_SEEDS } from '../splits.ts';
import { trainingInstants, type FramegenDataConfig } from './config.ts';

/** One frame pair and its in-between truth at t. */
export interface FramegenSample {
  /** `<scene>-<path>-<seed>` of its clip. */
  readonly clip: string;
  /** Index k of the pair's current frame in the clip. */
  readonly pair: number;
  /** The instant of the truth between the pair's frames, in (0, 1). */
  readonly t: number;
  readonly mirrored: boolean;
  readonly cameraNear: number;
  readonly cameraFar: number;
  /** Displayed frames and truth: display size, RGB, linear. */
  readonly previous: Image;
  readonly current: Image;
  readonly truth: Image;
  /** The current frame's motion (2 channels), depth and reactive mask (1 each): render size. */
  readonly motion: Image;
  readonly depth: Image;
  readonly reactive: Image;
}

/** A clip: a training-split scene, path and layout seed. */
export interface FramegenClip {
  readonly scene: string;
  readonly path: string;
  readonly seed: number;
}

export const clipName = (c: FramegenClip) => `${c.scene}-${c.path}-${c.seed}`;

/**
 * The run's training and dev clips, pure in the run seed: scene × path pairs of the training
 * split (no held-out pair, `forward` only on its scenes), layout seeds in TRAIN_LAYOUT_SEEDS
 * (below every validation seed); the dev clips never repeat a training clip.
 */
export function drawClips(
  seed: number,
  data: Pick<FramegenDataConfig, 'clips' | 'devClips'>,
): { train: FramegenClip[]; dev: FramegenClip[] } {
  const pairs = Object.keys(PROCEDURAL_SCENES).flatMap((scene) =>
    Object.keys(CAMERA_PATHS)
      .filter((path) => !isHeldOut(scene, path) && pathSuits(scene, path))
      .map((path) => ({ scene, path })),
  );
  const random = mulberry32(seed ^ 0x46a3e1);
  const seen = new Set<string>();
  const draw = (count: number) => {
    const clips: FramegenClip[] = [];
    while (clips.length < count) {
      const { scene, path } = pairs[Math.floor(random() * pairs.length)]!;
      const span = TRAIN_LAYOUT_SEEDS.last - TRAIN_LAYOUT_SEEDS.first + 1;
      const clip = { scene, path, seed: TRAIN_LAYOUT_SEEDS.first + Math.floor(random() * span) };
      if (seen.has(clipName(clip))) continue;
      seen.add(clipName(clip));
      clips.push(clip);
    }
    return clips;
  };
  const train = draw(data.clips);
  return { train, dev: draw(data.devClips) };
}

/** An image mirrored left-right; `negateFirst` negates channel 0 (motion x). */
function mirror(image: Image, negateFirst = false): Image {
  const { width, height, channels } = image;
  const out = createImage(width, height, channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const v = image.data[(y * width + (width - 1 - x)) * channels + c]!;
        out.data[(y * width + x) * channels + c] = negateFirst && c === 0 ? -v : v;
      }
    }
  }
  return out;
}

/** The sample mirrored left-right (motion x negated). */
export function mirrorSample(s: FramegenSample): FramegenSample {
  return {
    ...s,
    mirrored: !s.mirrored,
    previous: mirror(s.previous),
    current: mirror(s.current),
    truth: mirror(s.truth),
    motion: mirror(s.motion, true),
    depth: mirror(s.depth),
    reactive: mirror(s.reactive),
  };
}

/**
 * Renders the samples of one clip: `pairsPerClip` pairs (k drawn without repetition, pairs
 * whose current frame starts a shot skipped), each at an instant drawn from the config's
 * (after all pairs, so that the default factors [2] draw the pairs they always drew), mirrored
 * copies too when the config asks.
 */
export async function renderClipSamples(
  device: GPUDevice,
  clip: FramegenClip,
  data: FramegenDataConfig,
  pairSeed: number,
): Promise<FramegenSample[]> {
  const common = {
    scene: clip.scene,
    path: clip.path,
    seed: clip.seed,
    displaySize: [data.size[0], data.size[1]] as Size,
    ratio: data.ratio,
    samples: data.referenceSamples,
  };
  const slow = createSceneRenderer(device, { ...common, frames: data.clipFrames, fps: data.fps });
  // One renderer per rate factor, made when a pair first needs it.
  const fast = new Map<number, ReturnType<typeof createSceneRenderer>>();
  const truthFrame = async (factor: number, frame: number) => {
    if (!fast.has(factor)) {
      fast.set(
        factor,
        createSceneRenderer(device, {
          ...common,
          frames: factor * data.clipFrames,
          fps: factor * data.fps,
        }),
      );
    }
    return (await sceneFrameSource(fast.get(factor)!).readFrame(frame)).reference!;
  };
  try {
    const slowFrames = sceneFrameSource(slow);
    const rendered = new Map<number, FrameImages>();
    const frame = async (k: number) => {
      if (!rendered.has(k)) rendered.set(k, await slowFrames.readFrame(k));
      return rendered.get(k)!;
    };
    const candidates = Array.from({ length: data.clipFrames - 1 }, (_, i) => i + 1).filter(
      (k) => !slow.frameParams(k).reset,
    );
    const random = mulberry32(pairSeed);
    const pairs: number[] = [];
    while (pairs.length < Math.min(data.pairsPerClip, candidates.length)) {
      const [k] = candidates.splice(Math.floor(random() * candidates.length), 1);
      pairs.push(k!);
    }
    const instants = trainingInstants(data.factors);
    const pairInstants = pairs.map(() =>
      instants.length === 1 ? instants[0]! : instants[Math.floor(random() * instants.length)]!,
    );
    const order = pairs.map((k, i) => ({ k, instant: pairInstants[i]! }));
    const samples: FramegenSample[] = [];
    for (const { k, instant } of order.sort((a, b) => a.k - b.k)) {
      const previous = await frame(k - 1);
      const current = await frame(k);
      const params = slow.frameParams(k);
      const sample: FramegenSample = {
        clip: clipName(clip),
        pair: k,
        t: instant.t,
        mirrored: false,
        cameraNear: params.cameraNear,
        cameraFar: params.cameraFar,
        previous: previous.reference!,
        current: current.reference!,
        truth: await truthFrame(instant.factor, (k - 1) * instant.factor + instant.j),
        motion: current.motion,
        depth: current.depth,
        reactive: current.reactive ?? createImage(current.depth.width, current.depth.height, 1),
      };
      samples.push(sample);
      if (data.mirror) samples.push(mirrorSample(sample));
    }
    return samples;
  } finally {
    slow.destroy();
    for (const renderer of fast.values()) renderer.destroy();
  }
}

const MAGIC = 'UPLFGSMP';
// Version 2: each sample's t.
const VERSION = 2;

interface SampleHeader {
  readonly version: number;
  readonly seed: number;
  readonly data: FramegenDataConfig;
  readonly train: number;
  readonly samples: readonly Omit<
    FramegenSample,
    'previous' | 'current' | 'truth' | 'motion' | 'depth' | 'reactive'
  >[];
}

/** The image planes of a sample in file order, with their channels and size. */
function planes(s: FramegenSample): Image[] {
  return [s.previous, s.current, s.truth, s.motion, s.depth, s.reactive];
}

/** Serialises a run's samples (training then dev) with the config they were made from. */
export function encodeSamples(
  seed: number,
  data: FramegenDataConfig,
  train: readonly FramegenSample[],
  dev: readonly FramegenSample[],
): Uint8Array {
  const all = [...train, ...dev];
  const header: SampleHeader = {
    version: VERSION,
    seed,
    data,
    train: train.length,
    samples: all.map(({ clip, pair, t, mirrored, cameraNear, cameraFar }) => ({
      clip,
      pair,
      t,
      mirrored,
      cameraNear,
      cameraFar,
    })),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const floats = all.reduce((n, s) => n + planes(s).reduce((m, p) => m + p.data.length, 0), 0);
  const body = 16 + json.length + floats * 4;
  const out = new Uint8Array(body + 32);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(8, VERSION, true);
  view.setUint32(12, json.length, true);
  out.set(json, 16);
  let offset = 16 + json.length;
  for (const s of all) {
    for (const p of planes(s)) {
      for (const v of p.data) {
        view.setFloat32(offset, v, true);
        offset += 4;
      }
    }
  }
  out.set(createHash('sha256').update(out.subarray(0, body)).digest(), body);
  return out;
}

/**
 * Reads a samples file back; undefined when it was made for another seed or data config (the
 * caller renders anew). A damaged file is an InputError naming it.
 */
export function decodeSamples(
  bytes: Uint8Array,
  seed: number,
  data: FramegenDataConfig,
  source: string,
): { train: FramegenSample[]; dev: FramegenSample[] } | undefined {
  const fail = (why: string): never => {
    throw new InputError(`${source}: ${why}`);
  };
  if (bytes.length < 48 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    fail('not a frame-generation samples file');
  }
  const body = bytes.length - 32;
  const digest = createHash('sha256').update(bytes.subarray(0, body)).digest();
  if (!digest.equals(bytes.subarray(body))) fail('checksum mismatch (corrupt file)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(8, true) !== VERSION) return undefined;
  const length = view.getUint32(12, true);
  const header = JSON.parse(
    new TextDecoder().decode(bytes.subarray(16, 16 + length)),
  ) as SampleHeader;
  if (header.seed !== seed || JSON.stringify(header.data) !== JSON.stringify(data))
    return undefined;
  const [w, h] = data.size;
  const [rw, rh] = renderSizeFor([w, h], data.ratio);
  let offset = 16 + length;
  const image = (width: number, height: number, channels: number) => {
    const out = createImage(width, height, channels);
    for (let i = 0; i < out.data.length; i++, offset += 4) {
      out.data[i] = view.getFloat32(offset, true);
    }
    return out;
  };
  const samples = header.samples.map((meta) => ({
    ...meta,
    previous: image(w, h, 3),
    current: image(w, h, 3),
    truth: image(w, h, 3),
    motion: image(rw, rh, 2),
    depth: image(rw, rh, 1),
    reactive: image(rw, rh, 1),
  }));
  if (offset !== body) fail(`${body - offset} bytes more than its header describes`);
  return { train: samples.slice(0, header.train), dev: samples.slice(header.train) };
}

/**
 * The run's samples: read from `path` when it holds those of this seed and data config,
 * otherwise rendered (progress after each clip) and written there.
 */
export async function loadOrRenderSamples(
  device: GPUDevice,
  seed: number,
  data: FramegenDataConfig,
  path: string,
  onClip?: (done: number, total: number, name: string) => void,
): Promise<{ train: FramegenSample[]; dev: FramegenSample[]; rendered: boolean }> {
  if (existsSync(path)) {
    const read = decodeSamples(await readFile(path), seed, data, path);
    if (read) return { ...read, rendered: false };
  }
  const clips = drawClips(seed, data);
  const all = [...clips.train, ...clips.dev];
  const samples: FramegenSample[][] = [];
  for (const [i, clip] of all.entries()) {
    samples.push(await renderClipSamples(device, clip, data, (seed * 7919 + i) >>> 0));
    onClip?.(i + 1, all.length, clipName(clip));
  }
  const train = samples.slice(0, clips.train.length).flat();
  const dev = samples.slice(clips.train.length).flat();
  await writeFileAtomic(path, encodeSamples(seed, data, train, dev));
  return { train, dev, rendered: true };
}
