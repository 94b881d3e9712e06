/**
 * The scene rasterizer: WebGPU render pipelines that draw a Scene the way a game engine hands
 * frames to an upscaler (DESIGN §4, §8).
 *
 * - `renderInputs`: one MRT pass at render resolution with the jittered camera: linear HDR color
 *   (rgba16float), device depth (r32float copy of the depth-buffer value), motion vectors
 *   (rg32float, prevUV − currUV from unjittered matrices and previous object transforms) and the
 *   reactive mask (r16float, raised by alpha-blended surfaces, which write no depth or motion).
 * - `renderReference`: the ground truth at display resolution: `samples` passes with sub-pixel
 *   offsets (stratified over the pixel: a box filter) at the same instant, averaged in f32.
 * Opaque and alpha-masked objects are drawn first, blended ones after, back to front. The sun's
 * shadow map is rendered once per instant (the reference after the inputs of the same frame reuses
 * it); skinned objects are skinned on the CPU at the frame's time (and the previous frame's, for
 * their motion vectors), each instant once while it is recent.
 */
import { halton } from '../core/jitter.ts';
import type { GpuImage } from '../gpu/gpu-image.ts';
import type { Camera } from './camera.ts';
import { vec3 } from './math.ts';
import { createFrameUniforms, frameUniformData, type FrameUniforms } from './rasterizer-frame.ts';
import { createOutputPasses, type OutputPasses } from './rasterizer-outputs.ts';
import {
  COLOR_FORMAT,
  createRenderPipelines,
  DEPTH_FORMAT,
  type PassKind,
  type RenderPipelines,
} from './rasterizer-pipelines.ts';
import {
  createSceneResources,
  type RenderEncoder,
  type SceneResources,
} from './rasterizer-resources.ts';
import { createShadowMap, type ShadowMap } from './rasterizer-shadow.ts';
import { createRenderTargets, type RenderTargets } from './rasterizer-targets.ts';
import { FRAME_UNIFORM_BYTES, RASTERIZER_WGSL } from './rasterizer-wgsl.ts';
import type { Scene } from './types.ts';
import type { RasterView, InputImages } from './raster-view.ts';

export interface SceneRasterizer {
  /**
   * Renders and submits the jittered render-res pass into `out` (whose size is the render size);
   * `previous` gives the camera and time of frame i − 1 (for motion vectors).
   */
  renderInputs(
    view: RasterView,
    previous: { camera: Camera; time: number },
    jitter: readonly [number, number],
    out: InputImages,
  ): void;
  /** Renders and submits `samples` sub-pixel passes averaged into `out` (the display size). */
  renderReference(view: RasterView, samples: number, out: GpuImage): void;
  destroy(): void;
}

/**
 * The sub-pixel offset of ground-truth sample k of n, in pixels in [−0.5, 0.5): one sample sits
 * at the pixel centre; a square count is stratified (one sample per cell of a √n × √n grid, placed
 * in its cell by Halton(2,3)); other counts follow Halton(2,3) over the pixel. Averaged with equal
 * weights: a box filter over the display pixel.
 */
export function referenceSampleOffset(k: number, samples: number): [number, number] {
  if (samples === 1) return [0, 0];
  const side = Math.round(Math.sqrt(samples));
  if (side * side === samples) {
    const cx = k % side;
    const cy = Math.floor(k / side);
    return [(cx + halton(k + 1, 2)) / side - 0.5, (cy + halton(k + 1, 3)) / side - 0.5];
  }
  return [halton(k + 1, 2) - 0.5, halton(k + 1, 3) - 0.5];
}

/** The parts a scene rasterizer is composed of. */
interface RasterParts {
  device: GPUDevice;
  scene: Scene;
  resources: SceneResources;
  frames: FrameUniforms;
  shadow: ShadowMap;
  pipelines: RenderPipelines;
  outputs: OutputPasses;
  targets: RenderTargets;
}

