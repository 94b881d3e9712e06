/**
 * glTF 2.0 scenes (.gltf + .bin + images, or .glb) through @gltf-transform/core: the default
 * scene's node hierarchy, triangle meshes (positions, normals, uvs, tangents), metallic-roughness
 * materials with base color / normal / metallic-roughness / emissive textures (PNG via src/io,
 * JPEG via jpeg-js), alpha modes, and rigid node animation (translation / rotation / scale
 * channels, LINEAR and STEP; CUBICSPLINE is read as LINEAR through its values) and skins (linear
 * blend skinning on the CPU, src/scene/skinning.ts). A sky dome, a seeded sun and the camera focus
 * (the scene's bounds) are added.
 */
import {
  NodeIO,
  WebIO,
  type Document,
  type Node,
  type Primitive,
  type Scene as GltfScene,
} from '@gltf-transform/core';
import { ALL_EXTENSIONS } from '@gltf-transform/extensions';
import { InputError } from '../core/errors.ts';
import { mulberry32 } from '../core/random.ts';
import { computeTangents, sphereMesh } from './geometry.ts';
import { animatedLocalTransform, type LocalTransform } from './gltf-animation.ts';
import { createMaterialReader, type MaterialReader } from './gltf-materials.ts';
import { composeTRS, multiply, transformPoint, vec3, type Mat4, type Vec3 } from './math.ts';
import { skinMesh } from './skinning.ts';
import { material, type Mesh, type Scene, type SceneObject } from './types.ts';
import { skyTexture } from './procedural/textures.ts';

/** An axis-aligned box in world space. */
type Bounds = { lo: Vec3; hi: Vec3 };

/** Reads an attribute as floats (normalized integer accessors are converted). */
function floats(primitive: Primitive, semantic: string): Float32Array | undefined {
  const accessor = primitive.getAttribute(semantic);
  if (!accessor) return undefined;
  const array = accessor.getArray();
  if (array instanceof Float32Array && !accessor.getNormalized()) return array;
  const size = accessor.getElementSize();
  const out = new Float32Array(accessor.getCount() * size);
  const element: number[] = [];
  for (let i = 0; i < accessor.getCount(); i++) out.set(accessor.getElement(i, element), i * size);
  return out;
}

/** Smooth vertex normals from the triangles (for meshes without NORMAL). */
function vertexNormals(positions: Float32Array, indices: Uint32Array): Float32Array {
  const normals = new Float32Array(positions.length);
  const p = (i: number): Vec3 => [positions[i * 3]!, positions[i * 3 + 1]!, positions[i * 3 + 2]!];
  for (let k = 0; k < indices.length; k += 3) {
    const [a, b, c] = [indices[k]!, indices[k + 1]!, indices[k + 2]!];
    const n = vec3.cross(vec3.sub(p(b), p(a)), vec3.sub(p(c), p(a)));
    for (const i of [a, b, c]) for (let d = 0; d < 3; d++) normals[i * 3 + d]! += n[d]!;
  }
  for (let i = 0; i < normals.length; i += 3) {
    const n = vec3.normalize([normals[i]!, normals[i + 1]!, normals[i + 2]!]);
    normals.set(vec3.length(n) > 0 ? n : [0, 1, 0], i);
  }
  return normals;
}

/** Loads a glTF / GLB file as a Scene (`seed` chooses the sun direction and the animation clip). */
export async function loadGltfScene(path: string, seed = 1): Promise<Scene> {
  let document: Document;
  try {
    // Registering the Khronos extensions lets files that require one (lights, texture transform)
    // load; what they add beyond the core material model is not drawn.
    document = await new NodeIO().registerExtensions(ALL_EXTENSIONS).read(path);
  } catch (error) {
    throw new InputError(`${path}: cannot read glTF (${(error as Error).message})`);
  }
  return gltfDocumentScene(document, path, seed);
}

/**
 * A GLB file's bytes as a Scene (a browser has no file path: fetch the file, pass its bytes);
 * `name` stands for the file in errors and in the scene's source.
 */
export async function loadGlbScene(bytes: Uint8Array, name: string, seed = 1): Promise<Scene> {
  let document: Document;
  try {
    document = await new WebIO().registerExtensions(ALL_EXTENSIONS).readBinary(bytes);
  } catch (error) {
    throw new InputError(`${name}: cannot read GLB (${(error as Error).message})`);
  }
  return gltfDocumentScene(document, name, seed);
}

