/**
 * ꟻLIP, LDR version (Andersson, Nilsson, Akenine-Möller, Oskarsson, Åström, Fairchild, "ꟻLIP: A
 * Difference Evaluator for Alternating Images", HPG 2020), written from the paper.
 *
 * Input domain: our tonemapped display domain (see display.ts). LDR-ꟻLIP takes sRGB-encoded
 * images and its first step decodes them to linear RGB; encoding the tonemapped values to sRGB and
 * decoding them again is the identity, so the tonemapped linear RGB enters that linear stage
 * directly.
 *
 * Per pixel, with p pixels per degree of visual angle (default: a 0.7 m wide 3840-pixel monitor
 * seen from 0.7 m, ≈ 67.02):
 * 1. Colour pipeline. Linear RGB → XYZ (D65) → YyCxCz (the linearized L*a*b*:
 *    y = 116·Y/Yn − 16, cx = 500·(X/Xn − Y/Yn), cz = 200·(Y/Yn − Z/Zn)). Each channel is filtered
 *    with its contrast sensitivity function, a sum of Gaussians a·√(π/b)·exp(−π²d²/b) of the
 *    distance d in degrees (achromatic a1 = 1, b1 = 0.0047; red-green a1 = 1, b1 = 0.0053;
 *    blue-yellow a1 = 34.1, b1 = 0.04, a2 = 13.5, b2 = 0.025), over a square of radius
 *    ceil(3·√(0.04 / 2π²)·p) pixels, normalized to sum 1, clamp-to-edge borders. The filtered
 *    image goes back to linear RGB, is clamped to [0, 1], then to CIE L*a*b*, Hunt-adjusted
 *    (a, b scaled by 0.01·L). ΔE = HyAB distance |ΔL| + √(Δa² + Δb²), raised to q_c = 0.7 and
 *    redistributed to [0, 1] against cmax = HyAB(green, blue)^q_c with p_c = 0.4, p_t = 0.95:
 *    e < p_c·cmax → e·p_t / (p_c·cmax), else p_t + (e − p_c·cmax) / (cmax − p_c·cmax) · (1 − p_t).
 * 2. Feature pipeline, on the unfiltered normalized luminance Y/Yn: edges (first derivative of a
 *    Gaussian) and points (second derivative), σ = ½·w·p with w = 0.082°, radius ceil(3σ), each
 *    kernel's positive weights normalized to sum 1 and negative ones to −1, applied along x and
 *    along y; Δf = max(| |edge_test| − |edge_ref| |, | |point_test| − |point_ref| |) and
 *    ΔE_f = (Δf / √2)^q_f with q_f = 0.5.
 * 3. ꟻLIP = ΔE_c^(1 − ΔE_f), in [0, 1]; the reported value is the mean over the image.
 *
 * LDR-ꟻLIP treats its two inputs alike (every step above is symmetric in them); the asymmetry the
 * ꟻLIP papers mention belongs to HDR-ꟻLIP, whose exposure range comes from the reference alone.
 * Here both are symmetric up to rounding. Test pixels that were NaN/Inf score 1.
 */
import { createImage, type Image } from '../core/image.ts';
import { toDisplayPair, type DisplayPair } from './display.ts';
import { convolveColumns, convolveRows } from './filter.ts';

/** Pixels per degree of a monitor `width` m wide with `pixels` columns, seen from `distance` m. */
export function pixelsPerDegree(distance: number, width: number, pixels: number): number {
  return ((distance * pixels) / width) * (Math.PI / 180);
}

/** ꟻLIP's default viewing condition: 0.7 m wide, 3840 pixels, 0.7 m away (≈ 67.02 px/°). */
export const FLIP_DEFAULT_PPD = pixelsPerDegree(0.7, 0.7, 3840);

export interface FlipOptions {
  /** Pixels per degree of visual angle. Default FLIP_DEFAULT_PPD. */
  pixelsPerDegree?: number;
}

/** Mean ꟻLIP and the per-pixel error map (one channel, values in [0, 1]). */
export interface FlipResult {
  mean: number;
  map: Image;
}

// Linear sRGB (D65) ↔ CIE XYZ, IEC 61966-2-1 primaries; the white is the image of RGB (1, 1, 1).
// prettier-ignore
const RGB_TO_XYZ = [
  0.4124564, 0.3575761, 0.1804375,
  0.2126729, 0.7151522, 0.072175,
  0.0193339, 0.119192, 0.9503041,
];
// prettier-ignore
const XYZ_TO_RGB = [
  3.2404542, -1.5371385, -0.4985314,
  -0.969266, 1.8760108, 0.041556,
  0.0556434, -0.2040259, 1.0572252,
];
const [XN, YN, ZN] = [0, 1, 2].map(
  (r) => RGB_TO_XYZ[r * 3]! + RGB_TO_XYZ[r * 3 + 1]! + RGB_TO_XYZ[r * 3 + 2]!,
) as [number, number, number];

