/**
 * Backward of the CPU neural frame (src/reference/nn/frame.ts, which defines every step), float64:
 * feature assembly, filter, blend, the reprojection of the previous history and state, and the whole
 * frame through the network. Finite-difference checked in test/nn-frame-backward.test.ts; the GPU
 * twins are in src/nn/backward/.
 */
import type { Real, Tensor } from '../../core/tensor.ts';
import type { Size } from '../../core/quality.ts';
import {
  LUMA_WEIGHTS,
  paddedSize,
  type NeuralFrameParams,
  type NeuralModel,
} from '../../core/neural-frame.ts';
import { catmullRomWeights, forEachReprojectedPixel, renderPixelOf } from '../common.ts';
import { rescaleTonemappedBackward } from '../exposure.ts';
import { MAX_COLOR } from '../../core/pass-constants.ts';
import { runNetworkCpu } from './network.ts';
import { networkBackwardCpu } from './backward.ts';
import {
  activateRaw,
  coverageAlpha,
  coverageOf,
  historyLuma,
  historyValid,
  neighbourhood,
  quadratics,
  rawAt,
  rectify,
  sigmoid,
  windowSamples,
  type BlendContext,
  type FeatureInputs,
  type NeuralFrameCpu,
  type Vec4Image,
} from './frame.ts';

/** Gradients reaching the reprojected history (rgb; a unused) and state, display size, vec4. */
export interface ReprojectedGrads {
  readonly history: Float64Array;
  readonly state: Float64Array;
}

/** Backward of feature assembly: dLoss/dFeatures → dLoss/d(reprojected history, state). */
export function assembleFeaturesBackwardCpu(
  inputs: FeatureInputs,
  params: NeuralFrameParams,
  dFeatures: Real,
): ReprojectedGrads {
  const { color, history, state } = inputs;
  const W = history.width;
  const H = history.height;
  const [Wp, Hp] = paddedSize([W, H]);
  const plane = Wp * Hp;
  const dHistory = new Float64Array(W * H * 4);
  const dState = new Float64Array(W * H * 4);
  if (params.reset) return { history: dHistory, state: dState };
  for (let Y = 0; Y < H; Y++) {
    const ry = renderPixelOf(Y, color.height, H);
    for (let X = 0; X < W; X++) {
      const rx = renderPixelOf(X, color.width, W);
      const i = Y * W + X;
      const o = Y * Wp + X;
      for (let k = 0; k < 4; k++) {
        if (Number.isFinite(state.data[i * 4 + k]!)) dState[i * 4 + k] = dFeatures[k * plane + o]!;
      }
      if (!historyValid(history, i, false)) continue;
      // Feature 10 = l − clamp(l, lo, hi) moves with l only outside [lo, hi].
      const l = historyLuma(history, i);
      const box = neighbourhood(color, rx, ry);
      const outside = l < box.lumaLo || l > box.lumaHi ? 1 : 0;
      const dLuma = dFeatures[5 * plane + o]! + outside * dFeatures[10 * plane + o]!;
      for (let c = 0; c < 3; c++) {
        if (!Number.isFinite(history.data[i * 4 + c]!)) continue;
        dHistory[i * 4 + c] = LUMA_WEIGHTS[c] * dLuma;
      }
    }
  }
  return { history: dHistory, state: dState };
}

/**
 * Backward of `kpnFilterCpu` w.r.t. the raw network output: `dFiltered` is dLoss/d(filtered rgb, α)
 * and `dState` dLoss/d(new state), both display-size vec4. The sample colors are inputs of the
 * frame (no gradient is needed for them). `dBetaRaw` (display size, one value per pixel: the blend
 * backward's dLoss/dr8) is copied into raw channel 8, which the filter itself does not read.
 * `coveragePower`: the model's coverage blend k (0: none), as the forward ran it.
 */
