/**
 * The frame API's images for one pair of sizes: render-size images the inputs are loaded into and
 * prepared in, display-size images the frame is reprojected, upscaled and output into. A resize
 * destroys them and creates new ones.
 */
import type { Size } from './core/quality.ts';
import { createGpuImage, type GpuImage, type ImageFormat } from './gpu/gpu-image.ts';
import type { PreparedFrame } from './gpu/passes/prepare.ts';
import type { Reprojected } from './gpu/passes/reproject.ts';

export interface RenderResources {
  /** Where texture masks are loaded (color, depth, motion and GpuImage masks are read in place). */
  readonly reactive: GpuImage;
  readonly transparency: GpuImage;
  /**
   * The raw depth prepare keeps for the next frame's disocclusion test, in turns: frame n writes
   * one and reads the other (a pass cannot read and write one buffer).
   */
  readonly keptDepth: readonly [GpuImage, GpuImage];
  readonly prepared: PreparedFrame;
}

export interface DisplayResources {
  readonly reprojected: Reprojected;
  /** The spatial methods' tonemapped result (1×1 for temporal methods, which do not use it). */
  readonly spatial: GpuImage;
  /**
   * What reproject binds as the previous history and state before the first resolve: that frame
   * is a reset, which reads neither, so 1×1 images (in the resolver's format) suffice.
   */
  readonly empty: Reprojected;
  readonly outputImage: GpuImage;
  readonly output: GPUTexture;
}

export interface UpscalerResources {
  readonly render: RenderResources;
  readonly display: DisplayResources;
}

/** Creates the render-size images. */
export function createRenderResources(device: GPUDevice, [rw, rh]: Size): RenderResources {
  const r = (label: string) => createGpuImage(device, rw, rh, label);
  return {
    reactive: r('input reactive'),
    transparency: r('input transparency'),
    keptDepth: [r('kept depth 0'), r('kept depth 1')],
    prepared: { color: r('prepared color'), motion: r('prepared motion') },
  };
}

/**
 * The render images seen as images of a smaller `size` (the same buffers, rows packed at the
 * smaller width): a dynamic-resolution frame below the allocated size uses them without new
 * images.
 */
export function renderResourcesAt(render: RenderResources, [width, height]: Size): RenderResources {
  const at = (image: GpuImage): GpuImage => {
    if (width * height > image.width * image.height) {
      throw new RangeError(`${width}x${height} does not fit ${image.width}x${image.height} images`);
    }
    return { buffer: image.buffer, width, height };
  };
  return {
    reactive: at(render.reactive),
    transparency: at(render.transparency),
    keptDepth: [at(render.keptDepth[0]), at(render.keptDepth[1])],
    prepared: { color: at(render.prepared.color), motion: at(render.prepared.motion) },
  };
}

/**
 * Creates the images for a render size and a display size. `historyFormat`: the temporal
 * resolver's (the reprojected history and state are stored so); undefined for the spatial
 * methods, which reproject nothing (1×1 placeholders). `resolverReprojects`: the resolver
 * reprojects in its own kernel and writes no reprojected state (`Resolver.reprojects`): the
 * state is a 1×1 placeholder.
 */
export function createUpscalerResources(
  device: GPUDevice,
  renderSize: Size,
  [dw, dh]: Size,
  historyFormat: ImageFormat | undefined,
  resolverReprojects = false,
): UpscalerResources {
  const d = (label: string, format?: ImageFormat) => createGpuImage(device, dw, dh, label, format);
  const pixel = (label: string, format?: ImageFormat) =>
    createGpuImage(device, 1, 1, label, format);
  const render = createRenderResources(device, renderSize);
  const display = {
    reprojected: historyFormat
      ? {
          history: d('reprojected history', historyFormat),
          state: resolverReprojects
            ? pixel('reprojected state (unused: the resolver reprojects)', historyFormat)
            : d('reprojected state', historyFormat),
        }
      : {
          history: pixel('reprojected history (unused)'),
          state: pixel('reprojected state (unused)'),
        },
    spatial: historyFormat ? pixel('spatial upscale (unused)') : d('spatial upscale'),
    empty: {
      history: pixel('empty history', historyFormat),
      state: pixel('empty state', historyFormat),
    },
    outputImage: d('output'),
    output: device.createTexture({
      label: 'uplift output',
      size: [dw, dh],
      format: 'rgba32float',
      usage:
        GPUTextureUsage.STORAGE_BINDING |
        GPUTextureUsage.TEXTURE_BINDING |
        GPUTextureUsage.COPY_SRC,
    }),
  };
  return { render, display };
}

/** Every render-size image. */
function renderImagesOf(render: RenderResources): GpuImage[] {
  return [
    render.reactive,
    render.transparency,
    ...render.keptDepth,
    render.prepared.color,
    render.prepared.motion,
  ];
}

/** Destroys the render-size images. */
export function destroyRenderResources(render: RenderResources): void {
  for (const image of renderImagesOf(render)) image.buffer.destroy();
}

/** Every image of `resources` (the output texture aside). */
function imagesOf({ render, display }: UpscalerResources): GpuImage[] {
  return [
    ...renderImagesOf(render),
    display.reprojected.history,
    display.reprojected.state,
    display.spatial,
    display.empty.history,
    display.empty.state,
    display.outputImage,
  ];
}

/** Bytes of every image and of the output texture (rgba32float). */
export function upscalerResourceBytes(resources: UpscalerResources): number {
  const { output } = resources.display;
  const images = imagesOf(resources).reduce((sum, image) => sum + image.buffer.size, 0);
  return images + output.width * output.height * 16;
}

/** Destroys every image and the output texture. */
export function destroyUpscalerResources(resources: UpscalerResources): void {
  for (const image of imagesOf(resources)) image.buffer.destroy();
  resources.display.output.destroy();
}
