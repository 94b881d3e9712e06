/**
 * The inverse of PIZ's 2D Haar-like wavelet on 16-bit values (OpenEXR file-format description).
 * Pairs are decoded level by level from the coarsest; "14-bit" mode (all values < 2^14) uses a
 * plain average/difference, 16-bit mode a modular one that cannot overflow.
 */

/** Inverse of the 14-bit pair transform: (low, high) → (a, b), in signed 16-bit arithmetic. */
function decode14(l: number, h: number, out: Uint16Array, ia: number, ib: number): void {
  const ls = (l << 16) >> 16;
  const hs = (h << 16) >> 16;
  const a = ls + (hs & 1) + (hs >> 1);
  out[ia] = a;
  out[ib] = a - hs;
}

const A_OFFSET = 1 << 15;
const MOD_MASK = (1 << 16) - 1;

/**
 * Inverse of the 16-bit modular pair transform (the encoder's extra 2^15 on the mean when the
 * difference wrapped cancels modulo 2^16 here).
 */
function decode16(m: number, d: number, out: Uint16Array, ia: number, ib: number): void {
  const b = (m - (d >> 1)) & MOD_MASK;
  out[ia] = (d + b - A_OFFSET) & MOD_MASK;
  out[ib] = b;
}

/**
 * Decodes in place the nx × ny values at `base` with strides `ox` (between columns) and `oy`
 * (between rows); `maxValue` is the largest value before the transform (selects 14/16-bit mode).
 */
export function waveletDecode(
  v: Uint16Array,
  base: number,
  nx: number,
  ox: number,
  ny: number,
  oy: number,
  maxValue: number,
): void {
  const decode = maxValue < 1 << 14 ? decode14 : decode16;
  const n = Math.min(nx, ny);
  let p = 1;
  while (p <= n) p <<= 1;
  p >>= 1;
  let p2 = p;
  p >>= 1;
  const t = new Uint16Array(4);
  while (p >= 1) {
    const oy1 = oy * p;
    const oy2 = oy * p2;
    const ox1 = ox * p;
    const ox2 = ox * p2;
    const yEnd = base + oy * (ny - p2);
    let py = base;
    for (; py <= yEnd; py += oy2) {
      const xEnd = py + ox * (nx - p2);
      let px = py;
      for (; px <= xEnd; px += ox2) {
        const p01 = px + ox1;
        const p10 = px + oy1;
        const p11 = p10 + ox1;
        // Columns first (undoing the encoder's last step), then rows.
        decode(v[px]!, v[p10]!, t, 0, 2);
        decode(v[p01]!, v[p11]!, t, 1, 3);
        decode(t[0]!, t[1]!, v, px, p01);
        decode(t[2]!, t[3]!, v, p10, p11);
      }
      // A leftover column at this level: a 1D pair along y.
      if (nx & p) {
        const p10 = px + oy1;
        decode(v[px]!, v[p10]!, t, 0, 1);
        v[px] = t[0]!;
        v[p10] = t[1]!;
      }
    }
    // A leftover row at this level: 1D pairs along x.
    if (ny & p) {
      const xEnd = py + ox * (nx - p2);
      for (let px = py; px <= xEnd; px += ox2) {
        const p01 = px + ox1;
        decode(v[px]!, v[p01]!, t, 0, 1);
        v[px] = t[0]!;
        v[p01] = t[1]!;
      }
    }
    p2 = p;
    p >>= 1;
  }
}
