/**
 * INT8 weighted ops as implicit GEMM on subgroup matrices (WGSL chromium_experimental_subgroup_matrix:
 * i8 × i8 → i32 tiles of 16×16×32, the tensor cores where Dawn offers them). Rows of the GEMM are
 * 16 pixels in a row, columns output channels, the reduction a contiguous span of input bytes.
 *
 * A workgroup of 4 subgroups, one GEMM row of 16·mTiles pixels each, stages the raw input rows
 * it reads once (zero outside the image), then runs one tap row at a time: it copies every GEMM
 * pixel's span in that row — 3 pixels for conv3x3, 2 for down2x2, 1 for conv1x1 and up2x2:
 * Cp·pixels contiguous bytes (Cp = 4 × words per pixel), padded to whole 32-byte K chunks — into
 * one row of the left matrix in workgroup memory (im2col for one tap row; Dawn wants a load's
 * stride to be at least its 32-byte row, so rows cannot overlap in place). The weights are packed to match, zero where a chunk runs past the
 * span or a channel is padding. up2x2 runs on input pixels with its four taps as 4·Cout columns.
 * Each subgroup keeps its accumulators in registers across the reduction, stores them to
 * workgroup memory, and the workgroup runs the shared epilogue (./common.ts) on them word by word,
 * so the output is the dot4I8Packed kernels' bit for bit.
 *
 * Where the adapter lacks subgroup matrices, `emulated` multiplies the same staged tiles with
 * scalar code, lane by lane: the layout, staging, weight packing and epilogue are then tested on
 * any adapter (lavapipe, browsers) against the CPU reference; the device benchmark checks the
 * real matrices the same way (bench/int8-exact.ts). On the H200 these kernels are exact but slower
 * than dot4I8Packed (docs/PERFORMANCE.md), so they run only when asked for.
 */
import type { WeightedOp } from '../../../core/graph.ts';
import { packedGroups } from '../../../core/int8.ts';
import type { TensorShape } from '../../../core/tensor.ts';
import { adapterInfoOf } from '../../../gpu/device.ts';
import { groupsFor } from '../../../gpu/kernel.ts';
import { createStorageBuffer } from '../../../gpu/resources.ts';
import { INT8_OP_TAPS, int8WeightIndex } from '../../../reference/nn/int8-ops.ts';
import {
  wgslInt8Op,
  type Int8Epilogue,
  type Int8KernelRecipe,
  type Int8OpWeights,
} from './common.ts';

/** How the matrix kernels multiply: tensor cores, or scalar code on the same tiles. */
export type MatrixMultiply = 'subgroup-matrix' | 'emulated';

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