const Q_C = 0.7;
const Q_F = 0.5;
const P_C = 0.4;
const P_T = 0.95;
/** Peak-to-trough width of the edge detector, in degrees (2σ). */
const FEATURE_WIDTH_DEG = 0.082;
/** CSF sum-of-Gaussians parameters [a1, b1, a2, b2] per opponent channel. */
const CSF = {
  achromatic: [1, 0.0047, 0, 1e-5],
  redGreen: [1, 0.0053, 0, 1e-5],
  blueYellow: [34.1, 0.04, 13.5, 0.025],
} as const;
/** The widest Gaussian of all channels sets the CSF filter radius. */
const CSF_MAX_B = Math.max(
  CSF.achromatic[1],
  CSF.redGreen[1],
  CSF.blueYellow[1],
  CSF.blueYellow[3],
);

const LAB_EPSILON = (6 / 29) ** 3;
const LAB_SLOPE = 1 / (3 * (6 / 29) ** 2);
const labF = (t: number) => (t > LAB_EPSILON ? Math.cbrt(t) : t * LAB_SLOPE + 4 / 29);

/** Hunt-adjusted L*a*b* of a linear RGB colour, written into out[o..o+2]. */
function huntLab(r: number, g: number, b: number, out: Float32Array | number[], o: number): void {
  const fx = labF((RGB_TO_XYZ[0]! * r + RGB_TO_XYZ[1]! * g + RGB_TO_XYZ[2]! * b) / XN);
  const fy = labF((RGB_TO_XYZ[3]! * r + RGB_TO_XYZ[4]! * g + RGB_TO_XYZ[5]! * b) / YN);
  const fz = labF((RGB_TO_XYZ[6]! * r + RGB_TO_XYZ[7]! * g + RGB_TO_XYZ[8]! * b) / ZN);
  const L = 116 * fy - 16;
  out[o] = L;
  out[o + 1] = 0.01 * L * 500 * (fx - fy);
  out[o + 2] = 0.01 * L * 200 * (fy - fz);
}

function hyab(p: ArrayLike<number>, q: ArrayLike<number>, i: number): number {
  const da = p[i + 1]! - q[i + 1]!;
  const db = p[i + 2]! - q[i + 2]!;
  return Math.abs(p[i]! - q[i]!) + Math.sqrt(da * da + db * db);
}

/** cmax = HyAB(green, blue)^q_c in Hunt-adjusted L*a*b*. */
const CMAX = (() => {
  const green: number[] = [];
  const blue: number[] = [];
  huntLab(0, 1, 0, green, 0);
  huntLab(0, 0, 1, blue, 0);
  return Math.pow(hyab(green, blue, 0), Q_C);
})();

/** One CSF term: a normalized 1D Gaussian (applied along x and y) and its weight in the sum. */
interface CsfTerm {
  kernel: Float64Array;
  weight: number;
}

interface FlipKernels {
  /** CSF filter of each opponent channel (y, cx, cz) as a weighted sum of separable Gaussians. */
  csf: [CsfTerm[], CsfTerm[], CsfTerm[]];
  /** Feature detectors: the smoothing Gaussian across, and the 1st/2nd derivatives along. */
  featureGauss: Float64Array;
  edge: Float64Array;
  point: Float64Array;
}

const kernelCache = new Map<number, FlipKernels>();

/** The 2D CSF kernel Σ aᵢ√(π/bᵢ)·gᵢ(x)gᵢ(y), normalized, split into separable normalized terms. */
function csfTerms(params: readonly number[], radius: number, ppd: number): CsfTerm[] {
  const terms: CsfTerm[] = [];
  let total = 0;
  for (let t = 0; t < 2; t++) {
    const a = params[2 * t]!;
    const b = params[2 * t + 1]!;
    if (a === 0) continue;
    const kernel = new Float64Array(2 * radius + 1);
    let sum = 0;
    for (let x = -radius; x <= radius; x++) {
      const d = x / ppd;
      sum += kernel[x + radius] = Math.exp((-Math.PI * Math.PI * d * d) / b);
    }
    for (let i = 0; i < kernel.length; i++) kernel[i]! /= sum;
    // The 2D term sums to a·√(π/b)·sum²; its share of the normalized kernel is that over the total.
    const weight = a * Math.sqrt(Math.PI / b) * sum * sum;
    total += weight;
    terms.push({ kernel, weight });
  }
  for (const term of terms) term.weight /= total;
  return terms;
}

