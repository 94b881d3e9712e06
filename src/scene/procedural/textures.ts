/**
 * Procedural textures for the built-in scenes (no asset files): the detail that breaks
 * upscalers — fine checkers and stripes (moiré), text-like glyphs, alpha-masked leaves and grates.
 */
import { mulberry32 } from '../../core/random.ts';
import { proceduralTexture } from '../texture.ts';
import type { TextureData } from '../types.ts';

type Rgb = [number, number, number];
const SIZE = 256;
/** The alpha cutoff that alpha-tested textures here are made for (mips keep their coverage). */
export const ALPHA_CUTOFF = 0.5;

/** A two-color checker with `cells` squares per side. */
export function checkerTexture(cells: number, a: Rgb, b: Rgb): TextureData {
  return proceduralTexture(
    SIZE,
    true,
    (u, v) => {
      const odd = (Math.floor(u * cells) + Math.floor(v * cells)) % 2 === 1;
      return [...(odd ? a : b), 1];
    },
    'checker',
  );
}

/** Stripes of period 1/`count` along u with a thin dark line at every fourth one (road markings, siding). */
export function stripesTexture(count: number, a: Rgb, b: Rgb): TextureData {
  return proceduralTexture(
    SIZE,
    true,
    (u) => {
      const s = (u * count) % 1;
      return [...(s < 0.5 ? a : b), 1];
    },
    'stripes',
  );
}

/**
 * Rows of random glyphs (strokes on a 3×5 grid) on a light background: text-like detail that
 * smears under bad upscaling. `dark` windows alternate with text lines for building facades.
 */
export function glyphTexture(seed: number, background: Rgb, ink: Rgb): TextureData {
  const rand = mulberry32(seed);
  const cols = 16;
  const rows = 16;
  const glyphs = Array.from({ length: cols * rows }, () =>
    Array.from({ length: 15 }, () => rand() < 0.45),
  );
  return proceduralTexture(
    SIZE,
    true,
    (u, v) => {
      const cx = Math.floor(u * cols);
      const cy = Math.floor(v * rows);
      const fx = (u * cols) % 1;
      const fy = (v * rows) % 1;
      // Glyph cell: 3×5 strokes inside a margin.
      const gx = Math.floor(((fx - 0.2) / 0.6) * 3);
      const gy = Math.floor(((fy - 0.1) / 0.8) * 5);
      const on = gx >= 0 && gx < 3 && gy >= 0 && gy < 5 && glyphs[cy * cols + cx]![gy * 3 + gx]!;
      return [...(on ? ink : background), 1];
    },
    'glyphs',
  );
}

/** Leaves in a 2×2 atlas-free layout: several pointed ellipses with a vein; alpha 0 outside. */
export function leafTexture(seed: number): TextureData {
  const rand = mulberry32(seed);
  const leaves = Array.from({ length: 7 }, () => ({
    x: 0.2 + 0.6 * rand(),
    y: 0.2 + 0.6 * rand(),
    angle: rand() * Math.PI,
    length: 0.18 + 0.1 * rand(),
    width: 0.06 + 0.04 * rand(),
    tint: 0.7 + 0.5 * rand(),
  }));
  return proceduralTexture(
    SIZE,
    true,
    (u, v) => {
      for (const leaf of leaves) {
        const dx = u - leaf.x;
        const dy = v - leaf.y;
        const a = dx * Math.cos(leaf.angle) + dy * Math.sin(leaf.angle);
        const b = -dx * Math.sin(leaf.angle) + dy * Math.cos(leaf.angle);
        const t = a / leaf.length;
        // Pointed ellipse: width shrinks towards both tips.
        if (Math.abs(t) < 1 && Math.abs(b) < leaf.width * (1 - t * t)) {
          const vein = Math.abs(b) < 0.004 ? 1.6 : 1;
          return [0.08 * leaf.tint * vein, 0.3 * leaf.tint * vein, 0.05 * leaf.tint, 1];
        }
      }
      return [0.1, 0.25, 0.05, 0];
    },
    'leaves',
    ALPHA_CUTOFF,
  );
}

/** A grate / chain-link fence: thin diagonal bars (alpha 1) and holes (alpha 0). */
export function grateTexture(bars: number, barWidth: number, color: Rgb): TextureData {
  return proceduralTexture(
    SIZE,
    true,
    (u, v) => {
      const a = ((u + v) * bars) % 1;
      const b = ((u - v + 1) * bars) % 1;
      const frame = u < 0.02 || u > 0.98 || v < 0.02 || v > 0.98;
      const on = frame || a < barWidth || b < barWidth;
      return [...color, on ? 1 : 0];
    },
    'grate',
    ALPHA_CUTOFF,
  );
}

/** A soft round particle: white with alpha falling off to the edge. */
export function particleTexture(): TextureData {
  return proceduralTexture(
    64,
    true,
    (u, v) => {
      const r = Math.hypot(u - 0.5, v - 0.5) * 2;
      const a = Math.max(0, 1 - r);
      return [1, 1, 1, a * a];
    },
    'particle',
  );
}

/** A tangent-space normal map of rounded bricks (height field differentiated). */
export function brickNormalTexture(rowsPerTile: number): TextureData {
  const height = (u: number, v: number) => {
    const row = Math.floor(v * rowsPerTile);
    const x = (u * rowsPerTile * 0.5 + (row % 2) * 0.5) % 1;
    const y = (v * rowsPerTile) % 1;
    const edge = Math.min(x, 1 - x, y * 0.5, (1 - y) * 0.5);
    return Math.min(1, edge * 12);
  };
  const e = 1 / SIZE;
  return proceduralTexture(
    SIZE,
    false,
    (u, v) => {
      const dx = (height(u + e, v) - height(u - e, v)) * 2;
      const dy = (height(u, v + e) - height(u, v - e)) * 2;
      const n = [-dx, dy, 1];
      const l = Math.hypot(n[0]!, n[1]!, n[2]!);
      return [(n[0]! / l) * 0.5 + 0.5, (n[1]! / l) * 0.5 + 0.5, (n[2]! / l) * 0.5 + 0.5, 1];
    },
    'brick normals',
  );
}

/** A vertical sky gradient (v = 0 at the zenith): stored sRGB, so keep it in [0, 1] and scale by the factor. */
export function skyTexture(zenith: Rgb, horizon: Rgb): TextureData {
  return proceduralTexture(
    64,
    true,
    (_u, v) => {
      const t = Math.min(1, Math.max(0, v * 2));
      return [0, 1, 2].map((k) => zenith[k]! + (horizon[k]! - zenith[k]!) * t).concat(1) as [
        number,
        number,
        number,
        number,
      ];
    },
    'sky',
  );
}
