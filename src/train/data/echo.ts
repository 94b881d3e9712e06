/**
 * Data echoing (D. Choi et al., "Faster Neural Network Training with Data Echoing", 2019): a
 * training step waits for the CPU rendering its clips, not for the GPU (docs/PERFORMANCE.md,
 * "Training throughput"), so each rendered clip is used `echo` times on average instead of once.
 *
 * Which clip a training slot (step · clipsPerStep + c, per worker) uses is a pure function of the
 * slot, the echo settings and the seed (`echoedClipIndex`): every `echo`-th slot takes the next
 * fresh clip, the others one of the `window` most recent fresh clips, drawn at random. A cache of
 * rendered clips (`createClipCache`) then saves the renders; since `clip(index)` is itself pure,
 * the cache changes no result, and a resumed run (empty cache) sees the same clips as an
 * uninterrupted one.
 */
import { randomFor } from './clip-source.ts';

/** The echo stream of `randomFor` (after clip-source.ts's streams). */
const STREAM_ECHO = 8;

export interface EchoSettings {
  /** Uses of each rendered clip on average (1: every slot a fresh clip). */
  readonly echo: number;
  /** The most recent fresh clips an echoed slot draws from. */
  readonly window: number;
  readonly seed: number;
}

/** The clip index (before the worker's offset) of training slot `slot`. */
export function echoedClipIndex(slot: number, { echo, window, seed }: EchoSettings): number {
  if (echo === 1) return slot;
  const fresh = Math.floor(slot / echo);
  if (slot % echo === 0) return fresh;
  const back = Math.floor(randomFor(seed, STREAM_ECHO, slot)() * window);
  return Math.max(0, fresh - back);
}

/** Clips kept alive for reuse; the least recently used beyond `capacity` are destroyed. */
export interface ClipCache<T extends { destroy(): void }> {
  /** Clip `index`: the cached one, or `make(index)`'s, kept. */
  get(index: number, make: (index: number) => Promise<T>): Promise<T>;
  readonly size: number;
  destroy(): void;
}

/**
 * A cache of up to `capacity` clips. Destroying a clip whose GPU work was submitted but has not
 * run is safe: WebGPU frees its buffers once the queue is done with them.
 */
export function createClipCache<T extends { destroy(): void }>(capacity: number): ClipCache<T> {
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(`clip cache capacity must be an integer ≥ 1, got ${capacity}`);
  }
  const clips = new Map<number, Promise<T>>();
  const drop = (clip: Promise<T>) => clip.then((c) => c.destroy()).catch(() => undefined);
  return {
    get(index, make) {
      let clip = clips.get(index);
      if (clip) {
        clips.delete(index); // to the most recent end
      } else {
        clip = make(index);
        // A failed render is not kept: the next use tries again (and reports the error again).
        clip.catch(() => clips.get(index) === clip && clips.delete(index));
      }
      clips.set(index, clip);
      for (const [oldest, c] of clips) {
        if (clips.size <= capacity) break;
        clips.delete(oldest);
        void drop(c);
      }
      return clip;
    },
    get size() {
      return clips.size;
    },
    destroy() {
      for (const c of clips.values()) void drop(c);
      clips.clear();
    },
  };
}
