/**
 * The parameter-by-parameter mean of networks of one architecture (a "model soup" of runs that
 * started from the same weights, e.g. a fine-tune and its start): `scripts/average-weights.ts`.
 * The average's metadata names its sources; its graph and quality ratio are the first's.
 */
import { InputError } from '../core/errors.ts';
import { sameGraph, type NetworkWeights } from './weights.ts';

/** The mean of `networks` (named in errors by `names`), each parameter averaged element by element. */
export function averageWeights(
  networks: readonly NetworkWeights[],
  names: readonly string[] = networks.map((_, i) => `network ${i + 1}`),
): NetworkWeights {
  const [first, ...rest] = networks;
  if (!first || rest.length === 0)
    throw new InputError('average weights: give two networks or more');
  rest.forEach((other, i) => {
    if (!sameGraph(first.graph, other.graph)) {
      throw new InputError(
        `average weights: ${names[i + 1]} is another architecture (${other.graph.name}) than ${names[0]} (${first.graph.name})`,
      );
    }
  });
  const parameters = new Map<string, Float32Array>();
  for (const [name, values] of first.parameters) {
    const sum = Float64Array.from(values);
    for (const other of rest) {
      const theirs = other.parameters.get(name)!;
      for (let i = 0; i < sum.length; i++) sum[i]! += theirs[i]!;
    }
    parameters.set(
      name,
      Float32Array.from(sum, (v) => v / networks.length),
    );
  }
  return {
    graph: first.graph,
    parameters,
    ...(first.qualityRatio !== undefined ? { qualityRatio: first.qualityRatio } : {}),
    metadata: { averageOf: [...names] },
  };
}
