/**
 * INT8 conv3x3 (stride 1, zero padding 1) on WGSL's dot4I8Packed, the portable integer path: int8
 * activations packed 4 channels per word (src/core/int8.ts), int8 weights, int32 accumulation and
 * the shared epilogue (./common.ts); ./encode.ts records it. CPU reference: int8OpCpu / int8OpToF32Cpu in
 * src/reference/nn/int8-ops.ts.
 */
import {
  type Conv3x3Bisect,
  INT8_BISECT_NEVER as NEVER,
  int8GroupStep,
  wgslAccumulateBlock,
  wgslInt8Op,
  wgslStageWeights,
  type Int8Epilogue,
  type Int8OutBlock,
  type Int8Tile,
} from './common.ts';

/**
 * Output pixels of a conv3x3 workgroup, across and down (one a thread). 16×8 rather than 8×8: a
 * halo of 18×10 staged pixels for 128 outputs instead of 10×10 for 64 (1.41 staged pixels an
 * output instead of 1.56, and half the barriers), every 3×3 layer 9–20 % faster on an H100
 * (docs/PERFORMANCE.md, 2026-12-07 thirteenth session).
 */
export const CONV3X3_TILE: Int8Tile = { x: 16, y: 8 };

/** The tile of layers with many output pixels (`conv3x3Tile`). */
export const CONV3X3_LARGE_TILE: Int8Tile = { x: 16, y: 16 };

/**
 * Output pixels from which a conv3x3 runs on CONV3X3_LARGE_TILE. Measured on an H100 in whole
 * frames against 16×8 everywhere (docs/PERFORMANCE.md, 2026-12-07 fourteenth session): network
 * v2's frame at 4K 3.28 against 3.34 ms; at 1080p 0.951 against 0.959 (within a case's bias);
 * v3a level. A 16×16 tile at ⅛ resolution of 1080p (32 K pixels) was 14–17 % slower (too few
 * workgroups to fill the GPU), so small layers keep 16×8.
 */
export const CONV3X3_LARGE_TILE_FROM = 500_000;

/**
 * The tile of a conv3x3 writing `width`×`height` pixels: CONV3X3_LARGE_TILE from `largeFrom`
 * pixels on (default CONV3X3_LARGE_TILE_FROM; Infinity: never), else CONV3X3_TILE.
 */
export function conv3x3Tile(
  width: number,
  height: number,
  largeFrom = CONV3X3_LARGE_TILE_FROM,
): Int8Tile {
  return width * height >= largeFrom ? CONV3X3_LARGE_TILE : CONV3X3_TILE;
}

/**
 * Where a conv3x3 gets the words of its staged tile from instead of its input tensor: an op run
 * for every pixel of the halo (./producer-in-halo.ts). The kernel then stages all its input words
 * in one step.
 */
export interface Conv3x3HaloSource {
  /** WGSL declarations after the header. */
  readonly declarations: string;
  /** WGSL every thread runs once before the step, followed by a barrier (staging weights). */
  readonly prologue: string;
  /**
   * WGSL every thread runs to fill the staged tile: `tile[g * HALO_X * HALO_Y + r]`, input word g
   * of halo pixel r (row-major from input pixel (x0 − 1, y0 − 1)), zero outside the input (`H`
   * rows of `W`); the kernel's barrier follows. It may use barriers of its own.
   */
  readonly staging: string;
}

