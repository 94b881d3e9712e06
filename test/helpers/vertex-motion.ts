/**
 * An exact check of rendered motion vectors: every vertex of the chosen objects is placed (skinned
 * where the object has a skin) at the frame's time and the previous frame's, projected with the
 * unjittered cameras of both frames, and its expected motion (previous UV − current UV) compared
 * with the rendered motion at the render pixel it falls in, where the rendered depth says the
 * vertex is what that pixel shows (the same view distance within 1 %).
 */
import type { Image } from '../../src/core/image.ts';
import { cameraMatrices, projectToPixels, type Camera } from '../../src/scene/camera.ts';
import { transformPoint, type Mat4, type Vec3 } from '../../src/scene/math.ts';
import { cameraPath } from '../../src/scene/paths.ts';
import { skinMesh } from '../../src/scene/skinning.ts';
import type { Scene, SceneObject } from '../../src/scene/types.ts';

export interface VertexMotion {
  /** Visible vertices compared. */
  count: number;
  /** Median and 90th percentile of |rendered − expected| motion, in render pixels. */
  median: number;
  p90: number;
  /** Median expected motion length of those vertices, in render pixels. */
  medianMotion: number;
  /** Those whose expected motion is over 0.1 render pixel. */
  moving: number;
}

const quantile = (values: number[], q: number) => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

/** View distance of world point p from the camera (along the view axis). */
function viewDistance(view: Mat4, p: Vec3): number {
  return -(view[2]! * p[0] + view[6]! * p[1] + view[10]! * p[2] + view[14]!);
}

/** View distance of a device depth d (near 0, far 1, not inverted), as perspective() maps it. */
function linearDepth(d: number, near: number, far: number): number {
  return (near * far) / (far - d * (far - near));
}

/** World positions of an object's vertices at time t. */
function worldVertices(scene: Scene, o: SceneObject, t: number): Vec3[] {
  const mesh = scene.meshes[o.mesh]!;
  const local = o.skin ? skinMesh(mesh, o.skin(t)).positions : mesh.positions;
  const m = o.transform(t);
  const out: Vec3[] = [];
  for (let i = 0; i < local.length / 3; i++) {
    const p = transformPoint(m, [local[i * 3]!, local[i * 3 + 1]!, local[i * 3 + 2]!]);
    out.push([p[0], p[1], p[2]]);
  }
  return out;
}

export function vertexMotion(
  scene: Scene,
  options: { path: string; seed: number; frames: number; fps: number; frame: number },
  images: { motion: Image; depth: Image },
  objects: (o: SceneObject, index: number) => boolean,
): VertexMotion {
  const { motion, depth } = images;
  const { width, height } = motion;
  const path = cameraPath(options.path, {
    focus: scene.focus,
    frames: options.frames,
    fps: options.fps,
    seed: options.seed,
  });
  const camera = (i: number): Camera => ({
    position: path(i).position,
    target: path(i).target,
    ...scene.lens,
  });
  const now = cameraMatrices(camera(options.frame), width, height, [0, 0]);
  const before = cameraMatrices(camera(options.frame - 1), width, height, [0, 0]);
  const t = options.frame / options.fps;
  const tPrev = (options.frame - 1) / options.fps;
  const errors: number[] = [];
  const lengths: number[] = [];
  scene.objects.forEach((o, index) => {
    if (!objects(o, index)) return;
    const current = worldVertices(scene, o, t);
    const previous = worldVertices(scene, o, tPrev);
    for (let v = 0; v < current.length; v++) {
      const a = projectToPixels(now.viewProjection, current[v]!, width, height);
      const b = projectToPixels(before.viewProjection, previous[v]!, width, height);
      if (!a || !b) continue;
      const x = Math.floor(a[0]);
      const y = Math.floor(a[1]);
      if (x < 0 || y < 0 || x >= width || y >= height) continue;
      const k = y * width + x;
      const seen = linearDepth(depth.data[k]!, scene.lens.near, scene.lens.far);
      const expectedDistance = viewDistance(now.view, current[v]!);
      if (Math.abs(seen - expectedDistance) > 0.01 * expectedDistance) continue;
      const ex = b[0] - a[0];
      const ey = b[1] - a[1];
      const rx = motion.data[k * 2]! * width;
      const ry = motion.data[k * 2 + 1]! * height;
      errors.push(Math.hypot(rx - ex, ry - ey));
      lengths.push(Math.hypot(ex, ey));
    }
  });
  return {
    count: errors.length,
    median: quantile(errors, 0.5),
    p90: quantile(errors, 0.9),
    medianMotion: quantile(lengths, 0.5),
    moving: lengths.filter((l) => l > 0.1).length,
  };
}
