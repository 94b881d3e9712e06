/**
 * Backward of a whole network on the GPU: nodes in reverse order, each op's backward kernel, and
 * gradients of tensors read by several nodes (skip adds, features fed to the encoder and the final
 * concat) summed — the first contribution writes, later ones add, so no buffer needs clearing.
 * Gradient buffers for every tensor are allocated once per input size. CPU twin:
 * networkBackwardCpu (src/reference/nn/backward.ts).
 */
import {
  inferShapes,
  isWeighted,
  type GraphDescription,
  type WeightedOp,
} from '../../core/graph.ts';
import { createGpuTensor, type GpuTensor } from '../tensor.ts';
import { tensorLength } from '../../core/tensor.ts';
import { encodeActivationBackward } from './activation.ts';
import { encodeGradRoute } from './accumulate.ts';
import { encodeFakeQuantBackward } from './fakequant.ts';
import { conv1x1Spec, encodeConv1x1Backward } from './conv1x1.ts';
import { conv3x3Spec, encodeConv3x3Backward } from './conv3x3.ts';
import { down2x2Spec, encodeDown2x2Backward } from './down2x2.ts';
import { encodeUp2x2Backward, up2x2Spec } from './up2x2.ts';
import {
  linearBackwardScratchFloats,
  type LinearBackward,
  type LinearOpSpec,
} from './linear-backward.ts';

const LINEAR: Record<WeightedOp, { spec: LinearOpSpec; encode: LinearBackward }> = {
  conv3x3: { spec: conv3x3Spec, encode: encodeConv3x3Backward },
  conv1x1: { spec: conv1x1Spec, encode: encodeConv1x1Backward },
  down2x2: { spec: down2x2Spec, encode: encodeDown2x2Backward },
  up2x2: { spec: up2x2Spec, encode: encodeUp2x2Backward },
};

/** What one backward reads and writes. Maps are keyed by tensor / parameter name. */
export interface NetworkBackwardArgs {
  /** Every tensor of the forward (graph inputs and node outputs). */
  readonly activations: ReadonlyMap<string, GpuTensor>;
  /**
   * Parameter values the forward read (`<node>.weight`; biases are not needed): the network's
   * `runParameters`, i.e. the fake-quantized copies of weights with weightBits, whose gradients
   * pass straight through to the stored weights.
   */
  readonly params: ReadonlyMap<string, GPUBuffer>;
  /** dLoss/d(output) for every graph output (read only). */
  readonly outputGrads: ReadonlyMap<string, GPUBuffer>;
  /** Receive dLoss/d(parameter) for every parameter (`<node>.weight`, `<node>.bias`). */
  readonly paramGrads: ReadonlyMap<string, GPUBuffer>;
  /** Add to `paramGrads` instead of overwriting (later frames of a BPTT clip). */
  readonly accumulateParams?: boolean;
}

export interface NetworkBackward {
  readonly height: number;
  readonly width: number;
  /** dLoss/d(input) per graph input, valid once the recorded work has run. */
  readonly inputGrads: ReadonlyMap<string, GpuTensor>;
  /** Records the whole backward into a compute pass. */
  encode(pass: GPUComputePassEncoder, args: NetworkBackwardArgs): void;
  destroy(): void;
}

/** Allocates the gradient buffers of `graph` at an input of height × width. */
export function createNetworkBackward(
  device: GPUDevice,
  graph: GraphDescription,
  height: number,
  width: number,
): NetworkBackward {
  const shapes = inferShapes(graph, height, width);
  const consumed = new Set([...graph.outputs, ...graph.nodes.flatMap((n) => n.inputs)]);
  for (const name of shapes.keys()) {
    if (!consumed.has(name)) {
      throw new RangeError(
        `network "${graph.name}": tensor ${name} is never used, so gets no gradient`,
      );
    }
  }
  const grads = new Map<string, GpuTensor>();
  for (const [name, shape] of shapes) grads.set(name, createGpuTensor(device, shape, `d ${name}`));
  let scratchFloats = 1;
  for (const node of graph.nodes) {
    if (!isWeighted(node.op)) continue;
    const x = shapes.get(node.inputs[0]!)!;
    const floats = linearBackwardScratchFloats(
      LINEAR[node.op].spec,
      x.channels,
      node.outChannels!,
      x.height,
      x.width,
    );
    scratchFloats = Math.max(scratchFloats, floats);
  }
  const scratch = device.createBuffer({
    label: 'network backward scratch',
    size: scratchFloats * 4,
    usage: GPUBufferUsage.STORAGE,
  });
  const inputGrads = new Map(graph.inputs.map(({ name }) => [name, grads.get(name)!]));
  const need = <T>(map: ReadonlyMap<string, T>, name: string, what: string): T => {
    const v = map.get(name);
    if (!v) throw new RangeError(`network backward: missing ${what} ${name}`);
    return v;
  };
  return {
    height,
    width,
    inputGrads,
    encode(pass, args) {
      const written = new Set<string>();
      // Route `count` values of `source` (from `offset`) into the gradient of `name`.
      const route = (source: GPUBuffer, offset: number, name: string) => {
        const target = grads.get(name)!;
        encodeGradRoute(
          device,
          pass,
          source,
          offset,
          target.buffer,
          tensorLength(target),
          written.has(name),
        );
        written.add(name);
      };
      for (const name of graph.outputs)
        route(need(args.outputGrads, name, 'output gradient'), 0, name);
      for (const node of [...graph.nodes].reverse()) {
        const gradY = grads.get(node.output)!;
        const y = need(args.activations, node.output, 'activation');
        encodeActivationBackward(
          device,
          pass,
          node.activation ?? 'none',
          y.buffer,
          gradY.buffer,
          tensorLength(gradY),
        );
        if (isWeighted(node.op)) {
          const xName = node.inputs[0]!;
          const x = need(args.activations, xName, 'activation');
          LINEAR[node.op].encode(device, pass, {
            input: x.buffer,
            inChannels: x.channels,
            inHeight: x.height,
            inWidth: x.width,
            weight: need(args.params, `${node.name}.weight`, 'parameter'),
            outChannels: gradY.channels,
            dZ: gradY.buffer,
            dInput: grads.get(xName)!.buffer,
            accumulateInput: written.has(xName),
            dWeight: need(args.paramGrads, `${node.name}.weight`, 'parameter gradient'),
            dBias: need(args.paramGrads, `${node.name}.bias`, 'parameter gradient'),
            accumulateParams: !!args.accumulateParams,
            scratch,
          });
          written.add(xName);
        } else if (node.op === 'fakequant') {
          const xName = node.inputs[0]!;
          const x = need(args.activations, xName, 'activation');
          encodeFakeQuantBackward(
            device,
            pass,
            x.buffer,
            gradY.buffer,
            grads.get(xName)!.buffer,
            tensorLength(gradY),
            node.scale!,
            node.bits!,
            written.has(xName),
          );
          written.add(xName);
        } else if (node.op === 'add') {
          for (const name of node.inputs) route(gradY.buffer, 0, name);
        } else {
          let offset = 0;
          for (const name of node.inputs) {
            route(gradY.buffer, offset, name);
            offset += tensorLength(shapes.get(name)!);
          }
        }
      }
    },
    destroy() {
      for (const g of grads.values()) g.buffer.destroy();
      scratch.destroy();
    },
  };
}
