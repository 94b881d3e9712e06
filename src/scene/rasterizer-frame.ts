/**
 * The Frame uniforms of the scene rasterizer (group 0 of RASTERIZER_WGSL): camera matrices, light
 * and shadow parameters, one FRAME_UNIFORM_BYTES slot per pass (a reference frame has one per
 * sample, chosen by dynamic offset) in a buffer that grows when a frame needs more slots.
 */
import { cameraMatrices, type Camera } from './camera.ts';
import { toF32, vec3 } from './math.ts';
import type { RasterView } from './raster-view.ts';
import type { ShadowMap } from './rasterizer-shadow.ts';
import { FRAME_UNIFORM_BYTES } from './rasterizer-wgsl.ts';
import type { Scene } from './types.ts';

export interface FrameUniforms {
  readonly layout: GPUBindGroupLayout;
  /** A buffer of at least `count` slots and its bind group. */
  slots(count: number): { buffer: GPUBuffer; group: GPUBindGroup };
  /**
   * A one-slot buffer and its bind group (offset 0) for draws recorded once and replayed per
   * reference sample: each sample copies its slot here first.
   */
  readonly current: { buffer: GPUBuffer; group: GPUBindGroup };
  destroy(): void;
}

export function createFrameUniforms(device: GPUDevice): FrameUniforms {
  const layout = device.createBindGroupLayout({
    entries: [
      {
        binding: 0,
        visibility: GPUShaderStage.VERTEX | GPUShaderStage.FRAGMENT,
        buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: FRAME_UNIFORM_BYTES },
      },
    ],
  });
  let buffer: GPUBuffer | undefined;
  let group: GPUBindGroup | undefined;
  const groupOf = (b: GPUBuffer) =>
    device.createBindGroup({
      layout,
      entries: [{ binding: 0, resource: { buffer: b, size: FRAME_UNIFORM_BYTES } }],
    });
  const currentBuffer = device.createBuffer({
    label: 'scene frame uniforms, current sample',
    size: FRAME_UNIFORM_BYTES,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const current = { buffer: currentBuffer, group: groupOf(currentBuffer) };
  return {
    layout,
    current,
    slots(count) {
      if (!buffer || buffer.size < count * FRAME_UNIFORM_BYTES) {
        buffer?.destroy();
        buffer = device.createBuffer({
          size: count * FRAME_UNIFORM_BYTES,
          usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
        });
        group = groupOf(buffer);
      }
      return { buffer, group: group! };
    },
    destroy() {
      buffer?.destroy();
      currentBuffer.destroy();
    },
  };
}

/**
 * One Frame uniform slot: `view`'s camera jittered by `jitter` pixels at `width` × `height`, its
 * unjittered matrices and `prevCamera`'s (motion vectors), the light and the shadow map's.
 */
export function frameUniformData(
  scene: Scene,
  shadow: Pick<ShadowMap, 'lightViewProjection' | 'params'>,
  view: RasterView,
  width: number,
  height: number,
  jitter: readonly [number, number],
  prevCamera: Camera,
): Float32Array<ArrayBuffer> {
  const { depthInverted, window } = view;
  const current = cameraMatrices(view.camera, width, height, jitter, depthInverted, window);
  const previous = cameraMatrices(prevCamera, width, height, [0, 0], depthInverted, window);
  const data = new Float32Array(FRAME_UNIFORM_BYTES / 4);
  data.set(toF32(current.jitteredViewProjection), 0);
  data.set(toF32(current.viewProjection), 16);
  data.set(toF32(previous.viewProjection), 32);
  data.set([...view.camera.position, view.mipBias], 48);
  data.set([...vec3.normalize(scene.light.direction), 0], 52);
  data.set([...scene.light.color, 0], 56);
  data.set([...scene.light.ambient, 0], 60);
  data.set(toF32(shadow.lightViewProjection), 64);
  data.set(shadow.params, 80);
  return data;
}