function gltfDocumentScene(document: Document, path: string, seed: number): Scene {
  const root = document.getRoot();
  const gltfScene = root.getDefaultScene() ?? root.listScenes()[0];
  if (!gltfScene) throw new InputError(`${path}: the glTF file has no scene`);

  const materialReader = createMaterialReader(root, path);
  const meshReader = createMeshReader();
  const localAt = animatedLocalTransform(root, seed);
  const { objects, bounds } = readObjects(gltfScene, localAt, meshReader, materialReader);
  if (objects.length === 0)
    throw new InputError(`${path}: the scene has no triangle meshes to draw`);

  const { materials, textures } = materialReader;
  const { meshes } = meshReader;
  const { center, radius, skyRadius, focus } = framing(bounds);
  // Sky dome around everything, the far plane beyond it.
  const skyMaterial =
    materials.push(
      material({
        baseColor: [1.6, 1.6, 1.6, 1],
        baseColorTexture: textures.push(skyTexture([0.35, 0.55, 0.95], [0.85, 0.9, 1.0])) - 1,
        unlit: true,
      }),
    ) - 1;
  const skyMesh = meshes.push(sphereMesh(skyRadius, 32, 16, true)) - 1;
  const sky = composeTRS(center, [0, 0, 0, 1], [1, 1, 1]);
  objects.push({ mesh: skyMesh, material: skyMaterial, transform: () => sky });
  return {
    name: gltfScene.getName() || path.split('/').pop()!,
    meshes,
    materials,
    textures,
    objects,
    light: { direction: sunDirection(seed), color: [3.2, 3.0, 2.7], ambient: [0.25, 0.28, 0.34] },
    focus,
    lens: { fovY: (50 * Math.PI) / 180, near: radius * 0.01, far: skyRadius * 2.5 },
    defaultPath: 'orbit',
    source: { generator: 'uplift glTF loader', file: path },
  };
}

interface MeshReader {
  readonly meshes: Mesh[];
  /** The index in `meshes` of a triangle primitive's mesh, read on first use (other modes: none). */
  meshFor(primitive: Primitive): number | undefined;
}

function createMeshReader(): MeshReader {
  const meshes: Mesh[] = [];
  const meshCache = new Map<Primitive, number>();
  const meshFor = (primitive: Primitive): number | undefined => {
    let index = meshCache.get(primitive);
    if (index !== undefined) return index;
    if (primitive.getMode() !== 4) return undefined; // only TRIANGLES
    const positions = floats(primitive, 'POSITION');
    if (!positions) return undefined;
    const count = positions.length / 3;
    const indexAccessor = primitive.getIndices();
    const indices = indexAccessor
      ? Uint32Array.from(indexAccessor.getArray()!)
      : Uint32Array.from({ length: count }, (_, i) => i);
    const mesh: Mesh = {
      positions,
      normals: floats(primitive, 'NORMAL') ?? vertexNormals(positions, indices),
      uvs: floats(primitive, 'TEXCOORD_0') ?? new Float32Array(count * 2),
      indices,
    };
    mesh.tangents = floats(primitive, 'TANGENT') ?? computeTangents(mesh);
    const joints = primitive.getAttribute('JOINTS_0')?.getArray();
    const weights = floats(primitive, 'WEIGHTS_0');
    if (joints && weights) {
      mesh.joints = Uint32Array.from(joints);
      mesh.weights = weights;
    }
    index = meshes.push(mesh) - 1;
    meshCache.set(primitive, index);
    return index;
  };
  return { meshes, meshFor };
}

/**
 * One object per triangle primitive of the node hierarchy (depth first), placed by its node's
 * world transform or, when skinned, by its joints; and each object's world bounds at time 0.
 */
