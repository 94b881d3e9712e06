/**
 * CPU reference of the learned frame-generation method (`method: 'neural'`), the oracle of its
 * GPU passes (src/gpu/passes/framegen-features.ts, framegen-blend.ts and the blend's backward
 * src/nn/backward/framegen-blend.ts). Candidates and features are defined in
 * src/core/framegen-neural.ts.
 *
 * 1. Dilate, splat and resolve: the heuristic's time-t motion field (src/reference/
 *    frame-generation.ts, steps 0–2), used as it is.
 * 2. Features (display resolution): the candidates, tonemapped, and the cues the network weighs
 *    them by. Colors read as non-finite → 0, clamped to [0, MAX_COLOR]; warped reads are 16-tap
 *    Catmull-Rom clamped to the 2×2 nearest texels, as the heuristic's compose reads.
 * 3. Network: the raw logits (one per candidate) at the padded size.
 * 4. Blend: w = softmax(logits) per pixel, out = Σ w_k · candidate_k (tonemapped), then the
 *    output pass's inverse tonemap (src/reference/output.ts). A reset repeats the previous frame.
 * Training's loss is L1 between the tonemapped blend and the tonemapped truth; the backward of
 * the blend gives d loss / d logit_k = w_k · Σ_c g_c · (candidate_k,c − out_c).
 */
import { createImage, type Image } from '../core/image.ts';
import {
  FRAMEGEN_CANDIDATES,
  FRAMEGEN_FEATURE_CHANNELS,
  FRAMEGEN_RAW_CHANNELS,
  MOTION_LENGTH_HALF,
} from '../core/framegen-neural.ts';
import { MAX_COLOR, type FrameGenerationParams } from '../core/frame-generation.ts';
import type { Size } from '../core/quality.ts';
import type { Parameters, GraphDescription } from '../core/graph.ts';
import { createTensor, type Real, type Tensor } from '../core/tensor.ts';
import { tonemapPixel } from '../core/tonemap.ts';
import { catmullRomWeights, renderPixelOf, texel } from './common.ts';
import {
  composeFrameCpu,
  dilateMotionCpu,
  resolveMotionCpu,
  splatCpu,
  type FrameGenerationImages,
} from './frame-generation.ts';
import { runNetworkCpu } from './nn/network.ts';
import { outputCpu } from './output.ts';

/** A color channel as the features read it: non-finite → 0, clamped to [0, MAX_COLOR]. */
function sanitize(v: number): number {
  return Number.isFinite(v) ? Math.min(Math.max(v, 0), MAX_COLOR) : 0;
}

function rgbAt(image: Image, x: number, y: number): number[] {
  return [0, 1, 2].map((c) => sanitize(texel(image, x, y, c)));
}

/** 16-tap Catmull-Rom at texel-space (px, py), clamped to the 2×2 nearest texels; clamp-to-edge. */
function readWarped(image: Image, px: number, py: number): number[] {
  const hx = px - 0.5;
  const hy = py - 0.5;
  const x0 = Math.floor(hx);
  const y0 = Math.floor(hy);
  const wx = catmullRomWeights(hx - x0);
  const wy = catmullRomWeights(hy - y0);
  return [0, 1, 2].map((c) => {
    let sum = 0;
    for (let j = 0; j < 4; j++) {
      for (let i = 0; i < 4; i++) {
        sum += wx[i]! * wy[j]! * sanitize(texel(image, x0 - 1 + i, y0 - 1 + j, c));
      }
    }
    const near = [0, 1].flatMap((j) =>
      [0, 1].map((i) => sanitize(texel(image, x0 + i, y0 + j, c))),
    );
    return Math.min(Math.max(sum, Math.min(...near)), Math.max(...near));
  });
}

const onImage = (px: number, py: number, width: number, height: number) =>
  px >= 0 && px <= width && py >= 0 && py <= height;

/**
 * Step 2: the network's input (FRAMEGEN_FEATURE_CHANNELS × padded height × padded width) from the
 * displayed frames, the time-t motion field (render size, as resolveMotionCpu makes it) and the
 * optional reactive mask (render size).
 */
