/**
 * The frame-generation network v1 (`method: 'neural'` of createFrameGenerator): the features of
 * src/core/framegen-neural.ts in, one blend logit per candidate out, at the input size. Small on
 * purpose (4,824 parameters, 1,896 multiply-accumulates per display pixel): a 2×2 stride-2 conv
 * to half resolution, a residual pair of 3×3 convs there (a receptive field of ~13 display pixels
 * to see disocclusion edges), a 2×2 transposed conv back, the features concatenated again so the
 * 3×3 head decides at full resolution where candidates change.
 */
import type { GraphDescription } from '../core/graph.ts';
import { FRAMEGEN_FEATURE_CHANNELS, FRAMEGEN_RAW_CHANNELS } from '../core/framegen-neural.ts';

const HIDDEN = 12;

export const FRAMEGEN_NETWORK_V1: GraphDescription = {
  name: 'uplift-framegen',
  version: 1,
  inputs: [{ name: 'features', channels: FRAMEGEN_FEATURE_CHANNELS }],
  outputs: ['logits'],
  nodes: [
    {
      op: 'down2x2',
      name: 'down',
      inputs: ['features'],
      output: 'down',
      outChannels: HIDDEN,
      activation: 'relu',
    },
    {
      op: 'conv3x3',
      name: 'conv1',
      inputs: ['down'],
      output: 'conv1',
      outChannels: HIDDEN,
      activation: 'leaky',
    },
    { op: 'conv3x3', name: 'conv2', inputs: ['conv1'], output: 'conv2', outChannels: HIDDEN },
    { op: 'add', name: 'res', inputs: ['conv2', 'down'], output: 'res', activation: 'relu' },
    { op: 'up2x2', name: 'up', inputs: ['res'], output: 'up', outChannels: 8, activation: 'relu' },
    { op: 'concat', name: 'join', inputs: ['up', 'features'], output: 'join' },
    {
      op: 'conv3x3',
      name: 'head',
      inputs: ['join'],
      output: 'logits',
      outChannels: FRAMEGEN_RAW_CHANNELS,
    },
  ],
};
