/**
 * The material bind groups of the scene rasterizer (group 2 of RASTERIZER_WGSL): each material's
 * base color, normal, metallic-roughness, emissive and occlusion textures, 1×1 defaults standing in
 * for those it lacks, and one shared sampler.
 */
import { uploadTexture } from './texture.ts';
import type { Scene } from './types.ts';

export interface MaterialBindings {
  readonly layout: GPUBindGroupLayout;
  /** One bind group per scene material, in scene order. */
  readonly groups: GPUBindGroup[];
  destroy(): void;
}

export function createMaterialBindings(device: GPUDevice, scene: Scene): MaterialBindings {
  const textures = scene.textures.map((t) => uploadTexture(device, t));
  const solid = (rgba: [number, number, number, number], srgb: boolean) =>
    uploadTexture(device, { width: 1, height: 1, levels: [new Uint8Array(rgba)], srgb });
  const white = solid([255, 255, 255, 255], true);
  const whiteData = solid([255, 255, 255, 255], false);
  const flatNormal = solid([128, 128, 255, 255], false);
  const sampler = device.createSampler({
    addressModeU: 'repeat',
    addressModeV: 'repeat',
    magFilter: 'linear',
    minFilter: 'linear',
    mipmapFilter: 'linear',
    maxAnisotropy: 8,
  });

  const layout = device.createBindGroupLayout({
    entries: [
      ...[0, 1, 2, 3, 5].map((binding) => ({
        binding,
        visibility: GPUShaderStage.FRAGMENT,
        texture: { sampleType: 'float' as const },
      })),
      { binding: 4, visibility: GPUShaderStage.FRAGMENT, sampler: { type: 'filtering' } },
    ],
  });
  const groups = scene.materials.map((m, i) => {
    const pick = (index: number | undefined, fallback: GPUTexture) => {
      if (index === undefined) return fallback;
      const t = textures[index];
      if (!t) throw new RangeError(`material ${i} refers to missing texture ${index}`);
      return t;
    };
    return device.createBindGroup({
      layout,
      entries: [
        pick(m.baseColorTexture, white),
        pick(m.normalTexture, flatNormal),
        pick(m.metallicRoughnessTexture, whiteData),
        pick(m.emissiveTexture, white),
        pick(m.occlusionTexture, whiteData),
      ]
        // Bindings 0–3 and 5 are textures (4 is the sampler).
        .map((t, k): GPUBindGroupEntry => ({ binding: k < 4 ? k : 5, resource: t.createView() }))
        .concat([{ binding: 4, resource: sampler }]),
    });
  });

  return {
    layout,
    groups,
    destroy() {
      for (const t of [...textures, white, whiteData, flatNormal]) t.destroy();
    },
  };
}
