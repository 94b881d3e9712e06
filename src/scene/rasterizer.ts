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
import { groupsFor } from '../gpu/kernel.ts';
import { cameraMatrices, viewMatrix, type Camera } from './camera.ts';
import { computeTangents } from './geometry.ts';
import { invert, multiply, toF32, vec3, type Mat4, type Vec3 } from './math.ts';
import {
  ACCUMULATE_WGSL,
  FRAME_UNIFORM_BYTES,
  GATHER_INPUTS_WGSL,
  OBJECT_UNIFORM_BYTES,
  RASTERIZER_WGSL,
} from './rasterizer-wgsl.ts';
import { skinMesh, type SkinnedVertices } from './skinning.ts';
import { uploadTexture } from './texture.ts';
import type { Scene } from './types.ts';

const COLOR_FORMAT: GPUTextureFormat = 'rgba16float';
const DEPTH_FORMAT: GPUTextureFormat = 'depth32float';
/** Shadow-map resolution (texels per side). */
const SHADOW_MAP_SIZE = 2048;

/** One instant of the scene as the camera sees it. */
export interface RasterView {
  camera: Camera;
  /** Scene time in seconds. */
  time: number;
  depthInverted: boolean;
  /** Texture mip bias (DESIGN §4: log2(render / display) − 1 for the inputs). */
  mipBias: number;
}

/** The render-resolution inputs of one frame, as vec4 storage images. */
export interface InputImages {
  color: GpuImage;
  depth: GpuImage;
  motion: GpuImage;
  reactive: GpuImage;
}

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

