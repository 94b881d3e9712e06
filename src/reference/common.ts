/**
 * Math shared by the CPU references of the passes. Each function has a WGSL twin in
 * src/gpu/passes/wgsl.ts with the same formula, so the GPU passes match these references.
 */
import type { Image } from '../core/image.ts';

/** Channel `c` of pixel (x, y), coordinates clamped to the image (clamp-to-edge addressing). */
export function texel(image: Image, x: number, y: number, c: number): number {
  const cx = Math.min(Math.max(x, 0), image.width - 1);
  const cy = Math.min(Math.max(y, 0), image.height - 1);
  return image.data[(cy * image.width + cx) * image.channels + c]!;
}

export function saturate(v: number): number {
  return Math.min(Math.max(v, 0), 1);
}

/** Lanczos-2 window: sinc(x)·sinc(x/2) for |x| < 2, else 0. */
export function lanczos2(x: number): number {
  const ax = Math.abs(x);
  if (ax < 1e-5) return 1;
  if (ax >= 2) return 0;
  const px = Math.PI * ax;
  return (2 * Math.sin(px) * Math.sin(px / 2)) / (px * px);
}

/** Catmull-Rom weights of the four taps around a sample at fraction t in [0, 1). */
export function catmullRomWeights(t: number): [number, number, number, number] {
  const t2 = t * t;
  const t3 = t2 * t;
  return [
    -0.5 * t3 + t2 - 0.5 * t,
    1.5 * t3 - 2.5 * t2 + 1,
    -1.5 * t3 + 2 * t2 + 0.5 * t,
    0.5 * t3 - 0.5 * t2,
  ];
}

/** RGB → YCoCg (Y = (r + 2g + b) / 4). */
export function rgbToYCoCg(r: number, g: number, b: number): [number, number, number] {
  return [0.25 * r + 0.5 * g + 0.25 * b, 0.5 * r - 0.5 * b, -0.25 * r + 0.5 * g - 0.25 * b];
}

/** YCoCg → RGB. */
export function yCoCgToRgb(y: number, co: number, cg: number): [number, number, number] {
  return [y + co - cg, y + cg, y - co - cg];
}

/**
 * Render-pixel index holding the display pixel centre along one axis: floor((x + 0.5) · render /
 * display), computed in integers so the CPU and the GPU agree exactly.
 */
export function renderPixelOf(x: number, renderSize: number, displaySize: number): number {
  return Math.min(Math.floor(((2 * x + 1) * renderSize) / (2 * displaySize)), renderSize - 1);
}

/**
 * Where the display pixels of a width×height frame were in the previous frame, as the reproject
 * pass reads them: prevUV = uv + m, m the prepared motion (xy in UV; `motion` render size, 4
 * channels a pixel unless it says otherwise) of the render pixel holding the pixel centre. Calls
 * `visit(x, y, x0, y0, fx, fy)` row by row for every pixel whose prevUV lies in [0, 1]² (the others
 * have no history): (x0, y0) the previous texel up and left of prevUV, (fx, fy) its fraction
 * towards the next.
 */
export function forEachReprojectedPixel(
  motion: {
    readonly width: number;
    readonly height: number;
    readonly channels?: number;
    readonly data: ArrayLike<number>;
  },
  width: number,
  height: number,
  visit: (x: number, y: number, x0: number, y0: number, fx: number, fy: number) => void,
): void {
  const stride = motion.channels ?? 4;
  for (let y = 0; y < height; y++) {
    const ry = renderPixelOf(y, motion.height, height);
    for (let x = 0; x < width; x++) {
      const m = (ry * motion.width + renderPixelOf(x, motion.width, width)) * stride;
      const u = (x + 0.5) / width + motion.data[m]!;
      const v = (y + 0.5) / height + motion.data[m + 1]!;
      if (!(u >= 0 && u <= 1 && v >= 0 && v <= 1)) continue;
      const hx = u * width - 0.5;
      const hy = v * height - 0.5;
      const x0 = Math.floor(hx);
      const y0 = Math.floor(hy);
      visit(x, y, x0, y0, hx - x0, hy - y0);
    }
  }
}
