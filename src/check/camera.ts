/**
 * Depth and camera against the motion of static surfaces. Between two frames a static surface
 * moves only because the camera does: unproject a pixel with its depth and the stated lens (near,
 * far, fovY), move it by one rigid camera motion (rotation and translation), project it again,
 * and the motion vector must be the difference. So the check fits, per frame pair, the camera
 * motion that best explains the vectors (robustly: moving objects are outliers), and compares the
 * leftover error under the stated lens with the error under other lenses: a vertical field of view
 * scaled by some factor, a far plane scaled by some factor (only near/far's ratio is observable;
 * the absolute scale goes into the fitted translation). A lens that fits much better than the
 * stated one names the setting to change.
 *
 * What it cannot see: fovY while the camera neither rotates nor moves sideways, far while the
 * camera does not translate (a pure rotation moves every depth alike), and a far plane larger than
 * stated once it is far beyond every surface (all such far planes give the same depths).
 */
import type { FrameImages, FrameParams } from '../core/frame.ts';
import { viewDepth } from '../reference/prepare.ts';

/** Samples per frame pair (a grid over the render image). */
export const CAMERA_SAMPLES = 500;
/** Fewer samples than this (mostly sky) leave the lens unchecked. */
const MIN_SAMPLES = 24;
/** The residual statistic keeps this share of the samples (the best-fitting ones). */
const INLIER_SHARE = 0.7;
/** Candidate factors for fovY: 2^(k/8), k = −8..8 (×0.5 … ×2). */
export const FOV_SCALES = Array.from({ length: 17 }, (_, k) => 2 ** ((k - 8) / 8));
/** Candidate factors for the far plane. */
export const FAR_SCALES = [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 100, Infinity];
/** A candidate within this factor of the best residual (plus CAMERA_NOISE px) ties with it. */
const TIE_RATIO = 1.1;
/** Residual (render px) below which two lenses are equally good: vector precision (f16 ≈ 0.01 px). */
export const CAMERA_NOISE = 0.02;

/** One sample: where frame t saw the surface (render px, jitter included), its depth and vector. */
interface Sample {
  readonly sx: number;
  readonly sy: number;
  readonly depth: number;
  /** Motion in UV, motionScale applied. */
  readonly mx: number;
  readonly my: number;
}

/** The lens of a frame pair under test. */
interface Lens {
  readonly near: number;
  readonly far: number;
  readonly fovY: number;
  /** Frame t − 1's fovY (a zoom changes it between frames). */
  readonly previousFovY: number;
}

export interface CameraPair {
  readonly frame: number;
  readonly width: number;
  readonly height: number;
  readonly depthInverted: boolean;
  readonly samples: readonly Sample[];
  readonly lens: Lens;
  /** Trimmed mean length of the vectors (render px): how much there is to explain. */
  readonly motionPixels: number;
}

export interface LensCandidate {
  readonly fovYScale: number;
  readonly farScale: number;
  /** Trimmed mean residual over the pairs (render px) after the camera-motion fit. */
  readonly residual: number;
}

export interface CameraConsistency {
  /** The stated lens's fit. */
  readonly stated: LensCandidate;
  /** The best lens found (a grid over fovY and far, then refined). */
  readonly best: LensCandidate;
  /** The lens the check would suggest: the one nearest the stated among those tied with the best. */
  readonly suggested: LensCandidate;
  /** Residual against the fovY factor (far as suggested) and against the far factor. */
  readonly fovCurve: readonly LensCandidate[];
  readonly farCurve: readonly LensCandidate[];
  /** Trimmed mean vector length over the pairs (render px). */
  readonly motionPixels: number;
  /** Fitted camera motion of each pair under the suggested lens (rotation in degrees). */
  readonly motions: readonly { frame: number; rotationDegrees: number; translation: number }[];
}

