/**
 * The scene's data on the GPU for the scene rasterizer: each mesh's vertex and index buffers, each
 * object's vertex buffers (a skinned object gets its own, refilled by CPU skinning), the material
 * bind groups (group 2) and the per-object uniforms (group 1: transforms and material parameters).
 */
import { computeTangents } from './geometry.ts';
import { invert, toF32, type Mat4 } from './math.ts';
import { createMaterialBindings } from './rasterizer-materials.ts';
import {
  createSkinnedBuffers,
  type SkinBuffers,
  type SkinnedBuffers,
} from './rasterizer-skinning.ts';
import { OBJECT_UNIFORM_BYTES } from './rasterizer-wgsl.ts';
import type { Scene } from './types.ts';

/** Vertex buffer slots of every object: positions, normals, uvs, tangents, previous positions. */
export const VERTEX_LAYOUTS: GPUVertexBufferLayout[] = (
  [
    ['float32x3', 12],
    ['float32x3', 12],
    ['float32x2', 8],
    ['float32x4', 16],
    ['float32x3', 12],
  ] as const
).map(([format, arrayStride], shaderLocation) => ({
  arrayStride,
  attributes: [{ format, offset: 0, shaderLocation }],
}));

export interface SceneResources {
  readonly objectLayout: GPUBindGroupLayout;
  readonly materialLayout: GPUBindGroupLayout;
  /**
   * Writes every object's transforms and material parameters at `time` (and `prevTime`; without
   * one, skinned objects' previous positions are left as they are: the reference ignores them).
   */
  writeObjects(time: number, prevTime?: number): void;
  /**
   * Binds object `i`'s uniforms, material (groups 1, 2) and vertex buffers, and draws it (into a
   * render pass, or a render bundle that reference samples replay).
   */
  drawObject(pass: RenderEncoder, i: number): void;
  destroy(): void;
}

/** What records draws: a render pass, or a render bundle. */
export type RenderEncoder = GPUBindingCommandsMixin & GPURenderCommandsMixin;

