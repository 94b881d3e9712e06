/**
 * INT8 up2x2 (transposed 2×2 conv, stride 2) on dot4I8Packed with one thread per input pixel: the
 * thread reads its pixel's words once and writes the 2×2 output pixels they make, one tap each.
 * The direct kernel (./direct.ts) runs a thread per output pixel, so four threads read each input
 * pixel and every workgroup stages all four taps' weights to use one; here a workgroup covers
 * 16×16 output pixels with the same staging. The epilogue is ./common.ts's. CPU reference:
 * int8OpCpu / int8OpToF32Cpu in src/reference/nn/int8-ops.ts.
 */
import { INT8_TILE, wgslAccumulateWord, wgslInt8Op, type Int8Epilogue } from './common.ts';

const code = (words: number, epilogue: Int8Epilogue) => {
  const { block } = epilogue;
  return /* wgsl */ `
${wgslInt8Op(epilogue)}
const WORDS = ${words}u;
// [word][tap][k]: output channel co0 + k, read 4 channels per load (int8WeightLayout).
var<workgroup> taps: array<vec4u, ${words * block}>;

@compute @workgroup_size(${INT8_TILE}, ${INT8_TILE})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(local_invocation_index) li: u32) {
  let co0 = id.z * ${block}u;
  let weightBase = id.z * ${words * block}u;
  for (var i = li; i < ${words * block}u; i += ${INT8_TILE * INT8_TILE}u) {
    taps[i] = weight[weightBase + i];
  }
  workgroupBarrier();
  let sx = id.x;
  let sy = id.y;
  if (sx >= u.inWidth || sy >= u.inHeight) { return; }
  var pixel: array<u32, ${words}>;
  for (var g = 0u; g < WORDS; g++) { pixel[g] = input[(sy * u.inWidth + sx) * WORDS + g]; }
  for (var tap = 0u; tap < 4u; tap++) {
    // Initialised explicitly: declared without one, the accumulators kept the last tap's sums
    // on lavapipe (the declaration is not zeroed again on each iteration).
    var acc = array<i32, ${block}>();
    for (var g = 0u; g < WORDS; g++) {
      let v = pixel[g];
      let t = (g * 4u + tap) * ${block / 4}u;
      for (var q = 0u; q < ${block / 4}u; q++) {
        let w = taps[t + q];
        ${wgslAccumulateWord('acc', 'v', 'w', 'q')}
      }
    }
    // Output pixel (2·sx + tx, 2·sy + ty) is tap ty·2 + tx (src/reference/nn/int8-ops.ts).
    let x = 2u * sx + (tap & 1u);
    let y = 2u * sy + (tap >> 1u);
    finish(acc, co0, y * u.outWidth + x);
  }
}
`;
};

/** The kernel of an up2x2 whose input has `words` packed words per pixel, for an epilogue. */
export const int8Up2x2QuadCode =
  (words: number) =>
  (epilogue: Int8Epilogue): string =>
    code(words, epilogue);
