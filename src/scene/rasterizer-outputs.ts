/**
 * The compute passes that write the scene rasterizer's outputs (vec4 storage images) from its
 * render targets: gather copies the inputs pass's color, depth, motion and reactive targets into
 * the four input images; accumulate adds each ground-truth sample, weighted 1 / samples, into the
 * reference image (the first sample stores). Their small uniform blocks depend only on the image
 * size (and the sample count): the kernels' shared blocks by content (`uniformBuffer`).
 */
import type { GpuImage } from '../gpu/gpu-image.ts';
import { groupsFor, uniformBuffer } from '../gpu/kernel.ts';
import type { InputImages } from './raster-view.ts';
import { ACCUMULATE_WGSL, GATHER_INPUTS_WGSL } from './rasterizer-wgsl.ts';

export interface OutputPasses {
  /** Encodes the gather of `targets` (color, depth, motion, reactive) into `out`. */
  gather(encoder: GPUCommandEncoder, targets: GPUTexture[], out: InputImages): void;
  /**
   * Prepares accumulating `samples` samples rendered into `color` into `out`; the returned
   * function encodes the accumulation of sample `k`.
   */
  accumulator(
    color: GPUTextureView,
    samples: number,
    out: GpuImage,
  ): (encoder: GPUCommandEncoder, k: number) => void;
}

export function createOutputPasses(device: GPUDevice): OutputPasses {
  const textureLayout = (sampleType: GPUTextureSampleType) => ({
    visibility: GPUShaderStage.COMPUTE,
    texture: { sampleType },
  });
  const gatherLayout = device.createBindGroupLayout({
    entries: [
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } },
      { binding: 1, ...textureLayout('unfilterable-float') },
      { binding: 2, ...textureLayout('unfilterable-float') },
      { binding: 3, ...textureLayout('unfilterable-float') },
      { binding: 4, ...textureLayout('unfilterable-float') },
      ...[5, 6, 7, 8].map((binding) => ({
        binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: 'storage' as const },
      })),
    ],
  });
  const accumulateLayout = device.createBindGroupLayout({
    entries: [
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } },
      { binding: 1, ...textureLayout('unfilterable-float') },
      { binding: 2, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } },
    ],
  });
  const computePipeline = (label: string, code: string, layout: GPUBindGroupLayout) =>
    device.createComputePipeline({
      label,
      layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module: device.createShaderModule({ label, code }), entryPoint: 'main' },
    });
  const gatherPipeline = computePipeline('gather scene inputs', GATHER_INPUTS_WGSL, gatherLayout);
  const accumulatePipeline = computePipeline(
    'accumulate reference',
    ACCUMULATE_WGSL,
    accumulateLayout,
  );

  return {
    gather(encoder, targets, out) {
      const { width, height } = out.color;
      const size = new Uint32Array([width, height, 0, 0]);
      const group = device.createBindGroup({
        layout: gatherLayout,
        entries: [
          { binding: 0, resource: { buffer: uniformBuffer(device, size.buffer) } },
          ...targets.map((t, k) => ({ binding: 1 + k, resource: t.createView() })),
          ...[out.color, out.depth, out.motion, out.reactive].map((img, k) => ({
            binding: 5 + k,
            resource: { buffer: img.buffer },
          })),
        ],
      });
      const compute = encoder.beginComputePass({ label: 'gather scene inputs' });
      compute.setPipeline(gatherPipeline);
      compute.setBindGroup(0, group);
      compute.dispatchWorkgroups(groupsFor(width, 8), groupsFor(height, 8));
      compute.end();
    },

    accumulator(color, samples, out) {
      const { width, height } = out;
      // Two bind groups serve every sample: the first one stores, the others add.
      const groups = [true, false].map((first) => {
        const params = new ArrayBuffer(16);
        new Uint32Array(params, 0, 3).set([width, height, first ? 1 : 0]);
        new Float32Array(params, 12, 1)[0] = 1 / samples;
        return device.createBindGroup({
          layout: accumulateLayout,
          entries: [
            { binding: 0, resource: { buffer: uniformBuffer(device, params) } },
            { binding: 1, resource: color },
            { binding: 2, resource: { buffer: out.buffer } },
          ],
        });
      });
      return (encoder, k) => {
        const compute = encoder.beginComputePass({ label: 'accumulate reference' });
        compute.setPipeline(accumulatePipeline);
        compute.setBindGroup(0, groups[k === 0 ? 0 : 1]!);
        compute.dispatchWorkgroups(groupsFor(width, 8), groupsFor(height, 8));
        compute.end();
      };
    },
  };
}