/** A 1D kernel with positive weights scaled to sum 1 and negative ones to sum −1. */
function balanceSigns(k: Float64Array): Float64Array {
  let pos = 0;
  let neg = 0;
  for (const v of k) {
    if (v > 0) pos += v;
    else neg -= v;
  }
  return k.map((v) => (v > 0 ? v / pos : v / neg));
}

function flipKernels(ppd: number): FlipKernels {
  let kernels = kernelCache.get(ppd);
  if (kernels) return kernels;
  const csfRadius = Math.ceil(3 * Math.sqrt(CSF_MAX_B / (2 * Math.PI * Math.PI)) * ppd);
  const sigma = 0.5 * FEATURE_WIDTH_DEG * ppd;
  const r = Math.ceil(3 * sigma);
  const gauss = new Float64Array(2 * r + 1);
  const edge = new Float64Array(2 * r + 1);
  const point = new Float64Array(2 * r + 1);
  let gsum = 0;
  for (let x = -r; x <= r; x++) {
    const g = Math.exp(-(x * x) / (2 * sigma * sigma));
    gauss[x + r] = g;
    gsum += g;
    edge[x + r] = -x * g;
    point[x + r] = ((x * x) / (sigma * sigma) - 1) * g;
  }
  kernels = {
    csf: [
      csfTerms(CSF.achromatic, csfRadius, ppd),
      csfTerms(CSF.redGreen, csfRadius, ppd),
      csfTerms(CSF.blueYellow, csfRadius, ppd),
    ],
    featureGauss: gauss.map((g) => g / gsum),
    edge: balanceSigns(edge),
    point: balanceSigns(point),
  };
  kernelCache.set(ppd, kernels);
  return kernels;
}

/** Per-image intermediate results: Hunt-adjusted L*a*b* after the CSF, feature magnitudes. */
interface FlipImageFeatures {
  lab: Float32Array;
  edge: Float32Array;
  point: Float32Array;
}

function analyseImage(
  rgb: Float32Array,
  width: number,
  height: number,
  kernels: FlipKernels,
): FlipImageFeatures {
  const n = width * height;
  const opponent = [new Float32Array(n), new Float32Array(n), new Float32Array(n)] as const;
  const lum = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = rgb[i * 3]!;
    const g = rgb[i * 3 + 1]!;
    const b = rgb[i * 3 + 2]!;
    const x = (RGB_TO_XYZ[0]! * r + RGB_TO_XYZ[1]! * g + RGB_TO_XYZ[2]! * b) / XN;
    const y = (RGB_TO_XYZ[3]! * r + RGB_TO_XYZ[4]! * g + RGB_TO_XYZ[5]! * b) / YN;
    const z = (RGB_TO_XYZ[6]! * r + RGB_TO_XYZ[7]! * g + RGB_TO_XYZ[8]! * b) / ZN;
    lum[i] = y;
    opponent[0][i] = 116 * y - 16;
    opponent[1][i] = 500 * (x - y);
    opponent[2][i] = 200 * (y - z);
  }
  // CSF filtering of each opponent channel: weighted sum of separable Gaussian passes.
  const rows = new Float32Array(n);
  const pass = new Float32Array(n);
  const filtered = opponent.map((channel, c) => {
    const out = new Float32Array(n);
    for (const { kernel, weight } of kernels.csf[c]!) {
      convolveRows(channel, width, height, kernel, rows);
      convolveColumns(rows, width, height, kernel, pass);
      for (let i = 0; i < n; i++) out[i]! += weight * pass[i]!;
    }
    return out;
  });
  // Back to linear RGB, clamp to the unit cube, to Hunt-adjusted L*a*b*.
  const lab = new Float32Array(n * 3);
  const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);
  for (let i = 0; i < n; i++) {
    const y = (filtered[0]![i]! + 16) / 116;
    const x = (y + filtered[1]![i]! / 500) * XN;
    const z = (y - filtered[2]![i]! / 200) * ZN;
    const yy = y * YN;
    const r = clamp01(XYZ_TO_RGB[0]! * x + XYZ_TO_RGB[1]! * yy + XYZ_TO_RGB[2]! * z);
    const g = clamp01(XYZ_TO_RGB[3]! * x + XYZ_TO_RGB[4]! * yy + XYZ_TO_RGB[5]! * z);
    const b = clamp01(XYZ_TO_RGB[6]! * x + XYZ_TO_RGB[7]! * yy + XYZ_TO_RGB[8]! * z);
    huntLab(r, g, b, lab, i * 3);
  }
  // Features: smooth across, differentiate along; x and y share nothing but the input.
  const { featureGauss, edge: de, point: dp } = kernels;
  const edgeMag = new Float32Array(n);
  const pointMag = new Float32Array(n);
  const smoothed = convolveColumns(lum, width, height, featureGauss, new Float32Array(n));
  const ex = convolveRows(smoothed, width, height, de, new Float32Array(n));
  const px = convolveRows(smoothed, width, height, dp, new Float32Array(n));
  convolveRows(lum, width, height, featureGauss, smoothed);
  const ey = convolveColumns(smoothed, width, height, de, rows);
  const py = convolveColumns(smoothed, width, height, dp, pass);
  for (let i = 0; i < n; i++) {
    // sqrt, not Math.hypot: hypot is several times slower and overflow cannot happen here.
    edgeMag[i] = Math.sqrt(ex[i]! * ex[i]! + ey[i]! * ey[i]!);
    pointMag[i] = Math.sqrt(px[i]! * px[i]! + py[i]! * py[i]!);
  }
  return { lab, edge: edgeMag, point: pointMag };
}

