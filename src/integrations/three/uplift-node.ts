/**
 * Uplift as a three.js post-processing node (WebGPURenderer, TSL), used like three's own `taau()`
 * in a `RenderPipeline`:
 *
 *   const scenePass = pass(scene, camera);
 *   scenePass.setMRT(mrt({ output, velocity }));
 *   const upscaled = uplift(scenePass.getTextureNode('output'), scenePass.getTextureNode('depth'),
 *     scenePass.getTextureNode('velocity'), camera, { method: 'neural' });
 *   await upscaled.init(renderer);
 *   new RenderPipeline(renderer, upscaled).render(); // per frame
 *
 * What it does each frame, in three's own terms:
 * - before the pipeline renders, it offsets the camera's projection by the upscaler's jitter
 *   (`camera.setViewOffset`, in render pixels: render pixel (x, y) then shows the unjittered
 *   screen position (x + 0.5 + jx, y + 0.5 + jy), DESIGN §4) and gives the velocity node the
 *   unjittered projection, as TRAANode does;
 * - it sets the scene pass's resolution scale so the pass renders at the upscaler's render size;
 * - in `updateBefore` (after the scene pass rendered) it records `up.dispatch` on three's own
 *   GPUDevice with three's textures (rgba16float color, depth32float depth, rgba16float velocity)
 *   and writes the display image into a storage texture the node returns.
 *
 * Conventions converted: three's velocity is NDC(current) − NDC(previous) with y up, so
 * motionScale = (−0.5, +0.5) gives prevUV = uv + m·motionScale in Uplift's top-left UV; depth is
 * WebGPU device depth (near 0, or near 1 with `reversedDepthBuffer`: `depthInverted`); near, far
 * and the vertical field of view come from the camera.
 */
import {
  HalfFloatType,
  Node,
  NodeUpdateType,
  StorageTexture,
  Vector2,
  type Camera,
  type NodeBuilder,
  type NodeFrame,
  type PassNode,
  type Renderer,
  type TextureNode,
  type Texture,
  Matrix4,
  PerspectiveCamera,
} from 'three/webgpu';
import {
  convertToTexture,
  OnAfterRenderPipeline,
  OnBeforeRenderPipeline,
  passTexture,
  velocity,
} from 'three/tsl';
import { createUpscaler, type Upscaler, type UpscalerOptions } from '../../upscaler.ts';
import type { Size } from '../../core/quality.ts';

/** What the node passes on to `createUpscaler` (sizes come from the renderer). */
export type UpliftNodeOptions = Omit<
  UpscalerOptions,
  'displaySize' | 'renderSize' | 'depthInverted'
>;

/** The parts of three's WebGPU backend the node uses (not in three's public types). */
interface WebGpuBackend {
  readonly device: GPUDevice;
  get(object: object): { texture?: GPUTexture };
}

/** A texture node that renders its own target: a pass's texture or an RTT node. */
interface InputTextureNode extends TextureNode {
  readonly passNode?: PassNode;
  readonly isRTTNode?: boolean;
  readonly renderTarget?: { readonly width: number; readonly height: number };
}

/** The velocity accessor three renders the MRT velocity with (a VelocityNode). */
interface VelocityAccessor {
  setProjectionMatrix(matrix: Matrix4 | null): void;
}

const displaySizeScratch = /*@__PURE__*/ new Vector2();

/**
 * Temporal upscaling with Uplift ('taau' or 'neural') as a three.js node: scene color, depth and
 * velocity at render size in, the display image out (a texture node, linear, HDR kept).
 */
export class UpliftNode extends Node<'vec4'> {
  static get type(): string {
    return 'UpliftNode';
  }

  readonly isUpliftNode = true;
  beautyNode: InputTextureNode;
  depthNode: TextureNode;
  velocityNode: TextureNode;
  camera: Camera;
  /** The upscaler's options (method, quality, model, precision, sharpness, taau tuning). */
  readonly options: UpliftNodeOptions;
  /**
   * Exposure the color is tonemapped at inside the upscaler (DispatchInputs.exposure).
   * @default 1
   */
  exposure = 1;
  /**
   * Set the scene pass's resolution scale to the upscaler's render size.
   * @default true
   */
  setsResolutionScale = true;
  /** The upscaler, once `init` (or the first frame) created it. */
  upscaler: Upscaler | null = null;

  private readonly output: StorageTexture;
  private readonly textureNode: TextureNode;
  private renderer: Renderer | null = null;
  private creating: Promise<Upscaler> | null = null;
  private frameIndex = 0;
  private needsReset = true;
  /** The jitter the camera was rendered with this frame, or null when none was applied. */
  private appliedJitter: [number, number] | null = null;
  private velocityAccessor: VelocityAccessor = velocity as unknown as VelocityAccessor;
  private readonly unjitteredProjection = new Matrix4();
  private lastTime: number | null = null;

