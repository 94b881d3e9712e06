/**
 * Textures of small high-contrast detail for the scenes of network v3's failure classes: lines of
 * small glyph text with one-texel strokes, UI-like panels (thin frames, grids, gauges, bars, text)
 * and the colour gradient of grass blades. Glyphs are random 5×7 stroke patterns (text-like, not a
 * font), so no font file is needed.
 */
import { mulberry32 } from '../../core/random.ts';
import { proceduralTexture } from '../texture.ts';
import type { TextureData } from '../types.ts';

type Rgb = [number, number, number];

/** 64 random glyphs of 5×7 strokes: which cells of glyph g are ink. */
function glyphSet(seed: number): boolean[][] {
  const rand = mulberry32(seed ^ 0x61f);
  return Array.from({ length: 64 }, () => {
    const cells = Array.from({ length: 35 }, () => rand() < 0.42);
    // A stem or bar on most glyphs, as letters have: strokes that run, not speckle.
    const stem = Math.floor(rand() * 5);
    if (rand() < 0.6) for (let y = 0; y < 7; y++) cells[y * 5 + stem] = true;
    const bar = Math.floor(rand() * 7);
    if (rand() < 0.5) for (let x = 0; x < 5; x++) cells[bar * 5 + x] = true;
    return cells;
  });
}

/**
 * Whether texel (tx, ty) of a text block with glyph cells of `cell` texels (a 5×7 glyph plus a
 * spacing column and a line gap, so cell ≥ 8 wide and 1.5 × cell high) is ink. Words of 2–8
 * glyphs separated by spaces; line lengths vary.
 */
function textInk(
  glyphs: boolean[][],
  hash: (a: number, b: number) => number,
  tx: number,
  ty: number,
  cell: number,
): boolean {
  const cw = cell;
  const ch = Math.round(cell * 1.5);
  const col = Math.floor(tx / cw);
  const row = Math.floor(ty / ch);
  const lineLength = 12 + (hash(row, 7) % 40);
  if (col >= lineLength || hash(row, 3) % 7 === 0) return false; // short and blank lines
  if (hash(row, col) % 6 === 0) return false; // spaces between words
  const s = cw / 8; // texels per stroke cell (1 for the smallest font)
  const gx = Math.floor((tx - col * cw) / s) - 1;
  const gy = Math.floor((ty - row * ch) / s) - 2;
  if (gx < 0 || gx >= 5 || gy < 0 || gy >= 7) return false;
  return glyphs[hash(row, col * 13 + 1) % 64]![gy * 5 + gx]!;
}

