/**
 * What the scene rasterizer draws (one instant seen by the camera) and what its input pass fills:
 * the types its parts share.
 */
import type { GpuImage } from '../gpu/gpu-image.ts';
import type { Camera, ViewWindow } from './camera.ts';

/** One instant of the scene as the camera sees it. */
export interface RasterView {
  camera: Camera;
  /** Scene time in seconds. */
  time: number;
  depthInverted: boolean;
  /** Texture mip bias (DESIGN §4: log2(render / display) − 1 for the inputs). */
  mipBias: number;
  /** The part of a larger virtual image the target shows (training clips); none: all of it. */
  window?: ViewWindow;
}

/** The render-resolution inputs of one frame, as vec4 storage images. */
export interface InputImages {
  color: GpuImage;
  depth: GpuImage;
  motion: GpuImage;
  reactive: GpuImage;
}
