/**
 * The data engine's front door: a scene, a camera path and sizes in; per frame, the inputs an
 * engine hands an upscaler (jittered render-res color, depth, motion, reactive; DESIGN §4) and the
 * display-res ground truth out, as GPU images (training, no disk) or as a FrameSource (CPU).
 */
import { FULL_PRECISION_INPUTS, type EngineInputs } from '../core/engine-inputs.ts';
import type { FrameImages, FrameParams, SequenceHeader, FrameSource } from '../core/frame.ts';
import { InputError } from '../core/errors.ts';
import { jitterOffset, jitterPhaseCount } from '../core/jitter.ts';
import { mipBias, renderSizeFor, type Size } from '../core/quality.ts';
import { createGpuImage, readGpuImage, type GpuImage } from '../gpu/gpu-image.ts';
import type { Camera, ViewWindow } from './camera.ts';
import { encodeEngineQuantize } from './engine-inputs.ts';
import { cameraPath, type CameraPath, type PathContext } from './paths.ts';
import { proceduralScene } from './procedural/scenes.ts';
import { createSceneRasterizer } from './rasterizer.ts';
import type { InputImages } from './raster-view.ts';
import type { Scene } from './types.ts';

export interface SceneRendererOptions {
  /** A Scene, or a built-in procedural scene name (see PROCEDURAL_SCENES). */
  scene: Scene | string;
  /** A built-in path name (see CAMERA_PATHS; default: the scene's), or a path built by the caller. */
  path?: string | CameraPath;
  displaySize: Size;
  /** Display/render ratio (a quality mode's, or any in [1, 3]). Default 2. */
  ratio?: number;
  /** Chooses the procedural layout and the path's parameters. Default 1. */
  seed?: number;
  /** Ground-truth samples per display pixel (0 = no reference). Default 64. */
  samples?: number;
  /** Number of frames. Default 60. */
  frames?: number;
  /** Frames per second of scene time. Default 60. */
  fps?: number;
  /** Near = 1, far = 0 depth. Default false. */
  depthInverted?: boolean;
  /**
   * Project with an infinite far plane (cameraFar = Infinity in the frames, stored as null in
   * sequence.json), as engines with reversed Z do. Default false: the scene's far plane.
   */
  infiniteFar?: boolean;
  /** Texture mip bias of the ground truth (display resolution). Default 0. */
  referenceMipBias?: number;
  /**
   * Inputs as an engine would hand them (no jitter, 8-bit depth, 8-bit sRGB color); the reference
   * stays full precision. Default: none of them. Recorded in the header's `source.engineInputs`.
   */
  engineInputs?: Partial<EngineInputs>;
  /** Reference draws recorded once per frame and replayed per sample (RasterizerOptions). */
  referenceBundles?: boolean;
}

/**
 * What renderFrame may change per frame: the engine-like inputs, the depth convention and a view
 * window (training draws them per clip while clips share a renderer). A window leaves the
 * frame's params as they are (fovY is the whole view's): it is for training clips, not for
 * sequences written to disk.
 */
export interface FrameOverrides extends Partial<EngineInputs> {
  depthInverted?: boolean;
  infiniteFar?: boolean;
  /**
   * The part of a virtual display `window.scale` times larger that this frame shows (inputs and
   * reference alike; training clips: the scenes at a larger display's pixel density).
   */
  window?: ViewWindow;
}

/** One rendered frame, as GPU images owned by the renderer. */
export interface RenderedFrame {
  params: FrameParams;
  /**
   * Render-res inputs and (if samples > 0) the display-res reference. Two sets of buffers
   * alternate between calls: these images are overwritten by the second renderFrame call after
   * this one (whatever its index); copy them to keep them longer. Destroyed by destroy().
   */
  gpu: InputImages & { reference?: GpuImage };
}

export interface SceneRenderer {
  readonly header: SequenceHeader;
  readonly frameCount: number;
  readonly scene: Scene;
  readonly device: GPUDevice;
  /** Per-frame metadata (no rendering). */
  frameParams(index: number): FrameParams;
  /**
   * Renders frame `index`; `overrides` replace the renderer's engineInputs, depthInverted and
   * infiniteFar for this frame (training draws them per clip while clips share a renderer).
   * Submits the frame's commands and resolves without waiting for the GPU: work submitted after
   * it (a copy, a read-back) sees the finished frame.
   */
  renderFrame(index: number, overrides?: FrameOverrides): Promise<RenderedFrame>;
  destroy(): void;
}

