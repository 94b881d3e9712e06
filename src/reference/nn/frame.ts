/**
 * CPU reference of the neural frame around the network (DESIGN §5–§6): feature assembly, output
 * activations + oriented-Gaussian filter of the jittered render samples, blend with the
 * reprojected history. The backward of each step is in ./frame-backward.ts; the GPU twins are in
 * src/nn/resolve/ (and src/nn/backward/).
 *
 * Images here are vec4 images like the GPU's `GpuImage`: `{ width, height, data }` with 4
 * interleaved channels (a 4-channel `Image` fits). Forward functions are generic over
 * Float32Array / Float64Array; backward functions return Float64Array.
 *
 * Exact definitions (W×H display, w×h render, (jx, jy) jitter in render pixels; display pixel
 * (X, Y) has its centre at p = ((X + 0.5)·w/W, (Y + 0.5)·h/H) in render pixels; render pixel (x, y)
 * holds the scene at (x + 0.5 + jx, y + 0.5 + jy), DESIGN §4):
 *
 * Features (12 planar channels, W and H padded up to multiples of 8 with zeros):
 *  0–3  reprojected recurrent state (0 after a reset);
 *  4    current luma at p, jitter-aware: bilinear interpolation of the render lumas on the
 *       grid of their jittered sample positions, at p − j − 0.5 (clamp-to-edge). Continuous in p
 *       and j, so f32 and f64 agree closely (a nearest-sample choice would flip between them);
 *  5    reprojected history luma (Rec. 709 of the history rgb; 0 where invalid);
 *  6    colorfulness: mean over the 3×3 render neighbourhood of the render pixel containing the
 *       display pixel centre (src/reference/common.ts renderPixelOf) of max(rgb) − min(rgb);
 *  7    disocclusion cue: max(disocclusion, reactive, 1 − history validity) of that render pixel.
 *  8    squared distance (display pixels²) from the pixel centre to the nearest render sample of
 *       its filter window: how well this frame's jitter covers the pixel (TAAU's sample weight);
 *  9    luma range (max − min) of the 3×3 render neighbourhood of that render pixel (the
 *       neighbourhood is clamp-to-edge, as for colorfulness);
 *  10   history luma outside that range: l − clamp(l, min, max) for the history luma l of
 *       feature 5 (0 where invalid), the rectification cue;
 *  11   motion length in display pixels, log2(1 + |motion · (W, H)|), of that render pixel.
 * Non-finite history or state values are read as 0 (sanitised here, not only in prepare).
 *
 * Activations of the raw outputs r0..r8: σ1 = 0.3 + softplus(r0), σ2 = 0.3 + softplus(r1) (display
 * pixels), θ = r2 (radians), α = sigmoid(r3), recurrent = tanh(r4..r7), β = sigmoid(r8).
 *
 * Filter: a 4×4 window of render samples around p. Along each axis the window is the containing
 * render pixel c and its neighbours, c − 2..c + 1 when p is in the left/top half of c, else
 * c − 1..c + 2 (integer decisions, identical on CPU and GPU). Samples outside the image are skipped.
 * Each sample's offset from the pixel centre in display pixels is d = (x + 0.5 + jx − p.x)·W/w, …;
 * with u = cos θ·dx + sin θ·dy, v = −sin θ·dx + cos θ·dy, q = (u/σ1)² + (v/σ2)² = dᵀΣ⁻¹d,
 * Σ = R(θ) diag(σ1², σ2²) R(θ)ᵀ. Weights are exp(−½(q − q_min)) with q_min the smallest q of the
 * window: mathematically the same normalised Gaussian, but the weight sum is always ≥ 1, and when
 * every Gaussian weight would underflow the result tends to the sample nearest in the kernel's
 * metric — the safe fallback without a discontinuous threshold.
 *
 * Coverage blend (models whose graph sets coverageBlend k > 0, COVERAGE_SIGMA): the filter writes
 * α_c = α / ((1 − α)·ρ + α) instead of α, ρ = c^k, c = Σ_window exp(−½ |d|² / s²) / (2π s² · w·h /
 * (W·H)) with s = COVERAGE_SIGMA: the current frame's odds scaled by how well its samples cover the
 * pixel (c is 1 on average over jitter). Without one α_c = α.
 *
 * Blend: valid = history a ≥ 0.5 and not reset. The history is rectified as in TAAU, each rgb
 * channel clamped to [min, max] of the 3×3 render neighbourhood (h* = clamp(h, lo, hi)), and the
 * network chooses how much of the unclamped history to keep: h' = h* + β_g·(h − h*), where
 * β_g = β·g; for a model with a history guard K (its graph's historyGuard, > 0) the guard
 * g = clamp(1 − d / (K·r + F), 0, 1) fades the unclamped history out as it leaves the box:
 * d = max over channels of |h − h*|, r = max over channels of (hi − lo), F = HISTORY_GUARD_FLOOR;
 * without one g = 1. Then out = α·h' + (1 − α)·filtered where valid, filtered otherwise. New
 * history = (out, 1), new state = recurrent.
 */
