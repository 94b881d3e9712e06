/**
 * Debug views of the neural frame: what the network decided, per pixel, as
 * images a person can look at. All views are display size, 3 channels, sRGB-encoded values in
 * 0..1, ready for `encodePng` / `writePng` (src/io/png.ts):
 *
 * - `kernels`: the output image with the filter kernels drawn every `spacing` pixels: the
 *   `ellipseScale`·σ ellipse of Σ = R(θ) diag(σ1², σ2²) R(θ)ᵀ, centred on its pixel (green);
 * - `alpha`: the history blend factor α as a heat map (black 0 → red → yellow → white 1);
 * - `beta`: the share β of the unclamped history the network asks the blend to keep, same heat
 *   map (black = the history is clamped to the neighbourhood box as in TAAU, white = kept as
 *   reprojected), before the history guard (which clamps history far outside the box whatever
 *   β: HISTORY_GUARD_RANGES, src/core/neural-frame.ts);
 * - `recurrent0`..`recurrent3`: the 4 recurrent channels (blue −1, black 0, orange +1);
 * - `disocclusion`: the disocclusion cue fed to the network (gray, white = history not trusted).
 */
import { createImage, type Image } from '../../core/image.ts';
import { linearToSrgb } from '../../core/tonemap.ts';
import { readGpuImage } from '../../gpu/gpu-image.ts';
import { activateRaw, type Vec4Image } from '../../reference/nn/frame.ts';
import { RAW_CHANNELS } from '../../core/neural-frame.ts';
import type { NeuralResolver } from './neural-resolver.ts';
import { readGpuTensor } from '../tensor.ts';
import type { Tensor, Real } from '../../core/tensor.ts';

/** What the views are drawn from (one frame). */
export interface DebugViewInputs {
  /** The new history (tonemapped rgb), display size, 4 channels. */
  readonly output: Vec4Image;
  /** The raw network output, RAW_CHANNELS × padded display size. */
  readonly raw: Tensor<Real>;
  /** The network input (channel 7 is the disocclusion cue), FEATURE_CHANNELS × padded size. */
  readonly features: Tensor<Real>;
}

export interface DebugViewOptions {
  /** Distance between drawn kernels, display pixels (default 16). */
  readonly spacing?: number;
  /** Ellipse radius in standard deviations (default 2). */
  readonly ellipseScale?: number;
}

/** Heat-map stops for α: black, red, yellow, white. */
const HEAT: readonly (readonly [number, number, number])[] = [
  [0, 0, 0],
  [0.9, 0.1, 0],
  [1, 0.85, 0],
  [1, 1, 1],
];

/** Linear interpolation through `HEAT` for t in [0, 1]. */
export function heatColor(t: number): [number, number, number] {
  const x = Math.min(Math.max(t, 0), 1) * (HEAT.length - 1);
  const i = Math.min(Math.floor(x), HEAT.length - 2);
  const f = x - i;
  const a = HEAT[i]!;
  const b = HEAT[i + 1]!;
  return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
}

/** Diverging map for v in [−1, 1]: blue (−1), black (0), orange (+1). */
export function divergingColor(v: number): [number, number, number] {
  const t = Math.min(Math.max(v, -1), 1);
  return t >= 0 ? [t, 0.55 * t, 0] : [0, 0.45 * -t, -t];
}

function rawValues(raw: Tensor<Real>, x: number, y: number): number[] {
  const plane = raw.width * raw.height;
  return Array.from({ length: RAW_CHANNELS }, (_, k) => raw.data[k * plane + y * raw.width + x]!);
}

function setPixel(image: Image, x: number, y: number, rgb: readonly number[]): void {
  if (x < 0 || y < 0 || x >= image.width || y >= image.height) return;
  const o = (y * image.width + x) * 3;
  image.data[o] = rgb[0]!;
  image.data[o + 1] = rgb[1]!;
  image.data[o + 2] = rgb[2]!;
}

