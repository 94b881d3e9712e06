/**
 * glTF materials as Scene materials (src/scene/gltf.ts): metallic-roughness factors, alpha modes,
 * and base color / normal / metallic-roughness / emissive / occlusion textures (PNG via src/io,
 * JPEG via jpeg-js), each image decoded once per color space and alpha cutoff.
 */
import type { Primitive, Root, Texture } from '@gltf-transform/core';
import jpeg from 'jpeg-js';
import { InputError } from '../core/errors.ts';
import { decodePng } from '../io/png.ts';
import { textureWithMips } from './texture.ts';
import { material, type Material, type TextureData } from './types.ts';

export interface MaterialReader {
  readonly materials: Material[];
  readonly textures: TextureData[];
  /** The index in `materials` of `primitive`'s material, read (with its textures) on first use. */
  materialFor(primitive: Primitive): number;
}

/** Reads the materials of `root` (from the file at `path`, named in errors) as they are asked for. */
export function createMaterialReader(root: Root, path: string): MaterialReader {
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
  return { materials, textures, materialFor };
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
