/**
 * The scene rasterizer's render pipelines over RASTERIZER_WGSL, one per pass kind, blending, face
 * culling and depth direction, built when first drawn and kept; and the formats of the targets
 * they draw into.
 */
import { VERTEX_LAYOUTS } from './rasterizer-resources.ts';

export const COLOR_FORMAT: GPUTextureFormat = 'rgba16float';
export const DEPTH_FORMAT: GPUTextureFormat = 'depth32float';

/** The MRT pass of the render-resolution inputs, or one ground-truth sample (color only). */
export type PassKind = 'inputs' | 'reference';

export interface RenderPipelines {
  pipelineFor(
    kind: PassKind,
    blend: boolean,
    doubleSided: boolean,
    depthInverted: boolean,
  ): GPURenderPipeline;
}

/** Pipelines over `module` with the frame, object, material and shadow bind group layouts. */
export function createRenderPipelines(
  device: GPUDevice,
  module: GPUShaderModule,
  bindGroupLayouts: GPUBindGroupLayout[],
): RenderPipelines {
  const layout = device.createPipelineLayout({ bindGroupLayouts });
  const pipelines = new Map<string, GPURenderPipeline>();
  return {
    pipelineFor(kind, blend, doubleSided, depthInverted) {
      const key = `${kind}/${blend}/${doubleSided}/${depthInverted}`;
      let pipeline = pipelines.get(key);
      if (pipeline) return pipeline;
      pipeline = device.createRenderPipeline({
        label: `scene ${key}`,
        layout,
        vertex: { module, entryPoint: 'vs_main', buffers: VERTEX_LAYOUTS },
        fragment: {
          module,
          entryPoint: kind === 'inputs' ? 'fs_inputs' : 'fs_reference',
          targets: colorTargets(kind, blend),
        },
        primitive: {
          topology: 'triangle-list',
          cullMode: doubleSided ? 'none' : 'back',
          frontFace: 'ccw',
        },
        depthStencil: {
          format: DEPTH_FORMAT,
          depthWriteEnabled: !blend,
          depthCompare: depthInverted ? 'greater' : 'less',
        },
      });
      pipelines.set(key, pipeline);
      return pipeline;
    },
  };
}

/**
 * The color targets of a pass: color (alpha-blended for blended surfaces), and for the inputs
 * depth, motion and reactive. Blended surfaces keep the depth and motion of what is behind them
 * and raise the reactive mask.
 */
function colorTargets(kind: PassKind, blend: boolean): GPUColorTargetState[] {
  const colorBlend: GPUBlendState | undefined = blend
    ? {
        color: { srcFactor: 'src-alpha', dstFactor: 'one-minus-src-alpha', operation: 'add' },
        alpha: { srcFactor: 'zero', dstFactor: 'one', operation: 'add' },
      }
    : undefined;
  const colorTarget: GPUColorTargetState = {
    format: COLOR_FORMAT,
    ...(colorBlend ? { blend: colorBlend } : {}),
  };
  if (kind === 'reference') return [colorTarget];
  return [
    colorTarget,
    { format: 'r32float', writeMask: blend ? 0 : GPUColorWrite.ALL },
    { format: 'rg32float', writeMask: blend ? 0 : GPUColorWrite.ALL },
    {
      format: 'r16float',
      ...(blend
        ? {
            blend: {
              color: { srcFactor: 'one', dstFactor: 'one', operation: 'max' },
              alpha: { srcFactor: 'one', dstFactor: 'one', operation: 'max' },
            },
          }
        : {}),
    },
  ];
}
