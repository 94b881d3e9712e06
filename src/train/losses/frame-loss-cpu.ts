/**
 * CPU reference of the training loss (DESIGN §7), in the tonemapped domain, on vec4 images
 * (width·height·4 interleaved, the GpuImage layout; only RGB counts). With e = output − reference:
 *
 * - **l1**: mean |e| over pixels and RGB;
 * - **gradient** (the structural term): mean |∂x e| + |∂y e| over all horizontal and vertical
 *   neighbour pairs — an L1 on image gradients. Chosen over SSIM: its gradient is a few signs,
 *   it has no windows or divisions, and it punishes blur and lost edges just as directly;
 * - **temporal**: mean |e_t − e_{t−1}| (the change of the error between consecutive frames), so
 *   flicker that the reference does not have costs, and a steady error costs nothing extra;
 * - **stale**: mean s·|e| over pixels and RGB, s the pixel's history staleness (./staleness-cpu.ts:
 *   1 where the previous frame's reference, moved by the motion, cannot give this frame's). The
 *   l1 error once more where keeping history leaves a ghost: disocclusions and objects whose
 *   motion vectors miss (skinned limbs) are few pixels of a clip, and this term lets them count;
 * - **mse**: mean e² over pixels and RGB, the squared error the evaluation's PSNR averages (in
 *   the same tonemapped domain): L1 pulls towards the median of what the inputs allow, this term
 *   towards the mean, which is what PSNR rewards. Its gradient is 2e, about 1/25 of l1's at
 *   typical errors (0.02), so a weight near 25 makes it count as much as l1.
 * - **srgb**: mean |srgb(o) − srgb(r)| over pixels and RGB, srgb the sRGB encoding of the tonemapped
 *   value (12.92·v below 0.0031308, else 1.055·v^(1/2.4) − 0.055; the linear segment extends below
 *   0): the L1 error as a display's viewer weighs it. The other terms weigh an error the same on a
 *   dark and on a bright pixel; ꟻLIP's L*a*b*, like the eye, weighs dark ones several times more,
 *   and a network trained in the linear domain learns to give dark regions away (QUALITY §4,
 *   "ꟻLIP's anatomy"). Its gradient is srgb'(o)·sign: 12.92 near black, ~2.5 at 0.05, ~0.9 at
 *   0.3, 0.44 at 1.
 *
 * The total is the weighted sum. Every term's gradient is returned wrt the current output and,
 * for the temporal term, wrt the previous output (BPTT carries it to the previous frame).
 */
import type { Real } from '../../core/tensor.ts';

/** The loss terms, in the order the GPU loss stores their values. */
export const LOSS_TERMS = ['l1', 'gradient', 'temporal', 'stale', 'mse', 'srgb'] as const;
export type LossTerm = (typeof LOSS_TERMS)[number];

/** Weights of the loss terms. */
export type LossWeights = { readonly [term in LossTerm]: number };

/** The weights we train with unless a config says otherwise (no stale, mse or srgb term: opt in). */
export const DEFAULT_LOSS_WEIGHTS: LossWeights = {
  l1: 1,
  gradient: 0.5,
  temporal: 0.5,
  stale: 0,
  mse: 0,
  srgb: 0,
};

/** The sRGB encoding, its linear segment extended below 0 (see the srgb term above). */
export function srgbEncode(v: number): number {
  return v <= 0.0031308 ? 12.92 * v : 1.055 * Math.pow(v, 1 / 2.4) - 0.055;
}

/** The derivative of srgbEncode. */
export function srgbSlope(v: number): number {
  return v <= 0.0031308 ? 12.92 : (1.055 / 2.4) * Math.pow(v, 1 / 2.4 - 1);
}

/**
 * A run's loss: the weights, and `staleOffscreen`, the staleness the stale term gives pixels whose
 * previous position lies off screen (./staleness-cpu.ts; 1 counts them as disocclusions, 0
 * leaves them to the other terms).
 */
export type LossConfig = LossWeights & { readonly staleOffscreen: number };

export const DEFAULT_LOSS_CONFIG: LossConfig = { ...DEFAULT_LOSS_WEIGHTS, staleOffscreen: 1 };

/** Every weight times `factor` (spreading a clip's weights over its frames, or a step's clips). */
export function scaleLossWeights(weights: LossWeights, factor: number): LossWeights {
  return Object.fromEntries(LOSS_TERMS.map((t) => [t, weights[t] * factor])) as LossWeights;
}

