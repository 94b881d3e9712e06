/** The render targets the scene rasterizer draws into, per pass kind and size, kept across frames. */
import { COLOR_FORMAT, DEPTH_FORMAT, type PassKind } from './rasterizer-pipelines.ts';

export interface RenderTargets {
  /** The inputs pass's color, depth, motion and reactive targets, and its depth buffer. */
  inputs(
    width: number,
    height: number,
  ): [GPUTexture, GPUTexture, GPUTexture, GPUTexture, GPUTexture];
  /** A reference sample's color target and depth buffer. */
  reference(width: number, height: number): [GPUTexture, GPUTexture];
  destroy(): void;
}

export function createRenderTargets(device: GPUDevice): RenderTargets {
  const cache = new Map<string, GPUTexture[]>();
  const targetsFor = (kind: PassKind, width: number, height: number) => {
    const key = `${kind}/${width}x${height}`;
    let targets = cache.get(key);
    if (!targets) {
      const formats: GPUTextureFormat[] =
        kind === 'inputs' ? [COLOR_FORMAT, 'r32float', 'rg32float', 'r16float'] : [COLOR_FORMAT];
      targets = [...formats, DEPTH_FORMAT].map((format) =>
        device.createTexture({
          label: `scene ${kind} ${format}`,
          size: [width, height],
          format,
          usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.TEXTURE_BINDING,
        }),
      );
      cache.set(key, targets);
    }
    return targets;
  };
  return {
    inputs: (width, height) =>
      targetsFor('inputs', width, height) as ReturnType<RenderTargets['inputs']>,
    reference: (width, height) =>
      targetsFor('reference', width, height) as ReturnType<RenderTargets['reference']>,
    destroy() {
      for (const targets of cache.values()) for (const t of targets) t.destroy();
      cache.clear();
    },
  };
}
