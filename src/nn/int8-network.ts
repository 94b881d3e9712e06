/**
 * Runs a network as INT8 on the GPU: the steps of an `Int8Plan` (src/core/int8-plan.ts) —
 * quantize the f32 input, then one dot4I8Packed kernel per weighted op with adds and concats
 * folded in — in one compute pass. Tensors are allocated once per input size. CPU oracle:
 * `runInt8NetworkCpu` in src/reference/nn/int8-network.ts.
 */
import type { Int8Plan } from '../core/int8-plan.ts';
import type { GpuTimer } from '../gpu/profiler.ts';
import { uploadInt8Op, type Int8OpWeights } from './ops/int8/common.ts';
import { encodeInt8Op } from './ops/int8/encode.ts';
import { encodeQuantizeInt8 } from './ops/int8/quantize.ts';
import {
  createGpuInt8Tensor,
  createGpuTensor,
  type GpuInt8Tensor,
  type GpuTensor,
} from './tensor.ts';

export interface Int8Network {
  readonly plan: Int8Plan;
  /**
   * Records a forward of `input` (the graph input, f32, height and width multiples of the plan's
   * largest divisor). The returned f32 output stays valid until a run at another size. With a
   * timer, each step runs in a timed pass of its own, labelled by its node (profiling).
   */
  run(encoder: GPUCommandEncoder, input: GpuTensor, timer?: GpuTimer): GpuTensor;
  destroy(): void;
}

interface SizedTensors {
  readonly height: number;
  readonly width: number;
  readonly int8: ReadonlyMap<string, GpuInt8Tensor>;
  readonly output: GpuTensor;
}

/** Uploads the plan's weights; tensors follow the first input size. */
export function createInt8Network(device: GPUDevice, plan: Int8Plan): Int8Network {
  const weights: Int8OpWeights[] = plan.steps.map((step) =>
    uploadInt8Op(device, step.op, step.params, step.inChannels, `int8 ${step.node}`),
  );
  const largestDivisor = Math.max(...[...plan.tensors.values()].map((t) => t.divisor));
  let sized: SizedTensors | undefined;

  const freeSized = () => {
    if (!sized) return;
    for (const t of sized.int8.values()) t.buffer.destroy();
    sized.output.buffer.destroy();
    sized = undefined;
  };
  const tensorsFor = (height: number, width: number): SizedTensors => {
    if (sized && sized.height === height && sized.width === width) return sized;
    if (height % largestDivisor !== 0 || width % largestDivisor !== 0) {
      throw new RangeError(
        `int8 network "${plan.name}": input ${width}x${height} is not a multiple of ${largestDivisor}`,
      );
    }
    freeSized();
    const int8 = new Map<string, GpuInt8Tensor>();
    for (const [name, t] of plan.tensors) {
      const shape = { channels: t.channels, height: height / t.divisor, width: width / t.divisor };
      int8.set(name, createGpuInt8Tensor(device, shape, `int8 ${name}`));
    }
    const output = createGpuTensor(
      device,
      { channels: plan.outputChannels, height, width },
      `int8 ${plan.output}`,
    );
    sized = { height, width, int8, output };
    return sized;
  };

  return {
    plan,
    run(encoder, input, timer) {
      const { int8, output } = tensorsFor(input.height, input.width);
      let pass = encoder.beginComputePass({ label: `int8 ${plan.name}` });
      /** With a timer, `label`'s work gets a timed pass of its own. */
      const passFor = (label: string) => {
        if (!timer) return pass;
        pass.end();
        pass = encoder.beginComputePass({ label, timestampWrites: timer.computePass(label) });
        return pass;
      };
      for (const q of plan.quantizes) {
        const target = int8.get(q.output)!;
        const p = passFor(`quantize ${q.output}`);
        encodeQuantizeInt8(device, p, input, q.scale, target, q.outChannelOffset);
      }
      plan.steps.forEach((step, i) => {
        const residual = step.residual === undefined ? undefined : int8.get(step.residual)!;
        encodeInt8Op(device, passFor(step.node), weights[i]!, int8.get(step.input)!, {
          output: step.realOutput ? output : int8.get(step.output)!,
          outChannelOffset: step.outChannelOffset,
          ...(residual ? { residual } : {}),
        });
      });
      pass.end();
      return output;
    },
    destroy() {
      freeSized();
      for (const w of weights) {
        w.weightBuffer.destroy();
        w.biasBuffer.destroy();
      }
    },
  };
}