/** Samples of frame t for the camera fit; sky (at the far plane) and non-finite values are left out. */
export function cameraPair(
  frame: number,
  current: FrameImages,
  params: FrameParams,
  previousParams: FrameParams,
  motionScale: readonly [number, number],
  jitter: readonly [number, number],
  depthInverted: boolean,
): CameraPair {
  const { width, height } = current.depth;
  const step = Math.max(1, Math.floor(Math.sqrt((width * height) / CAMERA_SAMPLES)));
  const samples: Sample[] = [];
  const lengths: number[] = [];
  const mc = current.motion.channels;
  for (let y = step >> 1; y < height; y += step) {
    for (let x = step >> 1; x < width; x += step) {
      const i = y * width + x;
      const d = current.depth.data[i * current.depth.channels]!;
      const mx = current.motion.data[i * mc]! * motionScale[0];
      const my = current.motion.data[i * mc + 1]! * motionScale[1];
      if (!Number.isFinite(d) || !Number.isFinite(mx) || !Number.isFinite(my)) continue;
      const closeness = depthInverted ? 1 - d : d;
      // The far plane itself (sky, cleared depth) holds no surface distance.
      if (closeness <= 0 || closeness >= 1 - 1e-6) continue;
      samples.push({ sx: x + 0.5 + jitter[0], sy: y + 0.5 + jitter[1], depth: d, mx, my });
      lengths.push(Math.hypot(mx * width, my * height));
    }
  }
  return {
    frame,
    width,
    height,
    depthInverted,
    samples,
    lens: {
      near: params.cameraNear,
      far: params.cameraFar,
      fovY: params.fovY,
      previousFovY: previousParams.fovY,
    },
    motionPixels: trimmedMean(lengths),
  };
}

/** Mean of the smallest INLIER_SHARE of the values. */
function trimmedMean(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const n = Math.max(1, Math.round(sorted.length * INLIER_SHARE));
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  return sum / n;
}

/** Rotation matrix (row-major 3×3) of a rotation vector (axis · angle in radians). */
function rotation(w0: number, w1: number, w2: number): number[] {
  const a = Math.hypot(w0, w1, w2);
  if (a < 1e-12) return [1, -w2, w1, w2, 1, -w0, -w1, w0, 1];
  const [x, y, z] = [w0 / a, w1 / a, w2 / a];
  const c = Math.cos(a);
  const s = Math.sin(a);
  const t = 1 - c;
  return [
    t * x * x + c,
    t * x * y - s * z,
    t * x * z + s * y,
    t * x * y + s * z,
    t * y * y + c,
    t * y * z - s * x,
    t * x * z - s * y,
    t * y * z + s * x,
    t * z * z + c,
  ];
}

/** The view-space points of a pair's samples under a lens (camera looks down −z, y up). */
function unproject(pair: CameraPair, lens: Lens): Float64Array {
  const { width, height } = pair;
  const ty = Math.tan(lens.fovY / 2);
  const tx = ty * (width / height);
  const depth = { cameraNear: lens.near, cameraFar: lens.far, depthInverted: pair.depthInverted };
  const out = new Float64Array(pair.samples.length * 3);
  pair.samples.forEach((s, k) => {
    const z = viewDepth(s.depth, depth as Parameters<typeof viewDepth>[1]);
    out[k * 3] = ((2 * s.sx) / width - 1) * z * tx;
    out[k * 3 + 1] = (1 - (2 * s.sy) / height) * z * ty;
    out[k * 3 + 2] = -z;
  });
  return out;
}

/** A rigid camera motion: previous view point = r · current view point + t. */
export interface CameraMotion {
  /** Row-major 3×3 rotation. */
  readonly r: readonly number[];
  readonly t: readonly [number, number, number];
}

const REST: CameraMotion = { r: [1, 0, 0, 0, 1, 0, 0, 0, 1], t: [0, 0, 0] };

/** Rotation angle of a motion, in degrees. */
export function rotationDegrees(motion: CameraMotion): number {
  const trace = motion.r[0]! + motion.r[4]! + motion.r[8]!;
  return (Math.acos(Math.min(1, Math.max(-1, (trace - 1) / 2))) * 180) / Math.PI;
}

/**
 * Residuals of a camera motion (2 per sample, render px: projected − given vector) and, when
 * `jacobian` is given, their derivatives (6 per residual) with respect to a small rotation
 * δω applied on the left (r ← exp(δω)·r) and a translation step δt.
 */
