/**
 * The sun's shadow map for the scene rasterizer: a depth texture seen from the light through an
 * orthographic box around the scene's focus, the pipelines that draw the shadow casters into it,
 * and the bind group (group 3 of RASTERIZER_WGSL) through which the surfaces sample it.
 */
import { viewMatrix } from './camera.ts';
import { multiply, vec3, type Mat4, type Vec3 } from './math.ts';
import { DEPTH_FORMAT } from './rasterizer-pipelines.ts';
import { VERTEX_LAYOUTS, type SceneResources } from './rasterizer-resources.ts';
import type { Scene } from './types.ts';

/** Shadow-map resolution (texels per side). */
const SHADOW_MAP_SIZE = 2048;

export interface ShadowMap {
  readonly layout: GPUBindGroupLayout;
  readonly group: GPUBindGroup;
  /** World → shadow-map clip space. */
  readonly lightViewProjection: Mat4;
  /** The Frame uniform's shadowParams: shadows on (0/1), texel size in world units, depth bias. */
  readonly params: [number, number, number, number];
  /**
   * Draws the casters at `time` (which the objects' uniforms must hold) into the map, with the
   * light's view from slot 0 of `frameGroup`, and submits; nothing when the map already shows
   * `time`: the light and the scene at one instant are the same for the inputs and every
   * reference sample. Its own submission: recorded in the same command buffer as the MRT pass,
   * Dawn over lavapipe lost the reactive target's blended writes (seen in
   * test/scene-builtin.test.ts).
   */
  render(time: number, frameGroup: GPUBindGroup): void;
  destroy(): void;
}

/** The shadow map of `scene`, drawn with `module`'s shadow stages and the frame's bind group layout. */
export function createShadowMap(
  device: GPUDevice,
  scene: Scene,
  module: GPUShaderModule,
  frameLayout: GPUBindGroupLayout,
  resources: SceneResources,
): ShadowMap {
  const extent = scene.shadowExtent ?? scene.focus.radius * 1.5;
  const texture = device.createTexture({
    label: 'scene shadow map',
    // Without shadows a 1×1 map stays bound (the layout needs one) and costs nothing to clear.
    size: extent > 0 ? [SHADOW_MAP_SIZE, SHADOW_MAP_SIZE] : [1, 1],
    format: DEPTH_FORMAT,
    usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.TEXTURE_BINDING,
  });
  const layout = device.createBindGroupLayout({
    entries: [
      { binding: 0, visibility: GPUShaderStage.FRAGMENT, texture: { sampleType: 'depth' } },
      { binding: 1, visibility: GPUShaderStage.FRAGMENT, sampler: { type: 'comparison' } },
    ],
  });
  const group = device.createBindGroup({
    layout,
    entries: [
      { binding: 0, resource: texture.createView() },
      {
        binding: 1,
        resource: device.createSampler({
          compare: 'less-equal',
          magFilter: 'linear',
          minFilter: 'linear',
        }),
      },
    ],
  });
  const texel = (2 * extent) / SHADOW_MAP_SIZE;
  // Depth runs over 4 × extent: a bias of two texels' worth of world distance.
  const params: ShadowMap['params'] = [extent > 0 ? 1 : 0, texel, (2 * texel) / (4 * extent), 0];

  const pipelineLayout = device.createPipelineLayout({
    bindGroupLayouts: [frameLayout, resources.objectLayout, resources.materialLayout],
  });
  const pipelines = [false, true].map((masked) =>
    device.createRenderPipeline({
      label: masked ? 'scene shadow (alpha mask)' : 'scene shadow',
      layout: pipelineLayout,
      vertex: { module, entryPoint: 'vs_shadow', buffers: VERTEX_LAYOUTS },
      fragment: { module, entryPoint: 'fs_shadow_mask', targets: [] },
      primitive: { topology: 'triangle-list', cullMode: 'none' },
      depthStencil: { format: DEPTH_FORMAT, depthWriteEnabled: true, depthCompare: 'less' },
    }),
  );
  // Unlit surfaces (skies, lamps) and blended ones (particles, glass) cast no shadow.
  const casters = scene.objects.flatMap((o, i) => {
    const m = scene.materials[o.material]!;
    return m.alphaMode === 'blend' || m.unlit ? [] : [i];
  });
  /** The instant the map shows (undefined: none yet). */
  let shownTime: number | undefined;

  return {
    layout,
    group,
    lightViewProjection: shadowMatrix(scene.light.direction, scene.focus.center, extent),
    params,
    render(time, frameGroup) {
      if (shownTime === time) return;
      shownTime = time;
      const encoder = device.createCommandEncoder({ label: 'scene shadow map' });
      const pass = encoder.beginRenderPass({
        label: 'scene shadow map',
        colorAttachments: [],
        depthStencilAttachment: {
          view: texture.createView(),
          depthClearValue: 1,
          depthLoadOp: 'clear',
          depthStoreOp: 'store',
        },
      });
      if (extent > 0) {
        pass.setBindGroup(0, frameGroup, [0]);
        for (const i of casters) {
          const m = scene.materials[scene.objects[i]!.material]!;
          pass.setPipeline(pipelines[m.alphaMode === 'mask' ? 1 : 0]!);
          resources.drawObject(pass, i);
        }
      }
      pass.end();
      device.queue.submit([encoder.finish()]);
    },
    destroy() {
      texture.destroy();
    },
  };
}

/**
 * World → shadow-map clip space for a sun in `direction`: an orthographic box of half-size
 * `extent` around `center`, depth 0 at 2 × extent towards the sun and 1 at 2 × extent beyond.
 */
function shadowMatrix(direction: Vec3, center: Vec3, extent: number): Mat4 {
  const size = Math.max(extent, 1e-6);
  const dir = vec3.normalize(direction);
  const view = viewMatrix({
    position: vec3.add(center, vec3.scale(dir, 2 * size)),
    target: center,
    up: Math.abs(dir[1]) > 0.99 ? [1, 0, 0] : [0, 1, 0],
    fovY: 1,
    near: 1,
    far: 2,
  });
  const ortho = new Float64Array(16);
  ortho[0] = 1 / size;
  ortho[5] = 1 / size;
  ortho[10] = -1 / (4 * size);
  ortho[15] = 1;
  return multiply(ortho, view);
}
