/**
 * Frame generation: between two displayed frames, the frame at time t ∈ (0, 1), from the current
 * frame's motion vectors and depth as the upscaler receives them (DESIGN §4 conventions). Several
 * t per pair give 3× and 4× the frame rate.
 *
 *   const fg = await createFrameGenerator(device, { displaySize, method: 'heuristic' });
 *   // after upscaling frame i (current) with frame i − 1's output kept (previous):
 *   fg.dispatch(encoder, { previous, current, motion, depth, motionScale, cameraNear, cameraFar,
 *                          t: 0.5, reset });
 *   // sample fg.output (rgba32float, linear) after the encoder is submitted, then show current
 *
 * The heuristic method (FSR 3 class): dilate the current frame's motion to the closest depth,
 * splat it to time t with the closest surface winning, read both frames along it, fill what the
 * current frame does not see from the previous one, and weigh that against the in-place blend by
 * how well the two frames agree; a reset (camera cut) repeats the previous frame. Passes:
 * src/gpu/passes/framegen-{dilate,splat,resolve,compose}.ts; CPU reference and the algorithm:
 * src/reference/frame-generation.ts. The neural method (`method: 'neural'`, `weights`) runs the
 * same dilation, splat and resolve, then a small network blends the heuristic's candidates per
 * pixel (src/nn/framegen-neural.ts; CPU reference src/reference/frame-generation-neural.ts).
 */
import {
  checkFrameGenerationParams,
  checkFrameGeneratorMethod,
  checkRenderSize,
  type FrameGenerationParams,
  type FrameGeneratorMethod,
} from './core/frame-generation.ts';
import { resolveSizes } from './core/upscaler-options.ts';
import type { Size } from './core/quality.ts';
import { DeviceLostError } from './core/errors.ts';
import { createGpuImage, type GpuImage } from './gpu/gpu-image.ts';
import { withGpuErrorScope } from './gpu/error-scope.ts';
import { checkImageSize } from './gpu/size-limits.ts';
import { encodeFrameGenerationDilate } from './gpu/passes/framegen-dilate.ts';
import { encodeFrameGenerationSplat, splatBytes } from './gpu/passes/framegen-splat.ts';
import { encodeFrameGenerationResolve } from './gpu/passes/framegen-resolve.ts';
import { encodeFrameGenerationCompose } from './gpu/passes/framegen-compose.ts';
import type { FramegenModelSource } from './nn/framegen-model.ts';
import type { FramegenNeural } from './nn/framegen-neural.ts';
import type { GpuTimer } from './gpu/profiler.ts';
import { checkInput, checkOutputTexture, type FrameInput } from './frame-inputs.ts';

export type { FrameGeneratorMethod } from './core/frame-generation.ts';

export interface FrameGeneratorOptions {
  /** Size of the displayed frames (previous, current, output). */
  displaySize: Size;
  /** Default 'heuristic'; 'neural' blends the heuristic's candidates by a network's weights. */
  method?: FrameGeneratorMethod;
  /**
   * Weights of method 'neural': a `.uplift` path (Node) or URL, its bytes, or loaded weights.
   * Default: the shipped weights/framegen-v1.uplift.
   */
  weights?: FramegenModelSource;
  /**
   * Profiling only: GPU times of each frame's stages go to this timer under the labels motion
   * (dilate, splat, resolve) and compose (heuristic), or motion, features, network and blend
   * (neural). The inputs are read in place: there is no load stage.
   */
  timer?: GpuTimer;
  /**
   * Method 'neural': run the network's head, the blend and the output in one pass where the graph
   * allows (default true); false keeps the separate passes, to compare and to measure.
   */
  fuseHead?: boolean;
}

/** What one dispatch takes. */
export interface FrameGenerationInputs extends FrameGenerationParams {
  /**
   * The previous displayed frame, display size, linear RGB: a texture (formats as the upscaler's
   * color input, e.g. the upscaler's rgba32float output) or a GpuImage (e.g. its outputImage).
   */
  previous: FrameInput;
  /** The current displayed frame, display size, as `previous`. */
  current: FrameInput;
  /**
   * The current frame's motion vectors at render size (at most the display size): rg32float /
   * rg16float texture or a GpuImage; prevUV = uv + m · motionScale.
   */
  motion: FrameInput;
  /** The current frame's device depth, the motion's size (a depth or r32float/r16float texture). */
  depth: FrameInput;
  /**
   * Optional reactive mask, the motion's size (.r, 0..1): where the motion vectors do not describe
   * what is seen (particles, transparency), the frames are blended in place in this proportion.
   */
  reactive?: FrameInput;
  /**
   * Write into the caller's texture instead of `output`: display size, STORAGE_BINDING usage,
   * rgba32float, rgba16float or rgba8unorm (clamped to [0, 1]). Lets one encoder hold several t.
   */
  output?: GPUTexture;
}

