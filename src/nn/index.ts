/** The network: tensors, graph, forward ops (CPU reference and WebGPU), runner, weights. */
export * from './tensor.ts';
export * from './graph.ts';
export * from './network.ts';
export * from './weights.ts';
export * from './describe.ts';
export { conv3x3 } from './ops/conv3x3.ts';
export { conv1x1 } from './ops/conv1x1.ts';
export { down2x2 } from './ops/down2x2.ts';
export { up2x2 } from './ops/up2x2.ts';
export { add } from './ops/add.ts';
export { concat } from './ops/concat.ts';
export type { WeightedOpArgs, NnOpKernel } from './ops/common.ts';
export {
  ACTIVATIONS,
  LEAKY_SLOPE,
  activate,
  addCpu,
  concatCpu,
  conv1x1Cpu,
  conv3x3Cpu,
  down2x2Cpu,
  up2x2Cpu,
} from '../reference/nn/ops.ts';