import type { Size } from '../../core/quality.ts';
import { runNetworkCpu } from './network.ts';
import type { Real, Tensor } from '../../core/tensor.ts';
import { renderPixelOf } from '../common.ts';
import {
  FEATURE_CHANNELS,
  RAW_CHANNELS,
  SIGMA_MIN,
  LUMA_WEIGHTS,
  HISTORY_GUARD_FLOOR,
  COVERAGE_SIGMA,
  paddedSize,
  type NeuralFrameParams,
  type NeuralModel,
} from '../../core/neural-frame.ts';

/** A vec4 image (4 interleaved channels), the CPU form of a GpuImage. */
export interface Vec4Image<T extends Real = Real> {
  readonly width: number;
  readonly height: number;
  readonly data: T;
}

/** Non-finite values read as 0. */
export function finiteOr0(v: number): number {
  return Number.isFinite(v) ? v : 0;
}

/** log(1 + e^x) without overflow. */
export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log(1 + Math.exp(-Math.abs(x)));
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** The activated network outputs of one pixel. */
export interface KernelParams {
  sigma1: number;
  sigma2: number;
  theta: number;
  alpha: number;
  recurrent: [number, number, number, number];
  /** Share of the unclamped history kept (blend). */
  beta: number;
}

/** Applies the output activations to the RAW_CHANNELS raw values of one pixel. */
export function activateRaw(raw: ArrayLike<number>): KernelParams {
  return {
    sigma1: SIGMA_MIN + softplus(raw[0]!),
    sigma2: SIGMA_MIN + softplus(raw[1]!),
    theta: raw[2]!,
    alpha: sigmoid(raw[3]!),
    recurrent: [Math.tanh(raw[4]!), Math.tanh(raw[5]!), Math.tanh(raw[6]!), Math.tanh(raw[7]!)],
    beta: sigmoid(raw[8]!),
  };
}

function allocLike<T extends Real>(like: T, length: number): T {
  return (like instanceof Float64Array ? new Float64Array(length) : new Float32Array(length)) as T;
}

/** Channel c of a vec4 image at (x, y), clamp-to-edge. */
export function at(image: Vec4Image, x: number, y: number, c: number): number {
  const cx = Math.min(Math.max(x, 0), image.width - 1);
  const cy = Math.min(Math.max(y, 0), image.height - 1);
  return image.data[(cy * image.width + cx) * 4 + c]!;
}

/** Display pixel centre in render pixels along one axis. */
function centreInRender(x: number, render: number, display: number): number {
  return ((x + 0.5) * render) / display;
}

/**
 * First render index of the 4-sample filter window along one axis: c − 2 when the display pixel
 * centre is in the first half of its render pixel c, else c − 1 (integer arithmetic).
 */
export function windowStart(x: number, render: number, display: number): number {
  const halves = Math.floor(((2 * x + 1) * render) / display); // floor(2·p)
  return (halves >> 1) - 2 + (halves & 1);
}

/** Whether the history at display pixel `i` is usable. */
export function historyValid(history: Vec4Image, i: number, reset: boolean): boolean {
  return !reset && history.data[i * 4 + 3]! >= 0.5;
}

/** Inputs of feature assembly (prepared: render size; reprojected: display size). */
export interface FeatureInputs<T extends Real = Real> {
  /** Prepared color: rgb tonemapped, a luma. */
  readonly color: Vec4Image;
  /** Prepared motion: z disocclusion, w reactive. */
  readonly motion: Vec4Image;
  /** Reprojected history: rgb, a = 1 valid / 0 invalid. */
  readonly history: Vec4Image<T>;
  /** Reprojected recurrent state (4 channels). */
  readonly state: Vec4Image<T>;
}

