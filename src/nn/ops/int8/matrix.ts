/**
 * INT8 weighted ops as implicit GEMM on subgroup matrices (WGSL chromium_experimental_subgroup_matrix:
 * i8 × i8 → i32 tiles of 16×16×32, the tensor cores where Dawn offers them). Rows of the GEMM are
 * 16 pixels in a row, columns output channels, the reduction a contiguous span of input bytes.
 *
 * The input is a padded tensor (./padded.ts): pixel pitch a multiple of 32 bytes, a zero border,
 * whole rows. The span of a tap row (3 pixels for conv3x3, 2 for down2x2, 1 for conv1x1 and
 * up2x2) is then contiguous in memory, and the left matrix of 16 GEMM pixels for any tap row and
 * 32-byte K chunk is ONE load from the storage tensor with stride one pitch (two for down2x2):
 * no staging in workgroup memory, no barrier in the product, no bounds to check. The weights are
 * packed to match ([tap row][chunk][k][column], zero for padding channels and columns); each
 * right matrix is loaded once per subgroup and multiplied into all of its mTiles × 16 pixels.
 * up2x2 runs on input pixels with its four taps as 4·Cout columns.
 *
 * A workgroup is 4 subgroups, one row of 16·mTiles GEMM pixels each. Rows and tiles past the
 * GEMM's edge compute the last row or tile again (no branch around the matrix ops) and are not
 * written. The accumulators go through workgroup memory to the shared epilogue (./common.ts),
 * word by word, into the output's layout: padded for the next matrix kernel, or the standard
 * packed int8 or planar f32 output. So the output is the dot4I8Packed kernels' bit for bit.
 *
 * Where the adapter lacks subgroup matrices, `emulated` multiplies the same bytes at the same
 * offsets with scalar code, lane by lane: layout, weight packing and epilogue are then tested on
 * any adapter (lavapipe, browsers) against the CPU reference; bench/int8-exact.ts checks the
 * real matrices the same way on the GPU machine.
 */
import type { WeightedOp } from '../../../core/graph.ts';
import { packedGroups } from '../../../core/int8.ts';
import type { TensorShape } from '../../../core/tensor.ts';
import { adapterInfoOf } from '../../../gpu/device.ts';
import { groupsFor } from '../../../gpu/kernel.ts';
import { createStorageBuffer } from '../../../gpu/resources.ts';
import { uniformBlock } from '../../../gpu/uniforms.ts';
import { INT8_OP_TAPS, int8WeightIndex } from '../../../reference/nn/int8-ops.ts';
import {
  INT8_BISECT_NEVER as NEVER,
  INT8_PARAMS,
  wgslInt8Op,
  type Int8Epilogue,
  type Int8KernelRecipe,
  type Int8OpWeights,
} from './common.ts';
import { int8Layout, isPadded, paddedPitchBytes, PADDED_BORDER } from './padded.ts';

/** How the matrix kernels multiply: tensor cores, or scalar code on the same bytes. */
export type MatrixMultiply = 'subgroup-matrix' | 'emulated';

/**
 * A part of the subgroup-matrix kernel left out, for benchmarks only (the outputs are wrong):
 * the left-matrix loads or the right-matrix loads hoisted out of the reduction (one load each),
 * the reduction skipped (zero accumulators), the epilogue (nothing written but the
 * accumulators to workgroup memory), the epilogue's requantization and writes (the
 * accumulators read back from workgroup memory, nothing written), or its requantization alone
 * (the accumulators clamped to int8 and written where the whole kernel writes, so the stores stay;
 * int8 outputs only, an f32-output kernel keeps its epilogue). Skipped parts stay in the
 * shader behind a condition no dispatch meets (NEVER). The differences to the whole kernel time
 * each part.
 */
export type MatrixBisect =
  'no-a-loads' | 'no-b-loads' | 'no-product' | 'no-epilogue' | 'no-writes' | 'no-requantize';
