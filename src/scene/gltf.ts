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
  type Document,
  type Node,
  type Primitive,
  type Texture,
} from '@gltf-transform/core';
import { ALL_EXTENSIONS } from '@gltf-transform/extensions';
import jpeg from 'jpeg-js';
import { InputError } from '../core/errors.ts';
import { mulberry32 } from '../core/random.ts';
import { decodePng } from '../io/png.ts';
import { computeTangents, sphereMesh } from './geometry.ts';
import {
  composeTRS,
  multiply,
  slerp,
  transformPoint,
  vec3,
  type Mat4,
  type Quat,
  type Vec3,
} from './math.ts';
import { skinMesh } from './skinning.ts';
import { textureWithMips } from './texture.ts';
import {
  material,
  type Material,
  type Mesh,
  type Scene,
  type SceneObject,
  type TextureData,
} from './types.ts';
import { skyTexture } from './procedural/textures.ts';

type Channel = {
  path: 'translation' | 'rotation' | 'scale';
  times: Float32Array;
  values: Float32Array;
  step: boolean;
  cubic: boolean;
};

/** Samples an animation channel at `time` (clamped to its range). */
function sampleChannel(channel: Channel, time: number): number[] {
  const { times, values } = channel;
  const size = channel.path === 'rotation' ? 4 : 3;
  // CUBICSPLINE stores (in-tangent, value, out-tangent) per key: read the value.
  const stride = channel.cubic ? size * 3 : size;
  const offset = channel.cubic ? size : 0;
  const key = (k: number) =>
    Array.from(values.subarray(k * stride + offset, k * stride + offset + size));
  const last = times.length - 1;
  if (time <= times[0]!) return key(0);
  if (time >= times[last]!) return key(last);
  let k = 0;
  while (k < last - 1 && times[k + 1]! <= time) k++;
  if (channel.step) return key(k);
  const t = (time - times[k]!) / (times[k + 1]! - times[k]!);
  const a = key(k);
  const b = key(k + 1);
  if (channel.path === 'rotation') return slerp(a as Quat, b as Quat, t);
  return a.map((v, i) => v + (b[i]! - v) * t);
}

