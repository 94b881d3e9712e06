/**
 * Inputs as real engines hand them to an upscaler, rather than as the data engine renders them:
 * no camera jitter, depth from an 8-bit depth target, color from an 8-bit sRGB render target.
 * An 8-bit grid is a table of the 256 values a target reads back and the 255 thresholds between
 * them; quantizing is a search of the thresholds (comparisons only, no rounding arithmetic), so
 * the CPU and the GPU pass (src/scene/engine-inputs.ts), reading the same f32 tables, agree bit
 * for bit.
 */
import { srgbToLinear } from './tonemap.ts';

/** Which engine-like degradations a sequence's inputs carry (the reference never does). */
export interface EngineInputs {
  /** Every frame at jitter (0, 0). */
  readonly noJitter: boolean;
  /** Device depth d stored as round(d · 255) / 255. */
  readonly depth8: boolean;
  /** Linear color as an 8-bit sRGB target stores and decodes it (clamped to [0, 1]). */
  readonly srgb8: boolean;
}

export const FULL_PRECISION_INPUTS: EngineInputs = {
  noJitter: false,
  depth8: false,
  srgb8: false,
};

/** The values an 8-bit target reads back, and the thresholds where rounding changes code. */
export interface Grid8 {
  /** f32 value of code k, k = 0..255. */
  readonly levels: Float32Array;
  /** f32 value halfway (in code space) between codes j and j + 1, j = 0..254. */
  readonly thresholds: Float32Array;
}

function grid8(decode: (code: number) => number): Grid8 {
  return {
    levels: Float32Array.from({ length: 256 }, (_, k) => decode(k / 255)),
    thresholds: Float32Array.from({ length: 255 }, (_, j) => decode((j + 0.5) / 255)),
  };
}

/** An 8-bit unorm depth target: k / 255. */
export const DEPTH8_GRID = grid8((v) => v);
/** An 8-bit sRGB color target: sRGB code k decodes to srgbToLinear(k / 255). */
export const SRGB8_GRID = grid8(srgbToLinear);

/**
 * The code a target stores for `v`: the number of thresholds ≤ v, i.e. the encoded value rounded
 * to nearest (halves up), clamped to 0..255; NaN gives 0.
 */
export function code8(grid: Grid8, v: number): number {
  let lo = 0;
  let hi = grid.thresholds.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (grid.thresholds[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** `v` as the target reads it back. */
export function quantize8(grid: Grid8, v: number): number {
  return grid.levels[code8(grid, v)]!;
}