/** Current luma at display pixel (X, Y), jitter-aware bilinear (see the file comment). */
function currentLuma(
  color: Vec4Image,
  X: number,
  Y: number,
  W: number,
  H: number,
  j: readonly [number, number],
): number {
  const u = centreInRender(X, color.width, W) - j[0] - 0.5;
  const v = centreInRender(Y, color.height, H) - j[1] - 0.5;
  const x0 = Math.floor(u);
  const y0 = Math.floor(v);
  const fx = u - x0;
  const fy = v - y0;
  const top = at(color, x0, y0, 3) * (1 - fx) + at(color, x0 + 1, y0, 3) * fx;
  const bottom = at(color, x0, y0 + 1, 3) * (1 - fx) + at(color, x0 + 1, y0 + 1, 3) * fx;
  return top * (1 - fy) + bottom * fy;
}

/** Statistics of the 3×3 render neighbourhood (clamp-to-edge) of render pixel (rx, ry). */
export interface Neighbourhood {
  /** Mean of max(rgb) − min(rgb). */
  readonly colorfulness: number;
  /** Per-channel rgb minimum and maximum: the rectification box. */
  readonly lo: [number, number, number];
  readonly hi: [number, number, number];
  /** Luma (a) minimum and maximum. */
  readonly lumaLo: number;
  readonly lumaHi: number;
}

export function neighbourhood(color: Vec4Image, rx: number, ry: number): Neighbourhood {
  let sum = 0;
  const lo: [number, number, number] = [Infinity, Infinity, Infinity];
  const hi: [number, number, number] = [-Infinity, -Infinity, -Infinity];
  let lumaLo = Infinity;
  let lumaHi = -Infinity;
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      const rgb = [0, 1, 2].map((c) => at(color, rx + dx, ry + dy, c));
      sum += Math.max(...rgb) - Math.min(...rgb);
      for (let c = 0; c < 3; c++) {
        lo[c] = Math.min(lo[c]!, rgb[c]!);
        hi[c] = Math.max(hi[c]!, rgb[c]!);
      }
      const l = at(color, rx + dx, ry + dy, 3);
      lumaLo = Math.min(lumaLo, l);
      lumaHi = Math.max(lumaHi, l);
    }
  }
  return { colorfulness: sum / 9, lo, hi, lumaLo, lumaHi };
}

/** Squared distance (display pixels²) from display pixel (X, Y) to its window's nearest sample. */
function nearestSampleDistance2(
  X: number,
  Y: number,
  render: Size,
  display: Size,
  jitter: readonly [number, number],
): number {
  let best = Infinity;
  for (const s of windowSamples(X, Y, render, display, jitter)) {
    best = Math.min(best, s.dx * s.dx + s.dy * s.dy);
  }
  return best;
}

/** Motion length in display pixels, compressed: log2(1 + |m · (W, H)|). */
function motionLength(motion: Vec4Image, rx: number, ry: number, W: number, H: number): number {
  const mx = finiteOr0(at(motion, rx, ry, 0)) * W;
  const my = finiteOr0(at(motion, rx, ry, 1)) * H;
  return Math.log2(1 + Math.hypot(mx, my));
}

/** History luma l of display pixel i (the feature 5 value; 0 where invalid). */
export function historyLuma(history: Vec4Image, i: number): number {
  let l = 0;
  for (let c = 0; c < 3; c++) l += LUMA_WEIGHTS[c] * finiteOr0(history.data[i * 4 + c]!);
  return l;
}

