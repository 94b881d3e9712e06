/**
 * Frame inputs read where the caller has them: a GpuImage (the pipeline's vec4 f32 image), or a
 * texture in one of the loadable formats (src/gpu/passes/load-texture.ts) read with textureLoad,
 * which fills missing channels (0, alpha 1) exactly as the load pass and `toVec4` do. A pass
 * that reads its inputs this way needs no load pass copying each texture into an image first.
 * One WGSL declaration per input and kind, so a pass compiles one pipeline per combination.
 */
import type { GpuImage } from './gpu-image.ts';

/** An input read in place: a GpuImage, or a texture with TEXTURE_BINDING usage. */
export type FrameSource = GpuImage | GPUTexture;

export function isTextureSource(source: FrameSource): source is GPUTexture {
  return !('buffer' in source);
}

/**
 * WGSL of one input at `binding` of group 0: the binding `<name>In` and its reader
 * `<name>At(x: i32, y: i32) -> vec4f` for coordinates on the image (the caller clamps);
 * `width` is the WGSL expression of the image's width (a buffer's row length).
 */
export function wgslFrameSource(
  name: string,
  binding: number,
  texture: boolean,
  width = 'u.width',
): string {
  return texture
    ? /* wgsl */ `@group(0) @binding(${binding}) var ${name}In: texture_2d<f32>;
fn ${name}At(x: i32, y: i32) -> vec4f { return textureLoad(${name}In, vec2i(x, y), 0); }`
    : /* wgsl */ `@group(0) @binding(${binding}) var<storage, read> ${name}In: array<vec4f>;
fn ${name}At(x: i32, y: i32) -> vec4f { return ${name}In[u32(y) * ${width} + u32(x)]; }`;
}

/** What an input binds: its buffer, or a view of its texture (a depth-stencil one's depth). */
export function frameSourceBinding(source: FrameSource): GPUBuffer | GPUTextureView {
  if (!isTextureSource(source)) return source.buffer;
  return source.createView(source.format.includes('stencil') ? { aspect: 'depth-only' } : {});
}