export const MATRIX_BISECTS: readonly MatrixBisect[] = [
  'no-a-loads',
  'no-b-loads',
  'no-product',
  'no-epilogue',
  'no-writes',
  'no-requantize',
];

/** The WebGPU feature of subgroup matrices (Dawn, behind allow_unsafe_apis). */
export const SUBGROUP_MATRIX_FEATURE = 'chromium-experimental-subgroup-matrix';

/** Subgroups per workgroup; each computes one GEMM row of 16·mTiles pixels. */
const SUBGROUPS = 4;
/** Lanes per subgroup the kernels assume (NVIDIA's; `subgroupMatricesUsable` checks). */
const LANES = 32;
/** The matrix shape: M rows (pixels) × N columns (output channels), K = 32 bytes per chunk. */
const M = 16;
const N = 16;
const K = 32;
/** Result matrices a subgroup keeps in registers (8 registers per lane each on 32 lanes). */
const MAX_ACCUMULATORS = 8;
/** 16-pixel tiles a subgroup multiplies each right matrix into, at most. */
const MAX_M_TILES = 4;
/**
 * Words of workgroup memory after each GEMM pixel's columns: none. 8 (rows of 16 or 32 words
 * then no longer on the same banks) made v2's mix 8 % faster and its head 20 % slower (NVIDIA
 * H100, 2026-12-06, docs/PERFORMANCE.md); the benchmarks' tiling `pad8` keeps it measurable.
 */
const RESULT_PAD = 0;

/**
 * Benchmarks only: the tiling the kernels are built with, other than the default (the results'
 * pad words, RESULT_PAD; the most 16-pixel tiles a subgroup computes, MAX_M_TILES; `splitK`: the
 * workgroup's subgroups share one GEMM row, each multiplying every SUBGROUPS-th K step, and the
 * epilogue sums their partial tiles: four times the workgroups, for the small layers). The
 * outputs are the same (integer sums in any order).
 */
export interface MatrixTiling {
  readonly resultPad?: number;
  readonly maxMTiles?: number;
  readonly splitK?: boolean;
}

interface AdapterInfoWithMatrices {
  subgroupMinSize?: number;
  subgroupMaxSize?: number;
  subgroupMatrixConfigs?: readonly {
    componentType: string;
    resultComponentType: string;
    M: number;
    N: number;
    K: number;
  }[];
}

/**
 * Whether `device` runs the subgroup-matrix kernels: the feature is enabled, the adapter offers
 * i8 × i8 → i32 matrices of 16×16×32, and its subgroups have 32 lanes.
 */
export function subgroupMatricesUsable(device: GPUDevice): boolean {
  if (!device.features.has(SUBGROUP_MATRIX_FEATURE as GPUFeatureName)) return false;
  const info = adapterInfoOf(device) as AdapterInfoWithMatrices | undefined;
  if (!info?.subgroupMatrixConfigs) return false;
  const i8 = info.subgroupMatrixConfigs.some(
    (c) =>
      c.componentType === 'i8' &&
      c.resultComponentType === 'i32' &&
      c.M === M &&
      c.N === N &&
      c.K === K,
  );
  return i8 && info.subgroupMinSize === LANES && info.subgroupMaxSize === LANES;
}

