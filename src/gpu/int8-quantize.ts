/**
 * WGSL `quantizeF32(v, inverseScale)`: `quantizeF32` of src/core/int8.ts, step for step (reciprocal
 * multiply, ties to even, clamp; non-finite values give 0). Here, below the network code, so that
 * passes that write an INT8 network's input themselves (the features passes) share it with the
 * network's quantize kernel (src/nn/ops/int8/quantize.ts).
 */
import { INT8_MAX, packedGroups } from '../core/int8.ts';

export const WGSL_QUANTIZE_F32 = /* wgsl */ `
fn quantizeF32(v: f32, inverseScale: f32) -> i32 {
  // Bit test rather than v != v: compilers may assume floats are never NaN.
  if ((bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u) { return 0; }
  return i32(clamp(round(v * inverseScale), -${INT8_MAX}.0, ${INT8_MAX}.0));
}
`;

/** Most int8 copies of its features a features pass writes (an INT8 network's input tensors). */
export const MAX_INT8_COPIES = 2;

/**
 * The uniform fields of a features pass's int8 copies: for each copy the reciprocal scale, its
 * words per pixel and the word its channels start at.
 */
export const INT8_COPY_FIELDS = {
  q0InverseScale: 'f32',
  q0Groups: 'u32',
  q0GroupOffset: 'u32',
  q1InverseScale: 'f32',
  q1Groups: 'u32',
  q1GroupOffset: 'u32',
} as const;

/** Where an int8 copy goes: a packed tensor of `channels` channels, from channel `offset`. */
export interface Int8CopyTarget {
  readonly scale: number;
  readonly outChannelOffset: number;
  readonly output: { readonly channels: number };
}

/**
 * The INT8_COPY_FIELDS values of `copies` (absent copies zero); a RangeError naming `what` for
 * more than MAX_INT8_COPIES.
 */
export function int8CopyValues(
  what: string,
  copies: readonly Int8CopyTarget[],
): Record<keyof typeof INT8_COPY_FIELDS, number> {
  if (copies.length > MAX_INT8_COPIES)
    throw new RangeError(`${what}: at most ${MAX_INT8_COPIES} int8 copies, got ${copies.length}`);
  const copy = (t: number) => {
    const q = copies[t];
    return {
      inverseScale: q ? Math.fround(1 / q.scale) : 0,
      groups: q ? packedGroups(q.output.channels) : 0,
      offset: q ? q.outChannelOffset / 4 : 0,
    };
  };
  const [q0, q1] = [copy(0), copy(1)];
  return {
    q0InverseScale: q0.inverseScale,
    q0Groups: q0.groups,
    q0GroupOffset: q0.offset,
    q1InverseScale: q1.inverseScale,
    q1Groups: q1.groups,
    q1GroupOffset: q1.offset,
  };
}

/**
 * WGSL of packed int8 word g of the `channels` values in f (channels 4g … 4g + 3, quantized with
 * the reciprocal scale `inverseScale`; channels past the last zero, as the network's own quantize
 * kernel writes them). Constant indices, so that f stays in registers.
 */
export function wgslInt8Word(g: number, channels: number, inverseScale: string): string {
  const q = [0, 1, 2, 3].map((k) =>
    4 * g + k < channels ? `quantizeF32(f[${4 * g + k}], ${inverseScale})` : '0',
  );
  return `pack4xI8(vec4i(${q.join(', ')}))`;
}

/** WGSL bindings `quantized0…` of `copies` int8 copies, from binding `first`. */
export function wgslInt8CopyBindings(first: number, copies: number): string {
  return Array.from(
    { length: copies },
    (_, t) =>
      `@group(0) @binding(${first + t}) var<storage, read_write> quantized${t}: array<u32>;`,
  ).join('\n');
}

/**
 * Whether a features pass stages its int8 copies (wgslInt8Copies): where some copy is a slice of
 * a wider tensor (its words at an offset in a longer pixel), as network v2's q(join) is. Measured
 * on an H100 (docs/PERFORMANCE.md, 2026-12-05 late night): staging took v2's reproject + features pass from
 * 0.152 to 0.146 ms at 1080p, and v3a's, whose one copy is the whole tensor, from 0.115 to 0.122.
 */
export function stageInt8Copies(copies: readonly Int8CopyTarget[], channels: number): boolean {
  const words = packedGroups(channels);
  return copies.some((q) => q.outChannelOffset !== 0 || packedGroups(q.output.channels) !== words);
}

/**
 * WGSL writing `copies` int8 copies of the `channels` values in f, in a pass of `tile`×`tile`
 * threads, one pixel each, over a padded plane of `u.paddedWidth` pixels (the copies' pitch and
 * offset are uniforms, INT8_COPY_FIELDS). `arrays` declares workgroup memory, `stage` runs with the
 * pixel's values in f, then `flush`, in uniform control flow; they need `id`
 * (global_invocation_id), `li` (local_invocation_index) and `wg` (workgroup_id).
 *
 * Unstaged, each thread stores its own pixel's words at the copy's pitch. `staged`, each thread
 * stages its words in workgroup memory and after a barrier the workgroup stores the tile's words
 * so that consecutive threads store consecutive words of a row: for a copy that is a slice of a
 * wider pixel, a warp's stores then touch fewer 32-byte sectors (stageInt8Copies says when).
 */
export function wgslInt8Copies(
  copies: number,
  channels: number,
  tile: number,
  staged: boolean,
): { arrays: string; stage: string; flush: string } {
  const words = packedGroups(channels);
  const copyIndices = Array.from({ length: copies }, (_, t) => t);
  const word = (t: number, g: number) => wgslInt8Word(g, channels, `u.q${t}InverseScale`);
  if (!staged) {
    const stores = copyIndices.flatMap((t) =>
      Array.from(
        { length: words },
        (_, g) =>
          `    quantized${t}[copyPixel * u.q${t}Groups + u.q${t}GroupOffset + ${g}u] = ${word(t, g)};`,
      ),
    );
    return {
      arrays: '',
      stage: `  if (id.x < u.paddedWidth && id.y < u.paddedHeight) {
    let copyPixel = id.y * u.paddedWidth + id.x;
${stores.join('\n')}
  }`,
      flush: '',
    };
  }
  const stagedWords = tile * tile * words;
  return {
    arrays: copyIndices
      .map((t) => `var<workgroup> staged${t}: array<u32, ${stagedWords}>;`)
      .join('\n'),
    stage: copyIndices
      .flatMap((t) =>
        Array.from(
          { length: words },
          (_, g) => `  staged${t}[li * ${words}u + ${g}u] = ${word(t, g)};`,
        ),
      )
      .join('\n'),
    flush: /* wgsl */ `  workgroupBarrier();
  for (var j = li; j < ${stagedWords}u; j += ${tile * tile}u) {
    let tilePixel = j / ${words}u;
    let x = wg.x * ${tile}u + tilePixel % ${tile}u;
    let y = wg.y * ${tile}u + tilePixel / ${tile}u;
    if (x < u.paddedWidth && y < u.paddedHeight) {
${copyIndices.map((t) => `      quantized${t}[(y * u.paddedWidth + x) * u.q${t}Groups + u.q${t}GroupOffset + j % ${words}u] = staged${t}[j];`).join('\n')}
    }
  }`,
  };
}
