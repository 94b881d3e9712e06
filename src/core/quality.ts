/** Quality modes and render sizes (DESIGN §4). */

export type QualityMode = 'native' | 'quality' | 'balanced' | 'performance' | 'ultra-performance';

/** Display/render ratio per axis for each quality mode. */
export const QUALITY_RATIOS: Readonly<Record<QualityMode, number>> = {
  native: 1.0,
  quality: 1.5,
  balanced: 1.7,
  performance: 2.0,
  'ultra-performance': 3.0,
};

export type Size = readonly [width: number, height: number];

/** Parses a quality mode name or a ratio in [1, 3] (e.g. "performance", "2", "1.5"). */
export function parseQuality(value: string | number): number {
  if (typeof value === 'string' && value in QUALITY_RATIOS) {
    return QUALITY_RATIOS[value as QualityMode];
  }
  const ratio = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(ratio) || ratio < 1 || ratio > 3) {
    throw new RangeError(
      `quality must be one of ${Object.keys(QUALITY_RATIOS).join(', ')} or a ratio in [1, 3], got ${String(value)}`,
    );
  }
  return ratio;
}

/** Render size for a display size and ratio: round(display / ratio), at least 1. */
export function renderSizeFor(display: Size, ratio: number): Size {
  parseQuality(ratio);
  return [Math.max(1, Math.round(display[0] / ratio)), Math.max(1, Math.round(display[1] / ratio))];
}

/** Texture mip bias the app should use when rendering at `render` for `display`: log2(r/d) − 1. */
export function mipBias(render: Size, display: Size): number {
  return Math.log2(render[0] / display[0]) - 1;
}

/** Parses "WxH" into a size, with an error naming the flag. */
export function parseSize(text: string, what = 'size'): Size {
  const m = /^(\d+)x(\d+)$/.exec(text.trim());
  if (!m) throw new RangeError(`${what} must look like 1920x1080, got "${text}"`);
  const size: Size = [Number(m[1]), Number(m[2])];
  if (size[0] < 1 || size[1] < 1 || size[0] > 16384 || size[1] > 16384) {
    throw new RangeError(`${what} must be within 1..16384 per axis, got ${text}`);
  }
  return size;
}
