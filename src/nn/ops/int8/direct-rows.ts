/**
 * INT8 conv1x1, down2x2 and up2x2 on dot4I8Packed with every input word of a pixel loaded before
 * its products, and `rows` output pixels a thread (DIRECT_TILE.y rows apart), the next pixel's
 * words loaded before the current one's products. Benchmarks only until measured (the network
 * option `directRows`): ./direct.ts's kernel loads a word, multiplies it, loads the next, and
 * v2's direct kernels take about the sum of their traffic's time and their products' time, as if
 * the two never overlapped (docs/PERFORMANCE.md, the direct kernels bisected). Same arithmetic,
 * same epilogue (./common.ts), same outputs. CPU reference: int8OpCpu / int8OpToF32Cpu in
 * src/reference/nn/int8-ops.ts.
 */
import { INT8_OP_TAPS } from '../../../reference/nn/int8-ops.ts';
import {
  INT8_PARAMS,
  wgslInt8Op,
  wgslStageWeights,
  type DirectRows,
  type Int8Epilogue,
  type Int8Tile,
} from './common.ts';
import {
  DIRECT_THREADS,
  DIRECT_TILE,
  directStagedWords,
  wgslAccumulateInputWord,
  type DirectOp,
} from './direct.ts';

/** Every row count the benchmarks and tests run. */
export const DIRECT_ROWS: readonly DirectRows[] = [1, 2, 4];

/** The output pixels a workgroup of the kernel with `rows` covers. */
export const directRowsTile = (rows: DirectRows): Int8Tile => ({
  x: DIRECT_TILE.x,
  y: DIRECT_TILE.y * rows,
});

/** Input pixels output pixel (x, y) reads: `reads` of them, read r at `source(x, y, r)`. */
const SOURCES: Readonly<Record<DirectOp, { reads: number; source: string }>> = {
  conv1x1: { reads: 1, source: 'vec3u(x, y, 0u)' },
  down2x2: { reads: 4, source: 'vec3u(2u * x + (r & 1u), 2u * y + (r >> 1u), r)' },
  up2x2: { reads: 1, source: 'vec3u(x >> 1u, y >> 1u, (y & 1u) * 2u + (x & 1u))' },
};

const code = (op: DirectOp, words: number, rows: DirectRows, epilogue: Int8Epilogue) => {
  const block = epilogue.block;
  const channels = epilogue.channels ?? block;
  const staged = directStagedWords(op, words, block);
  const { reads, source } = SOURCES[op];
  return /* wgsl */ `
${wgslInt8Op(epilogue, INT8_PARAMS.wgsl)}
const TAPS = ${INT8_OP_TAPS[op]}u;
const WORDS = ${words}u;
const READS = ${reads}u;
const ROWS = ${rows}u;
// [word][tap][k]: output channel co0 + k, read 4 channels per load.
var<workgroup> taps: array<vec4u, ${staged}>;

var<private> acc: array<i32, ${block}>;

// Input pixel and tap of read r of output pixel (x, y).
fn source(x: u32, y: u32, r: u32) -> vec3u {
  return ${source};
}

// Every input word output pixel (x, y) reads, read by read.
fn loadPixel(x: u32, y: u32) -> array<u32, ${reads * words}> {
  var w: array<u32, ${reads * words}>;
  for (var r = 0u; r < READS; r++) {
    let s = source(x, y, r);
    for (var g = 0u; g < WORDS; g++) {
      w[r * WORDS + g] = input[(s.y * u.inWidth + s.x) * WORDS + g];
    }
  }
  return w;
}

// The block's sums for output pixel (x, y) from its loaded words.
fn accumulatePixel(x: u32, y: u32, w: array<u32, ${reads * words}>) {
  for (var k = 0u; k < ${block}u; k++) { acc[k] = 0; }
  for (var r = 0u; r < READS; r++) {
    let tap = source(x, y, r).z;
    for (var g = 0u; g < WORDS; g++) {
${wgslAccumulateInputWord(block, 'w[r * WORDS + g]', 'g', {}, channels)}
    }
  }
}

@compute @workgroup_size(${DIRECT_TILE.x}, ${DIRECT_TILE.y})
fn main(
  @builtin(workgroup_id) wg: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let co0 = wg.z * ${block}u;
  // The block's weights are one contiguous run of the layout (int8WeightLayout).
  let weightBase = wg.z * ${staged}u;
  ${wgslStageWeights(staged, DIRECT_THREADS)}
  workgroupBarrier();
  let x = wg.x * ${DIRECT_TILE.x}u + lid.x;
  let y0 = wg.y * ${DIRECT_TILE.y * rows}u + lid.y;
  // Pixels beyond the output load and sum a pixel inside it (in bounds), and write nothing.
  let xl = min(x, u.outWidth - 1u);
  var next = loadPixel(xl, min(y0, u.outHeight - 1u));
  for (var k = 0u; k < ROWS; k++) {
    let y = y0 + k * ${DIRECT_TILE.y}u;
    let yl = min(y, u.outHeight - 1u);
    let words = next;
    if (k + 1u < ROWS) { next = loadPixel(xl, min(y + ${DIRECT_TILE.y}u, u.outHeight - 1u)); }
    accumulatePixel(xl, yl, words);
    if (x < u.outWidth && y < u.outHeight) { finish(acc, co0, y * u.outWidth + x); }
  }
}
`;
};

/**
 * The kernel of a conv1x1, down2x2 or up2x2 whose input has `words` packed words per pixel, with
 * `rows` output pixels a thread, for an epilogue (./encode.ts records it on `directRowsTile`);
 * the standard layout in and out.
 */
export function int8DirectRowsCode(
  op: DirectOp,
  words: number,
  rows: DirectRows,
): (epilogue: Int8Epilogue) => string {
  return (epilogue) => code(op, words, rows, epilogue);
}
