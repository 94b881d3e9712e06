/**
 * Training the network alone on one fixed batch (input tensor → target tensor, L1): the honest
 * overfit check of the whole GPU training path (forward, loss, backward, clipping, Adam) and a
 * smoke run. Each step is one submission; loss values stay on the GPU in per-step slots and are
 * read back once per `readEvery` steps.
 */
import type { GpuTensor } from '../nn/tensor.ts';
import { tensorLength } from '../core/tensor.ts';
import { readBuffer } from '../gpu/resources.ts';
import { learningRateAt, type ScheduleConfig } from './adam-cpu.ts';
import { createTensorL1 } from './losses/tensor-l1.ts';
import type { TrainableNetwork } from './trainable.ts';

export interface FixedBatchOptions {
  /** Steps already done (the Adam step count continues from here). */
  readonly startStep: number;
  /** Steps to run now. */
  readonly steps: number;
  readonly schedule: ScheduleConfig;
  /** Loss values are read back after this many steps (default 10). */
  readonly readEvery?: number;
}

/** Runs `steps` optimizer steps; returns the loss of each step (before its update). */
export async function trainFixedBatch(
  device: GPUDevice,
  trainable: TrainableNetwork,
  input: GpuTensor,
  target: GPUBuffer,
  options: FixedBatchOptions,
): Promise<number[]> {
  const readEvery = options.readEvery ?? 10;
  const outputName = trainable.graph.outputs[0]!;
  const outputShape = trainable.network.shapes(input.height, input.width).get(outputName)!;
  const count = tensorLength(outputShape);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC;
  const gradOutput = device.createBuffer({ label: 'd output', size: count * 4, usage });
  const values = device.createBuffer({ label: 'loss per step', size: readEvery * 4, usage });
  const loss = createTensorL1(device, count);
  const losses: number[] = [];
  try {
    for (let k = 0; k < options.steps; k++) {
      const step = options.startStep + k;
      const encoder = device.createCommandEncoder();
      const run = trainable.forward(encoder, input);
      const pass = encoder.beginComputePass({ label: 'loss, backward, Adam' });
      loss.encode(pass, run.output.buffer, target, gradOutput, values, k % readEvery);
      trainable.encodeBackward(pass, run, new Map([[outputName, gradOutput]]), false);
      trainable.encodeOptimizerStep(pass, step + 1, learningRateAt(step, options.schedule));
      pass.end();
      device.queue.submit([encoder.finish()]);
      if ((k + 1) % readEvery === 0 || k + 1 === options.steps) {
        const got = await readBuffer(device, values, readEvery * 4);
        losses.push(...got.subarray(0, (k % readEvery) + 1));
      }
    }
  } finally {
    loss.destroy();
    gradOutput.destroy();
    values.destroy();
  }
  return losses;
}