/** ꟻLIP of a display pair (tonemapped linear RGB). */
export function displayFlip(pair: DisplayPair, options: FlipOptions = {}): FlipResult {
  const { mean, map } = scoreFlip(pair, options);
  return { mean, map };
}

/**
 * ꟻLIP and its parts, for finding where an error comes from: `colorMean` is the mean of the colour
 * term alone (ΔE_c, as if the features agreed), `edge` and `point` the mean feature magnitudes of
 * test and reference (a test blurrier than its reference has smaller ones).
 */
export interface FlipParts extends FlipResult {
  colorMean: number;
  edge: { test: number; ref: number };
  point: { test: number; ref: number };
}

/** ꟻLIP of a display pair with its parts (see FlipParts). */
export function displayFlipParts(pair: DisplayPair, options: FlipOptions = {}): FlipParts {
  return scoreFlip(pair, options);
}

/**
 * ꟻLIP with its parts of several tests against one reference (tonemapped RGB, width × height),
 * the reference analysed once: for scoring variants of an output (mixes, bands) against it.
 * `invalid` marks the test's non-finite pixels as a DisplayPair does (default none).
 */
export function flipAgainst(
  ref: Float32Array,
  width: number,
  height: number,
  options: FlipOptions = {},
): (test: Float32Array, invalid?: Uint8Array) => FlipParts {
  const ppd = options.pixelsPerDegree ?? FLIP_DEFAULT_PPD;
  if (!Number.isFinite(ppd) || ppd <= 0) {
    throw new RangeError(`flip: pixelsPerDegree must be a positive number, got ${ppd}`);
  }
  const kernels = flipKernels(ppd);
  const r = analyseImage(ref, width, height, kernels);
  return (test, invalid) =>
    scoreAnalysed(analyseImage(test, width, height, kernels), r, width, height, invalid);
}

function scoreFlip(pair: DisplayPair, options: FlipOptions): FlipParts {
  return flipAgainst(pair.ref, pair.width, pair.height, options)(pair.test, pair.invalid);
}

function scoreAnalysed(
  t: FlipImageFeatures,
  r: FlipImageFeatures,
  width: number,
  height: number,
  invalid: Uint8Array | undefined,
): FlipParts {
  const n = width * height;
  const map = createImage(width, height, 1);
  const pccmax = P_C * CMAX;
  let sum = 0;
  let colorSum = 0;
  for (let i = 0; i < n; i++) {
    let e: number;
    if (invalid?.[i]) {
      e = 1;
      colorSum += 1;
    } else {
      const dc = Math.pow(hyab(t.lab, r.lab, i * 3), Q_C);
      const color =
        dc < pccmax ? (dc * P_T) / pccmax : P_T + ((dc - pccmax) / (CMAX - pccmax)) * (1 - P_T);
      colorSum += color;
      const df = Math.max(Math.abs(t.edge[i]! - r.edge[i]!), Math.abs(t.point[i]! - r.point[i]!));
      // df ≤ √2 in exact arithmetic; the min keeps rounding from turning 0^0 into 0^(−ε) = ∞.
      e = Math.pow(color, 1 - Math.min(1, Math.pow(df / Math.SQRT2, Q_F)));
    }
    map.data[i] = e;
    sum += e;
  }
  const meanOf = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / n;
  return {
    mean: sum / n,
    map,
    colorMean: colorSum / n,
    edge: { test: meanOf(t.edge), ref: meanOf(r.edge) },
    point: { test: meanOf(t.point), ref: meanOf(r.point) },
  };
}

/** Mean ꟻLIP (LDR) of test against ref in the tonemapped display domain, and the error map. */
export function flip(test: Image, ref: Image, options: FlipOptions = {}): FlipResult {
  return displayFlip(toDisplayPair(test, ref, 'flip'), options);
}
