/**
 * Geometry parts shared by the procedural scenes: wires between two points, tapered tubes with
 * joint weights (skinned limbs), skinned meshes merged into one, and the joint matrices that pose
 * them (rotations about a pivot, height shears for wind).
 */
import { cylinderMesh, mergeMeshes, transformMesh } from '../geometry.ts';
import {
  axisAngle,
  composeTRS,
  identity,
  multiply,
  translation,
  vec3,
  type Mat4,
  type Vec3,
} from '../math.ts';
import type { Mesh } from '../types.ts';

/** A wire of radius r between two points (a thin cylinder, as one mesh). */
export function wire(a: Vec3, b: Vec3, r: number, segments = 6): Mesh {
  const d = vec3.sub(b, a);
  const length = vec3.length(d);
  const y: Vec3 = [0, 1, 0];
  const axis = vec3.cross(y, d);
  const angle = Math.acos(Math.min(1, Math.max(-1, vec3.dot(y, d) / length)));
  const q = vec3.length(axis) > 1e-9 ? axisAngle(axis, angle) : ([0, 0, 0, 1] as const);
  return transformMesh(cylinderMesh(r, length, segments), composeTRS(a, [...q], [1, 1, 1]));
}

/** A wire sagging by `sag` at its middle between a and b, as `pieces` straight wires. */
export function saggingWire(a: Vec3, b: Vec3, sag: number, r: number, pieces = 8): Mesh[] {
  const point = (t: number): Vec3 => [
    a[0] + (b[0] - a[0]) * t,
    a[1] + (b[1] - a[1]) * t - sag * 4 * t * (1 - t),
    a[2] + (b[2] - a[2]) * t,
  ];
  return Array.from({ length: pieces }, (_, s) =>
    wire(point(s / pieces), point((s + 1) / pieces), r),
  );
}

/** Joint indices and weights (four per vertex) of a mesh part, and the part. */
export interface SkinnedPart {
  mesh: Mesh;
  joints: Uint32Array;
  weights: Float32Array;
}

/** A rigid part: every vertex on `joint`. */
export function rigidPart(mesh: Mesh, joint: number): SkinnedPart {
  const n = mesh.positions.length / 3;
  const joints = new Uint32Array(n * 4);
  const weights = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    joints[i * 4] = joint;
    weights[i * 4] = 1;
  }
  return { mesh, joints, weights };
}

/**
 * A tube hanging from `top` straight down (−y) for `length`, radius r0 at the top to r1 at the
 * bottom, `rings` rings of `segments` vertices. Its vertices blend from joint `parent` (at the
 * top) to `upper` (within the first 12 %) and from `upper` to `lower` around `split` (a fraction
 * of the length, ± 8 %): one skinned limb with a smooth shoulder and elbow (or hip and knee).
 */
export function limbTube(
  top: Vec3,
  length: number,
  r0: number,
  r1: number,
  joints: { parent: number; upper: number; lower: number; split: number },
  rings = 10,
  segments = 8,
): SkinnedPart {
  const positions: number[] = [];
  const normals: number[] = [];
  const uvs: number[] = [];
  const tangents: number[] = [];
  const jointIndices: number[] = [];
  const weights: number[] = [];
  const smooth = (a: number, b: number, x: number) => {
    const t = Math.min(1, Math.max(0, (x - a) / (b - a)));
    return t * t * (3 - 2 * t);
  };
  for (let j = 0; j <= rings; j++) {
    const f = j / rings;
    const r = r0 + (r1 - r0) * f;
    const a = smooth(0, 0.12, f);
    const b = smooth(joints.split - 0.08, joints.split + 0.08, f);
    for (let i = 0; i <= segments; i++) {
      const theta = (i / segments) * 2 * Math.PI;
      const n: Vec3 = [Math.cos(theta), 0, -Math.sin(theta)];
      positions.push(top[0] + n[0] * r, top[1] - f * length, top[2] + n[2] * r);
      normals.push(...n);
      uvs.push(i / segments, f * length * 4);
      tangents.push(-Math.sin(theta), 0, -Math.cos(theta), 1);
      jointIndices.push(joints.parent, joints.upper, joints.lower, 0);
      weights.push(1 - a, a * (1 - b), a * b, 0);
    }
  }
  const indices: number[] = [];
  for (let j = 0; j < rings; j++) {
    for (let i = 0; i < segments; i++) {
      const a = j * (segments + 1) + i;
      const c = a + segments + 1;
      indices.push(a, c, c + 1, a, c + 1, a + 1);
    }
  }
  return {
    mesh: {
      positions: new Float32Array(positions),
      normals: new Float32Array(normals),
      uvs: new Float32Array(uvs),
      tangents: new Float32Array(tangents),
      indices: new Uint32Array(indices),
    },
    joints: new Uint32Array(jointIndices),
    weights: new Float32Array(weights),
  };
}

/** One skinned mesh holding all of `parts`. */
export function mergeSkinned(parts: SkinnedPart[]): Mesh {
  const mesh = mergeMeshes(parts.map((p) => p.mesh));
  const joints = new Uint32Array(parts.reduce((s, p) => s + p.joints.length, 0));
  const weights = new Float32Array(joints.length);
  let o = 0;
  for (const p of parts) {
    joints.set(p.joints, o);
    weights.set(p.weights, o);
    o += p.joints.length;
  }
  return { ...mesh, joints, weights };
}

/**
 * An object going round a circle of `radius` about the origin on the ground, from angle `a0` at
 * `angularSpeed` radians a second in direction `dir` (±1), its +z along the tangent: the runners'
 * and the herd's paths.
 */
export function circling(radius: number, angularSpeed: number, dir: number, a0: number) {
  return (t: number): Mat4 => {
    const a = a0 + dir * angularSpeed * t;
    const tangent: Vec3 = [-Math.sin(a) * dir, 0, Math.cos(a) * dir];
    const yaw = Math.atan2(tangent[0], tangent[2]);
    return composeTRS(
      [radius * Math.cos(a), 0, radius * Math.sin(a)],
      axisAngle([0, 1, 0], yaw),
      [1, 1, 1],
    );
  };
}

/** Rotation by `angle` about `axis` through `pivot`. */
export function rotateAbout(pivot: Vec3, axis: Vec3, angle: number): Mat4 {
  return multiply(
    translation(pivot),
    multiply(
      composeTRS([0, 0, 0], axisAngle(axis, angle), [1, 1, 1]),
      translation([-pivot[0], -pivot[1], -pivot[2]]),
    ),
  );
}

/**
 * A shear by height: (x, y, z) → (x + sx·y, y·(1 − (sx² + sz²)/2), z + sz·y). Blended with the
 * identity by a weight growing with height, it bends a blade whose root stands at y = 0.
 */
export function heightShear(sx: number, sz: number): Mat4 {
  const m = identity();
  m[4] = sx;
  m[5] = 1 - (sx * sx + sz * sz) / 2;
  m[6] = sz;
  return m;
}
