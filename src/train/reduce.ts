/**
 * Deterministic GPU sum of a range of an `array<f32>` (optionally of its squares), in two stages:
 * up to 256 workgroups each sum a strided share into a partial, then one workgroup sums the
 * partials. Fixed order everywhere, so the result is bit-identical from run to run. Used for loss
 * values and the global gradient norm; the results stay on the GPU until someone reads them.
 */
import { createKernel } from '../gpu/kernel.ts';
import { uniformBlock } from '../gpu/uniforms.ts';

/** Threads per workgroup, and the most first-stage workgroups (= scratch floats needed). */
export const REDUCE_WIDTH = 256;

const PARAMS = uniformBlock({
  offset: 'u32',
  count: 'u32',
  groups: 'u32',
  squared: 'u32',
  outIndex: 'u32',
});

const code = /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> values: array<f32>;
@group(0) @binding(2) var<storage, read_write> sums: array<f32>;
var<workgroup> acc: array<f32, ${REDUCE_WIDTH}>;

@compute @workgroup_size(${REDUCE_WIDTH})
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3u) {
  var s = 0.0;
  let stride = u.groups * ${REDUCE_WIDTH}u;
  for (var i = wg.x * ${REDUCE_WIDTH}u + lid; i < u.count; i += stride) {
    let v = values[u.offset + i];
    s += select(v, v * v, u.squared != 0u);
  }
  acc[lid] = s;
  workgroupBarrier();
  for (var k = ${REDUCE_WIDTH / 2}u; k > 0u; k >>= 1u) {
    if (lid < k) { acc[lid] += acc[lid + k]; }
    workgroupBarrier();
  }
  if (lid == 0u) { sums[u.outIndex + wg.x] = acc[0]; }
}
`;

export interface ReduceSumArgs {
  /** Buffer holding the values (array<f32>). */
  readonly values: GPUBuffer;
  /** First element summed (default 0). */
  readonly offset?: number;
  /** Number of elements summed. */
  readonly count: number;
  /** Sum the squares instead (for norms). */
  readonly squared?: boolean;
  /** At least REDUCE_WIDTH floats of storage, distinct from `values` and `output`. */
  readonly scratch: GPUBuffer;
  /** Receives the sum at element `outIndex`. */
  readonly output: GPUBuffer;
  readonly outIndex?: number;
}

/** Records the two dispatches of a sum; later dispatches in the pass see the result. */
export function encodeReduceSum(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  args: ReduceSumArgs,
): void {
  if (!Number.isInteger(args.count) || args.count < 0) {
    throw new RangeError(`reduce count must be a non-negative integer, got ${args.count}`);
  }
  const kernel = createKernel(device, { label: 'reduce sum', code });
  const groups = Math.min(REDUCE_WIDTH, Math.max(1, Math.ceil(args.count / REDUCE_WIDTH)));
  kernel.dispatch(
    pass,
    [groups],
    [args.values, args.scratch],
    PARAMS.pack({
      offset: args.offset ?? 0,
      count: args.count,
      groups,
      squared: !!args.squared,
      outIndex: 0,
    }),
  );
  kernel.dispatch(
    pass,
    [1],
    [args.scratch, args.output],
    PARAMS.pack({
      offset: 0,
      count: groups,
      groups: 1,
      squared: false,
      outIndex: args.outIndex ?? 0,
    }),
  );
}
