/**
 * CPU reference of a network graph's forward (the oracle of src/nn/network.ts's GPU runner):
 * every node through its op's plain-loop reference, generic over Float32Array / Float64Array for
 * gradient checks.
 */
import {
  checkParameters,
  namedInputs,
  shapesFor,
  type GraphDescription,
  type GraphNode,
  type Parameters,
} from '../../core/graph.ts';
import type { Real, Tensor } from '../../core/tensor.ts';
import {
  addCpu,
  concatCpu,
  conv1x1Cpu,
  conv3x3Cpu,
  down2x2Cpu,
  fakeQuantCpu,
  quantizeWeightCpu,
  up2x2Cpu,
} from './ops.ts';

/** Result of a CPU run: every tensor (inputs, intermediates, outputs) by name. */
export interface CpuNetworkRun<T extends Real> {
  /** The first graph output. */
  readonly output: Tensor<T>;
  readonly tensors: ReadonlyMap<string, Tensor<T>>;
}

/** The CPU forward of one node. */
export function runNodeCpu<T extends Real>(
  node: GraphNode,
  inputs: readonly Tensor<T>[],
  parameters: Parameters<Real>,
): Tensor<T> {
  const activation = node.activation ?? 'none';
  const first = inputs[0]!;
  if (node.op === 'add') return addCpu(first, inputs[1]!, activation);
  if (node.op === 'concat') return concatCpu(inputs, activation);
  if (node.op === 'fakequant') return fakeQuantCpu(first, node.scale!, node.bits!);
  const stored = parameters.get(`${node.name}.weight`)!;
  const weight = node.weightBits ? quantizeWeightCpu(stored, node.weightBits).values : stored;
  const bias = parameters.get(`${node.name}.bias`)!;
  const op = { conv3x3: conv3x3Cpu, conv1x1: conv1x1Cpu, down2x2: down2x2Cpu, up2x2: up2x2Cpu }[
    node.op
  ];
  return op(first, weight, bias, activation);
}

/**
 * Runs the graph on the CPU. `input` is the tensor of a single-input graph or a map name → tensor;
 * the result keeps every tensor (gradient checks and GPU comparisons read intermediates).
 */
export function runNetworkCpu<T extends Real>(
  graph: GraphDescription,
  parameters: Parameters<Real>,
  input: Tensor<T> | ReadonlyMap<string, Tensor<T>>,
): CpuNetworkRun<T> {
  checkParameters(graph, parameters);
  const tensors = namedInputs(graph, input);
  shapesFor(graph, tensors);
  for (const node of graph.nodes) {
    const inputs = node.inputs.map((name) => tensors.get(name)!);
    tensors.set(node.output, runNodeCpu(node, inputs, parameters));
  }
  return { output: tensors.get(graph.outputs[0]!)!, tensors };
}