/** Assembles the planar network input, padded to multiples of 8 (zeros outside). */
export function assembleFeaturesCpu<T extends Real>(
  inputs: FeatureInputs<T>,
  params: NeuralFrameParams,
): Tensor<T> {
  const { color, motion, history, state } = inputs;
  const W = history.width;
  const H = history.height;
  const [Wp, Hp] = paddedSize([W, H]);
  const plane = Wp * Hp;
  const data = allocLike(history.data, FEATURE_CHANNELS * plane);
  for (let Y = 0; Y < H; Y++) {
    const ry = renderPixelOf(Y, color.height, H);
    for (let X = 0; X < W; X++) {
      const rx = renderPixelOf(X, color.width, W);
      const i = Y * W + X;
      const o = Y * Wp + X;
      const valid = historyValid(history, i, params.reset);
      if (!params.reset) {
        for (let k = 0; k < 4; k++) data[k * plane + o] = finiteOr0(state.data[i * 4 + k]!);
      }
      data[4 * plane + o] = currentLuma(color, X, Y, W, H, params.jitter);
      const box = neighbourhood(color, rx, ry);
      if (valid) {
        const l = historyLuma(history, i);
        data[5 * plane + o] = l;
        data[10 * plane + o] = l - Math.min(Math.max(l, box.lumaLo), box.lumaHi);
      }
      data[6 * plane + o] = box.colorfulness;
      data[7 * plane + o] = Math.max(at(motion, rx, ry, 2), at(motion, rx, ry, 3), valid ? 0 : 1);
      data[8 * plane + o] = nearestSampleDistance2(
        X,
        Y,
        [color.width, color.height],
        [W, H],
        params.jitter,
      );
      data[9 * plane + o] = box.lumaHi - box.lumaLo;
      data[11 * plane + o] = motionLength(motion, rx, ry, W, H);
    }
  }
  return { channels: FEATURE_CHANNELS, height: Hp, width: Wp, data };
}

/** One render sample of a pixel's filter window: offset in display pixels, render pixel index. */
interface WindowSample {
  dx: number;
  dy: number;
  index: number;
}

/** The in-image samples of display pixel (X, Y)'s 4×4 window. */
export function windowSamples(
  X: number,
  Y: number,
  render: Size,
  display: Size,
  jitter: readonly [number, number],
): WindowSample[] {
  const [w, h] = render;
  const [W, H] = display;
  const x0 = windowStart(X, w, W);
  const y0 = windowStart(Y, h, H);
  const ratioX = W / w;
  const ratioY = H / h;
  const samples: WindowSample[] = [];
  for (let y = y0; y < y0 + 4; y++) {
    if (y < 0 || y >= h) continue;
    for (let x = x0; x < x0 + 4; x++) {
      if (x < 0 || x >= w) continue;
      samples.push({
        dx: (x + 0.5 + jitter[0]) * ratioX - (X + 0.5),
        dy: (y + 0.5 + jitter[1]) * ratioY - (Y + 0.5),
        index: y * w + x,
      });
    }
  }
  return samples;
}

/** The RAW_CHANNELS raw network outputs of display pixel (X, Y). */
export function rawAt(raw: Tensor<Real>, X: number, Y: number): number[] {
  const plane = raw.width * raw.height;
  const o = Y * raw.width + X;
  return Array.from({ length: RAW_CHANNELS }, (_, k) => raw.data[k * plane + o]!);
}

/** Quadratic forms q = dᵀΣ⁻¹d of the samples, with u and v (rotated offsets). */
export function quadratics(
  samples: WindowSample[],
  k: KernelParams,
): { u: number; v: number; q: number }[] {
  const c = Math.cos(k.theta);
  const s = Math.sin(k.theta);
  return samples.map(({ dx, dy }) => {
    const u = c * dx + s * dy;
    const v = -s * dx + c * dy;
    return { u, v, q: (u / k.sigma1) ** 2 + (v / k.sigma2) ** 2 };
  });
}

/**
 * This frame's coverage c of a pixel from its window's samples (the file comment): 1 on average
 * over the jitter, more where a sample lies near the pixel centre.
 */
export function coverageOf(samples: readonly WindowSample[], render: Size, display: Size): number {
  const s2 = COVERAGE_SIGMA * COVERAGE_SIGMA;
  let sum = 0;
  for (const { dx, dy } of samples) sum += Math.exp((-0.5 * (dx * dx + dy * dy)) / s2);
  const mean = (2 * Math.PI * s2 * render[0] * render[1]) / (display[0] * display[1]);
  return sum / mean;
}

/**
 * The coverage blend's α_c = α / ((1 − α)·ρ + α), ρ = max(c, 1e-6)^k, and its slope dα_c/dα =
 * ρ / ((1 − α)·ρ + α)²; k = 0 (no coverage blend): α itself, slope 1.
 */
export function coverageAlpha(
  alpha: number,
  coverage: number,
  power: number,
): { alpha: number; slope: number } {
  if (!(power > 0)) return { alpha, slope: 1 };
  const rho = Math.pow(Math.max(coverage, 1e-6), power);
  const d = (1 - alpha) * rho + alpha;
  return { alpha: alpha / d, slope: rho / (d * d) };
}

