/**
 * CPU reference of an INT8 network (the oracle of src/nn/int8-network.ts): the steps of an
 * `Int8Plan` (src/core/int8-plan.ts) over planar int8 tensors, from an f32 input to the f32 output.
 */
import { quantizeF32, type Int8Tensor } from '../../core/int8.ts';
import type { Int8Plan } from '../../core/int8-plan.ts';
import type { Tensor } from '../../core/tensor.ts';
import { int8OpCpu, int8OpToF32Cpu } from './int8-ops.ts';

/** Result of a CPU INT8 run: the output and every int8 tensor by name. */
export interface Int8NetworkRun {
  readonly output: Tensor;
  readonly tensors: ReadonlyMap<string, Int8Tensor>;
}

/** Runs `plan` on `input` (the graph input's f32 tensor, height and width multiples of 8). */
export function runInt8NetworkCpu(plan: Int8Plan, input: Tensor): Int8NetworkRun {
  const tensors = new Map<string, Int8Tensor>();
  /** The int8 tensor `name`, zero-filled at its size on first use. */
  const tensor = (name: string): Int8Tensor => {
    let t = tensors.get(name);
    if (!t) {
      const { channels, divisor } = plan.tensors.get(name)!;
      const height = input.height / divisor;
      const width = input.width / divisor;
      t = { channels, height, width, data: new Int8Array(channels * height * width) };
      tensors.set(name, t);
    }
    return t;
  };
  for (const q of plan.quantizes) {
    const out = tensor(q.output);
    const inverse = Math.fround(1 / q.scale);
    const start = q.outChannelOffset * out.height * out.width;
    for (let i = 0; i < input.data.length; i++) {
      out.data[start + i] = quantizeF32(input.data[i]!, inverse);
    }
  }
  let output: Tensor | undefined;
  for (const step of plan.steps) {
    const source = tensor(step.input);
    const residual = step.residual === undefined ? undefined : tensor(step.residual);
    if (step.realOutput) {
      output = int8OpToF32Cpu(step.op, source, step.params, residual);
      continue;
    }
    const result = int8OpCpu(step.op, source, step.params, residual);
    const out = tensor(step.output);
    out.data.set(result.data, step.outChannelOffset * out.height * out.width);
  }
  if (!output) throw new RangeError(`int8 plan of "${plan.name}" writes no output`);
  return { output, tensors };
}