/** The staging of the input tile's words read from the input tensor. */
const stagedFromInput = (threads: number, bisect?: Conv3x3Bisect) => /* wgsl */ `
    // Consecutive threads read consecutive words: a pixel's groups, then the next pixel.
    for (var i = li; i < STEP * HALO_X * HALO_Y; i += ${threads}u) {
      let gi = i % STEP;
      let g = g0 + gi;
      let r = i / STEP;
      let sy = i32(y0 + r / HALO_X) - 1;
      let sx = i32(x0 + r % HALO_X) - 1;
      var v = 0u;
      if (g < u.inGroups && sy >= 0 && sy < H && sx >= 0 && sx < W) {
        ${bisect === 'no-input-loads' ? `v = (i * 2654435761u) ^ g; if (${NEVER}) {` : '{'}
        v = input[(u32(sy) * u.inWidth + u32(sx)) * u.inGroups + g];
        }
      }
      tile[gi * HALO_X * HALO_Y + r] = v;
    }`;

// Each workgroup stages `step` input words of its tile and a one-pixel border around it, and the
// block's weights for them (int8WeightLayout), in workgroup memory; each thread then runs
// 9·step·block dot4I8Packed per step.
const code = (
  step: number,
  block: Int8OutBlock,
  channels: number,
  header: string,
  tile: Int8Tile,
  bisect?: Conv3x3Bisect,
  halo?: Conv3x3HaloSource,
) => /* wgsl */ `
${header}
${halo?.declarations ?? ''}
const HALO_X = ${tile.x + 2}u;
const HALO_Y = ${tile.y + 2}u;
const STEP = ${step}u;
var<workgroup> tile: array<u32, ${step * (tile.x + 2) * (tile.y + 2)}>;
// [group][tap][k]: output channel co0 + k, read 4 channels per load (one load per 4 dot4I8Packed).
var<workgroup> taps: array<vec4u, ${(step * 9 * block) / 4}>;

@compute @workgroup_size(${tile.x}, ${tile.y})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let x0 = wg.x * ${tile.x}u;
  let y0 = wg.y * ${tile.y}u;
  let co0 = wg.z * ${block}u;
  let H = i32(u.inHeight);
  let W = i32(u.inWidth);
  var acc: array<i32, ${block}>;${
    halo
      ? `${halo.prologue}
  workgroupBarrier();`
      : ''
  }
  for (var g0 = 0u; g0 < u.inGroups; g0 += STEP) {${
    halo ? halo.staging : stagedFromInput(tile.x * tile.y, bisect)
  }
    // The step's weights are one contiguous run of the layout (int8WeightLayout).
    let weightBase = (wg.z * u.inGroups + g0) * ${(9 * block) / 4}u;
    ${wgslStageWeights((step * 9 * block) / 4, tile.x * tile.y, bisect === 'no-weight-loads')}
    ${bisect === 'no-barriers' ? '' : 'workgroupBarrier();'}
    ${bisect === 'no-product' ? `if (${NEVER}) {` : '{'}
    for (var g = 0u; g < STEP; g++) {
      for (var ky = 0u; ky < 3u; ky++) {
        for (var kx = 0u; kx < 3u; kx++) {
          let v = tile[(g * HALO_Y + lid.y + ky) * HALO_X + lid.x + kx];
          let t = (g * 9u + ky * 3u + kx) * ${block / 4}u;
          ${wgslAccumulateBlock('acc', 'v', 'taps', 't', block, channels)}
        }
      }
    }
    }
    ${bisect === 'no-barriers' ? '' : 'workgroupBarrier();'}
  }
  let x = x0 + lid.x;
  let y = y0 + lid.y;
  if (x < u.outWidth && y < u.outHeight${bisect === 'no-epilogue' ? ` && ${NEVER}` : ''}) { finish(acc, co0, y * u.outWidth + x); }
}
`;

/**
 * The kernel of a conv3x3 on `tile` staging `step` input words at a time, for an epilogue
 * (./encode.ts).
 */
export const int8Conv3x3Code =
  (step: number, tile: Int8Tile, bisect?: Conv3x3Bisect) => (epilogue: Int8Epilogue) =>
    code(
      step,
      epilogue.block,
      epilogue.channels ?? epilogue.block,
      wgslInt8Op(epilogue),
      tile,
      bisect,
    );

/**
 * The same kernel with another epilogue: `header` declares what int8DirectCodeWithEpilogue's
 * does (./direct.ts: the uniform block `u`, `input`, `weight` and `finish(acc, co0, p)`, called
 * once per output pixel with the block's accumulators, bias not yet added); `channels` the
 * block's real output channels (`wgslAccumulateBlock`; undefined: all). Network v2's head
 * with the KPN filter + blend (src/nn/resolve/last-layer-filter-blend.ts).
 */
export function int8Conv3x3CodeWithEpilogue(
  words: number,
  block: Int8OutBlock,
  channels: number | undefined,
  header: string,
  tile: Int8Tile,
  halo?: Conv3x3HaloSource,
): string {
  const step = halo ? words : int8GroupStep(words);
  return code(step, block, channels ?? block, header, tile, undefined, halo);
}
