/** Network v2 (or another graph) as an untrained INT8 model: src/nn/networks.ts randomInt8Model. */
import type { GraphDescription } from '../src/core/graph.ts';
import type { NeuralModel } from '../src/core/neural-frame.ts';
import { NETWORK_V2 } from '../src/nn/network-v2.ts';
import { randomInt8Model } from '../src/nn/networks.ts';

export function quantizedNetwork(graph: GraphDescription = NETWORK_V2): NeuralModel {
  return randomInt8Model(graph);
}
