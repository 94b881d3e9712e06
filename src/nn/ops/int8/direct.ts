/**
 * INT8 conv1x1, down2x2 (stride 2) and up2x2 (transposed, stride 2) on dot4I8Packed: an output
 * pixel reads one (conv1x1, up2x2) or four (down2x2) input pixels, so each thread reads them
 * straight from memory, no input tile to share; the weights are shared through workgroup memory.
 * The epilogue is ./common.ts's. CPU reference:
 * int8OpCpu / int8OpToF32Cpu in src/reference/nn/int8-ops.ts.
 */
import type { WeightedOp } from '../../../core/graph.ts';
import { uniformBlock } from '../../../gpu/uniforms.ts';
import { INT8_OP_TAPS } from '../../../reference/nn/int8-ops.ts';
import {
  INT8_BISECT_NEVER,
  INT8_PARAMS,
  wgslAccumulateBlock,
  wgslStageWeights,
  type DirectBisect,
  wgslInt8Op,
  type Int8Epilogue,
  type Int8Tile,
  type Int8OutBlock,
} from './common.ts';

export type DirectOp = Exclude<WeightedOp, 'conv3x3'>;

/**
 * Output pixels of a direct kernel's workgroup, across and down (one a thread). Every workgroup
 * stages its block's weights for all input words and taps, so the wider the tile, the fewer
 * staged weights a pixel: up2 and up1 stage 4 KB and 2 KB a workgroup, as much as 8×8 pixels read
 * of their input. 16×8: up2 31 → 25 µs, the v2 frame 3 % faster than 8×8 on an H100
 * (docs/PERFORMANCE.md, 2026-12-07 thirteenth session).
 */
export const DIRECT_TILE: Int8Tile = { x: 16, y: 8 };
/** Threads of a direct kernel's workgroup. */
export const DIRECT_THREADS = DIRECT_TILE.x * DIRECT_TILE.y;

/** The vec4u words of one output block's weights a direct kernel's workgroup stages: every word and tap. */
export const directStagedWords = (op: DirectOp, words: number, block: Int8OutBlock): number =>
  (words * INT8_OP_TAPS[op] * block) / 4;

/** WGSL of the (input pixel, tap) pairs output pixel (x, y) reads: `readPixel(sx, sy, tap)` each. */
export const DIRECT_READS: Readonly<Record<DirectOp, string>> = {
  conv1x1: 'readPixel(x, y, 0u);',
  down2x2:
    'for (var tap = 0u; tap < 4u; tap++) { readPixel(2u * x + (tap & 1u), 2u * y + (tap >> 1u), tap); }',
  up2x2: 'readPixel(x >> 1u, y >> 1u, (y & 1u) * 2u + (x & 1u));',
};

/**
 * Where the kernel reads input word g of input pixel (sx, sy): `perPixel`, WGSL run once per input
 * pixel before its words are read (may declare values), and `word`, the WGSL expression of word g.
 */
export interface DirectInputSource {
  readonly perPixel: string;
  readonly word: string;
  /**
   * Where some words come from elsewhere: word g's WGSL expression (g a constant), each word's read
   * then written out instead of the loop over `word`.
   */
  readonly wordAt?: (g: number) => string;
  /** WGSL every thread runs before the workgroup's barrier, beside the weights' staging. */
  readonly staging?: string;
}

/** The packed int8 input tensor at @binding(1). */
const INPUT_TENSOR: DirectInputSource = {
  perPixel: '',
  word: 'input[(sy * u.inWidth + sx) * WORDS + g]',
};

/**
 * The uniforms of a direct kernel that writes a padded output (./padded.ts: the input of a
 * subgroup-matrix kernel, `Int8Kernels` 'mixed'): INT8_PARAMS, `outGroups` the layout's pitch in
 * words, and where the output's pixels lie.
 */
export const PADDED_OUTPUT_PARAMS = uniformBlock({
  ...INT8_PARAMS.fields,
  outBorder: 'u32',
  outRowPixels: 'u32',
});

/** WGSL of output pixel (x, y)'s index: in the output plane, or in a padded output's layout. */
const outPixel = (padded: boolean) =>
  padded ? '(y + u.outBorder) * u.outRowPixels + x + u.outBorder' : 'y * u.outWidth + x';

/**
 * WGSL adding input word `v` (an expression) of word index `g` and the current `tap` to the
 * block's accumulators, from the weights staged in workgroup array `taps` of an op with `tapCount`
 * taps (a WGSL constant): the body of readPixel's loop over the words. Names default to this
 * kernel's; a kernel running a second op (./producer-in-consumer.ts) passes that op's.
 */
export const wgslAccumulateInputWord = (
  block: Int8OutBlock,
  v: string,
  g: string,
  { acc = 'acc', taps = 'taps', tapCount = 'TAPS' } = {},
  channels: number = block,
) => /* wgsl */ `    let v = ${v};
    let t = (${g} * ${tapCount} + tap) * ${block / 4}u;
    ${wgslAccumulateBlock(acc, 'v', taps, 't', block, channels)}`;

/**
 * WGSL of readPixel's loop over the input words, word g read by the expression `word`; with
 * `madeUp` (the bisection's no-input-loads), a made-up word instead, the read behind the
 * bisections' condition.
 */
