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

/**
 * The smallest frames run (BPTT through the neural frame): the tiny network on analytic clips of 3
 * frames at 16×16, 4 steps of 2 clips, one validation clip, logged and checkpointed every 2 steps.
 */
export const TINY_FRAMES_CONFIG = {
  network: 'tiny',
  task: 'frames',
  steps: 4,
  size: [16, 16],
  learningRate: 1e-2,
  warmupSteps: 1,
  data: { source: 'analytic', clipFrames: 3, referenceSamples: 4 },
  clipsPerStep: 2,
  validationClips: 1,
  warmup: 1,
  logEvery: 2,
  checkpointEvery: 2,
} as const;
