/**
 * Network v3 candidates (issue "Speed II / network v3"): the same contract as v2 (the 12 features
 * in, the 9 raw outputs out, src/core/neural-frame.ts) at under 2,500 multiply-accumulates per
 * display pixel, against v2's 7,864. v2 spends 2,424 of its MACs at full resolution (the 1×1 mix
 * and the 3×3 head); FSR 4, as publicly described, spends almost nothing there: its first layer
 * is a 2×2 stride-2 conv and a transposed conv writes the outputs. The candidates differ in where
 * the remaining budget goes; `NETWORK_V3_CANDIDATES` lists them with what each tests.
 */
import type { Activation, GraphDescription, GraphNode, WeightedOp } from '../core/graph.ts';
import { FEATURE_CHANNELS, HISTORY_GUARD_RANGES, RAW_CHANNELS } from '../core/neural-frame.ts';

function weighted(
  op: WeightedOp,
  name: string,
  input: string,
  outChannels: number,
  activation: Activation = 'relu',
): GraphNode {
  return { op, name, inputs: [input], output: name, outChannels, activation };
}

/** A 3×3 conv added to its input: one conv per block, so blocks cost 9·C² MACs per pixel. */
function residual(name: string, input: string, channels: number): GraphNode[] {
  return [
    weighted('conv3x3', `${name}c`, input, channels, 'none'),
    { op: 'add', name, inputs: [`${name}c`, input], output: name, activation: 'relu' },
  ];
}

/** A transposed 2×2 conv up, added to the encoder's tensor at that resolution. */
function upSkip(name: string, input: string, skip: string, channels: number): GraphNode[] {
  return [
    weighted('up2x2', `${name}u`, input, channels),
    { op: 'add', name, inputs: [`${name}u`, skip], output: name },
  ];
}

/** The last layer: writes the raw outputs, no activation (the frame applies its own). */
function outputs(op: WeightedOp, name: string, input: string): GraphNode {
  return { ...weighted(op, name, input, RAW_CHANNELS, 'none'), output: 'raw' };
}

/**
 * A v3 candidate: the frame's features in, its raw outputs out, and the history guard on (trained
 * with it since 2026-12-05; weights files written before carry no guard and run without).
 */
function graph(name: string, nodes: GraphNode[]): GraphDescription {
  return {
    name,
    version: 3,
    inputs: [{ name: 'features', channels: FEATURE_CHANNELS }],
    outputs: ['raw'],
    nodes,
    historyGuard: HISTORY_GUARD_RANGES,
  };
}

/** v3a's encoder: 16 / 32 / 48 channels at ½ / ¼ / ⅛, one residual block each. */
const V3A_ENCODER: GraphNode[] = [
  weighted('down2x2', 'down1', 'features', 16),
  ...residual('res1', 'down1', 16),
  weighted('down2x2', 'down2', 'res1', 32),
  ...residual('res2', 'down2', 32),
  weighted('down2x2', 'down3', 'res2', 48),
  ...residual('res3', 'down3', 48),
];

/** v3a's decoder from the ⅛-resolution tensor `bottom` up to ½, with the encoder's skips. */
const v3aDecoder = (bottom: string): GraphNode[] => [
  ...upSkip('skip2', bottom, 'res2', 32),
  ...upSkip('skip1', 'skip2', 'res1', 16),
];

/** v3a and v3b up to ½ resolution on the way back: the encoder and the decoder's skips. */
const V3A_BODY: GraphNode[] = [...V3A_ENCODER, ...v3aDecoder('res3')];

/**
 * v3a, FSR 4's shape: 16 / 32 / 48 channels at ½ / ¼ / ⅛ with one residual block each, transposed
 * convs up with additive skips, and the outputs written by a transposed conv from ½ resolution:
 * nothing runs at full resolution. 2,260 MACs per display pixel.
 */
export const NETWORK_V3A: GraphDescription = graph('uplift-kpn-v3a', [
  ...V3A_BODY,
  outputs('up2x2', 'out', 'skip1'),
]);

/**
 * v3b, v3a with one full-resolution layer: the last transposed conv writes 8 channels, which are
 * concatenated with the features and mixed by a 1×1 conv into the outputs (v2's full-resolution
 * path, 1×1 instead of 1×1 + 3×3). Tests whether seeing the features per display pixel, after
 * the U-Net, is worth 164 MACs. 2,424 MACs per display pixel.
 */
