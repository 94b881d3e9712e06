/** The network: tensors, graph, forward ops (CPU reference and WebGPU), runner, weights. */
export * from '../core/tensor.ts';
export * from './tensor.ts';
export * from '../core/graph.ts';
export * from './network-v2.ts';
export * from './network.ts';
export * from './weights.ts';
export * from './describe.ts';
export { conv3x3, conv3x3Kernel, prepareConv3x3 } from './ops/conv3x3.ts';
export { conv1x1, conv1x1Kernel, prepareConv1x1 } from './ops/conv1x1.ts';
export { down2x2, down2x2Kernel, prepareDown2x2 } from './ops/down2x2.ts';
export { up2x2, up2x2Kernel, prepareUp2x2 } from './ops/up2x2.ts';
export { add, addKernel, prepareAdd, type AddArgs } from './ops/add.ts';
export { concat, concatKernel, prepareConcat, type ConcatArgs } from './ops/concat.ts';
export type { WeightedOpArgs, NnOpKernel } from './ops/common.ts';
export type { PreparedDispatch } from '../gpu/kernel.ts';
export {
  activate,
  addCpu,
  concatCpu,
  conv1x1Cpu,
  conv3x3Cpu,
  down2x2Cpu,
  up2x2Cpu,
} from '../reference/nn/ops.ts';
