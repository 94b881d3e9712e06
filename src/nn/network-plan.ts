/**
 * The plans of a GPU network: for one input size, a tensor per step output (for inference,
 * buffers recycled once their last reader has run); for each set of input buffers, the steps'
 * dispatches prepared once (bind groups and uniform buffers), so a steady frame only encodes.
 */
import { shapesFor, type GraphDescription } from '../core/graph.ts';
import { pickShape, type TensorShape } from '../core/tensor.ts';
import type { PreparedDispatch } from '../gpu/kernel.ts';
import { prepareAdd } from './ops/add.ts';
import type { WeightedOpArgs } from './ops/common.ts';
import { prepareConcat } from './ops/concat.ts';
import { prepareConv1x1 } from './ops/conv1x1.ts';
import { prepareConv3x3 } from './ops/conv3x3.ts';
import { prepareDown2x2 } from './ops/down2x2.ts';
import { prepareFakeQuant } from './ops/fakequant.ts';
import { prepareUp2x2 } from './ops/up2x2.ts';
import type { Step } from './network-steps.ts';
import {
  createGpuTensor,
  dtypeOf,
  gpuTensorBytes,
  type GpuTensor,
  type TensorDtype,
} from './tensor.ts';

/** Buffers and prepared dispatches for one input size and one set of input buffers. */
export interface Plan {
  readonly inputs: ReadonlyMap<string, GpuTensor>;
  /** Every tensor the steps read or write, the inputs included. */
  readonly tensors: ReadonlyMap<string, GpuTensor>;
  readonly dispatches: readonly { readonly label: string; readonly dispatch: PreparedDispatch }[];
}

/** What a network's plans are built from (fixed for its lifetime). */
export interface PlanSource {
  readonly graph: GraphDescription;
  readonly steps: readonly Step[];
  /** Element type of the intermediate tensors (graph outputs stay f32). */
  readonly precision: TensorDtype;
  /** Every step output in a buffer of its own; false recycles a buffer after its last reader. */
  readonly keepActivations: boolean;
  /** The parameter buffers the ops read (`Network.runParameters`). */
  readonly parameters: ReadonlyMap<string, GPUBuffer>;
  /**
   * Input sizes whose buffers and plans are kept at once (default 1: a new size frees the old
   * one's). Training alternates render sizes (one per ratio) and would otherwise rebuild them
   * every clip.
   */
  readonly keptSizes?: number;
  /**
   * Input-buffer sets whose prepared dispatches are kept per size (default 8). Training binds
   * a features tensor per frame slot and clip shape, more than 8.
   */
  readonly keptPlans?: number;
}

/** The plans of a network's current input size. */
export interface NetworkPlans {
  /**
   * The plan for these inputs; a new input size beyond `keptSizes` frees the buffers and plans of
   * the size used least recently.
   */
  planFor(inputs: Map<string, GpuTensor>): Plan;
  /** Bytes of the intermediate and output buffers of the size used last (0 before a plan). */
  intermediateBytes(): number;
  /** Frees the intermediate buffers and the plans' dispatches. */
  destroy(): void;
}

/** Input-buffer sets whose prepared dispatches a network keeps per size, by default. */
const KEPT_PLANS = 8;

/** True when `b` binds the same buffer with the same element type as `a`. */
function sameBinding(a: GpuTensor | undefined, b: GpuTensor): boolean {
  return a !== undefined && a.buffer === b.buffer && dtypeOf(a) === dtypeOf(b);
}

/** The intermediate buffers of one input size and its plans. */
interface SizedPlans {
  readonly height: number;
  readonly width: number;
  readonly tensors: Map<string, GpuTensor>;
  /**
   * Plans by the first input's buffer, least recently used first: callers that rotate a few
   * input buffers (BPTT frame slots, ping-pong) reuse their bind groups.
   */
  readonly plans: Map<GPUBuffer, Plan>;
}