interface GpuMesh {
  buffers: GPUBuffer[];
  index: GPUBuffer;
  indexCount: number;
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

/** Uploads the scene's meshes, textures and materials and builds the pipelines. */
export function createSceneRasterizer(device: GPUDevice, scene: Scene): SceneRasterizer {
  const owned: Array<GPUBuffer | GPUTexture> = [];
  const track = <T extends GPUBuffer | GPUTexture>(r: T): T => (owned.push(r), r);

  const vertexBuffer = (data: Float32Array | Uint32Array, usage: number) => {
    const buffer = track(
      device.createBuffer({
        size: Math.max(16, Math.ceil(data.byteLength / 4) * 4),
        usage: usage | GPUBufferUsage.COPY_DST,
        mappedAtCreation: true,
      }),
    );
    const view =
      data instanceof Uint32Array
        ? new Uint32Array(buffer.getMappedRange())
        : new Float32Array(buffer.getMappedRange());
    view.set(data);
    buffer.unmap();
    return buffer;
  };
  const meshes: GpuMesh[] = scene.meshes.map((mesh) => ({
    buffers: [mesh.positions, mesh.normals, mesh.uvs, mesh.tangents ?? computeTangents(mesh)].map(
      (d) => vertexBuffer(d, GPUBufferUsage.VERTEX),
    ),
    index: vertexBuffer(mesh.indices, GPUBufferUsage.INDEX),
    indexCount: mesh.indices.length,
  }));

  // Vertex buffers per object: the mesh's own, with positions doubling as previous positions; a
  // skinned object gets its own buffers, refilled by CPU skinning at every frame.
  const skinnedBuffers = new Map<number, GPUBuffer[]>();
  const objectVertices: GPUBuffer[][] = scene.objects.map((o, i) => {
    const mesh = meshes[o.mesh];
    const source = scene.meshes[o.mesh];
    if (!mesh || !source) throw new RangeError(`object ${i} refers to missing mesh ${o.mesh}`);
    if (!o.skin) return [...mesh.buffers, mesh.buffers[0]!];
    if (!source.joints || !source.weights) {
      throw new RangeError(`object ${i} has a skin but mesh ${o.mesh} has no joints and weights`);
    }
    const n = source.positions.length / 3;
    const dynamic = [n * 12, n * 12, n * 16, n * 12].map((size) =>
      track(device.createBuffer({ size, usage: GPUBufferUsage.VERTEX | GPUBufferUsage.COPY_DST })),
    );
    skinnedBuffers.set(i, dynamic);
    const [positions, normals, tangents, previous] = dynamic as [
      GPUBuffer,
      GPUBuffer,
      GPUBuffer,
      GPUBuffer,
    ];
    return [positions, normals, mesh.buffers[2]!, tangents, previous];
  });

  const textures = scene.textures.map((t) => track(uploadTexture(device, t)));
  const solid = (rgba: [number, number, number, number], srgb: boolean) =>
    track(
      uploadTexture(device, {
        width: 1,
        height: 1,
        levels: [new Uint8Array(rgba)],
        srgb,
      }),
    );
  const white = solid([255, 255, 255, 255], true);
  const whiteData = solid([255, 255, 255, 255], false);
  const flatNormal = solid([128, 128, 255, 255], false);
  const sampler = device.createSampler({
    addressModeU: 'repeat',
    addressModeV: 'repeat',
    magFilter: 'linear',
    minFilter: 'linear',
    mipmapFilter: 'linear',
    maxAnisotropy: 8,
  });

  const shadowExtent = scene.shadowExtent ?? scene.focus.radius * 1.5;
  const shadowMap = track(
    device.createTexture({
      label: 'scene shadow map',
      // Without shadows a 1×1 map stays bound (the layout needs one) and costs nothing to clear.
      size: shadowExtent > 0 ? [SHADOW_MAP_SIZE, SHADOW_MAP_SIZE] : [1, 1],
      format: DEPTH_FORMAT,
      usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.TEXTURE_BINDING,
    }),
  );
  const shadowLayout = device.createBindGroupLayout({
    entries: [
      { binding: 0, visibility: GPUShaderStage.FRAGMENT, texture: { sampleType: 'depth' } },
      { binding: 1, visibility: GPUShaderStage.FRAGMENT, sampler: { type: 'comparison' } },
    ],
  });
  const shadowGroup = device.createBindGroup({
    layout: shadowLayout,
    entries: [
      { binding: 0, resource: shadowMap.createView() },
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
  const lightViewProjection = shadowMatrix(scene.light.direction, scene.focus.center, shadowExtent);

  const frameLayout = device.createBindGroupLayout({
    entries: [
      {
        binding: 0,
        visibility: GPUShaderStage.VERTEX | GPUShaderStage.FRAGMENT,
        buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: FRAME_UNIFORM_BYTES },
      },
    ],
  });
  const objectLayout = device.createBindGroupLayout({
    entries: [
      {
        binding: 0,
        visibility: GPUShaderStage.VERTEX | GPUShaderStage.FRAGMENT,
        buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: OBJECT_UNIFORM_BYTES },
      },
    ],
  });
  const materialLayout = device.createBindGroupLayout({
    entries: [
      ...[0, 1, 2, 3, 5].map((binding) => ({
        binding,
        visibility: GPUShaderStage.FRAGMENT,
        texture: { sampleType: 'float' as const },
      })),
      { binding: 4, visibility: GPUShaderStage.FRAGMENT, sampler: { type: 'filtering' } },
    ],
  });
  const materialGroups = scene.materials.map((m, i) => {
    const pick = (index: number | undefined, fallback: GPUTexture) => {
      if (index === undefined) return fallback;
      const t = textures[index];
      if (!t) throw new RangeError(`material ${i} refers to missing texture ${index}`);
      return t;
    };
    return device.createBindGroup({
      layout: materialLayout,
      entries: [
        pick(m.baseColorTexture, white),
        pick(m.normalTexture, flatNormal),
        pick(m.metallicRoughnessTexture, whiteData),
        pick(m.emissiveTexture, white),
        pick(m.occlusionTexture, whiteData),
      ]
        // Bindings 0–3 and 5 are textures (4 is the sampler).
        .map((t, k): GPUBindGroupEntry => ({ binding: k < 4 ? k : 5, resource: t.createView() }))
        .concat([{ binding: 4, resource: sampler }]),
    });
  });

  const objectBuffer = track(
    device.createBuffer({
      size: Math.max(1, scene.objects.length) * OBJECT_UNIFORM_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    }),
  );
  const objectGroup = device.createBindGroup({
    layout: objectLayout,
    entries: [{ binding: 0, resource: { buffer: objectBuffer, size: OBJECT_UNIFORM_BYTES } }],
  });
  let frameBuffer: GPUBuffer | undefined;
  let frameGroup: GPUBindGroup | undefined;
  const frameSlots = (count: number): { buffer: GPUBuffer; group: GPUBindGroup } => {
    if (!frameBuffer || frameBuffer.size < count * FRAME_UNIFORM_BYTES) {
      frameBuffer?.destroy();
      frameBuffer = device.createBuffer({
        size: count * FRAME_UNIFORM_BYTES,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
      frameGroup = device.createBindGroup({
        layout: frameLayout,
        entries: [{ binding: 0, resource: { buffer: frameBuffer, size: FRAME_UNIFORM_BYTES } }],
      });
    }
    return { buffer: frameBuffer, group: frameGroup! };
  };

  const module = device.createShaderModule({ label: 'scene rasterizer', code: RASTERIZER_WGSL });
  const pipelineLayout = device.createPipelineLayout({
    bindGroupLayouts: [frameLayout, objectLayout, materialLayout, shadowLayout],
  });
  const shadowPipelineLayout = device.createPipelineLayout({
    bindGroupLayouts: [frameLayout, objectLayout, materialLayout],
  });
  const vertexLayouts: GPUVertexBufferLayout[] = (
    [
      ['float32x3', 12],
      ['float32x3', 12],
      ['float32x2', 8],
      ['float32x4', 16],
      ['float32x3', 12],
    ] as const
  ).map(([format, arrayStride], shaderLocation) => ({
    arrayStride,
    attributes: [{ format, offset: 0, shaderLocation }],
  }));
  const pipelines = new Map<string, GPURenderPipeline>();
  const pipelineFor = (
    kind: 'inputs' | 'reference',
    blend: boolean,
    doubleSided: boolean,
    depthInverted: boolean,
  ): GPURenderPipeline => {
    const key = `${kind}/${blend}/${doubleSided}/${depthInverted}`;
    let pipeline = pipelines.get(key);
    if (pipeline) return pipeline;
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
    // Blended surfaces keep the depth and motion of what is behind them and raise the reactive mask.
    const targets: GPUColorTargetState[] =
      kind === 'reference'
        ? [colorTarget]
        : [
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
    pipeline = device.createRenderPipeline({
      label: `scene ${key}`,
      layout: pipelineLayout,
      vertex: { module, entryPoint: 'vs_main', buffers: vertexLayouts },
      fragment: { module, entryPoint: kind === 'inputs' ? 'fs_inputs' : 'fs_reference', targets },
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
  };

  const shadowPipelines = [false, true].map((masked) =>
    device.createRenderPipeline({
      label: masked ? 'scene shadow (alpha mask)' : 'scene shadow',
      layout: shadowPipelineLayout,
      vertex: { module, entryPoint: 'vs_shadow', buffers: vertexLayouts },
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

  // Render targets per size, kept across frames.
  const targetCache = new Map<string, GPUTexture[]>();
  const targetsFor = (kind: 'inputs' | 'reference', width: number, height: number) => {
    const key = `${kind}/${width}x${height}`;
    let targets = targetCache.get(key);
    if (!targets) {
      const formats: GPUTextureFormat[] =
        kind === 'inputs' ? [COLOR_FORMAT, 'r32float', 'rg32float', 'r16float'] : [COLOR_FORMAT];
      targets = [...formats, DEPTH_FORMAT].map((format) =>
        track(
          device.createTexture({
            label: `scene ${kind} ${format}`,
            size: [width, height],
            format,
            usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.TEXTURE_BINDING,
          }),
        ),
      );
      targetCache.set(key, targets);
    }
    return targets;
  };
  // Small per-dispatch uniform buffers, released after the frame's work is submitted.
  const transient: GPUBuffer[] = [];
  const smallUniform = (data: ArrayBuffer) => {
    const buffer = device.createBuffer({
      size: 16,
      usage: GPUBufferUsage.UNIFORM,
      mappedAtCreation: true,
    });
    new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data));
    buffer.unmap();
    transient.push(buffer);
    return buffer;
  };

  // Skinned vertices of the last few instants (a frame needs its own and the previous frame's,
  // which the frame before computed), and the instants the GPU buffers hold.
  const skinCache = new Map<number, Array<{ time: number; vertices: SkinnedVertices }>>();
  const skinnedAt = (i: number, time: number): SkinnedVertices => {
    const cached = skinCache.get(i) ?? [];
    const hit = cached.find((c) => c.time === time);
    if (hit) return hit.vertices;
    const o = scene.objects[i]!;
    const vertices = skinMesh(scene.meshes[o.mesh]!, o.skin!(time));
    skinCache.set(i, [{ time, vertices }, ...cached].slice(0, 3));
    return vertices;
  };
  const heldSkin = new Map<number, { now?: number; previous?: number }>();
  /** The instant the shadow map shows (undefined: none yet). */
  let shadowTime: number | undefined;

  /**
   * Writes every object's transforms and material parameters at `time` (and `prevTime`; without
   * one, skinned objects' previous positions are left as they are: the reference ignores them).
   */
  const writeObjects = (time: number, prevTime?: number) => {
    const data = new Float32Array((scene.objects.length * OBJECT_UNIFORM_BYTES) / 4);
    scene.objects.forEach((o, i) => {
      const base = (i * OBJECT_UNIFORM_BYTES) / 4;
      const model = o.transform(time);
      const m = scene.materials[o.material];
      if (!m) throw new RangeError(`object ${i} refers to missing material ${o.material}`);
      data.set(toF32(model), base);
      data.set(toF32(o.transform(prevTime ?? time)), base + 16);
      data.set(toF32(transpose(invert(model))), base + 32);
      data.set(m.baseColor, base + 48);
      data.set([...m.emissive, m.alphaMode === 'blend' ? (m.reactive ?? 1) : 0], base + 52);
      const cutoff = m.alphaMode === 'mask' ? m.alphaCutoff : -1;
      data.set([m.roughness, m.metallic, cutoff, m.normalScale ?? 1], base + 56);
      const uvScale = m.uvScale ?? [1, 1];
      data.set(
        [uvScale[0], uvScale[1], m.unlit ? 1 : 0, m.normalTexture !== undefined ? 1 : 0],
        base + 60,
      );
    });
    device.queue.writeBuffer(objectBuffer, 0, data);
    for (const [i, [positions, normals, tangents, previous]] of skinnedBuffers) {
      const held = heldSkin.get(i) ?? {};
      heldSkin.set(i, held);
      if (held.now !== time) {
        const now = skinnedAt(i, time);
        device.queue.writeBuffer(positions!, 0, now.positions);
        device.queue.writeBuffer(normals!, 0, now.normals);
        device.queue.writeBuffer(tangents!, 0, now.tangents);
        held.now = time;
      }
      if (prevTime !== undefined && held.previous !== prevTime) {
        device.queue.writeBuffer(previous!, 0, skinnedAt(i, prevTime).positions);
        held.previous = prevTime;
      }
    }
  };

  const frameData = (
    view: RasterView,
    width: number,
    height: number,
    jitter: readonly [number, number],
    prevCamera: Camera,
  ) => {
    const current = cameraMatrices(view.camera, width, height, jitter, view.depthInverted);
    const previous = cameraMatrices(prevCamera, width, height, [0, 0], view.depthInverted);
    const data = new Float32Array(FRAME_UNIFORM_BYTES / 4);
    data.set(toF32(current.jitteredViewProjection), 0);
    data.set(toF32(current.viewProjection), 16);
    data.set(toF32(previous.viewProjection), 32);
    data.set([...view.camera.position, view.mipBias], 48);
    data.set([...vec3.normalize(scene.light.direction), 0], 52);
    data.set([...scene.light.color, 0], 56);
    data.set([...scene.light.ambient, 0], 60);
    data.set(toF32(lightViewProjection), 64);
    const texel = (2 * shadowExtent) / SHADOW_MAP_SIZE;
    // Depth runs over 4 × extent: a bias of two texels' worth of world distance.
    data.set([shadowExtent > 0 ? 1 : 0, texel, (2 * texel) / (4 * shadowExtent), 0], 80);
    return data;
  };

  /** Opaque and masked objects in scene order, then blended ones back to front. */
  const drawOrder = (view: RasterView): number[] => {
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
  };

  const drawScene = (
    pass: GPURenderPassEncoder,
    kind: 'inputs' | 'reference',
    order: number[],
    depthInverted: boolean,
    frameOffset: number,
  ) => {
    pass.setBindGroup(0, frameGroup!, [frameOffset]);
    pass.setBindGroup(3, shadowGroup);
    for (const i of order) {
      const o = scene.objects[i]!;
      const m = scene.materials[o.material]!;
      const mesh = meshes[o.mesh]!;
      pass.setPipeline(pipelineFor(kind, m.alphaMode === 'blend', m.doubleSided, depthInverted));
      pass.setBindGroup(1, objectGroup, [i * OBJECT_UNIFORM_BYTES]);
      pass.setBindGroup(2, materialGroups[o.material]!);
      objectVertices[i]!.forEach((b, slot) => pass.setVertexBuffer(slot, b));
      pass.setIndexBuffer(mesh.index, 'uint32');
      pass.drawIndexed(mesh.indexCount);
    }
  };

  /**
   * Draws the casters at `time` (which writeObjects has just written) into the shadow map (the
   * light's view is in every frame slot) and submits; nothing when the map already shows `time`:
   * the light and the scene at one instant are the same for the inputs and every reference sample.
   * Its own submission: recorded in the same command buffer as the MRT pass, Dawn over lavapipe
   * lost the reactive target's blended writes (seen in test/scene-builtin.test.ts).
   */
  const renderShadowMap = (time: number) => {
    if (shadowTime === time) return;
    shadowTime = time;
    const encoder = device.createCommandEncoder({ label: 'scene shadow map' });
    const pass = encoder.beginRenderPass({
      label: 'scene shadow map',
      colorAttachments: [],
      depthStencilAttachment: {
        view: shadowMap.createView(),
        depthClearValue: 1,
        depthLoadOp: 'clear',
        depthStoreOp: 'store',
      },
    });
    if (shadowExtent > 0) {
      pass.setBindGroup(0, frameGroup!, [0]);
      for (const i of casters) {
        const o = scene.objects[i]!;
        const m = scene.materials[o.material]!;
        const mesh = meshes[o.mesh]!;
        pass.setPipeline(shadowPipelines[m.alphaMode === 'mask' ? 1 : 0]!);
        pass.setBindGroup(1, objectGroup, [i * OBJECT_UNIFORM_BYTES]);
        pass.setBindGroup(2, materialGroups[o.material]!);
        objectVertices[i]!.forEach((b, slot) => pass.setVertexBuffer(slot, b));
        pass.setIndexBuffer(mesh.index, 'uint32');
        pass.drawIndexed(mesh.indexCount);
      }
    }
    pass.end();
    device.queue.submit([encoder.finish()]);
  };

  const depthAttachment = (
    texture: GPUTexture,
    depthInverted: boolean,
  ): GPURenderPassDepthStencilAttachment => ({
    view: texture.createView(),
    depthClearValue: depthInverted ? 0 : 1,
    depthLoadOp: 'clear',
    depthStoreOp: 'discard',
  });

  return {
    renderInputs(view, previous, jitter, out) {
      const { width, height } = out.color;
      for (const image of [out.depth, out.motion, out.reactive]) {
        if (image.width !== width || image.height !== height) {
          throw new RangeError(`input images must all be ${width}x${height}`);
        }
      }
      releaseTransient();
      writeObjects(view.time, previous.time);
      const slots = frameSlots(1);
      device.queue.writeBuffer(
        slots.buffer,
        0,
        frameData(view, width, height, jitter, previous.camera),
      );
      const [color, depth, motion, reactive, depthBuffer] = targetsFor('inputs', width, height) as [
        GPUTexture,
        GPUTexture,
        GPUTexture,
        GPUTexture,
        GPUTexture,
      ];
      renderShadowMap(view.time);
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
      drawScene(pass, 'inputs', drawOrder(view), view.depthInverted, 0);
      pass.end();
      const size = new Uint32Array([width, height, 0, 0]);
      const group = device.createBindGroup({
        layout: gatherLayout,
        entries: [
          { binding: 0, resource: { buffer: smallUniform(size.buffer) } },
          ...[color, depth, motion, reactive].map((t, k) => ({
            binding: 1 + k,
            resource: t.createView(),
          })),
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
      device.queue.submit([encoder.finish()]);
    },

    renderReference(view, samples, out) {
      if (!Number.isInteger(samples) || samples < 1) {
        throw new RangeError(`samples must be a positive integer, got ${samples}`);
      }
      const { width, height } = out;
      releaseTransient();
      writeObjects(view.time);
      const slots = frameSlots(samples);
      const frames = new Float32Array((samples * FRAME_UNIFORM_BYTES) / 4);
      for (let k = 0; k < samples; k++) {
        const offset = referenceSampleOffset(k, samples);
        frames.set(
          frameData(view, width, height, offset, view.camera),
          (k * FRAME_UNIFORM_BYTES) / 4,
        );
      }
      device.queue.writeBuffer(slots.buffer, 0, frames);
      const [color, depthBuffer] = targetsFor('reference', width, height) as [
        GPUTexture,
        GPUTexture,
      ];
      const order = drawOrder(view);
      renderShadowMap(view.time);
      // Two accumulate bind groups serve every sample: the first one stores, the others add.
      const colorView = color.createView();
      const accumulateGroups = [true, false].map((first) => {
        const params = new ArrayBuffer(16);
        new Uint32Array(params, 0, 3).set([width, height, first ? 1 : 0]);
        new Float32Array(params, 12, 1)[0] = 1 / samples;
        return device.createBindGroup({
          layout: accumulateLayout,
          entries: [
            { binding: 0, resource: { buffer: smallUniform(params) } },
            { binding: 1, resource: colorView },
            { binding: 2, resource: { buffer: out.buffer } },
          ],
        });
      });
      const encoder = device.createCommandEncoder({ label: 'scene reference' });
      for (let k = 0; k < samples; k++) {
        const pass = encoder.beginRenderPass({
          label: 'scene reference sample',
          colorAttachments: [
            {
              view: colorView,
              clearValue: [0, 0, 0, 1],
              loadOp: 'clear',
              storeOp: 'store',
            },
          ],
          depthStencilAttachment: depthAttachment(depthBuffer, view.depthInverted),
        });
        drawScene(pass, 'reference', order, view.depthInverted, k * FRAME_UNIFORM_BYTES);
        pass.end();
        const compute = encoder.beginComputePass({ label: 'accumulate reference' });
        compute.setPipeline(accumulatePipeline);
        compute.setBindGroup(0, accumulateGroups[k === 0 ? 0 : 1]!);
        compute.dispatchWorkgroups(groupsFor(width, 8), groupsFor(height, 8));
        compute.end();
      }
      device.queue.submit([encoder.finish()]);
    },

    destroy() {
      releaseTransient();
      for (const r of owned) r.destroy();
      frameBuffer?.destroy();
      targetCache.clear();
    },
  };

  function releaseTransient() {
    // Safe: destroy() waits for submitted work that still uses the buffer.
    for (const b of transient.splice(0)) b.destroy();
  }
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

function transpose(m: Mat4): Mat4 {
  const out = new Float64Array(16);
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) out[c * 4 + r] = m[r * 4 + c]!;
  return out;
}
