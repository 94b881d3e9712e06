/** Procedural meshes (with tangents) for scenes and tests. */
import type { Mesh } from './types.ts';
import { transformPoint, vec3, type Mat4, type Vec3 } from './math.ts';

class MeshBuilder {
  positions: number[] = [];
  normals: number[] = [];
  uvs: number[] = [];
  tangents: number[] = [];
  indices: number[] = [];

  vertex(p: Vec3, n: Vec3, uv: [number, number], t: Vec3): number {
    this.positions.push(...p);
    this.normals.push(...n);
    this.uvs.push(...uv);
    this.tangents.push(...t, 1);
    return this.positions.length / 3 - 1;
  }

  /** A quad from a corner and two edge vectors; the normal is u × v. */
  quad(origin: Vec3, u: Vec3, v: Vec3, uvSize: [number, number] = [1, 1]): void {
    const n = vec3.normalize(vec3.cross(u, v));
    const t = vec3.normalize(u);
    // uv: u along `u`, v along −`v` (texture v points down, `v` up).
    const a = this.vertex(origin, n, [0, uvSize[1]], t);
    const b = this.vertex(vec3.add(origin, u), n, [uvSize[0], uvSize[1]], t);
    const c = this.vertex(vec3.add(vec3.add(origin, u), v), n, [uvSize[0], 0], t);
    const d = this.vertex(vec3.add(origin, v), n, [0, 0], t);
    this.indices.push(a, b, c, a, c, d);
  }

  build(): Mesh {
    return {
      positions: new Float32Array(this.positions),
      normals: new Float32Array(this.normals),
      uvs: new Float32Array(this.uvs),
      tangents: new Float32Array(this.tangents),
      indices: new Uint32Array(this.indices),
    };
  }
}

/** A w×h rectangle in the xy plane centred at the origin, facing +z; uv spans [0, uvRepeat]. */
export function planeMesh(w: number, h: number, uvRepeat: [number, number] = [1, 1]): Mesh {
  const b = new MeshBuilder();
  b.quad([-w / 2, -h / 2, 0], [w, 0, 0], [0, h, 0], uvRepeat);
  return b.build();
}

/** An axis-aligned box centred at the origin; each face maps uv [0, 1] scaled by its size · uvPerUnit. */
export function boxMesh(size: Vec3, uvPerUnit = 0): Mesh {
  const [x, y, z] = size.map((s) => s / 2) as Vec3;
  const b = new MeshBuilder();
  const uv = (a: number, c: number): [number, number] =>
    uvPerUnit > 0 ? [a * uvPerUnit, c * uvPerUnit] : [1, 1];
  b.quad([-x, -y, z], [2 * x, 0, 0], [0, 2 * y, 0], uv(2 * x, 2 * y)); // +z
  b.quad([x, -y, -z], [-2 * x, 0, 0], [0, 2 * y, 0], uv(2 * x, 2 * y)); // −z
  b.quad([x, -y, z], [0, 0, -2 * z], [0, 2 * y, 0], uv(2 * z, 2 * y)); // +x
  b.quad([-x, -y, -z], [0, 0, 2 * z], [0, 2 * y, 0], uv(2 * z, 2 * y)); // −x
  b.quad([-x, y, z], [2 * x, 0, 0], [0, 0, -2 * z], uv(2 * x, 2 * z)); // +y
  b.quad([-x, -y, -z], [2 * x, 0, 0], [0, 0, 2 * z], uv(2 * x, 2 * z)); // −y
  return b.build();
}

/** A UV sphere of radius r; `inward` flips it for skies. */
export function sphereMesh(r: number, segments = 24, rings = 12, inward = false): Mesh {
  const b = new MeshBuilder();
  for (let j = 0; j <= rings; j++) {
    const v = j / rings;
    const phi = v * Math.PI;
    for (let i = 0; i <= segments; i++) {
      const u = i / segments;
      const theta = u * 2 * Math.PI;
      const n: Vec3 = [
        Math.sin(phi) * Math.cos(theta),
        Math.cos(phi),
        -Math.sin(phi) * Math.sin(theta),
      ];
      const t: Vec3 = [-Math.sin(theta), 0, -Math.cos(theta)];
      b.vertex(vec3.scale(n, r), inward ? vec3.scale(n, -1) : n, [u, v], t);
    }
  }
  for (let j = 0; j < rings; j++) {
    for (let i = 0; i < segments; i++) {
      const a = j * (segments + 1) + i;
      const c = a + segments + 1;
      if (inward) b.indices.push(a, a + 1, c + 1, a, c + 1, c);
      else b.indices.push(a, c + 1, a + 1, a, c, c + 1);
    }
  }
  return b.build();
}

/** A cylinder of radius r along +y from 0 to `length` (wires, poles, trunks). */
export function cylinderMesh(r: number, length: number, segments = 8): Mesh {
  const b = new MeshBuilder();
  for (let j = 0; j <= 1; j++) {
    for (let i = 0; i <= segments; i++) {
      const theta = (i / segments) * 2 * Math.PI;
      const n: Vec3 = [Math.cos(theta), 0, -Math.sin(theta)];
      b.vertex([n[0] * r, j * length, n[2] * r], n, [i / segments, 1 - j], [0, 1, 0]);
    }
  }
  for (let i = 0; i < segments; i++) {
    const a = i;
    const c = i + segments + 1;
    b.indices.push(a, a + 1, c + 1, a, c + 1, c);
  }
  return b.build();
}