export interface RasterizerOptions {
  /**
   * Record a reference frame's draws once in a render bundle and replay it per sample (default
   * true): the same commands, so the same pixels, for 1/samples of the CPU's draw calls. False
   * issues every draw of every sample (kept to check the bundle against).
   */
  readonly referenceBundles?: boolean;
}

/** Uploads the scene's meshes, textures and materials and builds the pipelines. */
export function createSceneRasterizer(
  device: GPUDevice,
  scene: Scene,
  options: RasterizerOptions = {},
): SceneRasterizer {
  const resources = createSceneResources(device, scene);
  const frames = createFrameUniforms(device);
  const module = device.createShaderModule({ label: 'scene rasterizer', code: RASTERIZER_WGSL });
  const shadow = createShadowMap(device, scene, module, frames.layout, resources);
  const pipelines = createRenderPipelines(device, module, [
    frames.layout,
    resources.objectLayout,
    resources.materialLayout,
    shadow.layout,
  ]);
  const outputs = createOutputPasses(device);
  const targets = createRenderTargets(device);
  const parts: RasterParts = {
    device,
    scene,
    resources,
    frames,
    shadow,
    pipelines,
    outputs,
    targets,
  };
  return {
    renderInputs: (view, previous, jitter, out) => renderInputs(parts, view, previous, jitter, out),
    renderReference: (view, samples, out) =>
      renderReference(parts, view, samples, out, options.referenceBundles ?? true),
    destroy() {
      for (const part of [resources, shadow, frames, targets]) part.destroy();
    },
  };
}

function renderInputs(
  parts: RasterParts,
  view: RasterView,
  previous: { camera: Camera; time: number },
  jitter: readonly [number, number],
  out: InputImages,
): void {
  const { device, scene, resources, frames, shadow, outputs, targets } = parts;
  const { width, height } = out.color;
  for (const image of [out.depth, out.motion, out.reactive]) {
    if (image.width !== width || image.height !== height) {
      throw new RangeError(`input images must all be ${width}x${height}`);
    }
  }
  resources.writeObjects(view.time, previous.time);
  const slots = frames.slots(1);
  device.queue.writeBuffer(
    slots.buffer,
    0,
    frameUniformData(scene, shadow, view, width, height, jitter, previous.camera),
  );
  const [color, depth, motion, reactive, depthBuffer] = targets.inputs(width, height);
  shadow.render(view.time, slots.group);
  const encoder = device.createCommandEncoder({ label: 'scene inputs' });
  const far = view.depthInverted ? 0 : 1;
  const pass = encoder.beginRenderPass({
    label: 'scene inputs',
    colorAttachments: [
      [color, [0, 0, 0, 1]],
      [depth, [far, 0, 0, 0]],
      [motion, [0, 0, 0, 0]],
      [reactive, [0, 0, 0, 0]],
    ].map(([t, clear]) => ({
      view: (t as GPUTexture).createView(),
      clearValue: clear as number[],
      loadOp: 'clear' as const,
      storeOp: 'store' as const,
    })),
    depthStencilAttachment: depthAttachment(depthBuffer, view.depthInverted),
  });
  drawScene(parts, pass, 'inputs', drawOrder(scene, view), view.depthInverted, slots.group, 0);
  pass.end();
  outputs.gather(encoder, [color, depth, motion, reactive], out);
  device.queue.submit([encoder.finish()]);
}