export function framegenFeaturesCpu(
  previous: Image,
  current: Image,
  field: Image,
  reactive: Image | undefined,
  t: number,
  padded: Size,
): Tensor {
  const { width, height } = previous;
  const [pw, ph] = padded;
  const out = createTensor({ channels: FRAMEGEN_FEATURE_CHANNELS, height: ph, width: pw });
  const plane = pw * ph;
  const s = 1 - t;
  for (let py = 0; py < ph; py++) {
    const y = Math.min(py, height - 1);
    const ry = renderPixelOf(y, field.height, height);
    for (let px = 0; px < pw; px++) {
      const x = Math.min(px, width - 1);
      const rx = renderPixelOf(x, field.width, width);
      const k = (ry * field.width + rx) * field.channels;
      const [mx, my, seenBefore, seenNow] = [0, 1, 2, 3].map((c) => field.data[k + c]!);
      const dx = mx! * width;
      const dy = my! * height;
      const p = rgbAt(previous, x, y);
      const c = rgbAt(current, x, y);
      const blend = p.map((v, i) => s * v + t * c[i]!);
      const atPrevious = [x + 0.5 + t * dx, y + 0.5 + t * dy] as const;
      const atCurrent = [x + 0.5 - s * dx, y + 0.5 - s * dy] as const;
      const previousOn = onImage(...atPrevious, width, height);
      const currentOn = onImage(...atCurrent, width, height);
      const warpedPrevious = previousOn ? readWarped(previous, ...atPrevious) : blend;
      const warpedCurrent = currentOn ? readWarped(current, ...atCurrent) : blend;
      const candidates = [warpedPrevious, warpedCurrent, blend, p].map((rgb) =>
        tonemapPixel(rgb[0]!, rgb[1]!, rgb[2]!),
      );
      const length = Math.hypot(dx, dy);
      const r = reactive ? Math.min(Math.max(texel(reactive, rx, ry, 0), 0), 1) : 0;
      const values = [
        ...candidates.flat(),
        previousOn ? seenBefore! : 0,
        currentOn ? seenNow! : 0,
        Number.isFinite(r) ? r : 0,
        length / (length + MOTION_LENGTH_HALF),
        t,
        Math.max(...[0, 1, 2].map((i) => Math.abs(candidates[0]![i]! - candidates[1]![i]!))),
      ];
      const o = py * pw + px;
      values.forEach((v, ch) => (out.data[ch * plane + o] = v));
    }
  }
  return out;
}

/** The softmax of the logits of pixel o (planar raw, `plane` values a channel). */
function blendWeights(raw: Real, o: number, plane: number): number[] {
  const logits = Array.from({ length: FRAMEGEN_RAW_CHANNELS }, (_, k) => raw[k * plane + o]!);
  const top = Math.max(...logits);
  const e = logits.map((z) => Math.exp(z - top));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/**
 * Step 4 without the inverse tonemap: the tonemapped blend (3 × display height × width) of the
 * candidates in `features` by the softmax of `raw` (both at the padded size).
 */
export function framegenBlendCpu<T extends Real>(
  features: Tensor<T>,
  raw: Tensor<Real>,
  [width, height]: Size,
): Tensor<T> {
  const plane = features.width * features.height;
  const data = new (features.data.constructor as { new (n: number): T })(3 * width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = y * features.width + x;
      const w = blendWeights(raw.data, o, plane);
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let k = 0; k < FRAMEGEN_CANDIDATES; k++) {
          sum += w[k]! * features.data[(3 * k + c) * plane + o]!;
        }
        data[(c * height + y) * width + x] = sum;
      }
    }
  }
  return { channels: 3, height, width, data };
}

/**
 * Backward of the blend: dLoss/d(raw) (FRAMEGEN_RAW_CHANNELS at the padded size, 0 in the
 * padding) from dLoss/d(tonemapped blend) (3 × display size).
 */
export function framegenBlendBackwardCpu<T extends Real>(
  features: Tensor<Real>,
  raw: Tensor<T>,
  dOut: Tensor<Real>,
): Tensor<T> {
  const { width, height } = dOut;
  const plane = features.width * features.height;
  const data = new (raw.data.constructor as { new (n: number): T })(raw.data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = y * features.width + x;
      const w = blendWeights(raw.data, o, plane);
      const g = [0, 1, 2].map((c) => dOut.data[(c * height + y) * width + x]!);
      const candidate = (k: number, c: number) => features.data[(3 * k + c) * plane + o]!;
      const out = [0, 1, 2].map((c) => w.reduce((sum, wk, k) => sum + wk * candidate(k, c), 0));
      for (let k = 0; k < FRAMEGEN_CANDIDATES; k++) {
        let dot = 0;
        for (let c = 0; c < 3; c++) dot += g[c]! * (candidate(k, c) - out[c]!);
        data[k * plane + o] = w[k]! * dot;
      }
    }
  }
  return { channels: raw.channels, height: raw.height, width: raw.width, data };
}

/**
 * The tonemapped blend (planar) back to a linear display image (RGBA) by the output pass's
 * reference: inverse tonemap, exposure 1, no sharpening.
 */
export function framegenOutputCpu(blend: Tensor<Real>): Image {
  const { width, height } = blend;
  const tonemapped = createImage(width, height, 3);
  const plane = width * height;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) tonemapped.data[i * 3 + c] = blend.data[c * plane + i]!;
  }
  return outputCpu(tonemapped, 1);
}

/** A frame-generation network and its weights. */
export interface FramegenModel {
  readonly graph: GraphDescription;
  readonly parameters: Parameters<Real>;
}

/** The frame at time params.t (display size, RGBA) by the learned method: steps 1–4. */
export function generateFrameNeuralCpu(
  images: FrameGenerationImages,
  params: FrameGenerationParams,
  model: FramegenModel,
  padded: Size,
): Image {
  if (params.reset) {
    return composeFrameCpu(images.previous, images.current, images.motion, undefined, params);
  }
  const { motion, depth } = dilateMotionCpu(images.motion, images.depth, params);
  const splat = splatCpu(motion, depth, params);
  const field = resolveMotionCpu(splat, motion, depth, params);
  const features = framegenFeaturesCpu(
    images.previous,
    images.current,
    field,
    images.reactive,
    params.t,
    padded,
  );
  const raw = runNetworkCpu(model.graph, model.parameters, features).output;
  const size: Size = [images.previous.width, images.previous.height];
  return framegenOutputCpu(framegenBlendCpu(features, raw, size));
}
