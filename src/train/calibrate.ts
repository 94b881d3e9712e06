/**
 * Activation calibration on the GPU for quantization-aware training: the largest |x| of named
 * network tensors over every frame of some clips, accumulated in-shader (one dispatch per tensor
 * per frame, a workgroup max, then an atomicMax on the bits of a non-negative f32, whose order
 * matches the float order) and read back once. CPU reference: a plain max of |x|
 * (calibrateActivationScales in src/nn/quantize.ts does it for CPU forwards).
 */
import { createKernel, FLAT_GROUP, flatDispatch } from '../gpu/kernel.ts';
import { WGSL_FLAT_INDEX } from '../gpu/wgsl.ts';
import { readBuffer } from '../gpu/resources.ts';
import { dtypeOf, type GpuTensor } from '../nn/tensor.ts';
import { tensorLength } from '../core/tensor.ts';
import { uniformBlock } from '../gpu/uniforms.ts';

const PARAMS = uniformBlock({ count: 'u32', slot: 'u32' });

const code = /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> values: array<f32>;
@group(0) @binding(2) var<storage, read_write> maxBits: array<atomic<u32>>;
var<workgroup> partial: array<f32, ${FLAT_GROUP}>;

${WGSL_FLAT_INDEX}
@compute @workgroup_size(${FLAT_GROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wg, groups, lid);
  // NaN and Inf are left out: they say nothing about the range of healthy activations.
  var m = 0.0;
  if (i < u.count) {
    let a = abs(values[i]);
    if (a <= 3.4e38) { m = a; }
  }
  partial[lid] = m;
  workgroupBarrier();
  for (var half = ${FLAT_GROUP / 2}u; half > 0u; half /= 2u) {
    if (lid < half) { partial[lid] = max(partial[lid], partial[lid + half]); }
    workgroupBarrier();
  }
  if (lid == 0u) { atomicMax(&maxBits[u.slot], bitcast<u32>(partial[0])); }
}
`;

/** Running max |x| of a fixed list of tensors, on the GPU. */
export interface AbsMaxTracker {
  /** Records max-accumulation of each tensor (by the tracker's names) into its slot. */
  encode(encoder: GPUCommandEncoder, tensors: ReadonlyMap<string, GpuTensor>): void;
  /** Max |x| per name over everything encoded so far (waits for the queue). */
  read(): Promise<Map<string, number>>;
  destroy(): void;
}

/** A tracker of max |x| for the tensors `names` (all start at 0). */
export function createAbsMaxTracker(device: GPUDevice, names: readonly string[]): AbsMaxTracker {
  const maxBits = device.createBuffer({
    label: 'activation max |x|',
    size: Math.max(4, names.length * 4),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  const kernel = createKernel(device, { label: 'activation abs max', code });
  return {
    encode(encoder, tensors) {
      const pass = encoder.beginComputePass({ label: 'activation abs max' });
      names.forEach((name, slot) => {
        const t = tensors.get(name);
        if (!t) throw new RangeError(`activation calibration: no tensor ${name}`);
        if (dtypeOf(t) !== 'f32') {
          throw new RangeError(`activation calibration: ${name} is ${dtypeOf(t)}, needs f32`);
        }
        const count = tensorLength(t);
        kernel.dispatch(
          pass,
          flatDispatch(count),
          [t.buffer, maxBits],
          PARAMS.pack({ count, slot }),
        );
      });
      pass.end();
    },
    async read() {
      // The u32 bits read back as the f32s they are.
      const floats = await readBuffer(device, maxBits, names.length * 4);
      return new Map(names.map((name, i) => [name, floats[i]!]));
    },
    destroy: () => maxBits.destroy(),
  };
}