function renderReference(
  parts: RasterParts,
  view: RasterView,
  samples: number,
  out: GpuImage,
  bundles: boolean,
): void {
  const { device, scene, resources, frames, shadow, outputs, targets } = parts;
  if (!Number.isInteger(samples) || samples < 1) {
    throw new RangeError(`samples must be a positive integer, got ${samples}`);
  }
  const { width, height } = out;
  resources.writeObjects(view.time);
  const slots = frames.slots(samples);
  const data = new Float32Array((samples * FRAME_UNIFORM_BYTES) / 4);
  for (let k = 0; k < samples; k++) {
    const offset = referenceSampleOffset(k, samples);
    data.set(
      frameUniformData(scene, shadow, view, width, height, offset, view.camera),
      (k * FRAME_UNIFORM_BYTES) / 4,
    );
  }
  device.queue.writeBuffer(slots.buffer, 0, data);
  const [color, depthBuffer] = targets.reference(width, height);
  const order = drawOrder(scene, view);
  shadow.render(view.time, slots.group);
  const colorView = color.createView();
  const accumulate = outputs.accumulator(colorView, samples, out);
  const bundle = bundles ? recordReferenceDraws(parts, order, view.depthInverted) : undefined;
  const encoder = device.createCommandEncoder({ label: 'scene reference' });
  for (let k = 0; k < samples; k++) {
    const offset = k * FRAME_UNIFORM_BYTES;
    // The bundle reads the current-sample slot: this sample's uniforms go there first.
    if (bundle)
      encoder.copyBufferToBuffer(
        slots.buffer,
        offset,
        frames.current.buffer,
        0,
        FRAME_UNIFORM_BYTES,
      );
    const pass = encoder.beginRenderPass({
      label: 'scene reference sample',
      colorAttachments: [
        { view: colorView, clearValue: [0, 0, 0, 1], loadOp: 'clear', storeOp: 'store' },
      ],
      depthStencilAttachment: depthAttachment(depthBuffer, view.depthInverted),
    });
    if (bundle) pass.executeBundles([bundle]);
    else drawScene(parts, pass, 'reference', order, view.depthInverted, slots.group, offset);
    pass.end();
    accumulate(encoder, k);
  }
  device.queue.submit([encoder.finish()]);
}

/** A reference sample's draws, recorded once per frame and replayed for every sample. */
function recordReferenceDraws(
  parts: RasterParts,
  order: number[],
  depthInverted: boolean,
): GPURenderBundle {
  const bundle = parts.device.createRenderBundleEncoder({
    label: 'scene reference sample',
    colorFormats: [COLOR_FORMAT],
    depthStencilFormat: DEPTH_FORMAT,
  });
  drawScene(parts, bundle, 'reference', order, depthInverted, parts.frames.current.group, 0);
  return bundle.finish();
}

/** Opaque and masked objects in scene order, then blended ones back to front. */
function drawOrder(scene: Scene, view: RasterView): number[] {
  const opaque: number[] = [];
  const blended: Array<[number, number]> = [];
  scene.objects.forEach((o, i) => {
    if (scene.materials[o.material]!.alphaMode !== 'blend') opaque.push(i);
    else {
      const m = o.transform(view.time);
      const d = vec3.length(vec3.sub([m[12]!, m[13]!, m[14]!], view.camera.position));
      blended.push([i, d]);
    }
  });
  blended.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return [...opaque, ...blended.map(([i]) => i)];
}

/** Draws the objects in `order` with the Frame uniforms at `frameOffset` of `frameGroup`. */
function drawScene(
  { scene, resources, shadow, pipelines }: RasterParts,
  pass: RenderEncoder,
  kind: PassKind,
  order: number[],
  depthInverted: boolean,
  frameGroup: GPUBindGroup,
  frameOffset: number,
): void {
  pass.setBindGroup(0, frameGroup, [frameOffset]);
  pass.setBindGroup(3, shadow.group);
  for (const i of order) {
    const m = scene.materials[scene.objects[i]!.material]!;
    pass.setPipeline(
      pipelines.pipelineFor(kind, m.alphaMode === 'blend', m.doubleSided, depthInverted),
    );
    resources.drawObject(pass, i);
  }
}

function depthAttachment(
  texture: GPUTexture,
  depthInverted: boolean,
): GPURenderPassDepthStencilAttachment {
  return {
    view: texture.createView(),
    depthClearValue: depthInverted ? 0 : 1,
    depthLoadOp: 'clear',
    depthStoreOp: 'discard',
  };
}
