/**
 * Copies a float texture (r32float, rg32float, rgba32float, or their 16-bit forms) into a
 * GpuImage, the pipeline's internal image type. textureLoad fills missing channels with 0 and a
 * missing alpha with 1, exactly as `toVec4` (src/gpu/gpu-image.ts) packs a CPU image, which is
 * this pass's CPU reference.
 */
import { createKernel, groupsFor } from '../kernel.ts';
import type { GpuImage } from '../gpu-image.ts';
import { TILE, wgslPixelMain } from '../wgsl.ts';
import { uniformBlock } from '../uniforms.ts';

const PARAMS = uniformBlock({ width: 'u32', height: 'u32' });

const code = /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var source: texture_2d<f32>;
@group(0) @binding(2) var<storage, read_write> outImage: array<vec4f>;

${wgslPixelMain(/* wgsl */ `
  outImage[id.y * u.width + id.x] = textureLoad(source, id.xy, 0);`)}
`;

/** Records the copy of `texture` (same size as `output`) into `output`. */
export function encodeLoadTexture(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  texture: GPUTexture,
  output: GpuImage,
): void {
  const kernel = createKernel(device, { label: 'load texture', code });
  const ubo = device.createBuffer({
    label: 'load texture uniforms',
    size: 16,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(ubo, 0, PARAMS.pack({ width: output.width, height: output.height }));
  // A texture binding, so the bind group is built here rather than by kernel.dispatch.
  const group = device.createBindGroup({
    label: 'load texture',
    layout: kernel.pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: ubo } },
      { binding: 1, resource: texture.createView() },
      { binding: 2, resource: { buffer: output.buffer } },
    ],
  });
  pass.setPipeline(kernel.pipeline);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(groupsFor(output.width, TILE), groupsFor(output.height, TILE));
}
