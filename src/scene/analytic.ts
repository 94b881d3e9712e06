/**
 * A small analytic test sequence, computed on the CPU: no assets, no GPU, exact everything.
 *
 * Three layers in screen space, each moving by a known translation per frame:
 * - a background plane with a high-frequency texture (checker, a moiré-prone ring chirp, fine
 *   stripes) panned by the camera;
 * - a disc with its own motion, carrying a small HDR highlight (disocclusion behind it);
 * - a thin slanted line (about a third of a display pixel wide) with its own motion.
 * Render pixel (x, y) of frame i samples the scene at (x + 0.5 + jx, y + 0.5 + jy) (DESIGN §4),
 * motion vectors are exact (prevUV − uv of the visible layer), and the reference is the box-filtered
 * average of stratified samples inside each display pixel.
 */
import { createImage } from '../core/image.ts';
import { jitterOffset, jitterPhaseCount } from '../core/jitter.ts';
import { renderSizeFor, type Size } from '../core/quality.ts';
import { mulberry32 } from '../core/random.ts';
import type { FrameImages, FrameParams, FrameSource, SequenceHeader } from '../core/frame.ts';

export interface AnalyticSequenceOptions {
  /** Display (output) size. Default 128x96. */
  displaySize?: Size;
  /** Display/render ratio. Default 2 (Performance). */
  ratio?: number;
  /** Number of frames. Default 16. */
  frames?: number;
  /** Chooses motion directions and speeds. Default 1. */
  seed?: number;
  /** Reference samples per display pixel (a square number is stratified exactly). Default 64. */
  referenceSamples?: number;
  /** Frame index of a camera cut (reset = true, the camera jumps), or -1 for none. Default -1. */
  cutAt?: number;
  /** Every frame at jitter (0, 0), as engines without TAA render. Default false. */
  noJitter?: boolean;
}

export interface AnalyticFrame {
  params: FrameParams;
  images: FrameImages;
}

export interface AnalyticSequence {
  header: SequenceHeader;
  frames: AnalyticFrame[];
}

const NEAR = 0.1;
const FAR = 100;
/** Device depth in [0, 1] (near = 0) of a view distance z, for a standard perspective projection. */
const deviceDepth = (z: number) => (FAR / (FAR - NEAR)) * (1 - NEAR / z);

/** Layer offsets per frame, in UV; a layer-space point q appears at screen q + offset(t). */
export interface AnalyticMotion {
  background: (t: number) => [number, number];
  disc: (t: number) => [number, number];
  line: (t: number) => [number, number];
}

export function analyticMotion(seed: number, cutAt = -1): AnalyticMotion {
  const rand = mulberry32(seed);
  const r = (a: number, b: number) => a + (b - a) * rand();
  // Speeds in UV per frame: a few display pixels per frame at 128 px wide.
  const bg = [r(-0.012, 0.012), r(-0.008, 0.008)];
  const wobble = r(0.1, 0.3);
  const disc = [r(0.006, 0.014) * (rand() < 0.5 ? -1 : 1), r(-0.006, 0.006)];
  const line = [r(0.003, 0.008) * (rand() < 0.5 ? -1 : 1), 0];
  const cutJump = (t: number) => (cutAt >= 0 && t >= cutAt ? 0.37 : 0);
  return {
    background: (t) => [
      bg[0]! * t + 0.004 * Math.sin(wobble * t) + cutJump(t),
      bg[1]! * t + 0.003 * Math.cos(wobble * 1.3 * t) + cutJump(t) * 0.5,
    ],
    disc: (t) => [0.5 + disc[0]! * t, 0.5 + disc[1]! * t + 0.05 * Math.sin(0.2 * t)],
    line: (t) => [0.5 + line[0]! * t, 0],
  };
}

/** What a sample sees. */
export interface AnalyticHit {
  r: number;
  g: number;
  b: number;
  /** View distance. */
  z: number;
  /** Which layer: 0 background, 1 disc, 2 line. */
  layer: number;
}

/**
 * The scene at a screen position in UV at frame time t. Pattern frequencies are set in display
 * pixels (dw x dh) so that every display size is equally hard: the checker and the disc's stripes
 * are resolvable at render resolution, the fine stripes (3 px period) and the outer rings (up to
 * 0.4 cycles per pixel) only at display resolution, so they alias in the jittered render.
 */
