/**
 * GPU training loss of one frame (L1 + image-gradient L1 + temporal + stale + MSE + sRGB-encoded L1,
 * in the tonemapped domain) and its gradient in a single per-pixel pass; the loss values are summed on the GPU
 * (src/train/reduce.ts) into a small buffer that is read back only when someone asks.
 * CPU reference and the definition of each term: ./frame-loss-cpu.ts; the history staleness that
 * weighs the stale term is computed here per pixel, as ./staleness-cpu.ts defines it.
 */
import { createKernel, groupsFor } from '../../gpu/kernel.ts';
import type { GpuImage } from '../../gpu/gpu-image.ts';
import { readBuffer } from '../../gpu/resources.ts';
import { TILE, WGSL_COMMON, wgslPixelMain } from '../../gpu/wgsl.ts';
import { REDUCE_WIDTH, encodeReduceSum } from '../reduce.ts';
import {
  LOSS_TERMS,
  lossNormalizers,
  type LossValues,
  type LossWeights,
} from './frame-loss-cpu.ts';
import { STALENESS_RANGE } from './staleness-cpu.ts';
import { WGSL_RESCALE_TONEMAPPED } from '../../gpu/passes/reproject.ts';
import { uniformBlock } from '../../gpu/uniforms.ts';

const PARAMS = uniformBlock({
  width: 'u32',
  height: 'u32',
  hasPrevious: 'u32',
  accumulate: 'u32',
  wL1: 'f32',
  wGrad: 'f32',
  wTemp: 'f32',
  wStale: 'f32',
  wMse: 'f32',
  wSrgb: 'f32',
  renderWidth: 'u32',
  renderHeight: 'u32',
  reset: 'u32',
  historyScale: 'f32',
  staleOffscreen: 'f32',
});

/** Values a slot holds: the terms, then their total. */
const SLOT_VALUES = LOSS_TERMS.length + 1;

const code = /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> outputImage: array<vec4f>;
@group(0) @binding(2) var<storage, read> referenceImage: array<vec4f>;
@group(0) @binding(3) var<storage, read> previousOutput: array<vec4f>;
@group(0) @binding(4) var<storage, read> previousReference: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> gradOutput: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> gradPrevious: array<vec4f>;
@group(0) @binding(7) var<storage, read_write> terms: array<f32>;
@group(0) @binding(8) var<storage, read> motion: array<vec4f>;
${WGSL_COMMON}

fn err(i: u32) -> vec3f { return outputImage[i].rgb - referenceImage[i].rgb; }
fn total(v: vec3f) -> f32 { return v.x + v.y + v.z; }
// The sRGB encoding and its slope, the linear segment extended below 0 (./frame-loss-cpu.ts).
fn srgbEncode(v: vec3f) -> vec3f {
  return select(1.055 * pow(max(v, vec3f(0.0031308)), vec3f(1.0 / 2.4)) - 0.055, 12.92 * v, v <= vec3f(0.0031308));
}
fn srgbSlope(v: vec3f) -> vec3f {
  return select((1.055 / 2.4) * pow(max(v, vec3f(0.0031308)), vec3f(1.0 / 2.4 - 1.0)), vec3f(12.92), v <= vec3f(0.0031308));
}

${WGSL_RESCALE_TONEMAPPED}
// The previous reference at a texel (clamp to edge), rescaled by the exposure change as the
// reprojection rescales the history.
fn previousAt(x: i32, y: i32) -> vec3f {
  let v = previousReference[texelAt(u.width, u.height, x, y)].rgb;
  if (u.historyScale == 1.0) { return v; }
  return rescaleTonemapped(v, u.historyScale);
}
// How far this frame's reference lies outside the previous reference's box where the motion
// points (./staleness-cpu.ts).
fn staleness(p: vec2u, i: u32) -> f32 {
  if (u.reset != 0u) { return 1.0; }
  let size = vec2f(f32(u.width), f32(u.height));
  let rx = renderPixelOf(p.x, u.renderWidth, u.width);
  let ry = renderPixelOf(p.y, u.renderHeight, u.height);
  let uv = (vec2f(p) + 0.5) / size + motion[ry * u.renderWidth + rx].xy;
  if (!(uv.x >= 0.0 && uv.x <= 1.0 && uv.y >= 0.0 && uv.y <= 1.0)) { return u.staleOffscreen; }
  let base = floor(uv * size - 0.5);
  let x0 = i32(base.x);
  let y0 = i32(base.y);
  let a = previousAt(x0, y0);
  let b = previousAt(x0 + 1, y0);
  let c = previousAt(x0, y0 + 1);
  let d = previousAt(x0 + 1, y0 + 1);
  let r = referenceImage[i].rgb;
  let outside = max(max(min(min(a, b), min(c, d)) - r, r - max(max(a, b), max(c, d))), vec3f(0.0));
  return min(1.0, reprojectMax3(outside) / ${STALENESS_RANGE.toFixed(6)});
}

