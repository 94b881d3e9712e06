/**
 * The smallest training run the trainer tests use: the tiny network fitting a random teacher on a
 * fixed 16×16 batch, 8 steps, logged every 2 and checkpointed every 4 (a split at step 4 lands on
 * a checkpoint).
 */
export const TINY_TEACHER_CONFIG = {
  network: 'tiny',
  task: 'teacher',
  steps: 8,
  size: [16, 16],
  learningRate: 1e-2,
  warmupSteps: 2,
  logEvery: 2,
  checkpointEvery: 4,
} as const;