const wordLoop = (block: Int8OutBlock, channels: number, word: string, madeUp = false) =>
  madeUp
    ? `  for (var g = 0u; g < WORDS; g++) {
    var made = (sx * 2654435761u) ^ (sy + g * 40503u + tap);
    if (${INT8_BISECT_NEVER}) { made = ${word}; }
${wgslAccumulateInputWord(block, 'made', 'g', {}, channels)}
  }`
    : `  for (var g = 0u; g < WORDS; g++) {\n${wgslAccumulateInputWord(block, word, 'g', {}, channels)}\n  }`;

/** The same with the words written out, word g read by `wordAt(g)`. */
const wordsWrittenOut = (
  words: number,
  block: Int8OutBlock,
  channels: number,
  wordAt: (g: number) => string,
) =>
  Array.from(
    { length: words },
    (_, g) => `  {\n${wgslAccumulateInputWord(block, wordAt(g), `${g}u`, {}, channels)}\n  }`,
  ).join('\n');

// The block's weights for every input word and tap are staged once per workgroup (every thread
// of a workgroup computes the same output channels), then read from workgroup memory.
const code = (
  op: DirectOp,
  words: number,
  block: Int8OutBlock,
  channels: number,
  header: string,
  source: DirectInputSource = INPUT_TENSOR,
  paddedOutput = false,
  bisect?: DirectBisect,
) => /* wgsl */ `
${header}
const TAPS = ${INT8_OP_TAPS[op]}u;
const WORDS = ${words}u;
// [word][tap][k]: output channel co0 + k, read 4 channels per load.
var<workgroup> taps: array<vec4u, ${directStagedWords(op, words, block)}>;

var<private> acc: array<i32, ${block}>;

fn readPixel(sx: u32, sy: u32, tap: u32) {${source.perPixel}
${source.wordAt ? wordsWrittenOut(words, block, channels, source.wordAt) : wordLoop(block, channels, source.word, bisect === 'no-input-loads')}
}

@compute @workgroup_size(${DIRECT_TILE.x}, ${DIRECT_TILE.y})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(local_invocation_index) li: u32) {
  let co0 = id.z * ${block}u;
  // The block's weights are one contiguous run of the layout (int8WeightLayout).
  let weightBase = id.z * ${directStagedWords(op, words, block)}u;
  ${wgslStageWeights(directStagedWords(op, words, block), DIRECT_THREADS, bisect === 'no-weight-loads')}${source.staging ?? ''}
  workgroupBarrier();
  let x = id.x;
  let y = id.y;
  if (x >= u.outWidth || y >= u.outHeight) { return; }
  ${bisect === 'no-product' ? `if (${INT8_BISECT_NEVER}) {` : '{'}
    ${DIRECT_READS[op]}
  }
  ${bisect === 'no-epilogue' ? `if (${INT8_BISECT_NEVER}) {` : '{'}
    finish(acc, co0, ${outPixel(paddedOutput)});
  }
}
`;

/**
 * The kernel of a conv1x1, down2x2 or up2x2 whose input has `words` packed words per pixel, for
 * an epilogue (./encode.ts records it). With `paddedOutput` it writes a packed output in the
 * padded layout (uniforms PADDED_OUTPUT_PARAMS; no residual: its pixels would be the output's).
 * `bisect`: benchmarks only (DirectBisect).
 */
export function int8DirectCode(
  op: DirectOp,
  words: number,
  paddedOutput = false,
  bisect?: DirectBisect,
): (epilogue: Int8Epilogue) => string {
  return (epilogue) => {
    if (paddedOutput && (epilogue.realOutput || epilogue.residual)) {
      throw new RangeError(
        `int8 ${op}: a padded output is packed int8 without a residual (the dot4I8Packed kernel)`,
      );
    }
    const uniforms = paddedOutput ? PADDED_OUTPUT_PARAMS.wgsl : INT8_PARAMS.wgsl;
    return code(
      op,
      words,
      epilogue.block,
      epilogue.channels ?? epilogue.block,
      wgslInt8Op(epilogue, uniforms),
      undefined,
      paddedOutput,
      bisect,
    );
  };
}

/**
 * The same kernel with another epilogue: `header` declares the uniform block `u` (INT8_PARAMS'
 * fields at least), `input` (array<u32>), `weight` (array<u32>) and
 * `finish(acc: array<i32, block>, co0: u32, p: u32)`, called once per output pixel p (its index
 * in the output plane, y · outWidth + x) with the block's accumulators, bias not yet added. The
 * network's last layer with the KPN filter + blend (src/nn/resolve/last-layer-filter-blend.ts).
 * `channels`: the block's real output channels (`wgslAccumulateBlock`; undefined: all).
 * With `source`, the input words come from there instead of `input` (the first layer computing
 * its own input: src/nn/resolve/features-first-layer.ts).
 */
export function int8DirectCodeWithEpilogue(
  op: DirectOp,
  words: number,
  block: Int8OutBlock,
  channels: number | undefined,
  header: string,
  source?: DirectInputSource,
  paddedOutput = false,
): string {
  return code(op, words, block, channels ?? block, header, source, paddedOutput);
}
