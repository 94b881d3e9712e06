/**
 * A tiny network with the neural frame's input/output contract (FEATURE_CHANNELS in,
 * RAW_CHANNELS out; 8 channels inside)
 * that uses every op: a 2×2 stride-2 conv down, a residual block (conv3x3 leaky + skip add),
 * a conv1x1, a 2×2 transposed conv up, the features concatenated back (so they fan out) and a
 * 3×3 head. ~2.3K parameters: fast enough for gradient checks, lavapipe tests and smoke runs.
 */
import type { GraphDescription } from '../core/graph.ts';
import { FEATURE_CHANNELS, RAW_CHANNELS } from '../core/neural-frame.ts';

export const TINY_NETWORK: GraphDescription = {
  name: 'uplift-tiny',
  version: 1,
  inputs: [{ name: 'features', channels: FEATURE_CHANNELS }],
  outputs: ['raw'],
  nodes: [
    {
      op: 'down2x2',
      name: 'down',
      inputs: ['features'],
      output: 'down',
      outChannels: 8,
      activation: 'relu',
    },
    {
      op: 'conv3x3',
      name: 'conv',
      inputs: ['down'],
      output: 'conv',
      outChannels: 8,
      activation: 'leaky',
    },
    { op: 'add', name: 'res', inputs: ['conv', 'down'], output: 'res', activation: 'relu' },
    { op: 'conv1x1', name: 'mix', inputs: ['res'], output: 'mix', outChannels: 8 },
    { op: 'up2x2', name: 'up', inputs: ['mix'], output: 'up', outChannels: 8, activation: 'relu' },
    { op: 'concat', name: 'join', inputs: ['up', 'features'], output: 'join' },
    { op: 'conv3x3', name: 'head', inputs: ['join'], output: 'raw', outChannels: RAW_CHANNELS },
  ],
};