/** Three perpendicular unit quads through the origin: a particle that looks round from anywhere. */
export function crossQuadsMesh(size: number): Mesh {
  const s = size / 2;
  const b = new MeshBuilder();
  b.quad([-s, -s, 0], [size, 0, 0], [0, size, 0]);
  b.quad([0, -s, s], [0, 0, -size], [0, size, 0]);
  b.quad([-s, 0, s], [size, 0, 0], [0, 0, -size]);
  return b.build();
}

/** Per-vertex tangents from positions, normals and uvs (accumulated per triangle, orthogonalized). */
export function computeTangents(mesh: Mesh): Float32Array {
  const n = mesh.positions.length / 3;
  const tan = new Float64Array(n * 3);
  const bit = new Float64Array(n * 3);
  const p = mesh.positions;
  const uv = mesh.uvs;
  for (let k = 0; k < mesh.indices.length; k += 3) {
    const [i0, i1, i2] = [mesh.indices[k]!, mesh.indices[k + 1]!, mesh.indices[k + 2]!];
    const e1 = [0, 1, 2].map((c) => p[i1 * 3 + c]! - p[i0 * 3 + c]!);
    const e2 = [0, 1, 2].map((c) => p[i2 * 3 + c]! - p[i0 * 3 + c]!);
    const du1 = uv[i1 * 2]! - uv[i0 * 2]!;
    const dv1 = uv[i1 * 2 + 1]! - uv[i0 * 2 + 1]!;
    const du2 = uv[i2 * 2]! - uv[i0 * 2]!;
    const dv2 = uv[i2 * 2 + 1]! - uv[i0 * 2 + 1]!;
    const det = du1 * dv2 - du2 * dv1;
    if (Math.abs(det) < 1e-12) continue;
    const r = 1 / det;
    for (const i of [i0, i1, i2]) {
      for (let c = 0; c < 3; c++) {
        tan[i * 3 + c] += (e1[c]! * dv2 - e2[c]! * dv1) * r;
        bit[i * 3 + c] += (e2[c]! * du1 - e1[c]! * du2) * r;
      }
    }
  }
  const out = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const nn: Vec3 = [mesh.normals[i * 3]!, mesh.normals[i * 3 + 1]!, mesh.normals[i * 3 + 2]!];
    let t: Vec3 = [tan[i * 3]!, tan[i * 3 + 1]!, tan[i * 3 + 2]!];
    t = vec3.normalize(vec3.sub(t, vec3.scale(nn, vec3.dot(nn, t))));
    if (vec3.length(t) === 0) {
      // No usable uv gradient: any tangent perpendicular to the normal.
      t = vec3.normalize(vec3.cross(nn, Math.abs(nn[0]) < 0.9 ? [1, 0, 0] : [0, 1, 0]));
    }
    const bt: Vec3 = [bit[i * 3]!, bit[i * 3 + 1]!, bit[i * 3 + 2]!];
    out.set([...t, vec3.dot(vec3.cross(nn, t), bt) < 0 ? -1 : 1], i * 4);
  }
  return out;
}

/** The mesh moved by a rigid (or uniformly scaled) transform. */
export function transformMesh(mesh: Mesh, m: Mat4): Mesh {
  const n = mesh.positions.length / 3;
  const positions = new Float32Array(n * 3);
  const normals = new Float32Array(n * 3);
  const tangents = new Float32Array(n * 4);
  const source = mesh.tangents ?? computeTangents(mesh);
  const dir = (v: Vec3): Vec3 =>
    [0, 1, 2].map((r) => m[r]! * v[0] + m[4 + r]! * v[1] + m[8 + r]! * v[2]) as Vec3;
  for (let i = 0; i < n; i++) {
    const p = transformPoint(m, [
      mesh.positions[i * 3]!,
      mesh.positions[i * 3 + 1]!,
      mesh.positions[i * 3 + 2]!,
    ]);
    positions.set([p[0], p[1], p[2]], i * 3);
    normals.set(
      vec3.normalize(
        dir([mesh.normals[i * 3]!, mesh.normals[i * 3 + 1]!, mesh.normals[i * 3 + 2]!]),
      ),
      i * 3,
    );
    tangents.set(
      [
        ...vec3.normalize(dir([source[i * 4]!, source[i * 4 + 1]!, source[i * 4 + 2]!])),
        source[i * 4 + 3]!,
      ],
      i * 4,
    );
  }
  return { positions, normals, uvs: mesh.uvs, tangents, indices: mesh.indices };
}

/** One mesh holding all of `meshes` (one draw call for many static parts). */
export function mergeMeshes(meshes: Mesh[]): Mesh {
  const cat = (pick: (m: Mesh) => Float32Array) => {
    const out = new Float32Array(meshes.reduce((s, m) => s + pick(m).length, 0));
    let o = 0;
    for (const m of meshes) {
      out.set(pick(m), o);
      o += pick(m).length;
    }
    return out;
  };
  const indices = new Uint32Array(meshes.reduce((s, m) => s + m.indices.length, 0));
  let o = 0;
  let base = 0;
  for (const m of meshes) {
    for (let k = 0; k < m.indices.length; k++) indices[o + k] = m.indices[k]! + base;
    o += m.indices.length;
    base += m.positions.length / 3;
  }
  return {
    positions: cat((m) => m.positions),
    normals: cat((m) => m.normals),
    uvs: cat((m) => m.uvs),
    tangents: cat((m) => m.tangents ?? computeTangents(m)),
    indices,
  };
}
