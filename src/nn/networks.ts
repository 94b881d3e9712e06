/**
 * The network architectures by name, as training configs, benchmarks and `uplift info` name them:
 * v2 (the shipped weights) and the v3 candidates; and their cost before any training.
 */
import { parameterSpecs, type GraphDescription } from '../core/graph.ts';
import { planInt8, type Int8Plan } from '../core/int8-plan.ts';
import type { NeuralModel } from '../core/neural-frame.ts';
import type { Size } from '../core/quality.ts';
import { mulberry32 } from '../core/random.ts';
import { createTensor } from '../core/tensor.ts';
import { describeInt8Plan, type PlanDescription } from './describe-int8-plan.ts';
import { NETWORK_V2 } from './network-v2.ts';
import { NETWORK_V3_CANDIDATES } from './network-v3.ts';
import { calibrateActivationScales, quantizeGraph } from './quantize.ts';
import { initWeights } from './weights.ts';
import { macsPerOutputPixel } from '../core/graph.ts';

export const ARCHITECTURES: Readonly<Record<string, GraphDescription>> = {
  v2: NETWORK_V2,
  ...NETWORK_V3_CANDIDATES,
};

/**
 * An architecture with He-initialised weights quantized to 8-bit weights and activations, the
 * scales calibrated on two random 64×64 inputs: what the INT8 runner takes. Its cost (kernels,
 * bytes, time) does not depend on the values, so untrained models measure and plan the same.
 */
export function randomInt8Model(graph: GraphDescription): NeuralModel {
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

/** What an architecture costs at a display size, as the INT8 runner would run it. */
export interface ArchitectureCost {
  readonly name: string;
  readonly parameters: number;
  readonly macsPerPixel: number;
  /** What the INT8 runner runs, and its kernels at the display size. */
  readonly int8Plan: Int8Plan;
  readonly plan: PlanDescription;
}

export function architectureCost(name: string, displaySize: Size): ArchitectureCost {
  const graph = ARCHITECTURES[name];
  if (!graph) throw new RangeError(`unknown network "${name}"`);
  const model = randomInt8Model(graph);
  const int8Plan = planInt8(model.graph, model.parameters);
  return {
    name,
    parameters: parameterSpecs(graph).reduce((sum, p) => sum + p.length, 0),
    macsPerPixel: macsPerOutputPixel(graph),
    int8Plan,
    plan: describeInt8Plan(int8Plan, displaySize),
  };
}
