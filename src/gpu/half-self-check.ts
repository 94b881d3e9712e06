/**
 * Does this device widen binary16 exactly? The rgba16float images (src/gpu/gpu-image.ts) read
 * their halves with WGSL's `unpack2x16float`, which must give every half's f32 value (NaN: any
 * NaN). This runs all 65,536 patterns, in the low and in the high half of a word, and lists the
 * patterns that differ from `halfToFloat`. The tests run it on their adapters, the exactness
 * benchmark (bench/int8-exact.ts) on the GPU machine.
 */
import { halfToFloat } from '../core/half.ts';
import { createKernel, groupsFor } from './kernel.ts';
import { WGSL_HALF } from './gpu-image.ts';
import { createStorageBuffer, readBuffer } from './resources.ts';

const code = /* wgsl */ `
${WGSL_HALF}
@group(0) @binding(0) var<storage, read> words: array<u32>;
@group(0) @binding(1) var<storage, read_write> widened: array<vec2u>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x >= arrayLength(&words)) { return; }
  widened[id.x] = bitcast<vec2u>(halfPair(words[id.x]));
}`;

/** A half pattern the device widens wrongly, with where it sat and what came out. */
export interface HalfMismatch {
  readonly half: number;
  readonly place: 'low' | 'high';
  readonly bits: number;
}

/** Every half pattern whose widening differs from the CPU's (empty on an exact device). */
export async function checkHalfWidening(device: GPUDevice): Promise<HalfMismatch[]> {
  // Word i holds half i low and half 65535 − i high: each pattern once in each place.
  const input = Uint32Array.from({ length: 65536 }, (_, i) => (((65535 - i) << 16) | i) >>> 0);
  const src = createStorageBuffer(device, input, GPUBufferUsage.STORAGE, 'half check words');
  const dst = createStorageBuffer(
    device,
    new Uint32Array(input.length * 2),
    GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    'half check widened',
  );
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  createKernel(device, { label: 'half widening check', code }).dispatch(
    pass,
    [groupsFor(input.length, 64)],
    [src, dst],
  );
  pass.end();
  device.queue.submit([encoder.finish()]);
  const out = new Uint32Array((await readBuffer(device, dst)).buffer);
  src.destroy();
  dst.destroy();
  const asFloat = new Float32Array(out.buffer);
  const expected = new Float32Array(1);
  const expectedBits = new Uint32Array(expected.buffer);
  const mismatches: HalfMismatch[] = [];
  const check = (half: number, place: HalfMismatch['place'], k: number) => {
    const nan = (half & 0x7c00) === 0x7c00 && (half & 0x3ff) !== 0;
    expected[0] = halfToFloat(half);
    const ok = nan ? Number.isNaN(asFloat[k]) : out[k] === expectedBits[0];
    if (!ok) mismatches.push({ half, place, bits: out[k]! });
  };
  for (let i = 0; i < 65536; i++) {
    check(i, 'low', 2 * i);
    check(65535 - i, 'high', 2 * i + 1);
  }
  return mismatches;
}