function residuals(
  pair: CameraPair,
  lens: Lens,
  points: Float64Array,
  motion: CameraMotion,
  jacobian?: Float64Array,
): Float64Array {
  const { width, height } = pair;
  const ty = Math.tan(lens.previousFovY / 2);
  const tx = ty * (width / height);
  const { r, t } = motion;
  const out = new Float64Array(pair.samples.length * 2);
  pair.samples.forEach((s, k) => {
    const [px, py, pz] = [points[k * 3]!, points[k * 3 + 1]!, points[k * 3 + 2]!];
    const vx = r[0]! * px + r[1]! * py + r[2]! * pz;
    const vy = r[3]! * px + r[4]! * py + r[5]! * pz;
    const vz = r[6]! * px + r[7]! * py + r[8]! * pz;
    const [qx, qy, qz] = [vx + t[0], vy + t[1], vz + t[2]];
    if (!(-qz > 1e-9)) {
      // Behind the previous camera: no vector can describe it (left out of the fit).
      out[k * 2] = out[k * 2 + 1] = BEHIND;
      if (jacobian) jacobian.fill(0, k * 12, k * 12 + 12);
      return;
    }
    const u = (qx / (-qz * tx) + 1) / 2;
    const v = (1 - qy / (-qz * ty)) / 2;
    out[k * 2] = (u - s.sx / width - s.mx) * width;
    out[k * 2 + 1] = (v - s.sy / height - s.my) * height;
    if (!jacobian) return;
    // d(residual)/dq, then dq/dδω = −[v]×, dq/dδt = I.
    const du = [(-0.5 * width) / (tx * qz), 0, (0.5 * width * qx) / (tx * qz * qz)];
    const dv = [0, (0.5 * height) / (ty * qz), (-0.5 * height * qy) / (ty * qz * qz)];
    for (const [row, g] of [du, dv].entries()) {
      const o = k * 12 + row * 6;
      jacobian[o] = g[1]! * -vz + g[2]! * vy;
      jacobian[o + 1] = g[0]! * vz + g[2]! * -vx;
      jacobian[o + 2] = g[0]! * -vy + g[1]! * vx;
      jacobian[o + 3] = g[0]!;
      jacobian[o + 4] = g[1]!;
      jacobian[o + 5] = g[2]!;
    }
  });
  return out;
}

/** Residual given to a sample that lands behind the previous camera. */
const BEHIND = 1e3;

/** A motion stepped by δ = (δω, δt). */
function step(motion: CameraMotion, delta: readonly number[]): CameraMotion {
  const e = rotation(delta[0]!, delta[1]!, delta[2]!);
  const r = motion.r;
  const rr = Array.from({ length: 9 }, (_, i) => {
    const [row, col] = [Math.floor(i / 3), i % 3];
    return e[row * 3]! * r[col]! + e[row * 3 + 1]! * r[3 + col]! + e[row * 3 + 2]! * r[6 + col]!;
  });
  const t = motion.t;
  return { r: rr, t: [t[0] + delta[3]!, t[1] + delta[4]!, t[2] + delta[5]!] };
}

/** Solves the 6×6 system a·x = b (Gaussian elimination with partial pivoting). */
function solve6(a: number[][], b: number[]): number[] | undefined {
  const n = 6;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    if (Math.abs(m[p]![c]!) < 1e-300) return undefined;
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let v = m[r]![n]!;
    for (let k = r + 1; k < n; k++) v -= m[r]![k]! * x[k]!;
    x[r] = v / m[r]![r]!;
  }
  return x;
}

/** Per-sample residual lengths (render px). */
function lengthsOf(res: Float64Array): number[] {
  return Array.from({ length: res.length / 2 }, (_, k) => Math.hypot(res[k * 2]!, res[k * 2 + 1]!));
}

/**
 * The camera motion of one pair under a lens: Levenberg–Marquardt on Cauchy-weighted residuals
 * (samples on moving objects are outliers). Returns the trimmed mean residual and the motion.
 */