/** A range of a GPU buffer (what a vertex or index binding takes). */
export interface BufferSlice {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

interface GpuMesh {
  /** Positions, normals, uvs and tangents (VERTEX_LAYOUTS' first four slots). */
  vertices: BufferSlice[];
  index: BufferSlice;
  indexCount: number;
}

export function createSceneResources(device: GPUDevice, scene: Scene): SceneResources {
  const owned: GPUBuffer[] = [];
  const meshes = uploadMeshes(device, scene, owned);
  const skinned = createSkinnedBuffers(device, scene);
  const objectVertices = objectVertexBuffers(device, scene, meshes, skinned, owned);
  const materials = createMaterialBindings(device, scene);

  const objectLayout = device.createBindGroupLayout({
    entries: [
      {
        binding: 0,
        visibility: GPUShaderStage.VERTEX | GPUShaderStage.FRAGMENT,
        buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: OBJECT_UNIFORM_BYTES },
      },
    ],
  });
  const objectBuffer = device.createBuffer({
    size: Math.max(1, scene.objects.length) * OBJECT_UNIFORM_BYTES,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  owned.push(objectBuffer);
  const objectGroup = device.createBindGroup({
    layout: objectLayout,
    entries: [{ binding: 0, resource: { buffer: objectBuffer, size: OBJECT_UNIFORM_BYTES } }],
  });

  return {
    objectLayout,
    materialLayout: materials.layout,
    writeObjects(time, prevTime) {
      device.queue.writeBuffer(objectBuffer, 0, objectUniforms(scene, time, prevTime));
      skinned.write(time, prevTime);
    },
    drawObject(pass, i) {
      const o = scene.objects[i]!;
      const mesh = meshes[o.mesh]!;
      pass.setBindGroup(1, objectGroup, [i * OBJECT_UNIFORM_BYTES]);
      pass.setBindGroup(2, materials.groups[o.material]!);
      objectVertices[i]!.forEach((b, slot) =>
        pass.setVertexBuffer(slot, b.buffer, b.offset, b.size),
      );
      pass.setIndexBuffer(mesh.index.buffer, 'uint32', mesh.index.offset, mesh.index.size);
      pass.drawIndexed(mesh.indexCount);
    },
    destroy() {
      for (const b of owned) b.destroy();
      materials.destroy();
    },
  };
}

/**
 * Each mesh's positions, normals, uvs and tangents (VERTEX_LAYOUTS' first four slots) and indices,
 * the meshes' vertices packed into as few buffers as the device's buffer size allows, and their
 * indices likewise: a training clip builds a new scene, and five buffers a mesh made buffer
 * creation a twentieth of a step's CPU time.
 */
function uploadMeshes(device: GPUDevice, scene: Scene, owned: GPUBuffer[]): GpuMesh[] {
  const arrays = scene.meshes.map((mesh) => ({
    vertices: [mesh.positions, mesh.normals, mesh.uvs, mesh.tangents ?? computeTangents(mesh)],
    indices: mesh.indices,
  }));
  const pack = (data: (Float32Array | Uint32Array)[], usage: number, label: string) =>
    packBuffers(device, data, usage, label, owned);
  const vertices = pack(
    arrays.flatMap((a) => a.vertices),
    GPUBufferUsage.VERTEX,
    'scene vertices',
  );
  const indices = pack(
    arrays.map((a) => a.indices),
    GPUBufferUsage.INDEX,
    'scene indices',
  );
  return arrays.map((a, i) => ({
    vertices: vertices.slice(4 * i, 4 * i + 4),
    index: indices[i]!,
    indexCount: a.indices.length,
  }));
}

/**
 * Uploads `arrays` one after another into buffers of at most `limit` bytes (the device's
 * `maxBufferSize`), and returns each array's slice. Every array is a whole number of 4-byte elements, so every slice
 * starts 4-byte aligned (what vertex and uint32 index bindings need).
 */
export function packBuffers(
  device: GPUDevice,
  arrays: readonly (Float32Array | Uint32Array)[],
  usage: number,
  label: string,
  owned: GPUBuffer[],
  limit = device.limits.maxBufferSize,
): BufferSlice[] {
  const slices: BufferSlice[] = [];
  let first = 0;
  while (first < arrays.length) {
    let end = first;
    let bytes = 0;
    while (end < arrays.length && bytes + arrays[end]!.byteLength <= limit) {
      bytes += arrays[end]!.byteLength;
      end++;
    }
    if (end === first) {
      throw new RangeError(
        `${label}: one mesh array has ${arrays[first]!.byteLength} bytes, more than a buffer may hold (maxBufferSize ${limit})`,
      );
    }
    const buffer = device.createBuffer({
      label,
      size: Math.max(16, bytes),
      usage: usage | GPUBufferUsage.COPY_DST,
      mappedAtCreation: true,
    });
    owned.push(buffer);
    const mapped = new Uint8Array(buffer.getMappedRange());
    let offset = 0;
    for (const data of arrays.slice(first, end)) {
      mapped.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
      slices.push({ buffer, offset, size: data.byteLength });
      offset += data.byteLength;
    }
    buffer.unmap();
    first = end;
  }
  return slices;
}

/**
 * Vertex buffers per object, one per VERTEX_LAYOUTS slot: the mesh's own, with positions doubling
 * as previous positions; a skinned object gets its own positions, normals, tangents and previous
 * positions.
 */
function objectVertexBuffers(
  device: GPUDevice,
  scene: Scene,
  meshes: GpuMesh[],
  skinned: SkinnedBuffers,
  owned: GPUBuffer[],
): BufferSlice[][] {
  const whole = (buffer: GPUBuffer): BufferSlice => ({ buffer, offset: 0, size: buffer.size });
  return scene.objects.map((o, i) => {
    const mesh = meshes[o.mesh];
    const source = scene.meshes[o.mesh];
    if (!mesh || !source) throw new RangeError(`object ${i} refers to missing mesh ${o.mesh}`);
    if (!o.skin) return [...mesh.vertices, mesh.vertices[0]!];
    if (!source.joints || !source.weights) {
      throw new RangeError(`object ${i} has a skin but mesh ${o.mesh} has no joints and weights`);
    }
    const n = source.positions.length / 3;
    const dynamic = [n * 12, n * 12, n * 16, n * 12].map((size) =>
      device.createBuffer({ size, usage: GPUBufferUsage.VERTEX | GPUBufferUsage.COPY_DST }),
    ) as SkinBuffers;
    owned.push(...dynamic);
    skinned.add(i, dynamic);
    const [positions, normals, tangents, previous] = dynamic;
    return [whole(positions), whole(normals), mesh.vertices[2]!, whole(tangents), whole(previous)];
  });
}

/** The Object uniform slots of every object at `time` (previous transforms at `prevTime`). */
function objectUniforms(scene: Scene, time: number, prevTime?: number): Float32Array<ArrayBuffer> {
  const data = new Float32Array((scene.objects.length * OBJECT_UNIFORM_BYTES) / 4);
  scene.objects.forEach((o, i) => {
    const base = (i * OBJECT_UNIFORM_BYTES) / 4;
    const model = o.transform(time);
    const m = scene.materials[o.material];
    if (!m) throw new RangeError(`object ${i} refers to missing material ${o.material}`);
    data.set(toF32(model), base);
    data.set(toF32(o.transform(prevTime ?? time)), base + 16);
    data.set(toF32(transpose(invert(model))), base + 32);
    data.set(m.baseColor, base + 48);
    data.set([...m.emissive, m.alphaMode === 'blend' ? (m.reactive ?? 1) : 0], base + 52);
    const cutoff = m.alphaMode === 'mask' ? m.alphaCutoff : -1;
    data.set([m.roughness, m.metallic, cutoff, m.normalScale ?? 1], base + 56);
    const uvScale = m.uvScale ?? [1, 1];
    data.set(
      [uvScale[0], uvScale[1], m.unlit ? 1 : 0, m.normalTexture !== undefined ? 1 : 0],
      base + 60,
    );
  });
  return data;
}

function transpose(m: Mat4): Mat4 {
  const out = new Float64Array(16);
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) out[c * 4 + r] = m[r * 4 + c]!;
  return out;
}