export const NETWORK_V3B: GraphDescription = graph('uplift-kpn-v3b', [
  ...V3A_BODY,
  weighted('up2x2', 'up0', 'skip1', 8),
  { op: 'concat', name: 'join', inputs: ['up0', 'features'], output: 'join' },
  outputs('conv1x1', 'head', 'join'),
]);

/**
 * v3c, deeper at ¼: no conv at ½ resolution (only the 2×2 convs through it), two residual blocks
 * at ¼ and one at ⅛. Tests whether depth at low resolution beats a block at ½ for the same cost:
 * half-resolution tensors are the largest the network stores. 2,260 MACs per display pixel.
 */
export const NETWORK_V3C: GraphDescription = graph('uplift-kpn-v3c', [
  weighted('down2x2', 'down1', 'features', 16),
  weighted('down2x2', 'down2', 'down1', 32),
  ...residual('res2a', 'down2', 32),
  ...residual('res2b', 'res2a', 32),
  weighted('down2x2', 'down3', 'res2b', 48),
  ...residual('res3', 'down3', 48),
  ...upSkip('skip2', 'res3', 'res2b', 32),
  ...upSkip('skip1', 'skip2', 'down1', 16),
  outputs('up2x2', 'out', 'skip1'),
]);

/**
 * v3d, the cheap end: v3a without its ½-resolution block. Tests what the 576 MACs of that block
 * buy. 1,684 MACs per display pixel.
 */
export const NETWORK_V3D: GraphDescription = graph('uplift-kpn-v3d', [
  weighted('down2x2', 'down1', 'features', 16),
  weighted('down2x2', 'down2', 'down1', 32),
  ...residual('res2', 'down2', 32),
  weighted('down2x2', 'down3', 'res2', 48),
  ...residual('res3', 'down3', 48),
  ...upSkip('skip2', 'res3', 'res2', 32),
  ...upSkip('skip1', 'skip2', 'down1', 16),
  outputs('up2x2', 'out', 'skip1'),
]);

/**
 * v3e, v3a refined per display pixel: v3a's transposed conv writes its 9 raw outputs as before
 * (`out`, the same parameters), and a 1×1 conv at full resolution reads them with the 12 features
 * of each display pixel and writes the raw outputs (`fix`). Started from v3a's weights (`uplift
 * train --init-matching`), `fix` begins as the identity on `out` and zero on the features, so the
 * run starts from v3a's outputs exactly and what it learns is what seeing each display pixel adds
 * (v3b, whose new layers start random, starts far below v3a). 2,449 MACs per display pixel.
 */
export const NETWORK_V3E: GraphDescription = graph('uplift-kpn-v3e', [
  ...V3A_BODY,
  weighted('up2x2', 'out', 'skip1', RAW_CHANNELS, 'none'),
  { op: 'concat', name: 'join', inputs: ['features', 'out'], output: 'join' },
  outputs('conv1x1', 'fix', 'join'),
]);

/**
 * v3f, v3a with more depth where tensors are smallest: after v3a's ⅛-resolution block, a
 * bottleneck block (a 3×3 conv from 48 channels to 24, a linear 1×1 back to 48, added to its
 * input). The blend's decisions (how far to trust the history) are regional: depth at ⅛ is the
 * cheapest capacity to make them with (180 MACs per display pixel). Started from v3a's weights
 * (`uplift train --init-matching`), the 1×1 begins at zero (`matchingParameters`), so the run
 * starts from v3a's outputs exactly. 2,440 MACs per display pixel.
 */
export const NETWORK_V3F: GraphDescription = graph('uplift-kpn-v3f', [
  ...V3A_ENCODER,
  weighted('conv3x3', 'res3bn', 'res3', 24),
  weighted('conv1x1', 'res3bx', 'res3bn', 48, 'none'),
  { op: 'add', name: 'res3b', inputs: ['res3bx', 'res3'], output: 'res3b', activation: 'relu' },
  ...v3aDecoder('res3b'),
  outputs('up2x2', 'out', 'skip1'),
]);

/** The candidates by training-config name. */
export const NETWORK_V3_CANDIDATES: Readonly<Record<string, GraphDescription>> = {
  v3a: NETWORK_V3A,
  v3b: NETWORK_V3B,
  v3c: NETWORK_V3C,
  v3d: NETWORK_V3D,
  v3e: NETWORK_V3E,
  v3f: NETWORK_V3F,
};
