// Adam (GPU vs its CPU reference over several steps, with clipping and weight decay), the
// learning-rate schedule and the clipping rule. Tolerance 1e-5 relative + 1e-6 absolute on the
// parameters (f32 GPU vs float64 CPU on the same f32 inputs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu } from './helpers/gpu.ts';
import { randomReal } from '../src/train/grad-check.ts';
import {
  DEFAULT_ADAM,
  adamStepCpu,
  clipScale,
  learningRateAt,
  type AdamConfig,
} from '../src/train/adam-cpu.ts';
import { createGpuAdam } from '../src/train/adam.ts';
import { createStorageBuffer, readBuffer } from '../src/gpu/resources.ts';

test('learning-rate schedule: linear warm-up, cosine decay to the final ratio', () => {
  const s = { peak: 1e-3, warmupSteps: 10, totalSteps: 110, finalRatio: 0.1 };
  assert.equal(learningRateAt(0, s), 1e-4);
  assert.equal(learningRateAt(9, s), 1e-3);
  assert.ok(Math.abs(learningRateAt(60, s) - 0.55e-3) < 1e-12, 'half-way is the mean');
  assert.ok(Math.abs(learningRateAt(110, s) - 1e-4) < 1e-12);
  assert.ok(Math.abs(learningRateAt(500, s) - 1e-4) < 1e-12);
  for (let k = 10; k < 110; k++) assert.ok(learningRateAt(k + 1, s) <= learningRateAt(k, s));
});

test('a schedule restart decays from its rate to the floor at the new last step, never jumping up', () => {
  const old = { peak: 1e-3, warmupSteps: 10, totalSteps: 110, finalRatio: 0.1 };
  const atStep = learningRateAt(80, old);
  const longer = { ...old, totalSteps: 310, restart: { step: 80, learningRate: atStep } };
  assert.equal(learningRateAt(80, longer), atStep, 'continuous at the restart');
  assert.ok(learningRateAt(80, { ...old, totalSteps: 310 }) > 2 * atStep, 'without it: a jump');
  assert.ok(Math.abs(learningRateAt(195, longer) - (1e-4 + atStep) / 2) < 1e-12, 'half-way: mean');
  assert.ok(Math.abs(learningRateAt(310, longer) - 1e-4) < 1e-12);
  for (let k = 80; k < 320; k++)
    assert.ok(learningRateAt(k + 1, longer) <= learningRateAt(k, longer));
  // A restart below the floor stays there rather than climbing to it.
  const low = { ...old, restart: { step: 5, learningRate: 1e-5 } };
  assert.equal(learningRateAt(50, low), 1e-5);
});

test('clipping scales the global norm down to the limit and leaves small gradients alone', () => {
  assert.ok(Math.abs(clipScale(25, 1) * 5 - 1) < 1e-6);
  assert.equal(clipScale(0.25, 1), 1);
  assert.equal(clipScale(1e6, 0), 1);
});

test('Adam on the GPU matches the CPU reference over 4 steps (clipping, weight decay)', async () => {
  const { device } = await testGpu();
  const config: AdamConfig = { ...DEFAULT_ADAM, weightDecay: 0.01, maxGradNorm: 2 };
  const sizes = [300, 1031, 9];
  const f32 = (n: number, seed: number, lo: number, hi: number) =>
    new Float64Array(new Float32Array(randomReal(n, seed, lo, hi)));
  const cpu = sizes.map((n, k) => ({
    param: f32(n, 10 + k, -1, 1),
    grad: new Float64Array(n),
    m: new Float64Array(n),
    v: new Float64Array(n),
  }));
  const tensors = sizes.map((n, k) => ({
    name: `t${k}`,
    size: n,
    param: createStorageBuffer(device, new Float32Array(cpu[k]!.param)),
    grad: createStorageBuffer(device, new Float32Array(n)),
  }));
  const adam = createGpuAdam(device, tensors, config);
  let clipped = 0;
  for (let step = 1; step <= 4; step++) {
    // Large gradients on odd steps (clipping active), small ones on even steps.
    const range = step % 2 ? 1 : 0.01;
    sizes.forEach((n, k) => {
      const g = f32(n, 100 * step + k, -range, range);
      cpu[k]!.grad.set(g);
      device.queue.writeBuffer(tensors[k]!.grad, 0, new Float32Array(g));
    });
    const lr = 1e-2 / step;
    const { gradNorm } = adamStepCpu(cpu, step, lr, config);
    if (gradNorm > config.maxGradNorm) clipped++;
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    adam.encodeStep(pass, step, lr);
    pass.end();
    device.queue.submit([encoder.finish()]);
    const gpuNorm = await adam.readGradNorm();
    assert.ok(
      Math.abs(gpuNorm - gradNorm) < 1e-5 * gradNorm,
      `norm GPU ${gpuNorm} CPU ${gradNorm}`,
    );
  }
  assert.ok(clipped >= 2, 'the test exercises clipping');
  for (let k = 0; k < sizes.length; k++) {
    const got = await readBuffer(device, tensors[k]!.param);
    const want = cpu[k]!.param;
    for (let i = 0; i < sizes[k]!; i++) {
      assert.ok(
        Math.abs(got[i]! - want[i]!) <= 1e-6 + 1e-5 * Math.abs(want[i]!),
        `tensor ${k}[${i}]: GPU ${got[i]}, CPU ${want[i]}`,
      );
    }
  }
  const moments = await adam.readMoments();
  assert.equal(moments.length, 2 * sizes.length);
  assert.ok(Math.abs(moments[1]![5]! - cpu[0]!.v[5]!) <= 1e-6 + 1e-5 * cpu[0]!.v[5]!);
  adam.destroy();
});
