/**
 * Network v2, the architecture of the shipped weights (weights/uplift-v2.uplift).
 */
import type { GraphDescription, GraphNode } from '../core/graph.ts';

/** Network v2 input channels: the neural frame's features (src/reference/nn/frame.ts). */
export const NETWORK_V2_INPUT_CHANNELS = 12;
/** Network v2 raw outputs: σ1, σ2, θ, α, r0..r3, β. */
export const NETWORK_V2_OUTPUT_CHANNELS = 9;

function residualBlock(name: string, input: string, channels: number): GraphNode[] {
  return [
    {
      op: 'conv3x3',
      name: `${name}a`,
      inputs: [input],
      output: `${name}a`,
      outChannels: channels,
      activation: 'relu',
    },
    {
      op: 'conv3x3',
      name: `${name}b`,
      inputs: [`${name}a`],
      output: `${name}b`,
      outChannels: channels,
    },
    { op: 'add', name, inputs: [`${name}b`, input], output: name, activation: 'relu' },
  ];
}

/**
 * Network v2: a U-Net with 2×2 stride-2 downsampling to ½, ¼, ⅛ (16 / 32 / 64 channels, one
 * residual block each), 2×2 transposed-conv upsampling with skip adds, the input concatenated back
 * at full resolution, a per-pixel 1×1 conv (the only nonlinearity at full resolution, where the
 * jitter-dependent decisions are made) and a final 3×3 conv to the 9 raw outputs. About 133K
 * parameters. (v1 had 8 inputs, 8 outputs and no 1×1 layer.)
 */
export const NETWORK_V2: GraphDescription = {
  name: 'uplift-kpn',
  version: 2,
  inputs: [{ name: 'features', channels: NETWORK_V2_INPUT_CHANNELS }],
  outputs: ['raw'],
  nodes: [
    {
      op: 'down2x2',
      name: 'down1',
      inputs: ['features'],
      output: 'down1',
      outChannels: 16,
      activation: 'relu',
    },
    ...residualBlock('res1', 'down1', 16),
    {
      op: 'down2x2',
      name: 'down2',
      inputs: ['res1'],
      output: 'down2',
      outChannels: 32,
      activation: 'relu',
    },
    ...residualBlock('res2', 'down2', 32),
    {
      op: 'down2x2',
      name: 'down3',
      inputs: ['res2'],
      output: 'down3',
      outChannels: 64,
      activation: 'relu',
    },
    ...residualBlock('res3', 'down3', 64),
    {
      op: 'up2x2',
      name: 'up2',
      inputs: ['res3'],
      output: 'up2',
      outChannels: 32,
      activation: 'relu',
    },
    { op: 'add', name: 'skip2', inputs: ['up2', 'res2'], output: 'skip2' },
    {
      op: 'conv3x3',
      name: 'dec2',
      inputs: ['skip2'],
      output: 'dec2',
      outChannels: 32,
      activation: 'relu',
    },
    {
      op: 'up2x2',
      name: 'up1',
      inputs: ['dec2'],
      output: 'up1',
      outChannels: 16,
      activation: 'relu',
    },
    { op: 'add', name: 'skip1', inputs: ['up1', 'res1'], output: 'skip1' },
    {
      op: 'conv3x3',
      name: 'dec1',
      inputs: ['skip1'],
      output: 'dec1',
      outChannels: 16,
      activation: 'relu',
    },
    {
      op: 'up2x2',
      name: 'up0',
      inputs: ['dec1'],
      output: 'up0',
      outChannels: 8,
      activation: 'relu',
    },
    { op: 'concat', name: 'join', inputs: ['up0', 'features'], output: 'join' },
    {
      op: 'conv1x1',
      name: 'mix',
      inputs: ['join'],
      output: 'mix',
      outChannels: 24,
      activation: 'relu',
    },
    {
      op: 'conv3x3',
      name: 'head',
      inputs: ['mix'],
      output: 'raw',
      outChannels: NETWORK_V2_OUTPUT_CHANNELS,
    },
  ],
};