const hasher = (seed: number) => (a: number, b: number) => {
  let h = (seed ^ Math.imul(a + 0x9e37, 0x85ebca6b) ^ Math.imul(b + 0x7f4a, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  return (h ^ (h >>> 13)) >>> 0;
};

/**
 * Paragraphs of small text: glyph cells of `cell` texels (8 = one-texel strokes) on a
 * `size`-texel page, ink on background, with a margin.
 */
export function textTexture(
  seed: number,
  cell: number,
  background: Rgb,
  ink: Rgb,
  size = 512,
): TextureData {
  const glyphs = glyphSet(seed);
  const hash = hasher(seed);
  const margin = Math.round(size * 0.04);
  return proceduralTexture(
    size,
    true,
    (u, v) => {
      const tx = Math.floor(u * size) - margin;
      const ty = Math.floor(v * size) - margin;
      const inside = tx >= 0 && ty >= 0 && tx < size - 2 * margin && ty < size - 2 * margin;
      return [...(inside && textInk(glyphs, hash, tx, ty, cell) ? ink : background), 1];
    },
    'text',
  );
}

/**
 * A UI-like panel: one-texel frames around boxes, a fine grid, a bar chart, circular gauges with
 * ticks, rows of small text, check boxes; bright lines on a dark background.
 */
export function uiTexture(seed: number, line: Rgb, accent: Rgb, background: Rgb): TextureData {
  const size = 512;
  const glyphs = glyphSet(seed + 1);
  const hash = hasher(seed + 1);
  const rand = mulberry32(seed ^ 0x0a11);
  const bars = Array.from({ length: 24 }, () => 0.15 + 0.8 * rand());
  const gauges = Array.from({ length: 3 }, () => 0.2 + 0.7 * rand());
  return proceduralTexture(
    size,
    true,
    (u, v) => {
      const x = Math.floor(u * size);
      const y = Math.floor(v * size);
      // Outer frame and the frames of four boxes (one-texel lines).
      const frame = (x0: number, y0: number, x1: number, y1: number) =>
        (x === x0 || x === x1) && y >= y0 && y <= y1
          ? true
          : (y === y0 || y === y1) && x >= x0 && x <= x1;
      if (frame(4, 4, 507, 507) || frame(8, 8, 503, 503)) return [...line, 1];
      // Top left: a fine grid with a curve across it.
      if (x >= 16 && x < 248 && y >= 16 && y < 200) {
        if (frame(16, 16, 247, 199)) return [...line, 1];
        const curve = 108 + 60 * Math.sin((x - 16) / 23 + seed) * Math.cos((x - 16) / 71);
        if (Math.abs(y - curve) < 1) return [...accent, 1];
        if ((x - 16) % 12 === 0 || (y - 16) % 12 === 0)
          return [...line.map((c) => c * 0.35), 1] as [number, number, number, number];
        return [...background, 1];
      }
      // Top right: a bar chart of thin bars.
      if (x >= 264 && x < 496 && y >= 16 && y < 200) {
        if (frame(264, 16, 495, 199)) return [...line, 1];
        const k = Math.floor((x - 268) / 9.5);
        const inBar = k >= 0 && k < 24 && (x - 268) % 9.5 < 4;
        const top = 196 - bars[Math.max(0, Math.min(23, k))]! * 172;
        return [...(inBar && y > top ? accent : background), 1];
      }
      // Middle: three gauges (rings with ticks and a needle).
      if (y >= 216 && y < 344) {
        const g = Math.floor((x - 16) / 164);
        if (g >= 0 && g < 3) {
          const cx = 16 + g * 164 + 80;
          const cy = 280;
          const dx = x + 0.5 - cx;
          const dy = y + 0.5 - cy;
          const r = Math.hypot(dx, dy);
          const a = Math.atan2(dy, dx);
          if (Math.abs(r - 56) < 0.8) return [...line, 1];
          const tick = ((a + Math.PI) / (2 * Math.PI)) * 36;
          if (r > 46 && r < 56 && Math.abs(tick - Math.round(tick)) < 0.06) return [...line, 1];
          const needle = -Math.PI * 0.9 + gauges[g]! * Math.PI * 0.8;
          const along = dx * Math.cos(needle) + dy * Math.sin(needle);
          const across = -dx * Math.sin(needle) + dy * Math.cos(needle);
          if (along > 0 && along < 50 && Math.abs(across) < 0.9) return [...accent, 1];
        }
        return [...background, 1];
      }
      // Bottom: check boxes and rows of small text.
      if (y >= 360 && y < 496 && x >= 16 && x < 496) {
        const row = Math.floor((y - 360) / 12);
        if (x < 30) {
          const by = 360 + row * 12;
          const box = frame(18, by + 2, 26, by + 10);
          const ticked = hash(row, 99) % 2 === 0 && x > 19 && x < 26 && y > by + 3 && y < by + 10;
          return [...(box ? line : ticked ? accent : background), 1];
        }
        return [...(textInk(glyphs, hash, x - 34, y - 360, 8) ? line : background), 1];
      }
      return [...background, 1];
    },
    'ui',
  );
}

/** A grass blade's colour along v (v = 0 at the tip, 1 at the root): dark root, light tip. */
export function bladeTexture(tip: Rgb, root: Rgb): TextureData {
  return proceduralTexture(
    64,
    true,
    (u, v) => {
      const t = Math.min(1, Math.max(0, v));
      const edge = Math.abs(u - 0.5) > 0.4 ? 0.8 : 1;
      return [0, 1, 2].map((k) => (tip[k]! + (root[k]! - tip[k]!) * t) * edge).concat(1) as [
        number,
        number,
        number,
        number,
      ];
    },
    'blade',
  );
}