/** The GEMM an op's kernel computes and how a subgroup tiles it. */
export interface MatrixGeometry {
  readonly op: WeightedOp;
  readonly inChannels: number;
  readonly outChannels: number;
  /** Input bytes per pixel: the padded pitch, a multiple of 32 (or 16 for down2x2). */
  readonly pixelBytes: number;
  /** Input rows one GEMM row reads, and input pixels per row (its span). */
  readonly tapRows: number;
  readonly spanPixels: number;
  /** Input pixels (and rows) between neighbouring GEMM pixels (rows): 2 for down2x2. */
  readonly step: number;
  /** The op's zero padding before the first input row and column. */
  readonly pad: number;
  /** K chunks of 32 bytes per tap row: the span's bytes. */
  readonly chunks: number;
  /** GEMM columns: output channels (up2x2: 4 taps × channels rounded to words), padded to 16. */
  readonly columns: number;
  /** Output channels per tap column block (up2x2), rounded up to a word. */
  readonly tapColumns: number;
  /** 16-column tiles, and 16-pixel tiles per subgroup. */
  readonly columnTiles: number;
  readonly mTiles: number;
  /** Words of workgroup memory per GEMM pixel: its columns and RESULT_PAD (where it fits). */
  readonly resultStride: number;
  /** The subgroups split the K steps of one GEMM row (MatrixTiling.splitK) instead of a row each. */
  readonly splitK: boolean;
  /** Workgroup memory of the accumulators (the epilogue's), in bytes. */
  readonly workgroupBytes: number;
}

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/**
 * The GEMM of an op: as many 16-pixel tiles per subgroup (up to 4) as keep at most 8 result
 * matrices in registers and the workgroup's accumulators within `workgroupLimit` bytes.
 */
export function matrixGeometry(
  op: WeightedOp,
  inChannels: number,
  outChannels: number,
  workgroupLimit = 49152,
  pixelBytes = paddedPitchBytes(inChannels),
  tiling: MatrixTiling = {},
): MatrixGeometry {
  const tapRows = op === 'conv3x3' ? 3 : op === 'down2x2' ? 2 : 1;
  const spanPixels = tapRows;
  const step = op === 'down2x2' ? 2 : 1;
  // Whole K chunks per span, and matrix rows that do not overlap (Dawn's rule).
  if ((spanPixels * pixelBytes) % K !== 0 || step * pixelBytes < K || pixelBytes < inChannels) {
    throw new RangeError(
      `int8 ${op} ${inChannels}→${outChannels}: no matrix kernel reads an input pitch of ${pixelBytes} bytes`,
    );
  }
  const tapColumns = 4 * packedGroups(outChannels);
  const columns = roundUp(op === 'up2x2' ? 4 * tapColumns : outChannels, N);
  const columnTiles = columns / N;
  // Pad words only where a tile fits with them (a wide up2x2 on a 32 KiB device: without).
  const pad = tiling.resultPad ?? RESULT_PAD;
  const resultStride =
    SUBGROUPS * M * (columns + pad) * 4 <= workgroupLimit ? columns + pad : columns;
  const bytesOf = (mTiles: number) => SUBGROUPS * mTiles * M * resultStride * 4;
  const maxMTiles = tiling.maxMTiles ?? MAX_M_TILES;
  let mTiles = Math.max(1, Math.min(maxMTiles, Math.floor(MAX_ACCUMULATORS / columnTiles)));
  while (mTiles > 1 && bytesOf(mTiles) > workgroupLimit) mTiles--;
  if (bytesOf(mTiles) > workgroupLimit) {
    throw new RangeError(
      `int8 ${op} ${inChannels}→${outChannels}: the matrix kernel needs ${bytesOf(mTiles)} bytes of workgroup memory, the device allows ${workgroupLimit}`,
    );
  }
  return {
    op,
    inChannels,
    outChannels,
    pixelBytes,
    tapRows,
    spanPixels,
    step,
    pad: op === 'conv3x3' ? 1 : 0,
    chunks: (spanPixels * pixelBytes) / K,
    columns,
    tapColumns,
    columnTiles,
    mTiles,
    resultStride,
    splitK: tiling.splitK ?? false,
    workgroupBytes: bytesOf(mTiles),
  };
}

/** Bytes of an op's right matrices (packMatrixWeight): a K chunk of every column per tap row. */
export function matrixWeightBytes(g: MatrixGeometry): number {
  return g.tapRows * g.chunks * K * g.columns;
}

/**
 * The op's int8 weights (its f32 layout) as the GEMM's right matrices, bytes
 * [tapRow][chunk][k 0…31][column]: byte k of a chunk is input pixel ⌊b / pitch⌋ of the span,
 * channel b mod pitch (b = 32·chunk + k); zero for padding channels and columns.
 */
