// The dispatch-cost benchmark's chains (bench/dispatch-cost.ts) against their CPU computation:
// every word each buffer holds after one chain, dependent (one buffer, K steps) and independent
// (K buffers, one step each), so a measured time is the time of the work the CPU says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dispatchChainCpu, prepareDispatchChain } from '../bench/dispatch-cost.ts';
import { readBuffer } from '../src/gpu/resources.ts';
import { testGpu } from './helpers/gpu.ts';

test('dispatchChainCpu: x → 3x + 1 modulo 2³²', () => {
  assert.equal(dispatchChainCpu(5, 0), 5);
  assert.equal(dispatchChainCpu(5, 2), 3 * (3 * 5 + 1) + 1);
  assert.equal(dispatchChainCpu(0xffffffff, 1), (3 * 0xffffffff + 1) % 2 ** 32);
});

for (const chain of ['dependent', 'independent'] as const) {
  test(`dispatch chain ${chain}: every word of every buffer equals the CPU`, async () => {
    const { device } = await testGpu();
    for (const [words, dispatches] of [
      [1, 1],
      [100, 3],
      [1000, 16],
    ] as const) {
      const run = prepareDispatchChain(device, chain, words, dispatches);
      assert.equal(run.buffers.length, chain === 'dependent' ? 1 : dispatches);
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      run.encode(pass);
      pass.end();
      device.queue.submit([encoder.finish()]);
      const steps = chain === 'dependent' ? dispatches : 1;
      const want = Uint32Array.from({ length: words }, (_, i) => dispatchChainCpu(i, steps));
      for (const buffer of run.buffers) {
        const got = new Uint32Array((await readBuffer(device, buffer)).buffer);
        assert.deepEqual(got, want, `${chain}, ${words} words, ${dispatches} dispatches`);
      }
      run.destroy();
    }
  });
}

test('dispatch chain: sizes that are not positive integers are refused', async () => {
  const { device } = await testGpu();
  assert.throws(() => prepareDispatchChain(device, 'dependent', 0, 1), /positive integers/);
  assert.throws(() => prepareDispatchChain(device, 'independent', 10, 1.5), /positive integers/);
});