${wgslPixelMain(/* wgsl */ `
  let n = u.width * u.height;
  let i = id.y * u.width + id.x;
  let e = err(i);
  var g = u.wL1 * sign(e) + u.wMse * 2.0 * e;
  var encoded = vec3f(0.0);
  if (u.wSrgb != 0.0) {
    let o = outputImage[i].rgb;
    encoded = srgbEncode(o) - srgbEncode(referenceImage[i].rgb);
    g += u.wSrgb * sign(encoded) * srgbSlope(o);
  }
  // Pairs to the right and below belong to this pixel's loss; all four neighbours move its gradient.
  var pairs = 0.0;
  if (id.x + 1u < u.width) { let d = err(i + 1u) - e; pairs += total(abs(d)); g -= u.wGrad * sign(d); }
  if (id.y + 1u < u.height) { let d = err(i + u.width) - e; pairs += total(abs(d)); g -= u.wGrad * sign(d); }
  if (id.x > 0u) { g += u.wGrad * sign(e - err(i - 1u)); }
  if (id.y > 0u) { g += u.wGrad * sign(e - err(i - u.width)); }
  var change = 0.0;
  if (u.hasPrevious != 0u) {
    let d = e - (previousOutput[i].rgb - previousReference[i].rgb);
    change = total(abs(d));
    g += u.wTemp * sign(d);
    gradPrevious[i] -= vec4f(u.wTemp * sign(d), 0.0);
  }
  var stale = 0.0;
  if (u.wStale != 0.0) {
    let s = staleness(id.xy, i);
    stale = s * total(abs(e));
    g += u.wStale * s * sign(e);
  }
  let gradient = vec4f(g, 0.0);
  gradOutput[i] = select(gradient, gradOutput[i] + gradient, u.accumulate != 0u);
  terms[i] = u.wL1 * total(abs(e));
  terms[n + i] = u.wGrad * pairs;
  terms[2u * n + i] = u.wTemp * change;
  terms[3u * n + i] = u.wStale * stale;
  terms[4u * n + i] = u.wMse * dot(e, e);
  terms[5u * n + i] = u.wSrgb * total(abs(encoded));`)}