export function packMatrixWeight(g: MatrixGeometry, weight: Int8Array): Int8Array {
  const { op, inChannels: cin, outChannels: cout, pixelBytes, columns, chunks } = g;
  const out = new Int8Array(matrixWeightBytes(g));
  if (weight.length !== cout * cin * INT8_OP_TAPS[op]) {
    throw new RangeError(`int8 ${op}: weight has ${weight.length} values for ${cin}→${cout}`);
  }
  for (let r = 0; r < g.tapRows; r++) {
    for (let b = 0; b < chunks * K; b++) {
      const j = Math.floor(b / pixelBytes);
      const ci = b % pixelBytes;
      if (ci >= cin) continue;
      const row = ((r * chunks + Math.floor(b / K)) * K + (b % K)) * columns;
      for (let n = 0; n < columns; n++) {
        const tap = op === 'up2x2' ? Math.floor(n / g.tapColumns) : r * g.spanPixels + j;
        const co = op === 'up2x2' ? n % g.tapColumns : n;
        if (co >= cout || tap >= INT8_OP_TAPS[op]) continue;
        out[row + n] = weight[int8WeightIndex(op, co, ci, tap, cin, cout)]!;
      }
    }
  }
  return out;
}

/** An op's weights for the matrix kernel, and how it multiplies. */
export interface Int8MatrixWeights {
  readonly geometry: MatrixGeometry;
  readonly multiply: MatrixMultiply;
  readonly buffer: GPUBuffer;
  /** Benchmarks only: the part of the kernel left out (MatrixBisect). */
  readonly bisect?: MatrixBisect;
}

/**
 * Packs and uploads the right matrices of an op uploaded by `uploadInt8Op`, for an input of
 * `inputPitchBytes` per pixel (default: its channels rounded up to 32 bytes).
 */
export function uploadMatrixWeights(
  device: GPUDevice,
  weights: Int8OpWeights,
  multiply: MatrixMultiply,
  inputPitchBytes?: number,
  bisect?: MatrixBisect,
  tiling?: MatrixTiling,
): Int8MatrixWeights {
  const geometry = matrixGeometry(
    weights.op,
    weights.inChannels,
    weights.outChannels,
    device.limits.maxComputeWorkgroupStorageSize,
    inputPitchBytes,
    tiling,
  );
  const bytes = packMatrixWeight(geometry, weights.weight);
  const words = new Uint32Array(bytes.buffer, 0, bytes.length / 4);
  const buffer = createStorageBuffer(
    device,
    words,
    GPUBufferUsage.STORAGE,
    `int8 ${weights.op} matrix weight`,
  );
  return { geometry, multiply, buffer, ...(bisect ? { bisect } : {}) };
}

/** The matrix kernels' uniforms: INT8_PARAMS and where the tensors' pixels lie. */
export const MATRIX_PARAMS = uniformBlock({
  ...INT8_PARAMS.fields,
  /** The padded input's pixels per row. */
  inRowPixels: 'u32',
  /** The output's and the residual's layouts (./padded.ts; border 0 for the standard ones). */
  outBorder: 'u32',
  outRowPixels: 'u32',
  residualBorder: 'u32',
  residualRowPixels: 'u32',
});

/** Every 16-pixel tile × 16-column tile of a subgroup, as WGSL lines. */
function eachTile(g: MatrixGeometry, f: (m: number, n: number) => string, indent = '  '): string {
  return Array.from({ length: g.mTiles }, (_, m) =>
    Array.from({ length: g.columnTiles }, (_, n) => f(m, n)),
  )
    .flat()
    .join(`\n${indent}`);
}

/** GEMM rows a workgroup computes: one per subgroup, or one for all of them (splitK). */
function workgroupRows(g: MatrixGeometry): number {
  return g.splitK ? 1 : SUBGROUPS;
}

/**
 * The opening of the product's loop over its K steps (tap row r, 32-byte chunk k), closed by two
 * braces: every step, or with `splitK` every SUBGROUPS-th from the subgroup's own.
 */