export interface FrameGenerator {
  readonly method: FrameGeneratorMethod;
  readonly displaySize: Size;
  /** The generated frame after each dispatch: rgba32float, linear, alpha 1. */
  readonly output: GPUTexture;
  /** The same image as a GpuImage. */
  readonly outputImage: GpuImage;
  /** Records one generated frame into `encoder`. Inputs are checked before anything is recorded. */
  dispatch(encoder: GPUCommandEncoder, inputs: FrameGenerationInputs): void;
  /** Bytes of GPU memory held now (render-size images appear with the first dispatch). */
  readonly memoryBytes: number;
  destroy(): void;
}

/**
 * Render-size images: the dilated surfaces (motion xy, depth z); the splat and the time-t motion
 * field. The inputs are read where the caller has them (src/gpu/frame-source.ts), never copied.
 */
interface RenderImages {
  readonly surfaces: GpuImage;
  readonly splat: GPUBuffer;
  readonly field: GpuImage;
}

function createRenderImages(device: GPUDevice, [width, height]: Size): RenderImages {
  const image = (label: string) => createGpuImage(device, width, height, `framegen ${label}`);
  return {
    surfaces: image('dilated surfaces'),
    splat: device.createBuffer({
      label: 'framegen splat',
      size: splatBytes(width, height),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    }),
    field: image('motion at t'),
  };
}

function buffersOf(render: RenderImages): GPUBuffer[] {
  return [render.surfaces.buffer, render.splat, render.field.buffer];
}

/** Creates a frame generator. Async so that a learned method can load its model. */
export async function createFrameGenerator(
  device: GPUDevice,
  options: FrameGeneratorOptions,
): Promise<FrameGenerator> {
  const method = checkFrameGeneratorMethod(options.method ?? 'heuristic');
  const { displaySize } = resolveSizes({ displaySize: options.displaySize });
  // The network code is a chunk of its own, loaded by the first neural generator.
  const module = method === 'neural' ? await import('./nn/framegen-neural.ts') : undefined;
  const model = module && (await module.loadFramegenModel(options.weights));
  // A quantized model runs on the INT8 kernels where the device runs them exactly.
  const int8 =
    module !== undefined && model !== undefined && (await module.framegenRunsInt8(device, model));
  return withGpuErrorScope(device, 'createFrameGenerator', async () => {
    checkImageSize(device, displaySize, 'createFrameGenerator');
    const [dw, dh] = displaySize;
    const neural =
      model &&
      module.createFramegenNeural(device, model, displaySize, {
        fuseHead: options.fuseHead ?? true,
        int8,
      });
    const display = {
      outputImage: createGpuImage(device, dw, dh, 'framegen output'),
      output: device.createTexture({
        label: 'uplift generated frame',
        size: [dw, dh],
        format: 'rgba32float',
        usage:
          GPUTextureUsage.STORAGE_BINDING |
          GPUTextureUsage.TEXTURE_BINDING |
          GPUTextureUsage.COPY_SRC,
      }),
    };
    let render: RenderImages | undefined;
    let renderSize: Size | undefined;
    let lost = false;
    void device.lost.then(() => (lost = true));
    const freeRender = () => {
      for (const buffer of render ? buffersOf(render) : []) {
        buffer.destroy();
      }
      render = undefined;
    };
    return {
      method,
      displaySize,
      output: display.output,
      outputImage: display.outputImage,
      get memoryBytes() {
        // The output image and texture (rgba32float).
        const displayBytes = dw * dh * 16 * 2;
        const renderBytes = render ? buffersOf(render).reduce((sum, b) => sum + b.size, 0) : 0;
        return displayBytes + renderBytes + (neural?.memoryBytes ?? 0);
      },
      destroy() {
        freeRender();
        neural?.destroy();
        display.outputImage.buffer.destroy();
        display.output.destroy();
      },
      dispatch(encoder, inputs) {
        if (lost) {
          throw new DeviceLostError(
            'the GPU device was lost; create a new device and a new frame generator',
          );
        }
        const size = checkFrameGenerationInputs(inputs, displaySize);
        checkNotWritten(inputs, inputs.output ?? display.output, display.outputImage);
        if (!renderSize || renderSize[0] !== size[0] || renderSize[1] !== size[1]) {
          freeRender();
          render = createRenderImages(device, size);
          renderSize = size;
        }
        encodeGeneratedFrame(
          device,
          encoder,
          inputs,
          {
            render: render!,
            outputImage: display.outputImage,
            output: inputs.output ?? display.output,
            neural,
          },
          options.timer,
        );
      },
    };
  });
}

