/**
 * The model of the learned frame-generation method: loading (a `.uplift` path, a URL, the file's
 * bytes or loaded weights; by default the shipped weights/framegen-v1.uplift) and the contract
 * its graph must meet (src/core/framegen-neural.ts). Runs in Node and in browsers.
 */
import { InputError } from '../core/errors.ts';
import { inferShapes, inputMultiple } from '../core/graph.ts';
import { FRAMEGEN_FEATURE_CHANNELS, FRAMEGEN_RAW_CHANNELS } from '../core/framegen-neural.ts';
import type { FramegenModel } from '../reference/frame-generation-neural.ts';
import { loadWeights, type NetworkWeights } from './weights.ts';
import { readWeightsUrl, SHIPPED_FRAMEGEN_MODEL } from './shipped-weights.ts';

export type { FramegenModel } from '../reference/frame-generation-neural.ts';

/** What `createFrameGenerator({ method: 'neural', weights })` accepts. */
export type FramegenModelSource = string | URL | ArrayBuffer | Uint8Array | NetworkWeights;

/** Throws InputError unless the graph reads the features and writes one logit per candidate. */
export function checkFramegenModel(model: FramegenModel, name: string): FramegenModel {
  const { graph } = model;
  if (graph.inputs.length !== 1 || graph.inputs[0]!.channels !== FRAMEGEN_FEATURE_CHANNELS) {
    throw new InputError(
      `${name}: frame generation needs a network with one input of ${FRAMEGEN_FEATURE_CHANNELS} channels (network "${graph.name}")`,
    );
  }
  const m = inputMultiple(graph);
  const out = inferShapes(graph, m, m).get(graph.outputs[0]!)!;
  if (out.channels !== FRAMEGEN_RAW_CHANNELS || out.width !== m || out.height !== m) {
    throw new InputError(
      `${name}: frame generation needs ${FRAMEGEN_RAW_CHANNELS} output channels at the input size (network "${graph.name}" gives ${out.channels}x${out.height}x${out.width} for ${m}x${m})`,
    );
  }
  return model;
}

/** Loads and checks a frame-generation model. */
export async function loadFramegenModel(
  source: FramegenModelSource = SHIPPED_FRAMEGEN_MODEL,
): Promise<FramegenModel> {
  if (source instanceof URL) {
    const name = source.pathname.split('/').pop()!;
    return checkFramegenModel(await loadWeights(await readWeightsUrl(source), { name }), name);
  }
  if (typeof source === 'string' || source instanceof ArrayBuffer || source instanceof Uint8Array) {
    const name = typeof source === 'string' ? source : 'weights';
    return checkFramegenModel(await loadWeights(source), name);
  }
  return checkFramegenModel(source, 'weights');
}