function kSteps(g: MatrixGeometry): string {
  if (!g.splitK) {
    return `for (var r = 0u; r < TAP_ROWS; r++) {
    for (var k = 0u; k < CHUNKS; k++) {`;
  }
  return `for (var kStep = sg; kStep < TAP_ROWS * CHUNKS; kStep += ${SUBGROUPS}u) {
    let r = kStep / CHUNKS;
    let k = kStep % CHUNKS;
    {`;
}

/**
 * The accumulator tiles of one subgroup, multiplied on subgroup matrices. Loads and stores in
 * Dawn's current form (majorness a template parameter; offset and stride in elements of the
 * array, i32 words here, so the byte offsets, all multiples of 16, are divided by 4); the form
 * with a `col_major` argument counting i8 components is deprecated.
 */
function subgroupMatrixProduct(g: MatrixGeometry, bisect?: MatrixBisect): string {
  const tiles = (f: (m: number) => string) =>
    Array.from({ length: g.mTiles }, (_, m) => f(m)).join('\n      ');
  const aLoad = (m: number, offset: string) =>
    `let a${m} = subgroupMatrixLoad<subgroup_matrix_left<i8, ${K}, ${M}>, row_major>(&input, (tileStart(gy, gx0 + ${m * M}u) + ${offset}) / 4u, STEP * PIXEL_BYTES / 4u);`;
  const bLoad = (n: number, base: string, name = 'b') =>
    `let ${name} = subgroupMatrixLoad<subgroup_matrix_right<i8, ${N}, ${K}>, row_major>(&weight, (${base} + ${n * N}u) / 4u, COLUMNS / 4u);`;
  // Bisection (benchmarks only): the loads of one operand hoisted out of the reduction, or no
  // reduction at all; the results are then wrong, the time is the rest's.
  const hoisted = [
    bisect === 'no-a-loads' ? tiles((m) => aLoad(m, '0u')) : '',
    bisect === 'no-b-loads'
      ? Array.from({ length: g.columnTiles }, (_, n) => bLoad(n, '0u', `b${n}`)).join('\n  ')
      : '',
  ].join('\n  ');
  const product = /* wgsl */ `
  ${kSteps(g)}
      let offset = r * u.inRowPixels * PIXEL_BYTES + k * ${K}u;
      let weightBase = (r * CHUNKS + k) * ${K}u * COLUMNS;
      ${bisect === 'no-a-loads' ? '' : tiles((m) => aLoad(m, 'offset'))}
      ${Array.from(
        { length: g.columnTiles },
        (_, n) => `{
        ${bisect === 'no-b-loads' ? `let b = b${n};` : bLoad(n, 'weightBase')}
        ${tiles((m) => `acc${m}_${n} = subgroupMatrixMultiplyAccumulate(a${m}, b, acc${m}_${n});`)}
      }`,
      ).join('\n      ')}
    }
  }`;
  return /* wgsl */ `
  ${eachTile(g, (m, n) => `var acc${m}_${n} = subgroup_matrix_result<i32, ${N}, ${M}>();`)}
  ${hoisted}
  ${
    bisect === 'no-product'
      ? `if (${NEVER}) {${product}
  }`
      : product
  }
  ${eachTile(g, (m, n) => `subgroupMatrixStore<row_major>(&results, (sg * M_TILES + ${m}u) * ${M}u * RESULT_STRIDE + ${n * N}u, acc${m}_${n}, RESULT_STRIDE);`)}`;
}

/**
 * The same product in scalar code: lane l of a subgroup owns elements 8l … 8l + 7 of each 16×16
 * accumulator tile (row-major), and multiplies the bytes the matrix loads would read.
 */