function readObjects(
  gltfScene: GltfScene,
  localAt: LocalTransform,
  { meshes, meshFor }: MeshReader,
  { materialFor }: MaterialReader,
): { objects: SceneObject[]; bounds: Bounds[] } {
  const objects: SceneObject[] = [];
  const bounds: Bounds[] = [];
  const identity = composeTRS([0, 0, 0], [0, 0, 0, 1], [1, 1, 1]);
  const parentOf = new Map<Node, Node>();
  const worldOf = (node: Node, time: number): Mat4 => {
    const parent = parentOf.get(node);
    return parent ? multiply(worldOf(parent, time), localAt(node, time)) : localAt(node, time);
  };
  const skinOf = (node: Node): ((time: number) => Mat4[]) | undefined => {
    const skin = node.getSkin();
    if (!skin) return undefined;
    const joints = skin.listJoints();
    const inverseBind = skin.getInverseBindMatrices()?.getArray();
    const bind = joints.map((_, k) =>
      inverseBind ? Float64Array.from(inverseBind.subarray(k * 16, k * 16 + 16)) : identity,
    );
    return (time) => joints.map((joint, k) => multiply(worldOf(joint, time), bind[k]!));
  };
  const visit = (node: Node, parent: Node | undefined) => {
    if (parent) parentOf.set(node, parent);
    for (const child of node.listChildren()) visit(child, node);
  };
  for (const node of gltfScene.listChildren()) visit(node, undefined);
  const addObjects = (node: Node) => {
    const skin = skinOf(node);
    for (const primitive of node.getMesh()?.listPrimitives() ?? []) {
      const meshIndex = meshFor(primitive);
      if (meshIndex === undefined) continue;
      const mesh = meshes[meshIndex]!;
      const skinned = skin && mesh.joints ? skin : undefined;
      // A skinned mesh's node transform is ignored (glTF): its joints place it in the world.
      const transform = skinned ? () => identity : (time: number) => worldOf(node, time);
      objects.push({
        mesh: meshIndex,
        material: materialFor(primitive),
        transform,
        ...(skinned ? { skin: skinned } : {}),
      });
      const positions = skinned ? skinMesh(mesh, skinned(0)).positions : mesh.positions;
      bounds.push(worldBounds(transform(0), positions));
    }
    for (const child of node.listChildren()) addObjects(child);
  };
  for (const node of gltfScene.listChildren()) addObjects(node);
  return { objects, bounds };
}

/** The bounds of `positions` (xyz triples) transformed by `world`. */
function worldBounds(world: Mat4, positions: Float32Array): Bounds {
  const lo: Vec3 = [Infinity, Infinity, Infinity];
  const hi: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < positions.length; i += 3) {
    const p = transformPoint(world, [positions[i]!, positions[i + 1]!, positions[i + 2]!]);
    for (let d = 0; d < 3; d++) {
      lo[d] = Math.min(lo[d]!, p[d]!);
      hi[d] = Math.max(hi[d]!, p[d]!);
    }
  }
  return { lo, hi };
}

/**
 * Framing from the objects' bounds: the center and radius of those of typical size, the camera
 * focus, and the radius of a sky dome enclosing them all.
 */
function framing(bounds: Bounds[]): {
  center: Vec3;
  radius: number;
  skyRadius: number;
  focus: Scene['focus'];
} {
  // Frame the objects of typical size: a huge ground or water plane (more than 10 × the median
  // object's size) should not push the camera away from the props on it.
  const sizeOf = (b: Bounds) => vec3.length(vec3.sub(b.hi, b.lo));
  const sizes = bounds.map(sizeOf).sort((a, b) => a - b);
  const median = sizes[Math.floor(sizes.length / 2)]!;
  const framed = bounds.filter((b) => sizeOf(b) <= 10 * median);
  const lo = [0, 1, 2].map((d) => Math.min(...framed.map((b) => b.lo[d]!))) as Vec3;
  const hi = [0, 1, 2].map((d) => Math.max(...framed.map((b) => b.hi[d]!))) as Vec3;
  const center = vec3.scale(vec3.add(lo, hi), 0.5);
  const radius = Math.max(1e-3, vec3.length(vec3.sub(hi, lo)) / 2);
  // The sky encloses every object, the far plane the sky.
  const reach = Math.max(
    ...bounds.map(
      (b) => vec3.length(vec3.sub(vec3.scale(vec3.add(b.lo, b.hi), 0.5), center)) + sizeOf(b) / 2,
    ),
  );
  const skyRadius = Math.max(20 * radius, 2 * reach);
  // Paths orbit at 1.3–1.7 × the focus radius: an object stays whole in view; over a flat, wide
  // scene (terrain, a floor with small props) the camera comes closer, above its top.
  const flat = hi[1] - lo[1] < 0.25 * Math.max(hi[0] - lo[0], hi[2] - lo[2]);
  const focus: Scene['focus'] = flat
    ? { center: [center[0], hi[1], center[2]], radius: radius * 0.5 }
    : { center, radius: radius * 1.4 };
  return { center, radius, skyRadius, focus };
}

/** A seeded direction towards the sun, 0.5–1.1 radians above the horizon. */
function sunDirection(seed: number): Vec3 {
  const rand = mulberry32(seed ^ 0x6c7f);
  const azimuth = rand() * 2 * Math.PI;
  const elevation = 0.5 + 0.6 * rand();
  return [
    Math.cos(azimuth) * Math.cos(elevation),
    Math.sin(elevation),
    Math.sin(azimuth) * Math.cos(elevation),
  ];
}