export function fitCameraMotion(
  pair: CameraPair,
  lens: Lens,
  start: CameraMotion = REST,
): { residual: number; motion: CameraMotion } {
  if (pair.samples.length < MIN_SAMPLES) return { residual: Infinity, motion: start };
  const points = unproject(pair, lens);
  const jac = new Float64Array(pair.samples.length * 12);
  let motion = start;
  let res = residuals(pair, lens, points, motion, jac);
  let lambda = 1e-3;
  const cost = (r: Float64Array, scale: number) => {
    let c = 0;
    for (let k = 0; k < r.length / 2; k++)
      c += Math.log1p((r[k * 2]! ** 2 + r[k * 2 + 1]! ** 2) / (scale * scale));
    return c;
  };
  for (let iteration = 0; iteration < 40; iteration++) {
    const lengths = lengthsOf(res);
    const sorted = [...lengths].sort((a, b) => a - b);
    // Cauchy scale: twice the median residual, never below the vectors' precision.
    const scale = Math.max(CAMERA_NOISE / 4, 2 * sorted[sorted.length >> 1]!);
    const jtj = Array.from({ length: 6 }, () => new Array<number>(6).fill(0));
    const jtr = new Array<number>(6).fill(0);
    for (let i = 0; i < res.length; i++) {
      if (Math.abs(res[i]!) >= BEHIND) continue;
      const w = 1 / (1 + (lengths[i >> 1]! / scale) ** 2);
      for (let a = 0; a < 6; a++) {
        const ja = jac[i * 6 + a]! * w;
        jtr[a]! -= ja * res[i]!;
        for (let b = a; b < 6; b++) jtj[a]![b]! += ja * jac[i * 6 + b]!;
      }
    }
    for (let a = 0; a < 6; a++) for (let b = 0; b < a; b++) jtj[a]![b] = jtj[b]![a]!;
    const before = cost(res, scale);
    let improved = false;
    let small = false;
    for (let attempt = 0; attempt < 8 && !improved; attempt++) {
      const damped = jtj.map((row, a) =>
        row.map((v, b) => (a === b ? v * (1 + lambda) + 1e-12 : v)),
      );
      const delta = solve6(damped, jtr);
      if (!delta) break;
      const next = step(motion, delta);
      const nextJac = new Float64Array(jac.length);
      const nextRes = residuals(pair, lens, points, next, nextJac);
      if (cost(nextRes, scale) < before) {
        motion = next;
        res = nextRes;
        jac.set(nextJac);
        lambda = Math.max(1e-9, lambda / 10);
        improved = true;
        small = before - cost(nextRes, scale) < 1e-9 * Math.max(1, before);
      } else lambda *= 10;
    }
    if (!improved || small) break;
  }
  return { residual: trimmedMean(lengthsOf(res)), motion };
}

/** The lens of a pair with fovY and far scaled (fovY kept below 170°, far beyond twice near). */
function scaledLens(lens: Lens, fovYScale: number, farScale: number): Lens | undefined {
  const fovY = lens.fovY * fovYScale;
  const previousFovY = lens.previousFovY * fovYScale;
  const far = lens.far * farScale;
  if (!(fovY < (170 * Math.PI) / 180 && previousFovY < (170 * Math.PI) / 180)) return undefined;
  if (!(far > 2 * lens.near)) return undefined;
  return { ...lens, fovY, previousFovY, far };
}

/**
 * Evaluates lenses over all pairs. Each pair's fit starts from the camera motion of the stated
 * lens, which nearby lenses barely change (a few iterations instead of a fit from rest).
 */
function lensEvaluator(pairs: readonly CameraPair[]) {
  const start = pairs.map((pair) => fitCameraMotion(pair, pair.lens).motion);
  const cache = new Map<string, LensCandidate>();
  return (fovYScale: number, farScale: number): LensCandidate => {
    const key = `${fovYScale} ${farScale}`;
    const known = cache.get(key);
    if (known) return known;
    let sum = 0;
    for (const [k, pair] of pairs.entries()) {
      const lens = scaledLens(pair.lens, fovYScale, farScale);
      if (!lens) {
        sum = Infinity;
        break;
      }
      sum += fitCameraMotion(pair, lens, start[k]).residual;
    }
    const candidate = { fovYScale, farScale, residual: sum / pairs.length };
    cache.set(key, candidate);
    return candidate;
  };
}

/**
 * Nelder–Mead over (log fovY factor, log far factor) from a start point: fovY and far trade
 * against each other along a narrow valley (a wider lens looks like nearer depths), which a search
 * of one factor at a time does not follow.
 */