function decodeImage(
  texture: Texture,
  label: string,
): { width: number; height: number; rgba: Uint8Array } {
  const bytes = texture.getImage();
  const mime = texture.getMimeType();
  if (!bytes)
    throw new InputError(
      `${label}: texture ${texture.getURI() || texture.getName()} has no image data`,
    );
  if (mime === 'image/jpeg') {
    const img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxMemoryUsageInMB: 1024,
    });
    return { width: img.width, height: img.height, rgba: img.data };
  }
  if (mime === 'image/png') {
    const { image } = decodePng(bytes, `${label}: ${texture.getURI() || 'embedded PNG'}`);
    const n = image.width * image.height;
    const rgba = new Uint8Array(n * 4);
    const c = image.channels;
    for (let i = 0; i < n; i++) {
      const gray = c < 3;
      for (let k = 0; k < 3; k++)
        rgba[i * 4 + k] = Math.round(image.data[i * c + (gray ? 0 : k)]! * 255);
      const hasAlpha = c === 2 || c === 4;
      rgba[i * 4 + 3] = hasAlpha ? Math.round(image.data[i * c + c - 1]! * 255) : 255;
    }
    return { width: image.width, height: image.height, rgba };
  }
  throw new InputError(`${label}: texture image type ${mime} is not supported (PNG and JPEG are)`);
}

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
  const root = document.getRoot();
  const gltfScene = root.getDefaultScene() ?? root.listScenes()[0];
  if (!gltfScene) throw new InputError(`${path}: the glTF file has no scene`);

  const textures: TextureData[] = [];
  const textureIndex = new Map<string, number>();
  const textureFor = (
    texture: Texture | null,
    srgb: boolean,
    alphaCutoff?: number,
  ): number | undefined => {
    if (!texture) return undefined;
    const key = `${root.listTextures().indexOf(texture)}/${srgb}/${alphaCutoff}`;
    let index = textureIndex.get(key);
    if (index === undefined) {
      const { width, height, rgba } = decodeImage(texture, path);
      index =
        textures.push(
          textureWithMips(
            width,
            height,
            rgba,
            srgb,
            texture.getName() || texture.getURI(),
            alphaCutoff,
          ),
        ) - 1;
      textureIndex.set(key, index);
    }
    return index;
  };
  const materials: Material[] = [];
  const materialIndex = new Map<unknown, number>();
  const materialFor = (primitive: Primitive): number => {
    const m = primitive.getMaterial();
    let index = materialIndex.get(m);
    if (index !== undefined) return index;
    const props: Partial<Material> = {};
    if (m) {
      const [r, g, b, a] = m.getBaseColorFactor();
      Object.assign(props, {
        baseColor: [r, g, b, a],
        roughness: m.getRoughnessFactor(),
        metallic: m.getMetallicFactor(),
        emissive: m.getEmissiveFactor(),
        alphaMode: m.getAlphaMode().toLowerCase(),
        alphaCutoff: m.getAlphaCutoff(),
        doubleSided: m.getDoubleSided(),
        normalScale: m.getNormalScale(),
        baseColorTexture: textureFor(
          m.getBaseColorTexture(),
          true,
          m.getAlphaMode() === 'MASK' ? m.getAlphaCutoff() : undefined,
        ),
        normalTexture: textureFor(m.getNormalTexture(), false),
        metallicRoughnessTexture: textureFor(m.getMetallicRoughnessTexture(), false),
        emissiveTexture: textureFor(m.getEmissiveTexture(), true),
        occlusionTexture: textureFor(m.getOcclusionTexture(), false),
      });
    }
    for (const key of Object.keys(props) as Array<keyof Material>)
      if (props[key] === undefined) delete props[key];
    index = materials.push(material(props)) - 1;
    materialIndex.set(m, index);
    return index;
  };

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

  // One animation clip, chosen by the seed (Fox.glb has three), looped.
  const channels = new Map<Node, Channel[]>();
  let duration = 0;
  const clips = root.listAnimations();
  const animation = clips[Math.abs(Math.trunc(seed)) % Math.max(1, clips.length)];
  for (const channel of animation?.listChannels() ?? []) {
    const node = channel.getTargetNode();
    const target = channel.getTargetPath();
    const sampler = channel.getSampler();
    if (
      !node ||
      !sampler ||
      (target !== 'translation' && target !== 'rotation' && target !== 'scale')
    )
      continue;
    const times = sampler.getInput()?.getArray();
    const values = sampler.getOutput()?.getArray();
    if (!times || !values) continue;
    const interpolation = sampler.getInterpolation();
    const list = channels.get(node) ?? [];
    list.push({
      path: target,
      times: Float32Array.from(times),
      values: Float32Array.from(values),
      step: interpolation === 'STEP',
      cubic: interpolation === 'CUBICSPLINE',
    });
    channels.set(node, list);
    duration = Math.max(duration, times[times.length - 1] ?? 0);
  }
  const localAt = (node: Node, time: number): Mat4 => {
    let t = node.getTranslation() as Vec3;
    let r = node.getRotation() as Quat;
    let s = node.getScale() as Vec3;
    const looped = duration > 0 ? time % duration : 0;
    for (const channel of channels.get(node) ?? []) {
      const v = sampleChannel(channel, looped);
      if (channel.path === 'translation') t = v as Vec3;
      else if (channel.path === 'rotation') r = v as Quat;
      else s = v as Vec3;
    }
    return composeTRS(t, r, s);
  };

  const objects: SceneObject[] = [];
  /** World bounds of each object at time 0. */
  const bounds: Array<{ lo: Vec3; hi: Vec3 }> = [];
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
      const world = transform(0);
      const positions = skinned ? skinMesh(mesh, skinned(0)).positions : mesh.positions;
      const lo: Vec3 = [Infinity, Infinity, Infinity];
      const hi: Vec3 = [-Infinity, -Infinity, -Infinity];
      bounds.push({ lo, hi });
      for (let i = 0; i < positions.length; i += 3) {
        const p = transformPoint(world, [positions[i]!, positions[i + 1]!, positions[i + 2]!]);
        for (let d = 0; d < 3; d++) {
          lo[d] = Math.min(lo[d]!, p[d]!);
          hi[d] = Math.max(hi[d]!, p[d]!);
        }
      }
    }
    for (const child of node.listChildren()) addObjects(child);
  };
  for (const node of gltfScene.listChildren()) addObjects(node);
  if (objects.length === 0)
    throw new InputError(`${path}: the scene has no triangle meshes to draw`);

  // Frame the objects of typical size: a huge ground or water plane (more than 10 × the median
  // object's size) should not push the camera away from the props on it.
  const sizeOf = (b: { lo: Vec3; hi: Vec3 }) => vec3.length(vec3.sub(b.hi, b.lo));
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
  // Paths orbit at 1.3–1.7 × the focus radius: an object stays whole in view; over a flat, wide
  // scene (terrain, a floor with small props) the camera comes closer, above its top.
  const flat = hi[1] - lo[1] < 0.25 * Math.max(hi[0] - lo[0], hi[2] - lo[2]);
  const focus: Scene['focus'] = flat
    ? { center: [center[0], hi[1], center[2]], radius: radius * 0.5 }
    : { center, radius: radius * 1.4 };
  const rand = mulberry32(seed ^ 0x6c7f);
  const azimuth = rand() * 2 * Math.PI;
  const elevation = 0.5 + 0.6 * rand();
  return {
    name: gltfScene.getName() || path.split('/').pop()!,
    meshes,
    materials,
    textures,
    objects,
    light: {
      direction: [
        Math.cos(azimuth) * Math.cos(elevation),
        Math.sin(elevation),
        Math.sin(azimuth) * Math.cos(elevation),
      ],
      color: [3.2, 3.0, 2.7],
      ambient: [0.25, 0.28, 0.34],
    },
    focus,
    lens: { fovY: (50 * Math.PI) / 180, near: radius * 0.01, far: skyRadius * 2.5 },
    defaultPath: 'orbit',
    source: { generator: 'uplift glTF loader', file: path },
  };
}
