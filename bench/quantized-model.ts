/**
 * A network with He-initialised weights quantized to 8-bit weights and activations, the scales
 * calibrated on two random 64×64 inputs: a model the INT8 runner takes (random weights run as
 * fast as trained ones). Network v2 unless another graph is given.
 */
import type { GraphDescription } from '../src/core/graph.ts';
import type { NeuralModel } from '../src/core/neural-frame.ts';
import { mulberry32 } from '../src/core/random.ts';
import { createTensor } from '../src/core/tensor.ts';
import { NETWORK_V2 } from '../src/nn/network-v2.ts';
import { calibrateActivationScales, quantizeGraph } from '../src/nn/quantize.ts';
import { initWeights } from '../src/nn/weights.ts';

export function quantizedNetwork(graph: GraphDescription = NETWORK_V2): NeuralModel {
  const parameters = initWeights(graph, 1);
  const random = mulberry32(5);
  const inputs = [0, 1].map(() => {
    const t = createTensor({ channels: graph.inputs[0]!.channels, height: 64, width: 64 });
    for (let i = 0; i < t.data.length; i++) t.data[i] = random() * 2 - 1;
    return t;
  });
  const activationScales = calibrateActivationScales(graph, parameters, inputs);
  const quantized = quantizeGraph(graph, { weightBits: 8, activationBits: 8, activationScales });
  return { graph: quantized, parameters };
}