/** Result of the filter step: filtered color (rgb) with α in a, and the new state. */
export interface FilterOutput<T extends Real> {
  /** Display size vec4: rgb = filtered color, a = α. */
  readonly filtered: Vec4Image<T>;
  /** Display size vec4: the 4 recurrent channels (tanh). */
  readonly state: Vec4Image<T>;
}

/**
 * Activations + oriented-Gaussian filter: `raw` is the network output (8 × padded H × padded W),
 * `color` the prepared color (render size); the display size is given. `coveragePower` is the
 * model's coverage blend k (0: none), which makes the α written α_c.
 */
export function kpnFilterCpu<T extends Real>(
  raw: Tensor<T>,
  color: Vec4Image,
  displaySize: Size,
  jitter: readonly [number, number],
  coveragePower = 0,
): FilterOutput<T> {
  const [W, H] = displaySize;
  const filtered = allocLike(raw.data, W * H * 4);
  const state = allocLike(raw.data, W * H * 4);
  for (let Y = 0; Y < H; Y++) {
    for (let X = 0; X < W; X++) {
      const k = activateRaw(rawAt(raw, X, Y));
      const samples = windowSamples(X, Y, [color.width, color.height], displaySize, jitter);
      const qs = quadratics(samples, k);
      const qMin = Math.min(...qs.map((e) => e.q));
      let sum = 0;
      const acc = [0, 0, 0];
      samples.forEach((sample, n) => {
        const e = Math.exp(-0.5 * (qs[n]!.q - qMin));
        sum += e;
        for (let c = 0; c < 3; c++) acc[c]! += e * color.data[sample.index * 4 + c]!;
      });
      const o = (Y * W + X) * 4;
      for (let c = 0; c < 3; c++) filtered[o + c] = acc[c]! / sum;
      const render: Size = [color.width, color.height];
      const coverage = coveragePower > 0 ? coverageOf(samples, render, displaySize) : 1;
      filtered[o + 3] = coverageAlpha(k.alpha, coverage, coveragePower).alpha;
      for (let c = 0; c < 4; c++) state[o + c] = k.recurrent[c]!;
    }
  }
  return {
    filtered: { width: W, height: H, data: filtered },
    state: { width: W, height: H, data: state },
  };
}

/** What the blend reads besides the filter output and the history. */
export interface BlendContext {
  /** Prepared color (render size): the rectification box. */
  readonly color: Vec4Image;
  /** Raw network output (channel 8: β before its sigmoid). */
  readonly raw: Tensor<Real>;
  readonly reset: boolean;
  /** The model's history guard in box ranges (NeuralFrameParams.historyGuard); absent or 0: none. */
  readonly historyGuard?: number;
}

/** The rectification of one display pixel's history. */
export interface Rectified {
  /** The share of the unclamped history kept: sigmoid(raw β) · guard. */
  readonly beta: number;
  /** sigmoid(raw β), the network's share before the guard. */
  readonly sigma: number;
  /** The history guard g in [0, 1] (HISTORY_GUARD_RANGES). */
  readonly guard: number;
  /** dg/dh per channel (nonzero only for the farthest channel, where 0 < g < 1). */
  readonly guardSlope: number[];
  readonly h: number[];
  readonly clamped: number[];
  readonly kept: number[];
  readonly inside: boolean[];
}

/**
 * The history guard of `ranges` box ranges (≤ 0: none, g = 1) for clamped history `clamped` (of
 * h) in the box lo…hi, and its slope dg/dh: the farthest channel (the first on a tie) alone moves d.
 */
export function historyGuard(
  h: readonly number[],
  clamped: readonly number[],
  lo: readonly number[],
  hi: readonly number[],
  ranges: number,
): { guard: number; slope: number[] } {
  if (!(ranges > 0)) return { guard: 1, slope: [0, 0, 0] };
  let far = 0;
  for (let c = 1; c < 3; c++) {
    if (Math.abs(h[c]! - clamped[c]!) > Math.abs(h[far]! - clamped[far]!)) far = c;
  }
  const d = Math.abs(h[far]! - clamped[far]!);
  const range = Math.max(hi[0]! - lo[0]!, hi[1]! - lo[1]!, hi[2]! - lo[2]!);
  const scale = ranges * range + HISTORY_GUARD_FLOOR;
  const t = 1 - d / scale;
  const slope = [0, 0, 0];
  if (t > 0 && t < 1) slope[far] = -Math.sign(h[far]! - clamped[far]!) / scale;
  return { guard: Math.min(Math.max(t, 0), 1), slope };
}