/** Plans for `source`, built on demand and cached per size and input buffers. */
export function createNetworkPlans(device: GPUDevice, source: PlanSource): NetworkPlans {
  const { graph, steps } = source;
  const keptSizes = source.keptSizes ?? 1;
  const keptPlans = source.keptPlans ?? KEPT_PLANS;
  for (const [name, n] of [
    ['keptSizes', keptSizes],
    ['keptPlans', keptPlans],
  ] as const) {
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`${name} must be a positive integer, got ${n}`);
    }
  }
  /** Sizes in use, least recently used first. */
  const sizes: SizedPlans[] = [];

  function free(sized: SizedPlans): void {
    for (const plan of sized.plans.values()) {
      for (const { dispatch } of plan.dispatches) dispatch.destroy();
    }
    for (const t of new Set(sized.tensors.values())) t.buffer.destroy();
  }

  /** The buffers and plans of this size, made the most recently used. */
  function sizedFor(height: number, width: number, shapes: ReturnType<typeof shapesFor>) {
    const at = sizes.findIndex((s) => s.height === height && s.width === width);
    if (at >= 0) {
      const [found] = sizes.splice(at, 1);
      sizes.push(found!);
      return found!;
    }
    if (sizes.length >= keptSizes) free(sizes.shift()!);
    const tensors = allocateIntermediates(device, source, shapes);
    const sized = { height, width, tensors, plans: new Map<GPUBuffer, Plan>() };
    sizes.push(sized);
    return sized;
  }

  return {
    planFor(inputs) {
      const shapes = shapesFor(graph, inputs);
      const first = inputs.get(graph.inputs[0]!.name)!;
      const { tensors: intermediates, plans } = sizedFor(first.height, first.width, shapes);
      const cached = plans.get(first.buffer);
      if (cached) plans.delete(first.buffer);
      if (cached && [...inputs].every(([name, t]) => sameBinding(cached.inputs.get(name), t))) {
        plans.set(first.buffer, cached);
        return cached;
      }
      // A plan dropped here may still be recorded in an encoder that is not submitted yet
      // (training records a whole clip, possibly more frames than keptPlans, in one command
      // buffer): never destroy its uniform buffers, just drop them and let the implementation
      // free them once unused.
      const tensors = new Map(intermediates);
      for (const [name, t] of inputs) tensors.set(name, t);
      const dispatches = steps.map((step) => ({
        label: step.label,
        dispatch: prepareStep(device, step, tensors, source.parameters),
      }));
      const plan = { inputs, tensors, dispatches };
      plans.set(first.buffer, plan);
      if (plans.size > keptPlans) {
        plans.delete(plans.keys().next().value!);
      }
      return plan;
    },
    intermediateBytes() {
      const last = sizes.at(-1);
      const buffers = new Set([...(last?.tensors.values() ?? [])].map((t) => t.buffer));
      let bytes = 0;
      for (const buffer of buffers) bytes += buffer.size;
      return bytes;
    },
    destroy() {
      for (const sized of sizes.splice(0)) free(sized);
    },
  };
}

const PREPARE_WEIGHTED = {
  conv3x3: prepareConv3x3,
  conv1x1: prepareConv1x1,
  down2x2: prepareDown2x2,
  up2x2: prepareUp2x2,
} as const;

/** The step's dispatch, bound to `tensors` and the parameter buffers. */
function prepareStep(
  device: GPUDevice,
  step: Step,
  tensors: ReadonlyMap<string, GpuTensor>,
  parameters: ReadonlyMap<string, GPUBuffer>,
): PreparedDispatch {
  const { node } = step;
  const ins = step.inputs.map((name) => tensors.get(name)!);
  const output = tensors.get(step.output)!;
  const activation = node.activation ?? 'none';
  if (node.op === 'add') {
    return prepareAdd(device, { a: ins[0]!, b: ins[1]!, output, activation });
  }
  if (node.op === 'concat') return prepareConcat(device, { inputs: ins, output, activation });
  if (node.op === 'fakequant') {
    return prepareFakeQuant(device, {
      input: ins[0]!,
      output,
      scale: node.scale!,
      bits: node.bits!,
    });
  }
  const args: WeightedOpArgs = {
    input: ins[0]!,
    ...(ins[1] ? { input2: ins[1] } : {}),
    ...(step.residual
      ? { residual: tensors.get(step.residual)!, residualActivation: step.residualActivation }
      : {}),
    weight: parameters.get(`${node.name}.weight`)!,
    bias: parameters.get(`${node.name}.bias`)!,
    output,
    activation,
  };
  return PREPARE_WEIGHTED[node.op](device, args);
}

/** A buffer per step output; without keepActivations, buffers are recycled after last use. */
function allocateIntermediates(
  device: GPUDevice,
  { graph, steps, precision, keepActivations }: PlanSource,
  shapes: ReadonlyMap<string, TensorShape>,
): Map<string, GpuTensor> {
  const graphOutputs = new Set(graph.outputs);
  const reads = (step: Step) => [...step.inputs, ...(step.residual ? [step.residual] : [])];
  const lastUse = new Map<string, number>();
  steps.forEach((step, i) => reads(step).forEach((name) => lastUse.set(name, i)));
  const intermediates = new Set(steps.map((s) => s.output).filter((n) => !graphOutputs.has(n)));
  const free = new Map<number, GPUBuffer[]>();
  const tensors = new Map<string, GpuTensor>();
  steps.forEach((step, i) => {
    const shape = shapes.get(step.output)!;
    const dtype = graphOutputs.has(step.output) ? 'f32' : precision;
    const bytes = Math.ceil(gpuTensorBytes(shape, dtype) / 4) * 4;
    const recycled = intermediates.has(step.output) ? free.get(bytes)?.pop() : undefined;
    tensors.set(
      step.output,
      recycled
        ? { ...pickShape(shape), buffer: recycled, dtype }
        : createGpuTensor(device, shape, step.output, dtype),
    );
    if (keepActivations) return;
    for (const name of new Set(reads(step))) {
      if (lastUse.get(name) !== i || !intermediates.has(name)) continue;
      const t = tensors.get(name)!;
      if (!free.has(t.buffer.size)) free.set(t.buffer.size, []);
      free.get(t.buffer.size)!.push(t.buffer);
    }
  });
  return tensors;
}