export function kpnFilterBackwardCpu(
  raw: Tensor<Real>,
  color: Vec4Image,
  displaySize: Size,
  jitter: readonly [number, number],
  dFiltered: Real,
  dState: Real,
  dBetaRaw?: Real,
  coveragePower = 0,
): Float64Array {
  const [W, H] = displaySize;
  const plane = raw.width * raw.height;
  const dRaw = new Float64Array(raw.data.length);
  for (let Y = 0; Y < H; Y++) {
    for (let X = 0; X < W; X++) {
      const r = rawAt(raw, X, Y);
      const k = activateRaw(r);
      const samples = windowSamples(X, Y, [color.width, color.height], displaySize, jitter);
      const qs = quadratics(samples, k);
      const qMin = Math.min(...qs.map((e) => e.q));
      const weights = qs.map((e) => Math.exp(-0.5 * (e.q - qMin)));
      const sum = weights.reduce((a, b) => a + b, 0);
      const o = (Y * W + X) * 4;
      const out = [0, 1, 2].map(
        (c) => samples.reduce((a, s, n) => a + weights[n]! * color.data[s.index * 4 + c]!, 0) / sum,
      );
      // d out / d q_n = −½ w_n (color_n − out) / sum; q_min cancels in the normalisation.
      let dSigma1 = 0;
      let dSigma2 = 0;
      let dTheta = 0;
      const inv1 = 1 / (k.sigma1 * k.sigma1);
      const inv2 = 1 / (k.sigma2 * k.sigma2);
      samples.forEach((s, n) => {
        let g = 0;
        for (let c = 0; c < 3; c++)
          g += dFiltered[o + c]! * (color.data[s.index * 4 + c]! - out[c]!);
        const dq = (-0.5 * weights[n]! * g) / sum;
        const { u, v } = qs[n]!;
        dSigma1 += (dq * (-2 * u * u * inv1)) / k.sigma1;
        dSigma2 += (dq * (-2 * v * v * inv2)) / k.sigma2;
        dTheta += dq * 2 * u * v * (inv1 - inv2);
      });
      const p = Y * raw.width + X;
      dRaw[p] = dSigma1 * sigmoid(r[0]!);
      dRaw[plane + p] = dSigma2 * sigmoid(r[1]!);
      dRaw[2 * plane + p] = dTheta;
      // α_c depends on α alone (the coverage on the jitter and the sizes): dα_c/dr3 = slope·α(1 − α).
      const coverage =
        coveragePower > 0 ? coverageOf(samples, [color.width, color.height], displaySize) : 1;
      const { slope } = coverageAlpha(k.alpha, coverage, coveragePower);
      dRaw[3 * plane + p] = dFiltered[o + 3]! * slope * k.alpha * (1 - k.alpha);
      for (let c = 0; c < 4; c++) {
        const t = k.recurrent[c]!;
        dRaw[(4 + c) * plane + p] = dState[o + c]! * (1 - t * t);
      }
      if (dBetaRaw) dRaw[8 * plane + p] = dBetaRaw[Y * W + X]!;
    }
  }
  return dRaw;
}

/** Gradients of the blend. */
export interface BlendGrads {
  /** dLoss/d(filtered rgb), dLoss/dα in a. */
  readonly filtered: Float64Array;
  /** dLoss/d(reprojected history rgb). */
  readonly history: Float64Array;
  /** dLoss/d(raw channel 8), one value per display pixel. */
  readonly betaRaw: Float64Array;
}

/** Backward of `blendCpu`; `dOut` is dLoss/d(new history rgb) (vec4, a ignored). */
export function blendBackwardCpu(
  filtered: Vec4Image,
  history: Vec4Image,
  context: BlendContext,
  dOut: Real,
): BlendGrads {
  const { width, height } = filtered;
  const n = width * height;
  const dFiltered = new Float64Array(n * 4);
  const dHistory = new Float64Array(n * 4);
  const dBetaRaw = new Float64Array(n);
  for (let Y = 0; Y < height; Y++) {
    for (let X = 0; X < width; X++) {
      const i = Y * width + X;
      const valid = historyValid(history, i, context.reset);
      const alpha = valid ? filtered.data[i * 4 + 3]! : 0;
      const r = valid ? rectify(history, context, X, Y) : undefined;
      let dAlpha = 0;
      let dBeta = 0;
      for (let c = 0; c < 3; c++) {
        const g = dOut[i * 4 + c]!;
        dFiltered[i * 4 + c] = (1 - alpha) * g;
        if (!r) continue;
        dAlpha += g * (r.kept[c]! - filtered.data[i * 4 + c]!);
        dBeta += alpha * g * (r.h[c]! - r.clamped[c]!);
      }
      for (let c = 0; r && c < 3; c++) {
        // A non-finite history channel reads as 0 and gets no gradient; the clamp passes the
        // gradient only inside the box; the guarded share β_g = σ·g moves with h through g.
        if (Number.isFinite(history.data[i * 4 + c]!)) {
          const through = r.beta + (1 - r.beta) * (r.inside[c] ? 1 : 0);
          dHistory[i * 4 + c] =
            alpha * dOut[i * 4 + c]! * through + dBeta * r.sigma * r.guardSlope[c]!;
        }
      }
      dFiltered[i * 4 + 3] = dAlpha;
      if (r) dBetaRaw[i] = dBeta * r.guard * r.sigma * (1 - r.sigma);
    }
  }
  return { filtered: dFiltered, history: dHistory, betaRaw: dBetaRaw };
}

/** Gradients reaching the previous frame's history (rgb) and state through the reprojection. */
export interface PreviousGrads {
  readonly history: Float64Array;
  readonly state: Float64Array;
}

/**
 * Backward of the reproject pass (src/reference/reproject.ts) w.r.t. the previous history rgb and
 * state, for fixed motion: the transpose of its sampling. Catmull-Rom taps get w_x·w_y of the
 * gradient; where the clamp to the four nearest taps' range was active, the whole gradient goes to
 * the clamping tap. Clamp-to-edge addresses fold onto the edge pixels. Invalid pixels pass none.
 * With `historyScale` ≠ 1 (an exposure change) the gradient first goes back through the rescale of
 * the sampled color (`rescaleTonemappedBackward`).
 */