/** The GEMM an op's kernel computes and how its workgroup stages it. */
export interface MatrixGeometry {
  readonly op: WeightedOp;
  readonly inChannels: number;
  readonly outChannels: number;
  /** Input bytes per pixel (4 per packed word). */
  readonly pixelBytes: number;
  /** Input rows one GEMM row reads, and input pixels per row. */
  readonly tapRows: number;
  readonly spanPixels: number;
  /** Input pixels (and rows) between neighbouring GEMM pixels (rows): 2 for down2x2. */
  readonly step: number;
  /** Zero padding before the first input row and column. */
  readonly pad: number;
  /** K chunks of 32 bytes per tap row. */
  readonly chunks: number;
  /** GEMM columns: output channels (up2x2: 4 taps × channels rounded to words), padded to 16. */
  readonly columns: number;
  /** Output channels per tap column block (up2x2), rounded up to a word. */
  readonly tapColumns: number;
  /** 16-pixel tiles per subgroup. */
  readonly mTiles: number;
  /** The raw input rows a workgroup stages once: rows × pixels (each Cp bytes). */
  readonly rawRows: number;
  readonly rawPixels: number;
  /** Workgroup memory of one staged tap row of the left matrix, and of everything, in bytes. */
  readonly leftBytes: number;
  readonly workgroupBytes: number;
}

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/** The GEMM of an op: the most pixels per subgroup whose tiles fit `workgroupLimit` bytes. */
export function matrixGeometry(
  op: WeightedOp,
  inChannels: number,
  outChannels: number,
  workgroupLimit = 49152,
): MatrixGeometry {
  const pixelBytes = 4 * packedGroups(inChannels);
  const tapRows = op === 'conv3x3' ? 3 : op === 'down2x2' ? 2 : 1;
  const spanPixels = tapRows;
  const step = op === 'down2x2' ? 2 : 1;
  const pad = op === 'conv3x3' ? 1 : 0;
  const chunks = Math.ceil((spanPixels * pixelBytes) / K);
  const tapColumns = 4 * packedGroups(outChannels);
  const columns = roundUp(op === 'up2x2' ? 4 * tapColumns : outChannels, N);
  const mTiles = 1;
  {
    // One staged tap row of the left matrix (every GEMM pixel's span) and the raw input rows
    // after it; the accumulators overwrite both once the last product is done. (Staging all tap
    // rows at once, with the product unrolled, measured slower on the H200: PERFORMANCE.md.)
    const rawRows = (SUBGROUPS - 1) * step + tapRows;
    const rawPixels = step * (M * mTiles - 1) + spanPixels;
    const left = SUBGROUPS * mTiles * M * chunks * K;
    const results = SUBGROUPS * mTiles * M * columns * 4;
    const workgroupBytes = Math.max(left + rawRows * rawPixels * pixelBytes, results);
    {
      if (workgroupBytes > workgroupLimit) {
        throw new RangeError(
          `int8 ${op} ${inChannels}→${outChannels}: the matrix kernel needs ${workgroupBytes} bytes of workgroup memory, the device allows ${workgroupLimit}`,
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
        pad,
        chunks,
        columns,
        tapColumns,
        mTiles,
        rawRows,
        rawPixels,
        leftBytes: left,
        workgroupBytes,
      };
    }
  }
  throw new Error('unreachable');
}

/**
 * The op's int8 weights (its f32 layout) as the GEMM's right matrices, bytes
 * [tapRow][chunk][k 0…31][column]: byte k of a chunk is input pixel ⌊b / Cp⌋ of the span,
 * channel b mod Cp (b = 32·chunk + k); zero past the span, for padding channels and columns.
 */
export function packMatrixWeight(g: MatrixGeometry, weight: Int8Array): Int8Array {
  const { op, inChannels: cin, outChannels: cout, pixelBytes, columns, chunks } = g;
  const out = new Int8Array(g.tapRows * chunks * K * columns);
  if (weight.length !== cout * cin * INT8_OP_TAPS[op]) {
    throw new RangeError(`int8 ${op}: weight has ${weight.length} values for ${cin}→${cout}`);
  }
  for (let r = 0; r < g.tapRows; r++) {
    for (let b = 0; b < chunks * K; b++) {
      const j = Math.floor(b / pixelBytes);
      const ci = b % pixelBytes;
      if (j >= g.spanPixels || ci >= cin) continue;
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
}

/** Packs and uploads the right matrices of an op uploaded by `uploadInt8Op`. */
export function uploadMatrixWeights(
  device: GPUDevice,
  weights: Int8OpWeights,
  multiply: MatrixMultiply,
): Int8MatrixWeights {
  const geometry = matrixGeometry(
    weights.op,
    weights.inChannels,
    weights.outChannels,
    device.limits.maxComputeWorkgroupStorageSize,
  );
  const bytes = packMatrixWeight(geometry, weights.weight);
  const words = new Uint32Array(bytes.buffer, 0, bytes.length / 4);
  const buffer = createStorageBuffer(
    device,
    words,
    GPUBufferUsage.STORAGE,
    `int8 ${weights.op} matrix weight`,
  );
  return { geometry, multiply, buffer };
}

/** The accumulator tiles of one subgroup, multiplied on subgroup matrices. */
function subgroupMatrixProduct(g: MatrixGeometry): string {
  const tiles = g.columns / N;
  const each = (f: (m: number, n: number) => string) =>
    Array.from({ length: g.mTiles }, (_, m) => Array.from({ length: tiles }, (_, n) => f(m, n)))
      .flat()
      .join('\n  ');
  const perTile = (f: (m: number) => string) =>
    Array.from({ length: g.mTiles }, (_, m) => f(m)).join('\n      ');
  return /* wgsl */ `
  ${each((m, n) => `var acc${m}_${n} = subgroup_matrix_result<i32, ${N}, ${M}>();`)}
  for (var r = 0u; r < TAP_ROWS; r++) {
    stageTapRow(r, li);
    for (var k = 0u; k < CHUNKS; k++) {
      let rowBase = sg * ROW_PIXELS * SPAN_BYTES + k * ${K}u;
      let weightBase = (r * CHUNKS + k) * ${K}u * COLUMNS;
      ${perTile((m) => `let a${m} = subgroupMatrixLoad<subgroup_matrix_left<i8, ${K}, ${M}>>(&tile, rowBase + ${m * M}u * SPAN_BYTES, false, SPAN_BYTES);`)}
      ${Array.from(
        { length: tiles },
        (_, n) => `{
        let b = subgroupMatrixLoad<subgroup_matrix_right<i8, ${N}, ${K}>>(&weight, weightBase + ${n * N}u, false, COLUMNS);
        ${perTile((m) => `acc${m}_${n} = subgroupMatrixMultiplyAccumulate(a${m}, b, acc${m}_${n});`)}
      }`,
      ).join('\n      ')}
    }
  }
  workgroupBarrier();
  ${each((m, n) => `subgroupMatrixStore(&tile, (sg * M_TILES + ${m}u) * ${M}u * COLUMNS + ${n * N}u, acc${m}_${n}, false, COLUMNS);`)}`;
}

/**
 * The same product in scalar code: lane l of a subgroup owns elements 8l … 8l + 7 of each 16×16
 * accumulator tile (row-major), and multiplies the staged bytes the matrices would load.
 */
function emulatedProduct(g: MatrixGeometry): string {
  const tiles = g.columns / N;
  return /* wgsl */ `
  let lane = li % ${LANES}u;
  var acc: array<i32, ${g.mTiles * tiles * 8}>;
  for (var r = 0u; r < TAP_ROWS; r++) {
    stageTapRow(r, li);
    for (var k = 0u; k < CHUNKS; k++) {
      let rowBase = sg * ROW_PIXELS * SPAN_BYTES + k * ${K}u;
      let weightBase = (r * CHUNKS + k) * ${K}u * COLUMNS;
      for (var m = 0u; m < M_TILES; m++) {
        for (var n = 0u; n < ${tiles}u; n++) {
          for (var t = 0u; t < 8u; t++) {
            let e = lane * 8u + t;
            let row = e / ${N}u;
            let col = e % ${N}u;
            var s = 0;
            for (var c = 0u; c < ${K}u; c++) {
              let a = tileByte(rowBase + (m * ${M}u + row) * SPAN_BYTES + c);
              let b = weightByte(weightBase + c * COLUMNS + n * ${N}u + col);
              s += a * b;
            }
            acc[(m * ${tiles}u + n) * 8u + t] += s;
          }
        }
      }
    }
  }
  workgroupBarrier();
  for (var m = 0u; m < M_TILES; m++) {
    for (var n = 0u; n < ${tiles}u; n++) {
      for (var t = 0u; t < 8u; t++) {
        let e = lane * 8u + t;
        tile[((sg * M_TILES + m) * ${M}u + e / ${N}u) * COLUMNS + n * ${N}u + e % ${N}u] =
          acc[(m * ${tiles}u + n) * 8u + t];
      }
    }
  }`;
}

/** WGSL of the matrix kernel of an op for an epilogue. */
export function int8MatrixCode(g: MatrixGeometry, multiply: MatrixMultiply) {
  const up = g.op === 'up2x2';
  const gemmHeight = up ? 'u.inHeight' : 'u.outHeight';
  const gemmWidth = up ? 'u.inWidth' : 'u.outWidth';
  const words = up ? g.columns / 4 : packedGroups(g.outChannels);
  return (epilogue: Int8Epilogue) => /* wgsl */ `
${multiply === 'subgroup-matrix' ? 'enable chromium_experimental_subgroup_matrix;' : ''}
${wgslInt8Op({ ...epilogue, weightWords: 'i32' })}
const STEP = ${g.step}u;
const PIXEL_BYTES = ${g.pixelBytes}u;
const TAP_ROWS = ${g.tapRows}u;
const CHUNKS = ${g.chunks}u;
const COLUMNS = ${g.columns}u;
const M_TILES = ${g.mTiles}u;
const SPAN_BYTES = ${g.chunks * K}u;
const SPAN_WORDS = ${(g.chunks * K) / 4}u;
const SPAN_PIXELS = ${g.spanPixels}u;
const ROW_PIXELS = ${M * g.mTiles}u;
const GEMM_PIXELS = ${SUBGROUPS * M * g.mTiles}u;
const PIXEL_WORDS = ${g.pixelBytes / 4}u;
const RAW_PIXELS = ${g.rawPixels}u;
const RAW_WORDS = ${(g.rawRows * g.rawPixels * g.pixelBytes) / 4}u;
const THREADS = ${SUBGROUPS * LANES}u;
/** Output words per GEMM pixel (up2x2: of its four output pixels). */
const WORDS = ${words}u;
// One tap row of the left matrix: each GEMM pixel's span of SPAN_BYTES, 4 int8 per word; after
// the product, each subgroup's accumulators, row-major, in the same memory.
// After it, from RAW, the input rows the workgroup reads, pixel-major (zero outside the image).
var<workgroup> tile: array<i32, ${g.workgroupBytes / 4}>;
const RAW = ${g.leftBytes / 4}u;

// Byte b (sign-extended) of the staged tile and of the weights.
fn tileByte(b: u32) -> i32 {
  return extractBits(tile[b / 4u], 8u * (b % 4u), 8u);
}
fn weightByte(b: u32) -> i32 {
  return extractBits(weight[b / 4u], 8u * (b % 4u), 8u);
}

// Stages the raw input rows: loops of a constant trip count, so that the loads are issued
// together rather than one latency at a time.
fn stageRaw(gx0: u32, gy0: u32, li: u32) {
  for (var t = 0u; t < ${Math.ceil((g.rawRows * g.rawPixels * g.pixelBytes) / 4 / (SUBGROUPS * LANES))}u; t++) {
    let i = t * THREADS + li;
    if (i < RAW_WORDS) {
      let q = i / PIXEL_WORDS;
      let iy = i32(gy0 * STEP + q / RAW_PIXELS) - ${g.pad};
      let ix = i32(gx0 * STEP + q % RAW_PIXELS) - ${g.pad};
      var v = 0;
      if (iy >= 0 && iy < i32(u.inHeight) && ix >= 0 && ix < i32(u.inWidth)) {
        v = bitcast<i32>(input[(u32(iy) * u.inWidth + u32(ix)) * u.inGroups + i % PIXEL_WORDS]);
      }
      tile[RAW + i] = v;
    }
  }
}

// Builds tap row r of the left matrix from the raw rows: GEMM pixel px's span is a contiguous
// run of raw words, zero past it. After the previous row's product is done with the tile.
// (64 pixels × a multiple of 8 words: whole trips.)
fn stageTapRow(r: u32, li: u32) {
  workgroupBarrier();
  for (var t = 0u; t < ${(SUBGROUPS * M * g.mTiles * g.chunks * K) / 4 / (SUBGROUPS * LANES)}u; t++) {
    let i = t * THREADS + li;
    let px = i / SPAN_WORDS;
    let w = i % SPAN_WORDS;
    let start = (((px / ROW_PIXELS) * STEP + r) * RAW_PIXELS + (px % ROW_PIXELS) * STEP) * PIXEL_WORDS;
    var v = 0;
    if (w < SPAN_PIXELS * PIXEL_WORDS) { v = tile[RAW + start + w]; }
    tile[i] = v;
  }
  workgroupBarrier();
}

@compute @workgroup_size(${SUBGROUPS * LANES})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32${
    multiply === 'subgroup-matrix' ? ', @builtin(subgroup_id) subgroup: u32' : ''
  }) {
  let gx0 = wg.x * ${M * g.mTiles}u;
  let gy0 = wg.y * ${SUBGROUPS}u;
  // Matrix loads and stores take subgroup-uniform offsets: the subgroup's id, not li / 32.
  let sg = ${multiply === 'subgroup-matrix' ? 'subgroup' : `li / ${LANES}u`};
  stageRaw(gx0, gy0, li);
${multiply === 'subgroup-matrix' ? subgroupMatrixProduct(g) : emulatedProduct(g)}
  workgroupBarrier();
  // Neighbouring threads write neighbouring words (packed) or pixels (planar f32).
  for (var t = 0u; t < ${Math.ceil((SUBGROUPS * M * g.mTiles * words) / (SUBGROUPS * LANES))}u; t++) {
    let i = t * THREADS + li;
    if (i >= GEMM_PIXELS * WORDS) { break; }
    let px = ${epilogue.realOutput ? 'i % GEMM_PIXELS' : 'i / WORDS'};
    let w = ${epilogue.realOutput ? 'i / GEMM_PIXELS' : 'i % WORDS'};
    let gy = gy0 + px / ${M * g.mTiles}u;
    let gx = gx0 + px % ${M * g.mTiles}u;
    if (gy >= ${gemmHeight} || gx >= ${gemmWidth}) { continue; }
${
  up
    ? /* wgsl */ `    let tapWords = ${g.tapColumns / 4}u;
    let tap = w / tapWords;
    let n = px * COLUMNS + tap * ${g.tapColumns}u + (w % tapWords) * 4u;
    let p = (2u * gy + (tap >> 1u)) * u.outWidth + 2u * gx + (tap & 1u);
    finishWord(vec4i(tile[n], tile[n + 1u], tile[n + 2u], tile[n + 3u]), w % tapWords, p);`
    : /* wgsl */ `    let n = px * COLUMNS + w * 4u;
    finishWord(vec4i(tile[n], tile[n + 1u], tile[n + 2u], tile[n + 3u]), w, gy * u.outWidth + gx);`
}
  }
}
`;
}

/** The matrix kernel's recipe for ./common.ts's dispatch. */
export function int8MatrixRecipe(m: Int8MatrixWeights): Int8KernelRecipe {
  const g = m.geometry;
  return {
    name: m.multiply === 'subgroup-matrix' ? 'subgroup-matrix' : 'emulated-matrix',
    code: int8MatrixCode(g, m.multiply),
    weightBuffer: m.buffer,
    workgroups: (output: TensorShape) => {
      const height = g.op === 'up2x2' ? output.height / 2 : output.height;
      const width = g.op === 'up2x2' ? output.width / 2 : output.width;
      return [groupsFor(width, M * g.mTiles), groupsFor(height, SUBGROUPS), 1];
    },
  };
}