`;

/** Where the loss of one frame reads and writes. All images are width×height. */
export interface FrameLossArgs {
  /** Network/frame output, tonemapped. */
  readonly output: GpuImage;
  /** Ground truth, tonemapped. */
  readonly reference: GpuImage;
  /** Receives ∂loss/∂output (written, or added to with `accumulate`). */
  readonly gradOutput: GpuImage;
  readonly accumulate?: boolean;
  /** The previous frame: enables the temporal term; its gradient is added to `gradOutput`. */
  readonly previous?: {
    readonly output: GpuImage;
    readonly reference: GpuImage;
    readonly gradOutput: GpuImage;
    /**
     * This frame's prepared motion (render size) and reset: enable the stale term (the history
     * staleness of this frame's reference against the previous one).
     */
    readonly staleness?: {
      readonly motion: GpuImage;
      readonly reset: boolean;
      /** This frame's exposure / the previous frame's (default 1). */
      readonly historyScale?: number;
      /** The staleness of pixels whose previous position lies off screen (default 1). */
      readonly offscreen?: number;
    };
  };
  /** Slot of `values` receiving [...LOSS_TERMS, total] (default 0). */
  readonly slot?: number;
}

/** The loss of one frame size, with its scratch buffers and a GPU-resident value buffer. */
export interface FrameLoss {
  readonly width: number;
  readonly height: number;
  /** `slots` × [...LOSS_TERMS, total] (array<f32>), filled by `encode`. */
  readonly values: GPUBuffer;
  readonly slots: number;
  /** Records the loss and gradient of one frame. */
  encode(pass: GPUComputePassEncoder, args: FrameLossArgs, weights: LossWeights): void;
  /** Reads the values of every slot back (one map; call rarely). */
  read(): Promise<LossValues[]>;
  destroy(): void;
}

const dummies = new WeakMap<GPUDevice, GPUBuffer>();

/** Creates the loss for images of one size, with `slots` value slots (e.g. one per BPTT frame). */
export function createFrameLoss(
  device: GPUDevice,
  width: number,
  height: number,
  slots = 1,
): FrameLoss {
  if (!Number.isInteger(slots) || slots < 1)
    throw new RangeError(`loss slots must be ≥ 1, got ${slots}`);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const n = width * height;
  const terms = device.createBuffer({
    label: 'loss terms',
    size: LOSS_TERMS.length * n * 4,
    usage,
  });
  const scratch = device.createBuffer({ label: 'loss scratch', size: REDUCE_WIDTH * 4, usage });
  const values = device.createBuffer({
    label: 'loss values',
    size: slots * SLOT_VALUES * 4,
    usage,
  });
  let dummy = dummies.get(device);
  if (!dummy) {
    dummy = device.createBuffer({ label: 'loss no-previous', size: 16, usage });
    dummies.set(device, dummy);
  }
  const noPrevious = dummy;
  const kernel = createKernel(device, { label: 'frame loss', code });
  const [nL1, nGrad, nTemp, nStale, nMse, nSrgb] = lossNormalizers(width, height);
  return {
    width,
    height,
    values,
    slots,
    encode(pass, args, weights) {
      const images = [args.output, args.reference, args.gradOutput];
      if (args.previous) images.push(args.previous.output, args.previous.reference);
      if (args.previous) images.push(args.previous.gradOutput);
      for (const image of images) {
        if (image.width !== width || image.height !== height) {
          throw new RangeError(
            `loss image is ${image.width}x${image.height}, want ${width}x${height}`,
          );
        }
      }
      const slot = args.slot ?? 0;
      if (!Number.isInteger(slot) || slot < 0 || slot >= slots) {
        throw new RangeError(`loss slot ${slot} outside 0..${slots - 1}`);
      }
      const previous = args.previous;
      const staleness = previous?.staleness;
      if (weights.stale !== 0 && previous && !staleness) {
        throw new RangeError('loss: the stale term needs the frame motion (previous.staleness)');
      }
      const motion = staleness?.motion;
      kernel.dispatch(
        pass,
        [groupsFor(width, TILE), groupsFor(height, TILE)],
        [
          args.output.buffer,
          args.reference.buffer,
          (previous?.output ?? args.output).buffer,
          (previous?.reference ?? args.reference).buffer,
          args.gradOutput.buffer,
          previous?.gradOutput.buffer ?? noPrevious,
          terms,
          motion?.buffer ?? args.output.buffer,
        ],
        PARAMS.pack({
          width,
          height,
          hasPrevious: !!previous,
          accumulate: !!args.accumulate,
          wL1: weights.l1 * nL1,
          wGrad: weights.gradient * nGrad,
          wTemp: previous ? weights.temporal * nTemp : 0,
          wStale: motion ? weights.stale * nStale : 0,
          wMse: weights.mse * nMse,
          wSrgb: weights.srgb * nSrgb,
          renderWidth: motion?.width ?? 1,
          renderHeight: motion?.height ?? 1,
          reset: !!staleness?.reset,
          historyScale: staleness?.historyScale ?? 1,
          staleOffscreen: staleness?.offscreen ?? 1,
        }),
      );
      const base = slot * SLOT_VALUES;
      LOSS_TERMS.forEach((_, term) =>
        encodeReduceSum(device, pass, {
          values: terms,
          offset: term * n,
          count: n,
          scratch,
          output: values,
          outIndex: base + term,
        }),
      );
      encodeReduceSum(device, pass, {
        values,
        offset: base,
        count: LOSS_TERMS.length,
        scratch,
        output: values,
        outIndex: base + LOSS_TERMS.length,
      });
    },
    async read() {
      const data = await readBuffer(device, values, slots * SLOT_VALUES * 4);
      return Array.from({ length: slots }, (_, s) => {
        const at = (k: number) => data[s * SLOT_VALUES + k]!;
        return {
          ...(Object.fromEntries(LOSS_TERMS.map((t, k) => [t, at(k)])) as Record<
            (typeof LOSS_TERMS)[number],
            number
          >),
          total: at(LOSS_TERMS.length),
        };
      });
    },
    destroy() {
      terms.destroy();
      scratch.destroy();
      values.destroy();
    },
  };
}
