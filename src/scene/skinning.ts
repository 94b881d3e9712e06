/**
 * Linear-blend skinning on the CPU (glTF skins): vertices move by the weighted sum of up to four
 * joint matrices. Skinned meshes are small (characters), so per-frame CPU skinning keeps the
 * rasterizer's vertex stage one path, and gives exact previous positions for motion vectors.
 */
import type { Mat4 } from './math.ts';
import { computeTangents } from './geometry.ts';
import type { Mesh } from './types.ts';

export interface SkinnedVertices {
  positions: Float32Array<ArrayBuffer>;
  normals: Float32Array<ArrayBuffer>;
  tangents: Float32Array<ArrayBuffer>;
}

/** Skins `mesh` (which must have joints and weights) with one matrix per joint. */
export function skinMesh(mesh: Mesh, jointMatrices: Mat4[]): SkinnedVertices {
  const { joints, weights } = mesh;
  if (!joints || !weights) throw new RangeError('skinMesh needs a mesh with joints and weights');
  const n = mesh.positions.length / 3;
  const sourceTangents = mesh.tangents ?? computeTangents(mesh);
  const positions = new Float32Array(n * 3);
  const normals = new Float32Array(n * 3);
  const tangents = new Float32Array(n * 4);
  const m = new Float64Array(16);
  for (let i = 0; i < n; i++) {
    m.fill(0);
    for (let k = 0; k < 4; k++) {
      const w = weights[i * 4 + k]!;
      if (w === 0) continue;
      const joint = jointMatrices[joints[i * 4 + k]!];
      if (!joint)
        throw new RangeError(
          `vertex ${i} uses joint ${joints[i * 4 + k]} of ${jointMatrices.length}`,
        );
      for (let e = 0; e < 16; e++) m[e]! += w * joint[e]!;
    }
    const [px, py, pz] = [
      mesh.positions[i * 3]!,
      mesh.positions[i * 3 + 1]!,
      mesh.positions[i * 3 + 2]!,
    ];
    const [nx, ny, nz] = [mesh.normals[i * 3]!, mesh.normals[i * 3 + 1]!, mesh.normals[i * 3 + 2]!];
    const [tx, ty, tz] = [
      sourceTangents[i * 4]!,
      sourceTangents[i * 4 + 1]!,
      sourceTangents[i * 4 + 2]!,
    ];
    let nl = 0;
    let tl = 0;
    for (let r = 0; r < 3; r++) {
      positions[i * 3 + r] = m[r]! * px + m[4 + r]! * py + m[8 + r]! * pz + m[12 + r]!;
      // Joint matrices are rigid in practice: transform directions by the same 3×3, renormalize.
      const nv = m[r]! * nx + m[4 + r]! * ny + m[8 + r]! * nz;
      const tv = m[r]! * tx + m[4 + r]! * ty + m[8 + r]! * tz;
      normals[i * 3 + r] = nv;
      tangents[i * 4 + r] = tv;
      nl += nv * nv;
      tl += tv * tv;
    }
    nl = Math.sqrt(nl) || 1;
    tl = Math.sqrt(tl) || 1;
    for (let r = 0; r < 3; r++) {
      normals[i * 3 + r] = normals[i * 3 + r]! / nl;
      tangents[i * 4 + r] = tangents[i * 4 + r]! / tl;
    }
    tangents[i * 4 + 3] = sourceTangents[i * 4 + 3]!;
  }
  return { positions, normals, tangents };
}