function emulatedProduct(g: MatrixGeometry): string {
  const tiles = g.columnTiles;
  return /* wgsl */ `
  let lane = li % ${LANES}u;
  var acc: array<i32, ${g.mTiles * tiles * 8}>;
  ${kSteps(g)}
      let offset = r * u.inRowPixels * PIXEL_BYTES + k * ${K}u;
      let weightBase = (r * CHUNKS + k) * ${K}u * COLUMNS;
      for (var m = 0u; m < M_TILES; m++) {
        let a0 = tileStart(gy, gx0 + m * ${M}u) + offset;
        for (var n = 0u; n < ${tiles}u; n++) {
          for (var t = 0u; t < 8u; t++) {
            let e = lane * 8u + t;
            var s = 0;
            for (var c = 0u; c < ${K}u; c++) {
              let a = inputByte(a0 + (e / ${N}u) * STEP * PIXEL_BYTES + c);
              let b = weightByte(weightBase + c * COLUMNS + n * ${N}u + e % ${N}u);
              s += a * b;
            }
            acc[(m * ${tiles}u + n) * 8u + t] += s;
          }
        }
      }
    }
  }
  for (var m = 0u; m < M_TILES; m++) {
    for (var n = 0u; n < ${tiles}u; n++) {
      for (var t = 0u; t < 8u; t++) {
        let e = lane * 8u + t;
        results[((sg * M_TILES + m) * ${M}u + e / ${N}u) * RESULT_STRIDE + n * ${N}u + e % ${N}u] =
          acc[(m * ${tiles}u + n) * 8u + t];
      }
    }
  }`;
}

/**
 * WGSL writing GEMM pixel px's words from the accumulators (in the epilogue's loop). The
 * `no-writes` bisection reads the accumulators but skips the requantization and the writes;
 * `no-requantize` writes them clamped to int8 instead of requantized (int8 outputs).
 */
function epilogueWrite(g: MatrixGeometry, realOutput: boolean, bisect?: MatrixBisect): string {
  const finish = (word: string, p: string) => {
    if (bisect === 'no-writes') {
      return `if (${NEVER}) { finishWord(a, ${word}, ${p}); } else { sink ^= a; }`;
    }
    if (bisect === 'no-requantize' && !realOutput) {
      return `if (${NEVER}) { finishWord(a, ${word}, ${p}); } else if (${word} * 4u < u.outChannels) { output[outWord(${p}, ${word})] = pack4xI8Clamp(a); }`;
    }
    return `finishWord(a, ${word}, ${p});`;
  };
  // With splitK the subgroups' partial tiles, PART words apart, summed.
  const parts = g.splitK ? SUBGROUPS : 1;
  const part = (j: number) => {
    const at = (c: number) => `results[n${j ? ` + ${j}u * PART` : ''}${c ? ` + ${c}u` : ''}]`;
    return `vec4i(${[0, 1, 2, 3].map(at).join(', ')})`;
  };
  const read = `let a = ${Array.from({ length: parts }, (_, j) => part(j)).join(' + ')};`;
  if (g.op !== 'up2x2') {
    return /* wgsl */ `    let n = px * RESULT_STRIDE + w * 4u;
    residualP = residualPixel(gy, gx);
    ${read}
    ${finish('w', 'outPixel(gy, gx)')}`;
  }
  return /* wgsl */ `    let tapWords = ${g.tapColumns / 4}u;
    let tap = w / tapWords;
    let n = px * RESULT_STRIDE + tap * ${g.tapColumns}u + (w % tapWords) * 4u;
    let y = 2u * gy + (tap >> 1u);
    let x = 2u * gx + (tap & 1u);
    residualP = residualPixel(y, x);
    ${read}
    ${finish('w % tapWords', 'outPixel(y, x)')}`;
}

