/** IEEE 754 half-precision (binary16) conversion, as EXR's HALF pixel type stores it. */

const floatView = new Float32Array(1);
const bitsView = new Uint32Array(floatView.buffer);
let halfTable: Float32Array | undefined;

/** The float value of every half bit pattern (built on first use: 256 KB). */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    let value: number;
    if (exponent === 0) value = mantissa * 2 ** -24;
    else if (exponent === 31) value = mantissa ? NaN : Infinity;
    else value = 2 ** (exponent - 15) * (1 + mantissa / 1024);
    halfTable[h] = sign * value;
  }
  return halfTable;
}

/** The float value of a half bit pattern (0..65535). */
export function halfToFloat(bits: number): number {
  return halfToFloatTable()[bits & 0xffff]!;
}

/**
 * The half bit pattern nearest to `value` (round to nearest, ties to even, as Imath's half does);
 * values beyond the half range become ±Infinity, NaN stays NaN.
 */
export function floatToHalf(value: number): number {
  floatView[0] = value;
  const x = bitsView[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 | (mantissa >>> 13) : 0);
  const e = exponent - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the full 24-bit significand into the 10-bit field.
    if (e < -10) return sign;
    const significand = mantissa | 0x800000;
    const shift = 14 - e;
    let h = significand >>> shift;
    const rest = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to Infinity).
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** `value` rounded to the nearest binary16 (ties to even), as a number: what a half stores. */
export function roundToHalf(value: number): number {
  return halfToFloat(floatToHalf(value));
}
