/**
 * INT8 conv1x1, down2x2 and up2x2 on dot4I8Packed with each output pixel's block of channels
 * split over two threads, each summing half of them: twice the threads of ./direct.ts's kernel
 * (a 16×8×2 workgroup, the same 16×8 pixels and staged weights), each with half its chain of
 * products. Benchmarks only until measured (the network option `directSplit`): the small
 * direct layers run less than one wave of threads on an H100 (v2's `down3`, 240×135 pixels × 4
 * blocks: ~130 K threads for ~270 K slots) and took 24 µs for work a full GPU does in ~8
 * (docs/PERFORMANCE.md, "Per kernel against the measured peaks"): if latency, not issue, bounds
 * them, more threads in flight help. Same arithmetic, same epilogue (./common.ts) on half a block,
 * same outputs. Only where every channel of the block is real and half a block is whole words
 * (`directSplitApplies`); elsewhere the op keeps ./direct.ts's kernel. CPU reference: int8OpCpu
 * / int8OpToF32Cpu in src/reference/nn/int8-ops.ts.
 */
import { INT8_OP_TAPS } from '../../../reference/nn/int8-ops.ts';
import {
  INT8_PARAMS,
  int8EpilogueBlock,
  wgslAccumulateBlock,
  wgslInt8Op,
  wgslStageWeights,
  type DirectSplit,
  type Int8Epilogue,
  type Int8OutBlock,
} from './common.ts';
import {
  DIRECT_READS,
  DIRECT_THREADS,
  DIRECT_TILE,
  directStagedWords,
  type DirectOp,
} from './direct.ts';

/** Whether an op of `outChannels` channels can split its blocks: all real, half a block whole words. */
export function directSplitApplies(outChannels: number): boolean {
  const { block, channels } = int8EpilogueBlock(outChannels);
  return channels === undefined && (block / 2) % 4 === 0;
}

const code = (op: DirectOp, words: number, split: DirectSplit, epilogue: Int8Epilogue) => {
  const block = epilogue.block;
  if (epilogue.channels !== undefined || (block / split) % 4 !== 0) {
    throw new RangeError(
      `int8 ${op}: a block of ${block} (${epilogue.channels ?? block} real) cannot split over ${split} threads`,
    );
  }
  const half = (block / split) as Int8OutBlock;
  const staged = directStagedWords(op, words, block);
  // The half block's epilogue: its own `finish`, storing at most its own words at once.
  const storeWords = ([4, 2, 1] as const).find(
    (v) => (half / 4) % v === 0 && (epilogue.storeWords ?? 1) % v === 0,
  )!;
  const halfEpilogue: Int8Epilogue = { ...epilogue, block: half, storeWords };
  return /* wgsl */ `
${wgslInt8Op(halfEpilogue, INT8_PARAMS.wgsl)}
const TAPS = ${INT8_OP_TAPS[op]}u;
const WORDS = ${words}u;
// [word][tap][k]: output channel co0 + k of the whole block, read 4 channels per load.
var<workgroup> taps: array<vec4u, ${staged}>;

var<private> acc: array<i32, ${half}>;
// This thread's half of the block: its first vec4u of a (word, tap)'s staged channels.
var<private> halfWord: u32;

fn readPixel(sx: u32, sy: u32, tap: u32) {
  for (var g = 0u; g < WORDS; g++) {
    let v = input[(sy * u.inWidth + sx) * WORDS + g];
    let t = (g * TAPS + tap) * ${block / 4}u + halfWord;
    ${wgslAccumulateBlock('acc', 'v', 'taps', 't', half)}
  }
}

@compute @workgroup_size(${DIRECT_TILE.x}, ${DIRECT_TILE.y}, ${split})
fn main(
  @builtin(workgroup_id) wg: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let co0 = wg.z * ${block}u + lid.z * ${half}u;
  halfWord = lid.z * ${half / 4}u;
  // The block's weights are one contiguous run of the layout (int8WeightLayout).
  let weightBase = wg.z * ${staged}u;
  ${wgslStageWeights(staged, DIRECT_THREADS * split)}
  workgroupBarrier();
  let x = wg.x * ${DIRECT_TILE.x}u + lid.x;
  let y = wg.y * ${DIRECT_TILE.y}u + lid.y;
  if (x >= u.outWidth || y >= u.outHeight) { return; }
  ${DIRECT_READS[op]}
  finish(acc, co0, y * u.outWidth + x);
}
`;
};

/**
 * The kernel of a conv1x1, down2x2 or up2x2 whose input has `words` packed words per pixel, each
 * output block split over `split` threads, for an epilogue of a block whose channels are all real
 * (./encode.ts records it on DIRECT_TILE); the standard layout in and out.
 */
export function int8DirectSplitCode(
  op: DirectOp,
  words: number,
  split: DirectSplit,
): (epilogue: Int8Epilogue) => string {
  return (epilogue) => code(op, words, split, epilogue);
}