/** WGSL of the matrix kernel of an op for an epilogue. */
export function int8MatrixCode(g: MatrixGeometry, multiply: MatrixMultiply, bisect?: MatrixBisect) {
  if (bisect && multiply !== 'subgroup-matrix') {
    throw new RangeError(`int8 matrix kernel: "${bisect}" times subgroup matrices only`);
  }
  const up = g.op === 'up2x2';
  const gemmHeight = up ? 'u.inHeight' : 'u.outHeight';
  const gemmWidth = up ? 'u.inWidth' : 'u.outWidth';
  const words = up ? g.columns / 4 : packedGroups(g.outChannels);
  const matrices = multiply === 'subgroup-matrix';
  const threads = SUBGROUPS * LANES;
  const rows = workgroupRows(g);
  return (epilogue: Int8Epilogue) => /* wgsl */ `
${matrices ? 'enable chromium_experimental_subgroup_matrix;' : ''}
${wgslInt8Op(
  { ...epilogue, weightWords: 'i32', inputWords: 'i32', residualPixel: 'residualP' },
  MATRIX_PARAMS.wgsl,
)}
const STEP = ${g.step}u;
const PIXEL_BYTES = ${g.pixelBytes}u;
const TAP_ROWS = ${g.tapRows}u;
const CHUNKS = ${g.chunks}u;
const COLUMNS = ${g.columns}u;
const RESULT_STRIDE = ${g.resultStride}u;
const M_TILES = ${g.mTiles}u;
const ROW_PIXELS = ${M * g.mTiles}u;
/** GEMM rows a workgroup computes (workgroupRows). */
const ROWS = ${rows}u;
const GEMM_PIXELS = ${rows * M * g.mTiles}u;
/** Words between the subgroups' partial tiles (splitK). */
const PART = ${g.mTiles * M * g.resultStride}u;
/** Output words per GEMM pixel (up2x2: of its four output pixels). */
const WORDS = ${words}u;
/** The input's first pixel a GEMM pixel's span starts at: its border less the op's padding. */
const ORIGIN = ${PADDED_BORDER - g.pad}u;
// Each subgroup's accumulators, row-major: GEMM pixel px's columns at px · RESULT_STRIDE.
var<workgroup> results: array<i32, ${g.workgroupBytes / 4}>;

// Byte b (sign-extended) of the input and of the weights (the emulated multiply's reads).
fn inputByte(b: u32) -> i32 {
  return extractBits(input[b / 4u], 8u * (b % 4u), 8u);
}
fn weightByte(b: u32) -> i32 {
  return extractBits(weight[b / 4u], 8u * (b % 4u), 8u);
}

// Byte offset of the span of GEMM pixels (gy, x …): a tile past the row's last whole 16-pixel
// tile reads that tile again (its results are not written).
fn tileStart(gy: u32, x: u32) -> u32 {
  let last = ((${gemmWidth} + ${M - 1}u) / ${M}u - 1u) * ${M}u;
  return ((gy * STEP + ORIGIN) * u.inRowPixels + min(x, last) * STEP + ORIGIN) * PIXEL_BYTES;
}

// Output pixel (y, x) in the output's layout.
fn outPixel(y: u32, x: u32) -> u32 {
  return (y + u.outBorder) * u.outRowPixels + x + u.outBorder;
}
// The residual's pixel of output pixel (y, x), set before each finishWord from the coordinates
// the epilogue has (recovering them from the output index took two integer divisions by a
// uniform per channel).
fn residualPixel(y: u32, x: u32) -> u32 {
  return (y + u.residualBorder) * u.residualRowPixels + x + u.residualBorder;
}
var<private> residualP: u32;

@compute @workgroup_size(${threads})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32${
    matrices ? ', @builtin(subgroup_id) subgroup: u32' : ''
  }) {
  // Matrix loads and stores take subgroup-uniform offsets: the subgroup's id, not li / 32.
  let sg = ${matrices ? 'subgroup' : `li / ${LANES}u`};
  let gx0 = wg.x * ROW_PIXELS;
  // A row past the GEMM's last computes the last again (not written): no branch around matrices.
  let gy = min(wg.y * ROWS + ${g.splitK ? '0u' : 'sg'}, ${gemmHeight} - 1u);
${matrices ? subgroupMatrixProduct(g, bisect) : emulatedProduct(g)}
  workgroupBarrier();
  ${bisect === 'no-epilogue' ? `if (!(${NEVER})) { return; }` : ''}
  ${bisect === 'no-writes' ? 'var sink = vec4i(0);' : ''}
  // Neighbouring threads write neighbouring words (packed) or pixels (planar f32).
  for (var t = 0u; t < ${Math.ceil((rows * M * g.mTiles * words) / threads)}u; t++) {
    let i = t * ${threads}u + li;
    if (i >= GEMM_PIXELS * WORDS) { break; }
    let px = ${epilogue.realOutput ? 'i % GEMM_PIXELS' : 'i / WORDS'};
    let w = ${epilogue.realOutput ? 'i / GEMM_PIXELS' : 'i % WORDS'};
    let gy = wg.y * ROWS + px / ROW_PIXELS;
    let gx = gx0 + px % ROW_PIXELS;
    if (gy >= ${gemmHeight} || gx >= ${gemmWidth}) { continue; }
${epilogueWrite(g, epilogue.realOutput, bisect)}
  }
  ${bisect === 'no-writes' ? `if (${NEVER}) { results[li] = sink.x ^ sink.y ^ sink.z ^ sink.w; }` : ''}
}
`;
}

