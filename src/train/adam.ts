/**
 * GPU optimizer step: the global gradient norm is reduced on the GPU (per tensor, then over
 * tensors; deterministic order), and the Adam kernel reads it to clip in-shader, so a training
 * step never waits on a read-back. CPU reference, schedule and math: ./adam-cpu.ts.
 */
import { createKernel, flatDispatch } from '../gpu/kernel.ts';
import { wgslElementwiseMain } from '../gpu/wgsl.ts';
import { readBuffer } from '../gpu/resources.ts';
import { REDUCE_WIDTH, encodeReduceSum } from './reduce.ts';
import type { AdamConfig } from './adam-cpu.ts';
import { uniformBlock } from '../gpu/uniforms.ts';

const PARAMS = uniformBlock({
  count: 'u32',
  learningRate: 'f32',
  beta1: 'f32',
  beta2: 'f32',
  epsilon: 'f32',
  weightDecay: 'f32',
  correction1: 'f32',
  correction2: 'f32',
  maxGradNorm: 'f32',
});

const code = /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> normSquared: array<f32>;

${wgslElementwiseMain(
  'u.count',
  /* wgsl */ `
  var scale = 1.0;
  if (u.maxGradNorm > 0.0) { scale = min(1.0, u.maxGradNorm / (sqrt(normSquared[0]) + 1e-6)); }
  let g = grad[i] * scale;
  let mi = u.beta1 * m[i] + (1.0 - u.beta1) * g;
  let vi = u.beta2 * v[i] + (1.0 - u.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  let update = mi / u.correction1 / (sqrt(vi / u.correction2) + u.epsilon);
  param[i] = param[i] - u.learningRate * (update + u.weightDecay * param[i]);`,
)}`;

/** A parameter tensor the optimizer updates: its values and its gradient (array<f32>, `size`). */
export interface TrainableTensor {
  readonly name: string;
  readonly size: number;
  readonly param: GPUBuffer;
  readonly grad: GPUBuffer;
}

/** Adam state on the GPU: one m and v buffer per tensor, plus the gradient-norm buffers. */
export interface GpuAdam {
  readonly tensors: readonly TrainableTensor[];
  /** [‖g‖², per-tensor ‖g_k‖²...] of the last step (array<f32>). */
  readonly norms: GPUBuffer;
  /** Records one step; `step` is 1-based (bias correction). */
  encodeStep(pass: GPUComputePassEncoder, step: number, learningRate: number): void;
  /** Global gradient norm of the last recorded step (read-back). */
  readGradNorm(): Promise<number>;
  /** Moments for checkpoints: m then v of each tensor, in order. */
  readMoments(): Promise<Float32Array[]>;
  writeMoments(moments: readonly Float32Array[]): void;
  destroy(): void;
}

/** Creates zeroed Adam moments for `tensors`. */
export function createGpuAdam(
  device: GPUDevice,
  tensors: readonly TrainableTensor[],
  config: AdamConfig,
): GpuAdam {
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const moments = tensors.flatMap((t) => [
    device.createBuffer({ label: `${t.name} adam m`, size: t.size * 4, usage }),
    device.createBuffer({ label: `${t.name} adam v`, size: t.size * 4, usage }),
  ]);
  const norms = device.createBuffer({
    label: 'gradient norms',
    size: (tensors.length + 1) * 4,
    usage,
  });
  const scratch = device.createBuffer({ label: 'adam scratch', size: REDUCE_WIDTH * 4, usage });
  const kernel = createKernel(device, { label: 'adam step', code });
  return {
    tensors,
    norms,
    encodeStep(pass, step, learningRate) {
      if (!Number.isInteger(step) || step < 1)
        throw new RangeError(`Adam step must be ≥ 1, got ${step}`);
      tensors.forEach((t, k) => {
        encodeReduceSum(device, pass, {
          values: t.grad,
          count: t.size,
          squared: true,
          scratch,
          output: norms,
          outIndex: k + 1,
        });
      });
      encodeReduceSum(device, pass, {
        values: norms,
        offset: 1,
        count: tensors.length,
        scratch,
        output: norms,
        outIndex: 0,
      });
      const uniforms = (size: number) =>
        PARAMS.pack({
          count: size,
          learningRate,
          beta1: config.beta1,
          beta2: config.beta2,
          epsilon: config.epsilon,
          weightDecay: config.weightDecay,
          correction1: 1 - config.beta1 ** step,
          correction2: 1 - config.beta2 ** step,
          maxGradNorm: config.maxGradNorm,
        });
      tensors.forEach((t, k) => {
        kernel.dispatch(
          pass,
          flatDispatch(t.size),
          [t.param, t.grad, moments[2 * k]!, moments[2 * k + 1]!, norms],
          uniforms(t.size),
        );
      });
    },
    async readGradNorm() {
      return Math.sqrt((await readBuffer(device, norms, 4))[0]!);
    },
    async readMoments() {
      return Promise.all(moments.map((b, j) => readBuffer(device, b, tensors[j >> 1]!.size * 4)));
    },
    writeMoments(values) {
      if (values.length !== moments.length) {
        throw new RangeError(`Adam moments: got ${values.length} arrays, want ${moments.length}`);
      }
      values.forEach((data, j) => {
        const size = tensors[j >> 1]!.size;
        if (data.length !== size) {
          throw new RangeError(
            `Adam moment ${j} of ${tensors[j >> 1]!.name}: ${data.length} values, want ${size}`,
          );
        }
        device.queue.writeBuffer(moments[j]!, 0, data as Float32Array<ArrayBuffer>);
      });
    },
    destroy() {
      for (const b of moments) b.destroy();
      norms.destroy();
      scratch.destroy();
    },
  };
}
