/**
 * The network architectures by name, as training configs, benchmarks and `uplift info` name them:
 * v2 (the shipped weights) and the v3 candidates.
 */
import type { GraphDescription } from '../core/graph.ts';
import { NETWORK_V2 } from './network-v2.ts';
import { NETWORK_V3_CANDIDATES } from './network-v3.ts';

export const ARCHITECTURES: Readonly<Record<string, GraphDescription>> = {
  v2: NETWORK_V2,
  ...NETWORK_V3_CANDIDATES,
};