/** Throws unless the matrix kernel of `g` can read `input` (padded, its pitch, whole rows). */
function checkMatrixInput(g: MatrixGeometry, input: Parameters<typeof int8Layout>[0]) {
  const label = `int8 ${g.op} (matrix kernel)`;
  if (!isPadded(input)) {
    throw new RangeError(
      `${label}: the input must be a padded int8 tensor (createPaddedInt8Tensor), not the standard layout`,
    );
  }
  const { border, rowPixels, rows, pitchWords } = input.padding;
  const gemmWidth = g.op === 'up2x2' ? input.width : input.width / g.step;
  const rowNeeds = PADDED_BORDER - g.pad + g.step * roundUp(gemmWidth, M) + g.spanPixels - 1;
  if (pitchWords * 4 !== g.pixelBytes || border !== PADDED_BORDER || rowPixels < rowNeeds) {
    throw new RangeError(
      `${label}: input pitch ${pitchWords * 4} bytes, border ${border}, ${rowPixels} pixels per row; the kernel reads pitch ${g.pixelBytes}, border ${PADDED_BORDER}, ${rowNeeds} pixels per row`,
    );
  }
  if (rows < input.height + 2 * border) throw new RangeError(`${label}: input has ${rows} rows`);
}

/** The matrix kernel's recipe for ./common.ts's dispatch. */
export function int8MatrixRecipe(m: Int8MatrixWeights): Int8KernelRecipe {
  const g = m.geometry;
  const gemmSize = (output: TensorShape) =>
    g.op === 'up2x2'
      ? { height: output.height / 2, width: output.width / 2 }
      : { height: output.height, width: output.width };
  return {
    name:
      m.multiply === 'subgroup-matrix'
        ? `subgroup-matrix${m.bisect ? ` ${m.bisect}` : ''}`
        : 'emulated-matrix',
    code: int8MatrixCode(g, m.multiply, m.bisect),
    weightBuffer: m.buffer,
    workgroups: (output: TensorShape) => {
      const { height, width } = gemmSize(output);
      return [groupsFor(width, M * g.mTiles), groupsFor(height, workgroupRows(g)), 1];
    },
    uniforms: (values, input, targets) => {
      checkMatrixInput(g, input);
      const output = targets.output;
      const out =
        'packed' in output
          ? int8Layout(output)
          : { border: 0, rowPixels: output.width, pitchWords: values.outGroups };
      const residual = targets.residual && int8Layout(targets.residual);
      return MATRIX_PARAMS.pack({
        ...values,
        outGroups: out.pitchWords,
        residualGroups: residual?.pitchWords ?? 0,
        inRowPixels: isPadded(input) ? input.padding.rowPixels : 0,
        outBorder: out.border,
        outRowPixels: out.rowPixels,
        residualBorder: residual?.border ?? 0,
        residualRowPixels: residual?.rowPixels ?? 0,
      });
    },
  };
}
