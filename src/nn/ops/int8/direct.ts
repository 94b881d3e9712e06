/**
 * INT8 conv1x1, down2x2 (stride 2) and up2x2 (transposed, stride 2) on dot4I8Packed: an output
 * pixel reads one (conv1x1, up2x2) or four (down2x2) input pixels, so each thread reads them
 * straight from memory, no tile to share. The epilogue is ./common.ts's. CPU reference:
 * int8OpCpu / int8OpToF32Cpu in src/reference/nn/int8-ops.ts.
 */
import type { WeightedOp } from '../../../core/graph.ts';
import { INT8_OP_TAPS } from '../../../reference/nn/int8-ops.ts';
import { INT8_TILE, wgslInt8Op, type Int8Epilogue } from './common.ts';

export type DirectOp = Exclude<WeightedOp, 'conv3x3'>;

/** WGSL of the (input pixel, tap) pairs output pixel (x, y) reads: `readPixel(sx, sy, tap)` each. */
const READS: Readonly<Record<DirectOp, string>> = {
  conv1x1: 'readPixel(x, y, 0u);',
  down2x2:
    'for (var tap = 0u; tap < 4u; tap++) { readPixel(2u * x + (tap & 1u), 2u * y + (tap >> 1u), tap); }',
  up2x2: 'readPixel(x >> 1u, y >> 1u, (y & 1u) * 2u + (x & 1u));',
};

const code = (op: DirectOp) => (epilogue: Int8Epilogue) => /* wgsl */ `
${wgslInt8Op(epilogue)}
const TAPS = ${INT8_OP_TAPS[op]}u;

var<private> acc: array<i32, ${epilogue.block}>;
var<private> co0: u32;

fn readPixel(sx: u32, sy: u32, tap: u32) {
  for (var g = 0u; g < u.inGroups; g++) {
    let v = input[(sy * u.inWidth + sx) * u.inGroups + g];
    for (var k = 0u; k < ${epilogue.block}u; k++) {
      let co = min(co0 + k, u.outChannels - 1u);
      acc[k] += dot4I8Packed(v, weight[(co * u.inGroups + g) * TAPS + tap]);
    }
  }
}

@compute @workgroup_size(${INT8_TILE}, ${INT8_TILE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  let x = id.x;
  let y = id.y;
  if (x >= u.outWidth || y >= u.outHeight) { return; }
  co0 = id.z * ${epilogue.block}u;
  ${READS[op]}
  finish(acc, co0, y * u.outWidth + x);
}
`;

const CODES: Readonly<Record<DirectOp, (epilogue: Int8Epilogue) => string>> = {
  conv1x1: code('conv1x1'),
  down2x2: code('down2x2'),
  up2x2: code('up2x2'),
};

/** The kernel of a conv1x1, down2x2 or up2x2 for an epilogue (./encode.ts records it). */
export function int8DirectCode(op: DirectOp): (epilogue: Int8Epilogue) => string {
  return CODES[op];
}
