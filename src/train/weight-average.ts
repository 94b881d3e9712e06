/**
 * An exponential moving average of the trained weights on the GPU (Polyak averaging), updated
 * after every optimizer step: average ← decay · average + (1 − decay) · param. A checkpoint of a
 * run at a learning rate of 10⁻⁴ is a noisy sample of where the weights wander (QUALITY §4: the
 * validation mean moved by up to 0.27 dB from one checkpoint to the next); the average is what
 * validation scores and the weights files hold when `adam.averageDecay` is on. CPU reference:
 * `averageStepCpu` (./adam-cpu.ts).
 */
import { createKernel, flatDispatch } from '../gpu/kernel.ts';
import { readBuffer } from '../gpu/resources.ts';
import { uniformBlock } from '../gpu/uniforms.ts';
import { wgslElementwiseMain } from '../gpu/wgsl.ts';
import type { TrainableTensor } from './adam.ts';
import { averageDecayAt, type AdamConfig } from './adam-cpu.ts';

const PARAMS = uniformBlock({ count: 'u32', decay: 'f32', rest: 'f32' });

const code = /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> param: array<f32>;
@group(0) @binding(2) var<storage, read_write> average: array<f32>;

${wgslElementwiseMain('u.count', '  average[i] = u.decay * average[i] + u.rest * param[i];')}`;

/** The average of a network's parameter tensors. */
export interface WeightAverage {
  readonly decay: number;
  /**
   * Records one update of every tensor's average from its current parameters, after optimizer
   * step `step` (1-based; the decay warms up with it, `averageDecayAt`).
   */
  encodeUpdate(pass: GPUComputePassEncoder, step: number): void;
  /** The averages, in the tensors' order. */
  read(): Promise<Float32Array[]>;
  /** Overwrites the averages (a checkpoint's), in the tensors' order. */
  write(values: readonly Float32Array[]): void;
  /**
   * Runs `fn` with the parameters replaced by their averages, and puts the parameters back
   * afterwards (also when `fn` throws): validation scores the average with the live network.
   */
  withAverage<T>(fn: () => Promise<T>): Promise<T>;
  destroy(): void;
}

/**
 * An average of `tensors` that starts at their current values (queued copies), with decay
 * `averageDecayAt(config, step)`.
 */
export function createWeightAverage(
  device: GPUDevice,
  tensors: readonly TrainableTensor[],
  config: Pick<AdamConfig, 'averageDecay' | 'averageWarmup'>,
): WeightAverage {
  const decay = config.averageDecay;
  if (!(decay > 0 && decay < 1)) {
    throw new RangeError(`weight average: decay must be in (0, 1), got ${decay}`);
  }
  if (!(config.averageWarmup === 0 || config.averageWarmup > 1)) {
    throw new RangeError(
      `weight average: warm-up must be 0 or above 1, got ${config.averageWarmup}`,
    );
  }
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const make = (label: string) =>
    tensors.map((t) =>
      device.createBuffer({ label: `${t.name} ${label}`, size: t.size * 4, usage }),
    );
  const averages = make('average');
  const saved = make('saved during validation');
  const copy = (from: readonly GPUBuffer[], to: readonly GPUBuffer[]) => {
    const encoder = device.createCommandEncoder({ label: 'weight average copy' });
    tensors.forEach((t, k) => encoder.copyBufferToBuffer(from[k]!, 0, to[k]!, 0, t.size * 4));
    device.queue.submit([encoder.finish()]);
  };
  const params = tensors.map((t) => t.param);
  copy(params, averages);
  const kernel = createKernel(device, { label: 'weight average', code });
  let packedDecay: number | undefined;
  let uniforms: ArrayBuffer[] = [];
  return {
    decay,
    encodeUpdate(pass, step) {
      const d = Math.fround(averageDecayAt(config, step));
      // Packed again only while the warm-up changes the decay.
      if (d !== packedDecay) {
        packedDecay = d;
        uniforms = tensors.map((t) => PARAMS.pack({ count: t.size, decay: d, rest: 1 - d }));
      }
      tensors.forEach((t, k) => {
        kernel.dispatch(pass, flatDispatch(t.size), [t.param, averages[k]!], uniforms[k]!);
      });
    },
    read: () => Promise.all(averages.map((b, k) => readBuffer(device, b, tensors[k]!.size * 4))),
    write(values) {
      if (values.length !== tensors.length) {
        throw new RangeError(`weight average: got ${values.length} arrays, want ${tensors.length}`);
      }
      values.forEach((data, k) => {
        if (data.length !== tensors[k]!.size) {
          throw new RangeError(
            `weight average of ${tensors[k]!.name}: ${data.length} values, want ${tensors[k]!.size}`,
          );
        }
        device.queue.writeBuffer(averages[k]!, 0, data as Float32Array<ArrayBuffer>);
      });
    },
    async withAverage(fn) {
      copy(params, saved);
      copy(averages, params);
      try {
        return await fn();
      } finally {
        copy(saved, params);
      }
    },
    destroy() {
      for (const b of [...averages, ...saved]) b.destroy();
    },
  };
}
