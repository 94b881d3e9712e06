/**
 * Copies an input texture into a GpuImage, the pipeline's internal image type: float formats
 * (32- and 16-bit, rg11b10ufloat), normalized ones (8-bit, rgb10a2unorm; `-srgb` formats decode to
 * linear on load) and depth formats (the depth aspect). textureLoad fills missing channels with 0
 * and a missing alpha with 1, exactly as `toVec4` (src/gpu/gpu-image.ts) packs a CPU image, which
 * is this pass's CPU reference (tests quantize the values to each format).
 */
import { createKernel, groupsFor } from '../kernel.ts';
import type { GpuImage } from '../gpu-image.ts';
import { TILE, wgslPixelMain } from '../wgsl.ts';
import { uniformBlock } from '../uniforms.ts';

const PARAMS = uniformBlock({ width: 'u32', height: 'u32' });

/** The input formats the frame API reads, with the channels each holds. */
export const LOADABLE_FORMATS: Readonly<Partial<Record<GPUTextureFormat, number>>> = {
  r32float: 1,
  r16float: 1,
  r8unorm: 1,
  rg32float: 2,
  rg16float: 2,
  rgba32float: 4,
  rgba16float: 4,
  rg11b10ufloat: 3,
  rgba8unorm: 4,
  'rgba8unorm-srgb': 4,
  bgra8unorm: 4,
  'bgra8unorm-srgb': 4,
  rgb10a2unorm: 4,
  depth32float: 1,
  depth24plus: 1,
  depth16unorm: 1,
  'depth32float-stencil8': 1,
  'depth24plus-stencil8': 1,
};

/** Channels of a loadable input format; undefined for a format the frame API does not read. */
export function loadableChannels(format: GPUTextureFormat): number | undefined {
  return LOADABLE_FORMATS[format];
}

const code = /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var source: texture_2d<f32>;
@group(0) @binding(2) var<storage, read_write> outImage: array<vec4f>;

${wgslPixelMain(/* wgsl */ `
  outImage[id.y * u.width + id.x] = textureLoad(source, id.xy, 0);`)}
`;

/** The pass's kernel (one for every format: textureLoad returns vec4f for all of them). */
export const LOAD_TEXTURE_KERNEL = { label: 'load texture', code } as const;

/** Records the copy of `texture` (same size as `output`) into `output`. */
export function encodeLoadTexture(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  texture: GPUTexture,
  output: GpuImage,
): void {
  const kernel = createKernel(device, LOAD_TEXTURE_KERNEL);
  // A depth-stencil texture is read through its depth aspect.
  const view = texture.createView(
    texture.format.includes('stencil') ? { aspect: 'depth-only' } : {},
  );
  kernel.dispatch(
    pass,
    [groupsFor(output.width, TILE), groupsFor(output.height, TILE)],
    [view, output.buffer],
    PARAMS.pack({ width: output.width, height: output.height }),
  );
}