/** Checks a dispatch's values, sizes and formats; returns the render size (the motion's). */
function checkFrameGenerationInputs(inputs: FrameGenerationInputs, displaySize: Size): Size {
  checkFrameGenerationParams(inputs);
  const display = 'the display size';
  checkInput(inputs.previous, 'previous', 3, displaySize, display);
  checkInput(inputs.current, 'current', 3, displaySize, display);
  if (!inputs.motion) throw new RangeError('motion is missing');
  const renderSize: Size = [inputs.motion.width, inputs.motion.height];
  checkRenderSize(renderSize, displaySize);
  checkInput(inputs.motion, 'motion', 2, renderSize, 'the motion size');
  checkInput(inputs.depth, 'depth', 1, renderSize, 'the motion size');
  if (!inputs.depth) throw new RangeError('depth is missing');
  checkInput(inputs.reactive, 'reactive', 1, renderSize, 'the motion size');
  if (inputs.output) checkOutputTexture(inputs.output, displaySize);
  return renderSize;
}

/**
 * The inputs are read in place by the pass that writes the output: none may be the output.
 */
function checkNotWritten(
  inputs: FrameGenerationInputs,
  output: GPUTexture,
  outputImage: GpuImage,
): void {
  for (const name of ['previous', 'current', 'motion', 'depth', 'reactive'] as const) {
    const input = inputs[name];
    if (input === output || input === outputImage) {
      throw new RangeError(`${name} is the texture or image the frame is written to`);
    }
  }
}

/** Records one generated frame: unless a reset, dilate, splat and resolve; then compose. */
function encodeGeneratedFrame(
  device: GPUDevice,
  encoder: GPUCommandEncoder,
  inputs: FrameGenerationInputs,
  targets: {
    render: RenderImages;
    outputImage: GpuImage;
    output: GPUTexture;
    neural: FramegenNeural | undefined;
  },
  timer: GpuTimer | undefined,
): void {
  const { render } = targets;
  if (!inputs.reset) encoder.clearBuffer(render.splat);
  // One compute pass, or with a timer one per stage.
  let pass = encoder.beginComputePass({
    label: 'uplift frame generation',
    timestampWrites: timer?.computePass('motion'),
  });
  const stage = (label: string) => {
    if (!timer) return;
    pass.end();
    pass = encoder.beginComputePass({ label, timestampWrites: timer.computePass(label) });
  };
  // The frames, motion, depth and mask are read where the caller has them (textures or images).
  const { previous, current, reactive } = inputs;
  if (!inputs.reset) {
    // Both methods splat the motion dilated to the closest depth: the learned method scores
    // higher on it than on the undilated field (docs/QUALITY.md §5).
    const { surfaces } = render;
    encodeFrameGenerationDilate(device, pass, inputs.motion, inputs.depth, inputs, surfaces);
    encodeFrameGenerationSplat(device, pass, surfaces, inputs, render.splat);
    encodeFrameGenerationResolve(device, pass, surfaces, render.splat, inputs, render.field);
    if (targets.neural) {
      pass.end();
      const frames = { previous, current, field: render.field, reactive };
      const output = { image: targets.outputImage, texture: targets.output };
      targets.neural.encode(encoder, frames, inputs.t, output, timer);
      return;
    }
  }
  stage('compose');
  encodeFrameGenerationCompose(
    device,
    pass,
    { previous, current, field: render.field, reactive: inputs.reset ? undefined : reactive },
    inputs,
    { image: targets.outputImage, texture: targets.output },
  );
  pass.end();
}
