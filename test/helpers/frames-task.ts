/** A frames task on a fresh network of a training config, freed after use. */
import { NETWORKS, type TrainConfig } from '../../src/train/config.ts';
import { framesTask, type FramesTaskOptions, type TrainingTask } from '../../src/train/tasks.ts';
import { createTrainableNetwork, type TrainableNetwork } from '../../src/train/trainable.ts';
import { initWeights } from '../../src/nn/weights.ts';

/**
 * Runs `use` on the frames task of `config`'s network with weights `initWeights(graph, seed)`,
 * then destroys the task and the network: runs of one seed start from the same weights.
 */
export async function withFramesTask<T>(
  device: GPUDevice,
  config: TrainConfig,
  options: FramesTaskOptions,
  seed: number,
  use: (task: TrainingTask, trainable: TrainableNetwork) => Promise<T>,
): Promise<T> {
  const graph = NETWORKS[config.network]!;
  const trainable = createTrainableNetwork(device, graph, initWeights(graph, seed), config.adam);
  const task = framesTask(device, config, trainable, options);
  try {
    return await use(task, trainable);
  } finally {
    task.destroy();
    trainable.destroy();
  }
}