/** Draws the ellipse {c + a·cos t·e1 + b·sin t·e2} with enough steps to leave no gaps. */
function drawEllipse(
  image: Image,
  cx: number,
  cy: number,
  a: number,
  b: number,
  theta: number,
  rgb: readonly number[],
): void {
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  const steps = Math.max(16, Math.ceil(2 * Math.PI * Math.max(a, b) * 2));
  for (let n = 0; n < steps; n++) {
    const t = (2 * Math.PI * n) / steps;
    const u = a * Math.cos(t);
    const v = b * Math.sin(t);
    // Axis 1 along (cos θ, sin θ), axis 2 along (−sin θ, cos θ): u = dᵀ(c, s), v = dᵀ(−s, c).
    setPixel(image, Math.floor(cx + c * u - s * v), Math.floor(cy + s * u + c * v), rgb);
  }
}

/** The debug views of one frame (see the file comment). */
export function debugViews(
  inputs: DebugViewInputs,
  options: DebugViewOptions = {},
): Record<string, Image> {
  const spacing = options.spacing ?? 16;
  const ellipseScale = options.ellipseScale ?? 2;
  if (!(Number.isInteger(spacing) && spacing >= 1)) {
    throw new RangeError(`debug view spacing must be a positive integer, got ${spacing}`);
  }
  if (!(ellipseScale > 0)) {
    throw new RangeError(`debug view ellipseScale must be positive, got ${ellipseScale}`);
  }
  const { width, height } = inputs.output;
  if (inputs.raw.width < width || inputs.raw.height < height) {
    throw new RangeError(
      `raw output ${inputs.raw.width}x${inputs.raw.height} is smaller than the display ${width}x${height}`,
    );
  }
  const views: Record<string, Image> = {
    kernels: createImage(width, height, 3),
    alpha: createImage(width, height, 3),
    beta: createImage(width, height, 3),
    disocclusion: createImage(width, height, 3),
  };
  for (let k = 0; k < 4; k++) views[`recurrent${k}`] = createImage(width, height, 3);
  const featurePlane = inputs.features.width * inputs.features.height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const background = [0, 1, 2].map((c) => linearToSrgb(inputs.output.data[i * 4 + c]!));
      setPixel(views.kernels!, x, y, background);
      const kernel = activateRaw(rawValues(inputs.raw, x, y));
      setPixel(views.alpha!, x, y, heatColor(kernel.alpha));
      setPixel(views.beta!, x, y, heatColor(kernel.beta));
      for (let k = 0; k < 4; k++) {
        setPixel(views[`recurrent${k}`]!, x, y, divergingColor(kernel.recurrent[k]!));
      }
      const cue = inputs.features.data[7 * featurePlane + y * inputs.features.width + x]!;
      const gray = Math.min(Math.max(cue, 0), 1);
      setPixel(views.disocclusion!, x, y, [gray, gray, gray]);
    }
  }
  const first = Math.floor(spacing / 2);
  for (let y = first; y < height; y += spacing) {
    for (let x = first; x < width; x += spacing) {
      const k = activateRaw(rawValues(inputs.raw, x, y));
      const a = ellipseScale * k.sigma1;
      const b = ellipseScale * k.sigma2;
      drawEllipse(views.kernels!, x + 0.5, y + 0.5, a, b, k.theta, [0, 1, 0]);
    }
  }
  return views;
}

/** Reads the neural resolver's latest frame back from the GPU and draws its debug views. */
export async function readDebugViews(
  device: GPUDevice,
  resolver: NeuralResolver,
  options: DebugViewOptions = {},
): Promise<Record<string, Image>> {
  const frame = resolver.lastFrame;
  if (!frame) throw new RangeError('no neural frame has been resolved yet');
  if (!frame.features) {
    throw new RangeError(
      'debug views of an INT8 neural resolver need its f32 features: create it with debugViews: true',
    );
  }
  if (!frame.raw) {
    throw new RangeError(
      'debug views need the raw network output, which this resolver fuses into its last layer: create it with debugViews: true',
    );
  }
  const [output, raw, features] = await Promise.all([
    readGpuImage(device, frame.history),
    readGpuTensor(device, frame.raw),
    readGpuTensor(device, frame.features),
  ]);
  return debugViews({ output, raw, features }, options);
}
