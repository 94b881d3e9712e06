/**
 * Between a live training state on the GPU and a checkpoint: capture (read parameters, Adam
 * moments and the weight average back into a `Checkpoint`) and restore (a new TrainableNetwork
 * with the same bits).
 */
import { InputError } from '../core/errors.ts';
import { decodeWeights, encodeWeights } from '../nn/weights.ts';
import type { GraphDescription } from '../core/graph.ts';
import type { AdamConfig } from './adam-cpu.ts';
import type { Checkpoint } from './checkpoint.ts';
import { createTrainableNetwork, type TrainableNetwork } from './trainable.ts';

export interface CaptureOptions {
  /** Optimizer steps completed. */
  readonly step: number;
  readonly seed: number;
  readonly config: unknown;
  readonly qualityRatio?: number;
  /** Stored in the weights' metadata (training info). */
  readonly metadata?: Record<string, unknown>;
}

/** Reads the state back from the GPU (waits for queued work). */
export async function captureCheckpoint(
  trainable: TrainableNetwork,
  options: CaptureOptions,
): Promise<Checkpoint> {
  const parameters = await trainable.readParams();
  const moments = await trainable.adam.readMoments();
  const file = (values: Map<string, Float32Array>, metadata: Record<string, unknown>) =>
    encodeWeights({
      graph: trainable.graph,
      parameters: values,
      ...(options.qualityRatio !== undefined ? { qualityRatio: options.qualityRatio } : {}),
      metadata: { ...options.metadata, ...metadata, step: options.step },
    });
  const { average } = trainable;
  const averages = average && (await average.read());
  return {
    step: options.step,
    seed: options.seed,
    config: options.config,
    weights: file(parameters, {}),
    ...(averages
      ? {
          averageWeights: file(new Map(trainable.specs.map((s, k) => [s.name, averages[k]!])), {
            weightAverageDecay: average.decay,
          }),
        }
      : {}),
    moments: trainable.specs.map((s, k) => ({
      name: s.name,
      m: moments[2 * k]!,
      v: moments[2 * k + 1]!,
    })),
  };
}

/**
 * A TrainableNetwork holding exactly the checkpoint's parameters and moments. `graph`, if given,
 * must match the checkpoint's (InputError otherwise).
 */
export function restoreTrainable(
  device: GPUDevice,
  checkpoint: Checkpoint,
  adamConfig: AdamConfig,
  graph?: GraphDescription,
): TrainableNetwork {
  const weights = decodeWeights(checkpoint.weights, graph ? { graph } : {});
  // The expected graph's history guard applies from here on (a run resumed under a network that
  // now has the guard trains with it), and its coverage blend where it sets one (trainingGraph).
  const restored = graph
    ? {
        ...weights.graph,
        historyGuard: graph.historyGuard,
        coverageBlend: graph.coverageBlend ?? weights.graph.coverageBlend,
      }
    : weights.graph;
  const trainable = createTrainableNetwork(device, restored, weights.parameters, adamConfig);
  const names = trainable.specs.map((s) => s.name).join();
  if (checkpoint.moments.map((t) => t.name).join() !== names) {
    trainable.destroy();
    throw new InputError('checkpoint: Adam moments do not match the network parameters');
  }
  trainable.adam.writeMoments(checkpoint.moments.flatMap((t) => [t.m, t.v]));
  // A run that turns the average on at a resume starts it at the checkpoint's weights.
  if (trainable.average && checkpoint.averageWeights) {
    const averages = decodeWeights(checkpoint.averageWeights, { graph: trainable.graph });
    trainable.average.write(trainable.specs.map((s) => averages.parameters.get(s.name)!));
  }
  return trainable;
}
