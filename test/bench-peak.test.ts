// The dot4I8Packed rate benchmark's kernels (bench/peak.ts) against their CPU computation: every
// thread's result on random seeds, so a measured rate is the rate of the work the CPU says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dot4I8, dot4PeakCpu, prepareDot4Peak } from '../bench/peak.ts';
import { readBuffer } from '../src/gpu/resources.ts';
import { rng, testGpu } from './helpers/gpu.ts';

test('dot4I8: signed bytes, lane by lane', () => {
  assert.equal(dot4I8(0x01020304, 0x01010101), 10);
  assert.equal(dot4I8(0xff000080, 0x017f0001), -1 * 1 + 0 + 0 + -128 * 1);
  assert.equal(dot4I8(0x80808080, 0x80808080), 4 * 16384);
});

for (const kernel of ['registers', 'workgroup-fed'] as const) {
  test(`dot4 peak ${kernel}: every thread equals the CPU on random seeds`, async () => {
    const { device } = await testGpu();
    const random = rng(kernel.length);
    for (const iterations of [1, 3, 20]) {
      // 20: the weight window wraps (8 vec4 an iteration in a window of 128).
      const seed = Math.floor(random() * 2 ** 31);
      const threads = 192;
      const run = prepareDot4Peak(device, kernel, threads, iterations, seed);
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      run.encode(pass);
      pass.end();
      device.queue.submit([encoder.finish()]);
      const got = new Int32Array((await readBuffer(device, run.result)).buffer);
      run.destroy();
      const want = Int32Array.from({ length: threads }, (_, t) =>
        dot4PeakCpu(kernel, t, iterations, seed),
      );
      assert.deepEqual(got, want, `${kernel}, ${iterations} iterations, seed ${seed}`);
      assert.ok(new Set(want).size > threads / 2, 'threads differ');
    }
  });
}

test('dot4 peak: threads that do not fill workgroups are refused', async () => {
  const { device } = await testGpu();
  assert.throws(() => prepareDot4Peak(device, 'registers', 100, 1, 0), /multiple of 64/);
});
