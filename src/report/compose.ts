/** Picture building blocks for reports: zoom, side-by-side strips, error heat maps. */
import { createImage, cropImage, luma, withChannels, type Image } from '../core/image.ts';
import { tonemapImage } from '../core/tonemap.ts';

/** Nearest-neighbour zoom by an integer factor (pixels stay visible as squares). */
export function zoomNearest(image: Image, factor: number): Image {
  const out = createImage(image.width * factor, image.height * factor, image.channels);
  const c = image.channels;
  for (let y = 0; y < out.height; y++) {
    const sy = Math.floor(y / factor);
    for (let x = 0; x < out.width; x++) {
      const s = (sy * image.width + Math.floor(x / factor)) * c;
      const d = (y * out.width + x) * c;
      for (let k = 0; k < c; k++) out.data[d + k] = image.data[s + k]!;
    }
  }
  return out;
}

/** Places RGB images left to right with a gap of `gap` pixels (filled with `background`). */
export function hstack(images: readonly Image[], gap = 4, background = 1): Image {
  const height = Math.max(...images.map((i) => i.height));
  const width = images.reduce((w, i) => w + i.width, 0) + gap * (images.length - 1);
  const out = createImage(width, height, 3);
  out.data.fill(background);
  let x0 = 0;
  for (const src of images) {
    const rgb = withChannels(src, 3);
    for (let y = 0; y < rgb.height; y++) {
      out.data.set(
        rgb.data.subarray(y * rgb.width * 3, (y + 1) * rgb.width * 3),
        (y * width + x0) * 3,
      );
    }
    x0 += src.width + gap;
  }
  return out;
}

/** Places RGB images top to bottom with a gap. */
export function vstack(images: readonly Image[], gap = 4, background = 1): Image {
  const width = Math.max(...images.map((i) => i.width));
  const height = images.reduce((h, i) => h + i.height, 0) + gap * (images.length - 1);
  const out = createImage(width, height, 3);
  out.data.fill(background);
  let y0 = 0;
  for (const src of images) {
    const rgb = withChannels(src, 3);
    for (let y = 0; y < rgb.height; y++) {
      out.data.set(
        rgb.data.subarray(y * rgb.width * 3, (y + 1) * rgb.width * 3),
        (y0 + y) * width * 3,
      );
    }
    y0 += src.height + gap;
  }
  return out;
}

/**
 * Error heat map of `test` against `reference` in the tonemapped domain: luma of |difference|,
 * scaled so that `fullScale` is white-hot, on a black–red–yellow–white ramp. NaN shows as magenta.
 */
export function errorHeatmap(test: Image, reference: Image, fullScale = 0.1): Image {
  const a = tonemapImage(test);
  const b = tonemapImage(reference);
  const out = createImage(a.width, a.height, 3);
  for (let i = 0; i < a.width * a.height; i++) {
    const raw =
      test.data[i * test.channels]! +
      test.data[i * test.channels + 1]! +
      test.data[i * test.channels + 2]!;
    if (!Number.isFinite(raw)) {
      out.data.set([1, 0, 1], i * 3);
      continue;
    }
    const e = Math.abs(
      luma(a.data[i * 3]!, a.data[i * 3 + 1]!, a.data[i * 3 + 2]!) -
        luma(b.data[i * 3]!, b.data[i * 3 + 1]!, b.data[i * 3 + 2]!),
    );
    const t = Math.min(1, e / fullScale) * 3;
    out.data[i * 3] = Math.min(1, t);
    out.data[i * 3 + 1] = Math.min(1, Math.max(0, t - 1));
    out.data[i * 3 + 2] = Math.min(1, Math.max(0, t - 2));
  }
  return out;
}

/** A crop rectangle in display pixels. */
export interface CropRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Crops each image to the rectangle and zooms it. */
export function zoomedCrops(images: readonly Image[], rect: CropRect, zoom: number): Image[] {
  return images.map((im) =>
    zoomNearest(cropImage(im, rect.x, rect.y, rect.width, rect.height), zoom),
  );
}

/**
 * The crop rectangle (of the given size) where the reference has the most detail: the largest
 * sum of absolute luma gradients. Used to pick crops automatically.
 */
export function busiestCrop(reference: Image, width: number, height: number): CropRect {
  const w = reference.width;
  const h = reference.height;
  const t = tonemapImage(reference);
  const lumaAt = (i: number) => luma(t.data[i * 3]!, t.data[i * 3 + 1]!, t.data[i * 3 + 2]!);
  return largestSumCrop(w, h, width, height, (x, y) => {
    const i = y * w + x;
    const l = lumaAt(i);
    const r = x + 1 < w ? lumaAt(i + 1) : l;
    const d = y + 1 < h ? lumaAt(i + w) : l;
    return Math.abs(r - l) + Math.abs(d - l);
  });
}

/**
 * The crop rectangle (of the given size) where `test` is furthest from `reference`: the largest
 * sum of absolute tonemapped differences over RGB (a generated frame's worst region).
 */
export function largestErrorCrop(
  test: Image,
  reference: Image,
  width: number,
  height: number,
): CropRect {
  const a = tonemapImage(test);
  const b = tonemapImage(reference);
  return largestSumCrop(reference.width, reference.height, width, height, (x, y) => {
    const i = (y * reference.width + x) * 3;
    let e = 0;
    for (let c = 0; c < 3; c++) e += Math.abs(a.data[i + c]! - b.data[i + c]!);
    // A NaN pixel is an error worth showing.
    return Number.isNaN(e) ? 3 : e;
  });
}

/**
 * The window of `width`×`height` (clamped to the image) with the largest sum of `value(x, y)`,
 * searched on a grid of a quarter of the window's smaller side (summed-area table).
 */
function largestSumCrop(
  w: number,
  h: number,
  width: number,
  height: number,
  value: (x: number, y: number) => number,
): CropRect {
  const cw = Math.min(width, w);
  const ch = Math.min(height, h);
  const sums = new Float64Array((w + 1) * (h + 1));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      sums[(y + 1) * (w + 1) + x + 1] =
        value(x, y) +
        sums[y * (w + 1) + x + 1]! +
        sums[(y + 1) * (w + 1) + x]! -
        sums[y * (w + 1) + x]!;
    }
  }
  let best = { x: 0, y: 0, width: cw, height: ch };
  let bestSum = -1;
  const step = Math.max(1, Math.floor(Math.min(cw, ch) / 4));
  for (let y = 0; y + ch <= h; y += step) {
    for (let x = 0; x + cw <= w; x += step) {
      const s =
        sums[(y + ch) * (w + 1) + x + cw]! -
        sums[y * (w + 1) + x + cw]! -
        sums[(y + ch) * (w + 1) + x]! +
        sums[y * (w + 1) + x]!;
      if (s > bestSum) {
        bestSum = s;
        best = { x, y, width: cw, height: ch };
      }
    }
  }
  return best;
}