  constructor(
    beautyNode: TextureNode,
    depthNode: TextureNode,
    velocityNode: TextureNode,
    camera: Camera,
    options: UpliftNodeOptions = {},
  ) {
    super('vec4');
    this.updateBeforeType = NodeUpdateType.FRAME;
    this.beautyNode = beautyNode as InputTextureNode;
    this.depthNode = depthNode;
    this.velocityNode = velocityNode;
    this.camera = camera;
    this.options = { method: 'taau', ...options };
    this.output = new StorageTexture(1, 1);
    this.output.type = HalfFloatType;
    // One level: the upscaler writes it as a storage texture (a view of every level is refused).
    this.output.generateMipmaps = false;
    this.output.name = 'UpliftNode.output';
    // Until the upscaler exists the node shows the scene color, stretched (bilinear).
    this.textureNode = passTexture(this as never, this.beautyNode.value);
  }

  /** The display image as a texture node. */
  getTextureNode(): TextureNode {
    return this.textureNode;
  }

  /** Drops history and recurrent state on the next frame (a camera cut). */
  reset(): void {
    this.needsReset = true;
  }

  /**
   * Creates the upscaler on the renderer's device at its drawing-buffer size and compiles its
   * pipelines (`up.ready()`), so the first frames neither stall nor show the stand-in. Optional:
   * the first frame starts it otherwise, and frames before it is ready show the scene color.
   */
  init(renderer: Renderer): Promise<Upscaler> {
    this.creating ??= this.create(renderer);
    return this.creating;
  }

  private async create(renderer: Renderer): Promise<Upscaler> {
    await renderer.init();
    if (renderer.logarithmicDepthBuffer) {
      throw new Error(
        'uplift: a logarithmic depth buffer is not device depth of a projection; use a linear or reversedDepthBuffer renderer',
      );
    }
    const backend = renderer.backend as unknown as Partial<WebGpuBackend>;
    if (!backend.device || typeof backend.get !== 'function') {
      throw new Error(
        'uplift: needs WebGPURenderer on its WebGPU backend (not the WebGL fallback)',
      );
    }
    this.renderer = renderer;
    const displaySize = drawingBufferSize(renderer);
    const up = await createUpscaler(backend.device, {
      ...this.options,
      displaySize,
      depthInverted: renderer.reversedDepthBuffer === true,
    });
    await up.ready();
    this.upscaler = up;
    this.allocateOutput(displaySize);
    this.applyResolutionScale();
    return up;
  }

  /** The output storage texture at the display size, created in three's backend now. */
  private allocateOutput([width, height]: Size): void {
    this.output.setSize(width, height, 1);
    this.renderer!.initTexture(this.output);
    this.textureNode.value = this.output;
    this.needsReset = true;
  }

  /** The scene pass renders at the upscaler's render size (PassNode floors size × scale). */
  private applyResolutionScale(): void {
    const passNode = this.beautyNode.passNode;
    if (!this.setsResolutionScale || !passNode || !this.upscaler) return;
    const [dw, dh] = this.upscaler.displaySize;
    const [rw, rh] = this.upscaler.renderSize;
    passNode.setResolutionScale(Math.max((rw + 0.25) / dw, (rh + 0.25) / dh));
  }

  /** The size the scene pass renders at this frame. */
  private inputSize(): Size {
    const passNode = this.beautyNode.passNode;
    if (passNode && this.renderer) {
      const [dw, dh] = drawingBufferSize(this.renderer);
      const scale = passNode.getResolutionScale();
      return [Math.floor(dw * scale), Math.floor(dh * scale)];
    }
    const target = this.beautyNode.renderTarget;
    if (target) return [target.width, target.height];
    const image = this.beautyNode.value.image as { width: number; height: number };
    return [image.width, image.height];
  }

  /** Before the pipeline renders: the camera jittered by the upscaler's offset for this frame. */
  private applyJitter(): void {
    this.appliedJitter = null;
    if (!this.upscaler) return;
    const [width, height] = this.inputSize();
    const jitter = this.upscaler.jitter(this.frameIndex);
    const camera = this.camera as Camera & ViewOffsetCamera;
    camera.updateProjectionMatrix();
    this.unjitteredProjection.copy(camera.projectionMatrix);
    this.velocityAccessor.setProjectionMatrix(this.unjitteredProjection);
    camera.setViewOffset(width, height, jitter[0], jitter[1], width, height);
    this.appliedJitter = jitter;
  }

