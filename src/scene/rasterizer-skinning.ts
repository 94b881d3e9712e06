/**
 * The vertex buffers of skinned objects, refilled by CPU skinning (src/scene/skinning.ts) at each
 * instant drawn. A frame needs its own instant and the previous frame's (for motion vectors), which
 * the frame before computed: the skinned vertices of the last few instants are kept, and an
 * instant the buffers already hold is not written again.
 */
import { skinMesh, type SkinnedVertices } from './skinning.ts';
import type { Scene } from './types.ts';

/** A skinned object's positions, normals, tangents and previous positions. */
export type SkinBuffers = [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer];

export interface SkinnedBuffers {
  /** Registers skinned object `i`'s buffers. */
  add(i: number, buffers: SkinBuffers): void;
  /**
   * Fills every skinned object's buffers at `time`, and its previous positions at `prevTime`
   * (without one they are left as they are: the reference ignores them).
   */
  write(time: number, prevTime?: number): void;
}

export function createSkinnedBuffers(device: GPUDevice, scene: Scene): SkinnedBuffers {
  const buffersOf = new Map<number, SkinBuffers>();
  const skinCache = new Map<number, Array<{ time: number; vertices: SkinnedVertices }>>();
  const skinnedAt = (i: number, time: number): SkinnedVertices => {
    const cached = skinCache.get(i) ?? [];
    const hit = cached.find((c) => c.time === time);
    if (hit) return hit.vertices;
    const o = scene.objects[i]!;
    const vertices = skinMesh(scene.meshes[o.mesh]!, o.skin!(time));
    skinCache.set(i, [{ time, vertices }, ...cached].slice(0, 3));
    return vertices;
  };
  /** The instants each object's buffers hold. */
  const heldSkin = new Map<number, { now?: number; previous?: number }>();

  return {
    add(i, buffers) {
      buffersOf.set(i, buffers);
    },
    write(time, prevTime) {
      for (const [i, [positions, normals, tangents, previous]] of buffersOf) {
        const held = heldSkin.get(i) ?? {};
        heldSkin.set(i, held);
        if (held.now !== time) {
          const now = skinnedAt(i, time);
          device.queue.writeBuffer(positions, 0, now.positions);
          device.queue.writeBuffer(normals, 0, now.normals);
          device.queue.writeBuffer(tangents, 0, now.tangents);
          held.now = time;
        }
        if (prevTime !== undefined && held.previous !== prevTime) {
          device.queue.writeBuffer(previous, 0, skinnedAt(i, prevTime).positions);
          held.previous = prevTime;
        }
      }
    },
  };
}