/** Values of the loss terms (already weighted) and their sum. */
export type LossValues = { readonly [term in LossTerm | 'total']: number };

export interface FrameLossCpuResult extends LossValues {
  /** ∂total/∂output, vec4 layout (alpha 0). */
  readonly gradOutput: Float64Array;
  /** ∂total/∂previousOutput (only with a previous frame). */
  readonly gradPreviousOutput?: Float64Array;
}

/** Consecutive frames for the temporal term. */
export interface PreviousFrame {
  readonly output: Real;
  readonly reference: Real;
  /** This frame's history staleness per pixel (./staleness-cpu.ts): enables the stale term. */
  readonly staleness?: Real;
}

/** Normalisers of the terms (LOSS_TERMS order): 1 / number of values averaged. */
export function lossNormalizers(
  width: number,
  height: number,
): [number, number, number, number, number, number] {
  const pairs = (width - 1) * height + width * (height - 1);
  const values = 1 / (3 * width * height);
  return [values, pairs > 0 ? 1 / (3 * pairs) : 0, values, values, values, values];
}

/**
 * Loss of one frame and its gradient. `previous` enables the temporal term, and its `staleness`
 * the stale term.
 */
export function frameLossCpu(
  width: number,
  height: number,
  output: Real,
  reference: Real,
  weights: LossWeights,
  previous?: PreviousFrame,
): FrameLossCpuResult {
  const n = width * height * 4;
  for (const [name, a] of [
    ['output', output],
    ['reference', reference],
    ['previous output', previous?.output],
    ['previous reference', previous?.reference],
  ] as const) {
    if (a && a.length !== n) throw new RangeError(`loss ${name} has ${a.length} values, want ${n}`);
  }
  const staleness = previous?.staleness;
  if (staleness && staleness.length !== width * height) {
    throw new RangeError(`loss staleness has ${staleness.length} values, want ${width * height}`);
  }
  const [nL1, nGrad, nTemp, nStale, nMse, nSrgb] = lossNormalizers(width, height);
  const e = (i: number) => output[i]! - reference[i]!;
  const gradOutput = new Float64Array(n);
  const gradPreviousOutput = previous ? new Float64Array(n) : undefined;
  let l1 = 0;
  let gradient = 0;
  let temporal = 0;
  let stale = 0;
  let mse = 0;
  let srgb = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) {
        const i = p + c;
        const ei = e(i);
        l1 += Math.abs(ei);
        gradOutput[i]! += weights.l1 * nL1 * Math.sign(ei);
        mse += ei * ei;
        gradOutput[i]! += weights.mse * nMse * 2 * ei;
        const ds = srgbEncode(output[i]!) - srgbEncode(reference[i]!);
        srgb += Math.abs(ds);
        gradOutput[i]! += weights.srgb * nSrgb * Math.sign(ds) * srgbSlope(output[i]!);
        // Each pixel owns the pairs to its right and below.
        for (const j of [x + 1 < width ? i + 4 : -1, y + 1 < height ? i + 4 * width : -1]) {
          if (j < 0) continue;
          const d = e(j) - ei;
          gradient += Math.abs(d);
          gradOutput[j]! += weights.gradient * nGrad * Math.sign(d);
          gradOutput[i]! -= weights.gradient * nGrad * Math.sign(d);
        }
        if (previous) {
          const d = ei - (previous.output[i]! - previous.reference[i]!);
          temporal += Math.abs(d);
          gradOutput[i]! += weights.temporal * nTemp * Math.sign(d);
          gradPreviousOutput![i]! -= weights.temporal * nTemp * Math.sign(d);
        }
        if (staleness) {
          const s = staleness[y * width + x]!;
          stale += s * Math.abs(ei);
          gradOutput[i]! += weights.stale * nStale * s * Math.sign(ei);
        }
      }
    }
  }
  const values = {
    l1: weights.l1 * nL1 * l1,
    gradient: weights.gradient * nGrad * gradient,
    temporal: weights.temporal * nTemp * temporal,
    stale: weights.stale * nStale * stale,
    mse: weights.mse * nMse * mse,
    srgb: weights.srgb * nSrgb * srgb,
  };
  return {
    ...values,
    total: LOSS_TERMS.reduce((sum, term) => sum + values[term], 0),
    gradOutput,
    ...(gradPreviousOutput ? { gradPreviousOutput } : {}),
  };
}