export function reprojectBackwardCpu(
  motion: Vec4Image,
  previousHistory: Vec4Image,
  reset: boolean,
  dHistory: Real,
  dState: Real,
  historyScale = 1,
): PreviousGrads {
  const { width, height } = previousHistory;
  const gHistory = new Float64Array(width * height * 4);
  const gState = new Float64Array(width * height * 4);
  if (reset) return { history: gHistory, state: gState };
  const index = (x: number, y: number) =>
    Math.min(Math.max(y, 0), height - 1) * width + Math.min(Math.max(x, 0), width - 1);
  forEachReprojectedPixel(motion, width, height, (x, y, x0, y0, fx, fy) => {
    const o = (y * width + x) * 4;
    const wx = catmullRomWeights(fx);
    const wy = catmullRomWeights(fy);
    const nearest = [index(x0, y0), index(x0 + 1, y0), index(x0, y0 + 1), index(x0 + 1, y0 + 1)];
    // Per channel: the clamping tap (-1 where the clamp is inactive) and the sampled value.
    const clampTap: number[] = [];
    const sampled: number[] = [];
    for (let c = 0; c < 3; c++) {
      let sum = 0;
      for (let j = 0; j < 4; j++) {
        for (let i = 0; i < 4; i++) {
          sum += wx[i]! * wy[j]! * previousHistory.data[index(x0 - 1 + i, y0 - 1 + j) * 4 + c]!;
        }
      }
      const values = nearest.map((n) => previousHistory.data[n * 4 + c]!);
      const lo = Math.min(...values);
      const hi = Math.max(...values);
      const clamped = sum < lo || sum > hi;
      clampTap.push(clamped ? nearest[values.indexOf(sum < lo ? lo : hi)]! : -1);
      sampled.push(Math.min(Math.max(sum, lo), hi));
    }
    const upstream = [0, 1, 2].map((c) => dHistory[o + c]!);
    const gSampled =
      historyScale === 1
        ? upstream
        : rescaleTonemappedBackward(sampled, historyScale, MAX_COLOR, upstream);
    for (let c = 0; c < 3; c++) {
      const g = gSampled[c]!;
      if (clampTap[c]! >= 0) {
        gHistory[clampTap[c]! * 4 + c]! += g;
        continue;
      }
      for (let j = 0; j < 4; j++) {
        for (let i = 0; i < 4; i++) {
          gHistory[index(x0 - 1 + i, y0 - 1 + j) * 4 + c]! += wx[i]! * wy[j]! * g;
        }
      }
    }
    const bilinear = [(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy];
    for (let c = 0; c < 4; c++) {
      for (let n = 0; n < 4; n++) gState[nearest[n]! * 4 + c]! += bilinear[n]! * dState[o + c]!;
    }
  });
  return { history: gHistory, state: gState };
}

/** Gradients of one neural frame. */
export interface NeuralFrameGrads {
  /** dLoss/d(parameter) by name. */
  readonly parameters: Map<string, Float64Array>;
  /** dLoss/d(reprojected history rgb, state) (vec4, display size). */
  readonly reprojected: ReprojectedGrads;
}

/**
 * Backward of `neuralFrameCpu` (f64): from dLoss/d(new history rgb) and dLoss/d(new state) (vec4,
 * display size) to the parameters and the reprojected history and state (which
 * `reprojectBackwardCpu` carries on to the previous frame).
 */
export function neuralFrameBackwardCpu(
  model: NeuralModel,
  inputs: FeatureInputs,
  params: NeuralFrameParams,
  frame: NeuralFrameCpu<Real>,
  dHistoryOut: Real,
  dStateOut: Real,
): NeuralFrameGrads {
  const size: Size = [inputs.history.width, inputs.history.height];
  const blend = blendBackwardCpu(
    frame.filter.filtered,
    inputs.history,
    {
      color: inputs.color,
      raw: frame.raw,
      reset: params.reset,
      historyGuard: params.historyGuard ?? model.graph.historyGuard,
    },
    dHistoryOut,
  );
  const dRaw = kpnFilterBackwardCpu(
    frame.raw,
    inputs.color,
    size,
    params.jitter,
    blend.filtered,
    dStateOut,
    blend.betaRaw,
    params.coverageBlend ?? model.graph.coverageBlend ?? 0,
  );
  const activations = runNetworkCpu(model.graph, model.parameters, frame.features).tensors;
  const network = networkBackwardCpu(
    model.graph,
    model.parameters,
    activations,
    new Map([[model.graph.outputs[0]!, dRaw]]),
  );
  const dFeatures = network.inputs.get(model.graph.inputs[0]!.name)!;
  const features = assembleFeaturesBackwardCpu(inputs, params, dFeatures);
  for (let i = 0; i < blend.history.length; i++) features.history[i]! += blend.history[i]!;
  return { parameters: network.params, reprojected: features };
}
