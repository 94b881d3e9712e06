/**
 * INT8 weighted ops as implicit GEMM on subgroup matrices (WGSL chromium_experimental_subgroup_matrix:
 * i8 × i8 → i32 tiles of 16×16×32, the tensor cores where Dawn offers them). Rows of the GEMM are
 * 16 pixels in a row, columns output channels, the reduction a contiguous span of input bytes.
 *
 * A workgroup of 4 subgroups stages the input rows its output rows read (zero padded) in
 * workgroup memory, pixel-major as in memory: pixel j's channels at bytes j·Cp … j·Cp + Cp − 1
 * (Cp = 4 words-per-pixel). The span one output pixel reads in one input row — 3 pixels for
 * conv3x3, 2 for down2x2, 1 for conv1x1 and up2x2 — is then Cp·pixels contiguous bytes, and the
 * next output pixel's span starts `step`·Cp bytes later: the left matrix is a row-major load with
 * that stride, 32 bytes (one K chunk) at a time; the weights are packed to match, zero where a
 * chunk runs past the span or a channel is padding. up2x2 runs on input pixels with its four
 * taps as 4·Cout columns. Each subgroup keeps its accumulators in registers across the reduction,
 * stores them to workgroup memory, and the workgroup runs the shared epilogue (./common.ts) on
 * them word by word, so the output is the dot4I8Packed kernels' bit for bit.
 *
 * Where the adapter lacks subgroup matrices, `emulated` multiplies the same staged tiles with
 * scalar code, lane by lane: the layout, staging, weight packing and epilogue are then tested on
 * any adapter (lavapipe, browsers) against the CPU reference; the device benchmark checks the
 * real matrices the same way.
 */