function nelderMead(
  at: (logFov: number, logFar: number) => LensCandidate,
  from: readonly [number, number],
  size: number,
): LensCandidate {
  type Vertex = { x: [number, number]; c: LensCandidate };
  const vertex = (x: [number, number]): Vertex => ({ x, c: at(x[0], x[1]) });
  let simplex = [
    vertex([from[0], from[1]]),
    vertex([from[0] + size, from[1]]),
    vertex([from[0], from[1] + size]),
  ];
  const blend = (p: readonly number[], q: readonly number[], f: number): [number, number] => [
    p[0]! + f * (q[0]! - p[0]!),
    p[1]! + f * (q[1]! - p[1]!),
  ];
  for (let k = 0; k < 40; k++) {
    simplex.sort((u, v) => u.c.residual - v.c.residual);
    const [bestV, mid, worst] = simplex as [Vertex, Vertex, Vertex];
    if (Math.hypot(worst.x[0] - bestV.x[0], worst.x[1] - bestV.x[1]) < 1e-3) break;
    const centroid = blend(bestV.x, mid.x, 0.5);
    const reflected = vertex(blend(centroid, worst.x, -1));
    if (reflected.c.residual < bestV.c.residual) {
      const expanded = vertex(blend(centroid, worst.x, -2));
      simplex[2] = expanded.c.residual < reflected.c.residual ? expanded : reflected;
    } else if (reflected.c.residual < mid.c.residual) simplex[2] = reflected;
    else {
      const contracted = vertex(blend(centroid, worst.x, 0.5));
      if (contracted.c.residual < worst.c.residual) simplex[2] = contracted;
      else
        simplex = [bestV, vertex(blend(bestV.x, mid.x, 0.5)), vertex(blend(bestV.x, worst.x, 0.5))];
    }
  }
  return simplex.reduce((u, v) => (v.c.residual < u.c.residual ? v : u)).c;
}

/** A candidate ties with the best when within vector precision of it. */
export function ties(candidate: LensCandidate, best: LensCandidate): boolean {
  return candidate.residual <= TIE_RATIO * best.residual + CAMERA_NOISE;
}

/** Fits the camera motion of every pair under the stated lens and the candidates. */
export function cameraConsistency(pairs: readonly CameraPair[]): CameraConsistency | undefined {
  const usable = pairs.filter((p) => p.samples.length >= MIN_SAMPLES);
  if (usable.length === 0) return undefined;
  const evaluate = lensEvaluator(usable);
  const stated = evaluate(1, 1);
  // A coarse grid over both factors, then the simplex from its best finite point.
  let best = stated;
  for (const s of FOV_SCALES.filter((_, k) => k % 4 === 0))
    for (const g of FAR_SCALES.filter((_, k) => k % 2 === 0)) {
      const c = evaluate(s, g);
      if (c.residual < best.residual) best = c;
    }
  if (Number.isFinite(best.farScale)) {
    const refined = nelderMead(
      (f, g) => evaluate(Math.exp(f), Math.exp(g)),
      [Math.log(best.fovYScale), Math.log(best.farScale)],
      0.1,
    );
    if (refined.residual < best.residual) best = refined;
  } else {
    // An infinite far plane: only fovY is left to refine.
    const refined = nelderMead(
      (f) => evaluate(Math.exp(f), Infinity),
      [Math.log(best.fovYScale), 0],
      0.1,
    );
    if (refined.residual < best.residual) best = refined;
  }
  // Suggest only what the evidence needs: keep a stated factor where it ties with the best.
  let suggested = best;
  if (ties(stated, best)) suggested = stated;
  else if (ties(evaluate(1, best.farScale), best)) suggested = evaluate(1, best.farScale);
  else if (ties(evaluate(best.fovYScale, 1), best)) suggested = evaluate(best.fovYScale, 1);
  const fovCurve = FOV_SCALES.map((s) => evaluate(s, suggested.farScale));
  const farCurve = FAR_SCALES.map((g) => evaluate(suggested.fovYScale, g));
  const motions = usable.map((pair) => {
    const lens = scaledLens(pair.lens, suggested.fovYScale, suggested.farScale)!;
    const { motion } = fitCameraMotion(pair, lens);
    return {
      frame: pair.frame,
      rotationDegrees: rotationDegrees(motion),
      translation: Math.hypot(...motion.t),
    };
  });
  return {
    stated,
    best,
    suggested,
    fovCurve,
    farCurve,
    motionPixels: usable.reduce((s, p) => s + p.motionPixels, 0) / usable.length,
    motions,
  };
}