/** Per display pixel: β, and the rectified (clamped) history channel values. */
export function rectify(
  history: Vec4Image,
  context: BlendContext,
  X: number,
  Y: number,
): Rectified {
  const { color, raw } = context;
  const W = history.width;
  const H = history.height;
  const box = neighbourhood(
    color,
    renderPixelOf(X, color.width, W),
    renderPixelOf(Y, color.height, H),
  );
  const i = Y * W + X;
  const h = [0, 1, 2].map((c) => finiteOr0(history.data[i * 4 + c]!));
  const clamped = h.map((v, c) => Math.min(Math.max(v, box.lo[c]!), box.hi[c]!));
  const inside = h.map((v, c) => v >= box.lo[c]! && v <= box.hi[c]!);
  const sigma = sigmoid(raw.data[8 * raw.width * raw.height + Y * raw.width + X]!);
  const { guard, slope } = historyGuard(h, clamped, box.lo, box.hi, context.historyGuard ?? 0);
  const beta = sigma * guard;
  // h' = h* + β_g·(h − h*): the history the blend uses.
  const kept = h.map((v, c) => clamped[c]! + beta * (v - clamped[c]!));
  return { beta, sigma, guard, guardSlope: slope, h, clamped, kept, inside };
}

/**
 * Blend with the rectified reprojected history (see the file comment): the new history (rgb,
 * a = 1), display size.
 */
export function blendCpu<T extends Real>(
  filtered: Vec4Image<T>,
  history: Vec4Image,
  context: BlendContext,
): Vec4Image<T> {
  const { width, height } = filtered;
  const out = allocLike(filtered.data, width * height * 4);
  for (let Y = 0; Y < height; Y++) {
    for (let X = 0; X < width; X++) {
      const i = Y * width + X;
      const valid = historyValid(history, i, context.reset);
      const alpha = valid ? filtered.data[i * 4 + 3]! : 0;
      const r = valid ? rectify(history, context, X, Y) : undefined;
      for (let c = 0; c < 3; c++) {
        const f = filtered.data[i * 4 + c]!;
        out[i * 4 + c] = f + alpha * ((r?.kept[c] ?? 0) - f);
      }
      out[i * 4 + 3] = 1;
    }
  }
  return { width, height, data: out };
}

/**
 * The filter and the blend as the fused GPU pass runs them (src/nn/resolve/filter-blend.ts): the
 * blend of `kpnFilterCpu`'s filtered color, with the state the filter writes.
 */
export function kpnFilterBlendCpu<T extends Real>(
  raw: Tensor<T>,
  color: Vec4Image,
  history: Vec4Image,
  params: NeuralFrameParams,
): { readonly filter: FilterOutput<T>; readonly history: Vec4Image<T> } {
  const size: Size = [history.width, history.height];
  const filter = kpnFilterCpu(raw, color, size, params.jitter, params.coverageBlend ?? 0);
  const blended = blendCpu(filter.filtered, history, {
    color,
    raw,
    reset: params.reset,
    historyGuard: params.historyGuard,
  });
  return { filter, history: blended };
}

/** The network's forward from features to raw outputs (e.g. a fake-quantized one). */
export type NetworkForward = (features: Tensor<Real>) => Tensor<Real>;

/** One neural frame on the CPU, every intermediate kept (debug views and training read them). */
export interface NeuralFrameCpu<T extends Real> {
  readonly features: Tensor<T>;
  readonly raw: Tensor<T>;
  readonly filter: FilterOutput<T>;
  /** New history (rgb tonemapped, a = 1). */
  readonly history: Vec4Image<T>;
}

/** Runs the neural frame around `model` on the CPU. */
export function neuralFrameCpu<T extends Real>(
  model: NeuralModel,
  inputs: FeatureInputs<T>,
  params: NeuralFrameParams,
  runNetwork: NetworkForward = (x) => runNetworkCpu(model.graph, model.parameters, x).output,
): NeuralFrameCpu<T> {
  const features = assembleFeaturesCpu(inputs, params);
  const raw = runNetwork(features) as Tensor<T>;
  const guarded = {
    ...params,
    historyGuard: params.historyGuard ?? model.graph.historyGuard,
    coverageBlend: params.coverageBlend ?? model.graph.coverageBlend,
  };
  const { filter, history } = kpnFilterBlendCpu(raw, inputs.color, inputs.history, guarded);
  return { features, raw, filter, history };
}