  /** After the pipeline rendered: the camera as the app left it. */
  private clearJitter(): void {
    if (!this.appliedJitter) return;
    (this.camera as Camera & ViewOffsetCamera).clearViewOffset();
    this.velocityAccessor.setProjectionMatrix(null);
    this.frameIndex++;
  }

  override setup(builder: NodeBuilder): Node {
    this.depthNode.build(builder);
    this.velocityNode.build(builder);
    this.beautyNode.build(builder);
    const context = builder.context as {
      velocity?: VelocityAccessor;
      renderPipelineState?: { viewOffsetOwner: unknown };
    };
    this.velocityAccessor = context.velocity ?? (velocity as unknown as VelocityAccessor);
    const state = context.renderPipelineState;
    if (
      (builder as { renderPipeline?: unknown }).renderPipeline &&
      state &&
      !state.viewOffsetOwner
    ) {
      state.viewOffsetOwner = this;
      OnBeforeRenderPipeline(() => this.applyJitter());
      OnAfterRenderPipeline(() => this.clearJitter());
    }
    return this.textureNode;
  }

  override updateBefore(frame: NodeFrame): boolean | undefined {
    const renderer = frame.renderer as Renderer | null;
    if (!renderer) return undefined;
    if (!this.upscaler) {
      // The stand-in (scene color) until the upscaler exists; errors surface on the console.
      this.init(renderer).catch((error: unknown) => console.error(error));
      return undefined;
    }
    const up = this.upscaler;
    const displaySize = drawingBufferSize(renderer);
    if (displaySize[0] !== up.displaySize[0] || displaySize[1] !== up.displaySize[1]) {
      up.resize(displaySize);
      this.allocateOutput(displaySize);
      this.applyResolutionScale();
    }
    const backend = renderer.backend as unknown as WebGpuBackend;
    const gpuTexture = (texture: Texture, what: string): GPUTexture => {
      const found = backend.get(texture).texture;
      if (!found) throw new Error(`uplift: the ${what} texture has not been rendered yet`);
      return found;
    };
    const camera = this.camera as Camera & { near: number; far: number };
    const now = performance.now();
    const delta = this.lastTime === null ? 1 / 60 : (now - this.lastTime) / 1000;
    this.lastTime = now;
    const encoder = backend.device.createCommandEncoder({ label: 'UpliftNode' });
    up.dispatch(encoder, {
      color: gpuTexture(this.beautyNode.value, 'color'),
      depth: gpuTexture(this.depthNode.value, 'depth'),
      motion: gpuTexture(this.velocityNode.value, 'velocity'),
      output: gpuTexture(this.output, 'output'),
      jitter: this.appliedJitter ?? [0, 0],
      reset: this.needsReset,
      exposure: this.exposure,
      motionScale: [-0.5, 0.5],
      cameraNear: camera.near,
      cameraFar: camera.far,
      fovY: verticalFov(this.camera),
      frameTimeDelta: Math.min(Math.max(delta, 1e-3), 1),
    });
    // A profiling timer (options.timer) is resolved with the frame; read it after the submit.
    this.options.timer?.resolve(encoder);
    backend.device.queue.submit([encoder.finish()]);
    this.needsReset = false;
    return undefined;
  }

  override dispose(): void {
    super.dispose();
    this.output.dispose();
    this.upscaler?.destroy();
    this.upscaler = null;
  }
}

interface ViewOffsetCamera {
  setViewOffset(
    fullWidth: number,
    fullHeight: number,
    x: number,
    y: number,
    width: number,
    height: number,
  ): void;
  clearViewOffset(): void;
  updateProjectionMatrix(): void;
}

function drawingBufferSize(renderer: Renderer): Size {
  const size = renderer.getDrawingBufferSize(displaySizeScratch);
  return [size.width, size.height];
}

/** Vertical field of view in radians (zoom included); 1 for cameras without one (not read). */
function verticalFov(camera: Camera): number {
  if (!(camera instanceof PerspectiveCamera)) return 1;
  return 2 * Math.atan(Math.tan((camera.fov * Math.PI) / 360) / camera.zoom);
}

/**
 * The Uplift node for a scene pass: `beauty`, `depth` and `velocity` are the pass's texture nodes
 * (`velocity` from `mrt({ output, velocity })`), `camera` the camera it renders with.
 */
export const uplift = (
  beauty: Node,
  depth: TextureNode,
  velocityTexture: TextureNode,
  camera: Camera,
  options?: UpliftNodeOptions,
): UpliftNode =>
  new UpliftNode(convertToTexture(beauty as never), depth, velocityTexture, camera, options);