import type { WeightedOp } from '../../../core/graph.ts';
import { packedGroups } from '../../../core/int8.ts';
import type { TensorShape } from '../../../core/tensor.ts';
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
  const info = (device as GPUDevice & { adapterInfo?: AdapterInfoWithMatrices }).adapterInfo;
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
  /** Staged input rows and bytes per staged row. */
  readonly stagedRows: number;
  readonly rowBytes: number;
  /** Workgroup memory, in bytes. */
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
  for (const mTiles of [2, 1]) {
    const pixels = step * (M * mTiles - 1) + spanPixels;
    // The last chunk of the last pixel may read past the span: those bytes meet zero weights.
    const lastSpan = step * (M * mTiles - 1) * pixelBytes + chunks * K;
    const rowBytes = roundUp(Math.max(pixels * pixelBytes, lastSpan), 16);
    const stagedRows = (SUBGROUPS - 1) * step + tapRows;
    const results = SUBGROUPS * mTiles * M * columns * 4;
    // The results reuse the staged tile's memory once every subgroup has multiplied.
    const workgroupBytes = Math.max(stagedRows * rowBytes, results);
    if (workgroupBytes <= workgroupLimit || mTiles === 1) {
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
        stagedRows,
        rowBytes,
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
  const names = (f: (m: number, n: number) => string) =>
    Array.from({ length: g.mTiles }, (_, m) => Array.from({ length: tiles }, (_, n) => f(m, n)))
      .flat()
      .join('\n');
  return /* wgsl */ `
  ${names((m, n) => `var acc${m}_${n} = subgroup_matrix_result<i32, ${N}, ${M}>();`)}
  for (var r = 0u; r < TAP_ROWS; r++) {
    for (var k = 0u; k < CHUNKS; k++) {
      let rowBase = (sg * STEP + r) * ROW_BYTES + k * ${K}u;
      let weightBase = (r * CHUNKS + k) * ${K}u * COLUMNS;
      ${Array.from({ length: g.mTiles }, (_, m) => `let a${m} = subgroupMatrixLoad<subgroup_matrix_left<i8, ${K}, ${M}>>(&tile, rowBase + ${m * M}u * STEP * PIXEL_BYTES, false, STEP * PIXEL_BYTES);`).join('\n      ')}
      ${Array.from(
        { length: tiles },
        (_, n) => `{
        let b = subgroupMatrixLoad<subgroup_matrix_right<i8, ${N}, ${K}>>(&weight, weightBase + ${n * N}u, false, COLUMNS);
        ${Array.from({ length: g.mTiles }, (_, m) => `acc${m}_${n} = subgroupMatrixMultiplyAccumulate(a${m}, b, acc${m}_${n});`).join('\n        ')}
      }`,
      ).join('\n      ')}
    }
  }
  workgroupBarrier();
  ${names((m, n) => `subgroupMatrixStore(&tile, (sg * M_TILES + ${m}u) * ${M}u * COLUMNS + ${n * N}u, acc${m}_${n}, false, COLUMNS);`)}`;
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
    for (var k = 0u; k < CHUNKS; k++) {
      let rowBase = (sg * STEP + r) * ROW_BYTES + k * ${K}u;
      let weightBase = (r * CHUNKS + k) * ${K}u * COLUMNS;
      for (var m = 0u; m < M_TILES; m++) {
        for (var n = 0u; n < ${tiles}u; n++) {
          for (var t = 0u; t < 8u; t++) {
            let e = lane * 8u + t;
            let row = e / ${N}u;
            let col = e % ${N}u;
            var s = 0;
            for (var c = 0u; c < ${K}u; c++) {
              let a = tileByte(rowBase + (m * ${M}u + row) * STEP * PIXEL_BYTES + c);
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
  const pixels = g.step * (M * g.mTiles - 1) + g.spanPixels;
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
const ROW_BYTES = ${g.rowBytes}u;
const ROW_WORDS = ${g.rowBytes / 4}u;
const STAGED_PIXELS = ${pixels}u;
const GEMM_PIXELS = ${SUBGROUPS * M * g.mTiles}u;
/** Output words per GEMM pixel (up2x2: of its four output pixels). */
const WORDS = ${words}u;
// The staged input rows, 4 int8 per word; after the product, each subgroup's accumulators,
// row-major, in the same memory.
var<workgroup> tile: array<i32, ${g.workgroupBytes / 4}>;

// Byte b (sign-extended) of the staged tile and of the weights.
fn tileByte(b: u32) -> i32 {
  return extractBits(tile[b / 4u], 8u * (b % 4u), 8u);
}
fn weightByte(b: u32) -> i32 {
  return extractBits(weight[b / 4u], 8u * (b % 4u), 8u);
}

@compute @workgroup_size(${SUBGROUPS * LANES})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let gx0 = wg.x * ${M * g.mTiles}u;
  let gy0 = wg.y * ${SUBGROUPS}u;
  let sg = li / ${LANES}u;
  let iy0 = i32(gy0 * STEP) - ${g.pad};
  let ix0 = i32(gx0 * STEP) - ${g.pad};
  for (var i = li; i < ${g.stagedRows}u * ROW_WORDS; i += ${SUBGROUPS * LANES}u) {
    let byte = (i % ROW_WORDS) * 4u;
    let j = byte / PIXEL_BYTES;
    let iy = iy0 + i32(i / ROW_WORDS);
    let ix = ix0 + i32(j);
    var v = 0;
    if (j < STAGED_PIXELS && iy >= 0 && iy < i32(u.inHeight) && ix >= 0 && ix < i32(u.inWidth)) {
      v = bitcast<i32>(input[(u32(iy) * u.inWidth + u32(ix)) * u.inGroups + (byte % PIXEL_BYTES) / 4u]);
    }
    tile[i] = v;
  }
  workgroupBarrier();
${multiply === 'subgroup-matrix' ? subgroupMatrixProduct(g) : emulatedProduct(g)}
  workgroupBarrier();
  for (var i = li; i < GEMM_PIXELS * WORDS; i += ${SUBGROUPS * LANES}u) {
    let px = i / WORDS;
    let w = i % WORDS;
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
