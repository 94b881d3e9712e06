/**
 * The scene description the rasterizer draws: meshes, materials, textures and objects with a rigid
 * transform per instant. Procedural scenes and the glTF loader both produce it; tests build tiny
 * ones by hand.
 */
import type { Camera } from './camera.ts';
import type { Mat4, Vec3 } from './math.ts';

/** Indexed triangle mesh (counter-clockwise front faces), in object space. */
export interface Mesh {
  /** xyz per vertex. */
  positions: Float32Array;
  /** Unit normals, xyz per vertex. */
  normals: Float32Array;
  /** Texture coordinates, uv per vertex (v down, as glTF). */
  uvs: Float32Array;
  /** Tangents xyz + handedness w per vertex (computed from uvs when absent). */
  tangents?: Float32Array;
  indices: Uint32Array;
  /** Skinned meshes: four joint indices per vertex. */
  joints?: Uint32Array;
  /** Skinned meshes: four joint weights per vertex (summing to 1). */
  weights?: Float32Array;
}

/** An RGBA8 texture with its mip chain (level 0 first, each half the size, down to 1×1). */
export interface TextureData {
  width: number;
  height: number;
  /** RGBA8 pixels per level. */
  levels: Uint8Array[];
  /** True for color (stored sRGB, sampled linear); false for data (normals, roughness). */
  srgb: boolean;
  label?: string;
}

export type AlphaMode = 'opaque' | 'mask' | 'blend';

/** A metallic-roughness material (glTF 2.0 core) with an unlit switch for tests and skies. */
export interface Material {
  /** Linear RGBA factor. */
  baseColor: [number, number, number, number];
  /** Index into Scene.textures. */
  baseColorTexture?: number;
  normalTexture?: number;
  normalScale?: number;
  /** G = roughness, B = metallic (glTF). */
  metallicRoughnessTexture?: number;
  /** R = ambient occlusion, applied to the ambient term (glTF occlusionTexture, strength 1). */
  occlusionTexture?: number;
  roughness: number;
  metallic: number;
  /** Linear emitted radiance (HDR allowed). */
  emissive: Vec3;
  emissiveTexture?: number;
  alphaMode: AlphaMode;
  /** Alpha below this is discarded when alphaMode is 'mask'. */
  alphaCutoff: number;
  doubleSided: boolean;
  /** Output = base color · texture + emissive, no lighting. */
  unlit?: boolean;
  /** Texture coordinate scale (tiling). */
  uvScale?: [number, number];
  /** For 'blend': how much the reactive mask is raised where this surface covers (default 1). */
  reactive?: number;
}

/** One drawable: a mesh with a material and a rigid transform at each instant. */
export interface SceneObject {
  mesh: number;
  material: number;
  /** Object → world at `time` seconds. */
  transform: (time: number) => Mat4;
  /**
   * For skinned meshes: one matrix per joint at `time` (mesh space → object space, i.e. the
   * joint's transform times its inverse bind matrix); vertices are skinned on the CPU each frame.
   */
  skin?: (time: number) => Mat4[];
}

export interface DirectionalLight {
  /** Unit vector pointing towards the light. */
  direction: Vec3;
  /** Linear radiance (HDR). */
  color: Vec3;
  /** Constant ambient radiance. */
  ambient: Vec3;
}

/** Everything that is drawn. */
export interface Scene {
  name: string;
  meshes: Mesh[];
  materials: Material[];
  textures: TextureData[];
  objects: SceneObject[];
  light: DirectionalLight;
  /**
   * Where camera paths look and how far they stay; `heading`, where set, is the horizontal
   * direction (either sign) the `forward` path flies along through the centre: a scene built
   * along a road or corridor keeps that line clear.
   */
  focus: { center: Vec3; radius: number; heading?: Vec3 };
  /** Camera lens defaults. */
  lens: Pick<Camera, 'fovY' | 'near' | 'far'>;
  /** The path that shows this scene best. */
  defaultPath: string;
  /**
   * Half-size in world units of the square the sun's shadow map covers around the focus
   * (default 1.5 × focus.radius; 0 = no shadows). Outside it, everything is lit.
   */
  shadowExtent?: number;
  /** Credit and license for scenes made from assets. */
  source?: Record<string, unknown>;
}

/** A material with neutral defaults. */
export function material(props: Partial<Material>): Material {
  return {
    baseColor: [1, 1, 1, 1],
    roughness: 0.6,
    metallic: 0,
    emissive: [0, 0, 0],
    alphaMode: 'opaque',
    alphaCutoff: 0.5,
    doubleSided: false,
    ...props,
  };
}
