/**
 * Mean absolute error between a planar tensor and a target of the same length, with its gradient,
 * on the GPU (value summed by src/train/reduce.ts) and on the CPU. Used to train the network
 * alone on fixed batches (overfit tests, smoke runs); the frame loss (./frame-loss.ts) is the
 * real training loss.
 */
import { createKernel, flatDispatch } from '../../gpu/kernel.ts';
import { wgslElementwiseMain } from '../../gpu/wgsl.ts';
import type { Real } from '../../core/tensor.ts';
import { REDUCE_WIDTH, encodeReduceSum } from '../reduce.ts';
import { uniformBlock } from '../../gpu/uniforms.ts';

const PARAMS = uniformBlock({ count: 'u32', scale: 'f32' });

const code = /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> prediction: array<f32>;
@group(0) @binding(2) var<storage, read> targetValues: array<f32>;
@group(0) @binding(3) var<storage, read_write> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> terms: array<f32>;

${wgslElementwiseMain(
  'u.count',
  /* wgsl */ `
  let d = prediction[i] - targetValues[i];
  grad[i] = u.scale * sign(d);
  terms[i] = u.scale * abs(d);`,
)}`;

/** mean |prediction − target| and its gradient, in float64. */
export function tensorL1Cpu(prediction: Real, target: Real): { loss: number; grad: Float64Array } {
  if (prediction.length !== target.length) {
    throw new RangeError(`L1: prediction ${prediction.length} values, target ${target.length}`);
  }
  const n = prediction.length;
  const grad = new Float64Array(n);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const d = prediction[i]! - target[i]!;
    loss += Math.abs(d) / n;
    grad[i] = Math.sign(d) / n;
  }
  return { loss, grad };
}

/** The GPU L1 loss over `count` values, with its scratch. */
export interface TensorL1 {
  /** Writes grad and sums the loss into `values[slot]`. */
  encode(
    pass: GPUComputePassEncoder,
    prediction: GPUBuffer,
    target: GPUBuffer,
    grad: GPUBuffer,
    values: GPUBuffer,
    slot?: number,
  ): void;
  destroy(): void;
}

export function createTensorL1(device: GPUDevice, count: number): TensorL1 {
  const usage = GPUBufferUsage.STORAGE;
  const terms = device.createBuffer({ label: 'L1 terms', size: count * 4, usage });
  const scratch = device.createBuffer({ label: 'L1 scratch', size: REDUCE_WIDTH * 4, usage });
  const kernel = createKernel(device, { label: 'tensor L1', code });
  return {
    encode(pass, prediction, target, grad, values, slot = 0) {
      kernel.dispatch(
        pass,
        flatDispatch(count),
        [prediction, target, grad, terms],
        PARAMS.pack({ count, scale: 1 / count }),
      );
      encodeReduceSum(device, pass, {
        values: terms,
        count,
        scratch,
        output: values,
        outIndex: slot,
      });
    },
    destroy() {
      terms.destroy();
      scratch.destroy();
    },
  };
}