/** Creates a renderer; frames are rendered on demand, in any order. */
export function createSceneRenderer(
  device: GPUDevice,
  options: SceneRendererOptions,
): SceneRenderer {
  const seed = options.seed ?? 1;
  const frames = options.frames ?? 60;
  const fps = options.fps ?? 60;
  const samples = options.samples ?? 64;
  const ratio = options.ratio ?? 2;
  const depthInverted = options.depthInverted ?? false;
  const infiniteFar = options.infiniteFar ?? false;
  const engineInputs: EngineInputs = { ...FULL_PRECISION_INPUTS, ...options.engineInputs };
  if (!Number.isInteger(frames) || frames < 1)
    throw new InputError(`frames must be a positive integer, got ${frames}`);
  if (!Number.isInteger(samples) || samples < 0)
    throw new InputError(`samples must be a non-negative integer, got ${samples}`);
  if (!(fps > 0)) throw new InputError(`fps must be positive, got ${fps}`);
  const displaySize = options.displaySize;
  const renderSize = renderSizeFor(displaySize, ratio);
  const scene =
    typeof options.scene === 'string' ? proceduralScene(options.scene, seed) : options.scene;
  const context: PathContext = { focus: scene.focus, frames, fps, seed };
  const pathOption = options.path ?? scene.defaultPath;
  const path = typeof pathOption === 'string' ? cameraPath(pathOption, context) : pathOption;
  const phases = jitterPhaseCount(renderSize[0], displaySize[0]);
  const inputBias = mipBias(renderSize, displaySize);

  const header: SequenceHeader = {
    renderSize,
    displaySize,
    depthInverted,
    colorSpace: 'linear',
    source: {
      ...(scene.source ?? {}),
      generator: 'uplift data engine',
      scene: scene.name,
      path: typeof pathOption === 'string' ? pathOption : 'custom',
      seed,
      samples,
      fps,
      // Only when set, so that full-precision sequences keep their sequence.json as before.
      ...(Object.values(engineInputs).some(Boolean) ? { engineInputs } : {}),
    },
  };

  const lensWith = (infinite: boolean) =>
    infinite ? { ...scene.lens, far: Infinity } : scene.lens;
  const cameraAt = (i: number, infinite = infiniteFar): Camera => {
    const pose = path(i);
    return { position: pose.position, target: pose.target, ...lensWith(infinite) };
  };
  const checkIndex = (i: number) => {
    if (!Number.isInteger(i) || i < 0 || i >= frames)
      throw new RangeError(`frame index ${i} is outside 0..${frames - 1}`);
  };
  const frameParamsWith = (i: number, noJitter: boolean, infinite: boolean): FrameParams => {
    checkIndex(i);
    return {
      jitter: noJitter ? [0, 0] : jitterOffset(i, phases),
      reset: i === 0 || path(i).cut,
      exposure: 1,
      cameraNear: scene.lens.near,
      cameraFar: lensWith(infinite).far,
      fovY: scene.lens.fovY,
      motionScale: [1, 1],
      frameTimeDelta: 1 / fps,
    };
  };
  const frameParams = (i: number) => frameParamsWith(i, engineInputs.noJitter, infiniteFar);

  const rasterizer = createSceneRasterizer(
    device,
    scene,
    options.referenceBundles === undefined ? {} : { referenceBundles: options.referenceBundles },
  );
  const imageSets = [0, 1].map((k) => {
    const at = (size: Size, what: string) =>
      createGpuImage(device, size[0], size[1], `scene ${what} ${k}`);
    return {
      color: at(renderSize, 'color'),
      depth: at(renderSize, 'depth'),
      motion: at(renderSize, 'motion'),
      reactive: at(renderSize, 'reactive'),
      ...(samples > 0 ? { reference: at(displaySize, 'reference') } : {}),
    };
  });
  let calls = 0;

  return {
    header,
    frameCount: frames,
    scene,
    device,
    frameParams,
    async renderFrame(i, overrides = {}) {
      const { depthInverted: inverted, infiniteFar: infinite, window, ...override } = overrides;
      const inputs = { ...engineInputs, ...override };
      const frameInverted = inverted ?? depthInverted;
      const frameInfinite = infinite ?? infiniteFar;
      const params = frameParamsWith(i, inputs.noJitter, frameInfinite);
      const gpu = imageSets[calls++ % 2]!;
      const time = i / fps;
      // At a cut (or frame 0) there is no meaningful previous frame: motion against the same view.
      const previous = params.reset
        ? { camera: cameraAt(i, frameInfinite), time }
        : { camera: cameraAt(i - 1, frameInfinite), time: (i - 1) / fps };
      const view = {
        camera: cameraAt(i, frameInfinite),
        time,
        depthInverted: frameInverted,
        mipBias: inputBias,
        ...(window ? { window } : {}),
      };
      rasterizer.renderInputs(view, previous, params.jitter, gpu);
      if (inputs.depth8 || inputs.srgb8) {
        const encoder = device.createCommandEncoder({ label: 'engine-like inputs' });
        encodeEngineQuantize(device, encoder, gpu, inputs);
        device.queue.submit([encoder.finish()]);
      }
      if (gpu.reference) {
        rasterizer.renderReference(
          { ...view, mipBias: options.referenceMipBias ?? 0 },
          samples,
          gpu.reference,
        );
      }
      // No wait for the GPU: commands run in submission order, so whatever the caller submits
      // next (copies, training) sees this frame, and the CPU prepares the next frame meanwhile.
      return { params, gpu };
    },
    destroy() {
      rasterizer.destroy();
      for (const set of imageSets) for (const image of Object.values(set)) image.buffer.destroy();
    },
  };
}

/** The renderer as a FrameSource: frames read back to CPU images (color RGB, depth, motion, reactive, reference). */
export function sceneFrameSource(renderer: SceneRenderer, name = renderer.scene.name): FrameSource {
  return {
    name,
    header: renderer.header,
    frameCount: renderer.frameCount,
    frameParams: (i) => renderer.frameParams(i),
    frameNumber: (i) => i,
    async readFrame(i): Promise<FrameImages> {
      const { gpu } = await renderer.renderFrame(i);
      const { device } = renderer;
      return {
        color: await readGpuImage(device, gpu.color, 3),
        depth: await readGpuImage(device, gpu.depth, 1),
        motion: await readGpuImage(device, gpu.motion, 2),
        reactive: await readGpuImage(device, gpu.reactive, 1),
        ...(gpu.reference ? { reference: await readGpuImage(device, gpu.reference, 3) } : {}),
      };
    },
  };
}