export function shadeAnalytic(
  u: number,
  v: number,
  t: number,
  displaySize: Size,
  motion: AnalyticMotion,
  out: AnalyticHit,
): void {
  const [dw, dh] = displaySize;
  // Thin line: slanted, 0.35 display pixel wide.
  const [lx] = motion.line(t);
  const slope = 0.35;
  const dLine =
    (Math.abs(u - (lx + slope * (v - 0.5) * (dh / dw))) * dw) / Math.sqrt(1 + slope * slope);
  if (dLine < 0.175) {
    out.r = 1.0;
    out.g = 0.95;
    out.b = 0.8;
    out.z = 3;
    out.layer = 2;
    return;
  }
  // Disc with a gradient, stripes and a small HDR highlight (radius ~1.2 display px).
  const [dx, dy] = motion.disc(t);
  const px = (u - dx) * dw;
  const py = (v - dy) * dh;
  const radius = 0.16 * dh;
  if (px * px + py * py < radius * radius) {
    const shadeV = 0.35 + 0.5 * (0.5 - py / (2 * radius));
    const hx = px + 0.3 * radius;
    const hy = py + 0.3 * radius;
    const highlight = hx * hx + hy * hy < 1.44 ? 8 : 0;
    const stripes = Math.sin(((px + py) * 2 * Math.PI) / 6) > 0.6 ? 0.15 : 0;
    out.r = 0.8 * shadeV + highlight + stripes;
    out.g = 0.25 * shadeV + highlight + stripes;
    out.b = 0.1 * shadeV + highlight;
    out.z = 4;
    out.layer = 1;
    return;
  }
  // Background texture in layer space, in display pixels.
  const [ox, oy] = motion.background(t);
  const qx = (u - ox) * dw;
  const qy = (v - oy) * dh;
  const checker = (Math.floor(qx / 6) + Math.floor(qy / 6)) & 1;
  const cx = qx - 0.3 * dw;
  const cy = qy - 0.35 * dh;
  // Chirp: instantaneous frequency k·r/π cycles per pixel, 0.4 at r = 0.6·dh.
  const k = (0.4 * Math.PI) / (0.6 * dh);
  const rings = 0.5 + 0.5 * Math.cos(k * (cx * cx + cy * cy));
  const fine = Math.sin((qx * 2 * Math.PI) / 3) > 0.5 ? 1 : 0;
  const base = checker ? 0.55 : 0.12;
  out.r = base * (0.6 + 0.4 * rings) + 0.2 * fine;
  out.g = base * (0.7 + 0.3 * rings) + 0.15 * fine;
  out.b = base * (0.9 + 0.1 * (1 - rings)) + 0.05 * fine;
  out.z = 10;
  out.layer = 0;
}

/** Offset functions by layer index (0 background, 1 disc, 2 line). */
export function layerOffsets(motion: AnalyticMotion): Array<(t: number) => [number, number]> {
  return [motion.background, motion.disc, motion.line];
}

/** Generates the whole sequence in memory. */
export function analyticSequence(options: AnalyticSequenceOptions = {}): AnalyticSequence {
  const displaySize = options.displaySize ?? [128, 96];
  const ratio = options.ratio ?? 2;
  const frameCount = options.frames ?? 16;
  const spp = options.referenceSamples ?? 64;
  const cutAt = options.cutAt ?? -1;
  const renderSize = renderSizeFor(displaySize, ratio);
  const [rw, rh] = renderSize;
  const [dw, dh] = displaySize;
  const motion = analyticMotion(options.seed ?? 1, cutAt);
  const phases = jitterPhaseCount(rw, dw);
  const layerOffset = layerOffsets(motion);
  const hit: AnalyticHit = { r: 0, g: 0, b: 0, z: 0, layer: 0 };
  const strata = Math.max(1, Math.round(Math.sqrt(spp)));
  const frames: AnalyticFrame[] = [];

  for (let t = 0; t < frameCount; t++) {
    const jitter: [number, number] = options.noJitter ? [0, 0] : jitterOffset(t, phases);
    const color = createImage(rw, rh, 3);
    const depth = createImage(rw, rh, 1);
    const mv = createImage(rw, rh, 2);
    for (let y = 0; y < rh; y++) {
      for (let x = 0; x < rw; x++) {
        const u = (x + 0.5 + jitter[0]) / rw;
        const v = (y + 0.5 + jitter[1]) / rh;
        shadeAnalytic(u, v, t, displaySize, motion, hit);
        const i = y * rw + x;
        color.data[i * 3] = hit.r;
        color.data[i * 3 + 1] = hit.g;
        color.data[i * 3 + 2] = hit.b;
        depth.data[i] = deviceDepth(hit.z);
        // The motion of the surface this sample sees, without the jitter (DESIGN §4).
        const now = layerOffset[hit.layer]!(t);
        const before = t > 0 && t !== cutAt ? layerOffset[hit.layer]!(t - 1) : now;
        mv.data[i * 2] = before[0] - now[0];
        mv.data[i * 2 + 1] = before[1] - now[1];
      }
    }
    const reference = createImage(dw, dh, 3);
    for (let y = 0; y < dh; y++) {
      for (let x = 0; x < dw; x++) {
        let r = 0;
        let g = 0;
        let b = 0;
        for (let sy = 0; sy < strata; sy++) {
          for (let sx = 0; sx < strata; sx++) {
            shadeAnalytic(
              (x + (sx + 0.5) / strata) / dw,
              (y + (sy + 0.5) / strata) / dh,
              t,
              displaySize,
              motion,
              hit,
            );
            r += hit.r;
            g += hit.g;
            b += hit.b;
          }
        }
        const k = (y * dw + x) * 3;
        const n = strata * strata;
        reference.data[k] = r / n;
        reference.data[k + 1] = g / n;
        reference.data[k + 2] = b / n;
      }
    }
    frames.push({
      params: {
        jitter,
        reset: t === 0 || t === cutAt,
        exposure: 1,
        cameraNear: NEAR,
        cameraFar: FAR,
        fovY: Math.PI / 3,
        motionScale: [1, 1],
        frameTimeDelta: 1 / 60,
      },
      images: { color, depth, motion: mv, reference },
    });
  }
  return {
    header: {
      renderSize,
      displaySize,
      depthInverted: false,
      colorSpace: 'linear',
      source: {
        generator: 'uplift analytic sequence',
        seed: options.seed ?? 1,
        license: 'CC0-1.0 (generated by Uplift)',
      },
    },
    frames,
  };
}

/** Wraps an in-memory analytic sequence. */
export function analyticSource(sequence: AnalyticSequence, name = 'analytic'): FrameSource {
  return {
    name,
    header: sequence.header,
    frameCount: sequence.frames.length,
    frameParams: (i) => sequence.frames[i]!.params,
    readFrame: async (i) => sequence.frames[i]!.images,
    frameNumber: (i) => i,
  };
}
