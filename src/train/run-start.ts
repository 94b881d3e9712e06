/**
 * How a training run starts: its resolved config and trainable network, restored from the
 * checkpoint on resume, otherwise fresh (random or given weights) and, for QAT, quantized with
 * activation scales calibrated on training clips.
 */
import { existsSync } from 'node:fs';
import { InputError } from '../core/errors.ts';
import {
  inferShapes,
  inputMultiple,
  isWeighted,
  parameterSpecs,
  type GraphDescription,
  type Parameters,
} from '../core/graph.ts';
import type { Real } from '../core/tensor.ts';
import {
  baseGraph,
  graphQuantization,
  quantizeGraph,
  scalesFromMaxAbs,
  weightedInputs,
} from '../nn/quantize.ts';
import { initWeights, loadWeights, sameGraph } from '../nn/weights.ts';
import { loadCheckpoint } from './checkpoint.ts';
import {
  NETWORKS,
  resolveTrainConfig,
  trainingGraph,
  validationClipFrames,
  type QatConfig,
  type TrainConfig,
} from './config.ts';
import { continuedSchedule } from './schedule.ts';
import { restoreTrainable } from './session.ts';
import { framesTask } from './tasks.ts';
import { createTrainableNetwork, type TrainableNetwork } from './trainable.ts';

/** Where a run starts: its config, its network, and the steps already done. */
export interface RunStart {
  readonly config: TrainConfig;
  readonly trainable: TrainableNetwork;
  readonly step: number;
  /**
   * A resume changed what validation scores (its clips, entries, size or data) or how the best is
   * chosen: the run's best so far was chosen otherwise and does not compare.
   */
  readonly validationChanged?: boolean;
  /**
   * With `initMatching`: the parameters taken from the weights, those initialised fresh and those
   * started as the identity.
   */
  readonly initMatched?: {
    readonly copied: readonly string[];
    readonly fresh: readonly string[];
    /** Fresh 1×1 convs started as the identity on a copied layer's outputs (`refinementStart`). */
    readonly passThrough: readonly string[];
    /** Fresh residual branches' last layers started at zero (`zeroBranchStart`). */
    readonly zeroed: readonly string[];
  };
}

/** What decides a run's validation score: two configs that differ here score different clips. */
export function validationSignature(c: TrainConfig): string {
  const { ratio, referenceSamples, source, paths } = c.data;
  return JSON.stringify([
    c.validationEntries,
    c.bestBy,
    c.validationClips,
    c.size,
    c.seed,
    c.warmup,
    ratio,
    validationClipFrames(c.data),
    referenceSamples,
    source,
    paths,
    c.data.engineInputs.validation,
  ]);
}

export interface RunStartOptions {
  /** The run's checkpoint path (out/checkpoint.ckpt). */
  readonly checkpoint: string;
  /** Continue from the checkpoint; without it an existing checkpoint is an error. */
  readonly resume: boolean | undefined;
  /** A `.uplift` file to start from instead of random weights (ignored on resume). */
  readonly initWeights: string | undefined;
  /**
   * With `initWeights` of another architecture: take those of its parameters that the trained
   * network has by name and shape, the rest as a fresh run initialises them (`matchingParameters`).
   */
  readonly initMatching?: boolean;
}

/**
 * Parameters of `graph` for a run started from another architecture's weights: each tensor
 * whose name and shape `from` has is copied, the others are He-initialised with `seed` (as
 * `initWeights`). E.g. network v3b from v3a's weights: the shared encoder and decoder copied,
 * v3b's full-resolution layers fresh. Two exceptions, so that the network starts computing what
 * the source computed: a fresh 1×1 conv that reads a copied layer's output of its own width
 * through a concat starts as the identity on it and zero elsewhere (`refinementStart`: v3e from
 * v3a), and a fresh linear layer added to another tensor starts at zero (`zeroBranchStart`: v3f's
 * new block from v3a). Returns them, the names copied, those initialised fresh, those started as
 * the identity and those started at zero; an InputError if none is copied.
 */
export function matchingParameters(
  graph: GraphDescription,
  from: { readonly graph: GraphDescription; readonly parameters: Parameters<Real> },
  seed: number,
  source: string,
): {
  parameters: Map<string, Float32Array>;
  copied: string[];
  fresh: string[];
  passThrough: string[];
  zeroed: string[];
} {
  const parameters = initWeights(graph, seed);
  const shapes = new Map(parameterSpecs(from.graph).map((s) => [s.name, s.shape.join('x')]));
  const copied: string[] = [];
  const fresh: string[] = [];
  for (const spec of parameterSpecs(graph)) {
    const value = from.parameters.get(spec.name);
    if (!value || shapes.get(spec.name) !== spec.shape.join('x')) {
      fresh.push(spec.name);
      continue;
    }
    parameters.set(spec.name, Float32Array.from(value));
    copied.push(spec.name);
  }
  if (copied.length === 0) {
    throw new InputError(
      `${source}: none of its parameters has a name and shape of the ${graph.name} network being trained`,
    );
  }
  const passThrough = refinementStart(graph, parameters, copied);
  const zeroed = zeroBranchStart(graph, parameters, [...copied, ...passThrough]);
  const started = new Set([...passThrough, ...zeroed]);
  return {
    parameters,
    copied,
    fresh: fresh.filter((n) => !started.has(n)),
    passThrough,
    zeroed,
  };
}

/**
 * Sets each fresh weighted layer of `graph` without an activation whose output an `add` reads
 * (the last layer of a residual branch) to zero, weights and bias: the add then passes its other
 * input through, and the branch's earlier layers, fresh and random, still get gradients once
 * training moves it. `set` names the parameters already given values (copied, or started as the
 * identity), which it leaves. Returns the names of the parameters it set.
 */
function zeroBranchStart(
  graph: GraphDescription,
  parameters: Map<string, Float32Array>,
  set: readonly string[],
): string[] {
  const taken = new Set(set);
  const added = new Set(graph.nodes.filter((n) => n.op === 'add').flatMap((n) => n.inputs));
  const zeroed: string[] = [];
  for (const node of graph.nodes) {
    if (!isWeighted(node.op) || taken.has(`${node.name}.weight`)) continue;
    if ((node.activation ?? 'none') !== 'none' || !added.has(node.output)) continue;
    for (const name of [`${node.name}.weight`, `${node.name}.bias`]) {
      const value = parameters.get(name);
      if (!value) continue;
      value.fill(0);
      zeroed.push(name);
    }
  }
  return zeroed;
}

/**
 * Sets each fresh linear 1×1 conv of `graph` that reads, through a concat, the output of a layer
 * whose parameters were copied and that has as many channels as the conv writes, to pass that
 * part through unchanged: weight 1 from its channel c to output c, 0 from every other input,
 * bias 0. Returns the names of the parameters it set.
 */
function refinementStart(
  graph: GraphDescription,
  parameters: Map<string, Float32Array>,
  copied: readonly string[],
): string[] {
  const taken = new Set(copied);
  const set: string[] = [];
  const byOutput = new Map(graph.nodes.map((n) => [n.output, n]));
  const side = inputMultiple(graph);
  const shapes = inferShapes(graph, side, side);
  const channels = (tensor: string) => shapes.get(tensor)!.channels;
  for (const node of graph.nodes) {
    const join = byOutput.get(node.inputs[0] ?? '');
    const linear = (node.activation ?? 'none') === 'none';
    if (node.op !== 'conv1x1' || !linear || taken.has(`${node.name}.weight`)) continue;
    if (join?.op !== 'concat') continue;
    let offset = 0;
    for (const part of join.inputs) {
      const source = byOutput.get(part);
      const width = channels(part);
      if (source && taken.has(`${source.name}.weight`) && width === node.outChannels) {
        const inputs = channels(join.output);
        const weight = new Float32Array(node.outChannels * inputs);
        for (let c = 0; c < width; c++) weight[c * inputs + offset + c] = 1;
        parameters.set(`${node.name}.weight`, weight);
        parameters.set(`${node.name}.bias`, new Float32Array(node.outChannels));
        set.push(`${node.name}.weight`, `${node.name}.bias`);
        break;
      }
      offset += width;
    }
  }
  return set;
}

/**
 * The config and network of a run. `overrides` are merged over the defaults, or over the
 * checkpoint's config on resume (so e.g. `steps` can be raised to train longer).
 */
export async function startRun(
  device: GPUDevice,
  overrides: unknown,
  options: RunStartOptions,
): Promise<RunStart> {
  if (options.resume) {
    const checkpoint = await loadCheckpoint(options.checkpoint);
    const before = resolveTrainConfig(checkpoint.config);
    const config = continuedSchedule(
      before,
      resolveTrainConfig(overrides, before),
      checkpoint.step,
    );
    if (checkpoint.step > config.steps) {
      // Nothing would train, and the next checkpoint would record a step past its config.
      throw new InputError(
        `${options.checkpoint} is at step ${checkpoint.step}, past the ${config.steps} steps asked for: raise steps (--steps) to continue it`,
      );
    }
    // A QAT checkpoint holds its quantized graph (with the calibrated scales): check its base.
    const trainable = restoreTrainable(
      device,
      checkpoint,
      config.adam,
      config.qat ? undefined : trainingGraph(config),
    );
    if (config.qat) checkQuantized(trainable.graph, NETWORKS[config.network]!, config.qat);
    const validationChanged = validationSignature(config) !== validationSignature(before);
    return { config, trainable, step: checkpoint.step, validationChanged };
  }
  if (existsSync(options.checkpoint)) {
    throw new InputError(
      `${options.checkpoint} exists: pass --resume to continue it, or choose another --out`,
    );
  }
  const config = resolveTrainConfig(overrides);
  const graph = trainingGraph(config);
  if (options.initMatching) {
    if (!options.initWeights || config.qat) {
      throw new InputError(
        'starting from the matching parameters needs weights to start from (--init) and no QAT',
      );
    }
    const from = await loadWeights(options.initWeights);
    const { parameters, ...initMatched } = matchingParameters(
      graph,
      from,
      config.seed,
      options.initWeights,
    );
    const trained = trainingGraph(config, from.graph);
    return {
      config,
      trainable: createTrainableNetwork(device, trained, parameters, config.adam),
      step: 0,
      initMatched,
    };
  }
  // Fine-tuning starts from given weights (same architecture), fresh Adam moments.
  const init = options.initWeights
    ? await loadWeights(options.initWeights, config.qat ? {} : { graph })
    : { graph, parameters: initWeights(graph, config.seed) };
  if (config.qat && graphQuantization(init.graph)) {
    // Continuing QAT from quantized weights: keep their calibrated scales.
    checkQuantized(init.graph, graph, config.qat);
    const { coverageBlend } = trainingGraph(config, init.graph);
    const quantized = { ...init.graph, coverageBlend };
    const trainable = createTrainableNetwork(device, quantized, init.parameters, config.adam);
    return { config, trainable, step: 0 };
  }
  if (!sameGraph(init.graph, graph)) {
    throw new InputError(
      `${options.initWeights}: its network is not the ${config.network} network being trained`,
    );
  }
  const trained = trainingGraph(config, init.graph);
  const trainable = config.qat
    ? await quantizeTrainable(device, config, trained, init.parameters)
    : createTrainableNetwork(device, trained, init.parameters, config.adam);
  return { config, trainable, step: 0 };
}

/** Throws InputError unless `graph` is `base` quantized as `qat` says. */
function checkQuantized(graph: GraphDescription, base: GraphDescription, qat: QatConfig): void {
  const q = graphQuantization(graph);
  if (
    !sameGraph(baseGraph(graph), base) ||
    q?.weightBits !== qat.weightBits ||
    q.activationBits !== qat.activationBits
  ) {
    throw new InputError(
      `network "${graph.name}" is not the ${base.name} network quantized to ${qat.weightBits}-bit weights and ${qat.activationBits}-bit activations (qat in the config)`,
    );
  }
}

/**
 * Max |x| of every tensor a weighted op of `graph` reads, over every frame of the first
 * `clips` training clips of `config` (the frames task on the GPU, the network in f32 with
 * `parameters`): the activation calibration of QAT and of post-training quantization.
 */
export async function calibrateActivations(
  device: GPUDevice,
  config: TrainConfig,
  graph: GraphDescription,
  parameters: Parameters<Real>,
  clips: number,
): Promise<Map<string, number>> {
  const trainable = createTrainableNetwork(device, graph, parameters, config.adam);
  const task = framesTask(device, config, trainable);
  try {
    return await task.calibrate!(weightedInputs(graph), clips);
  } finally {
    task.destroy();
    trainable.destroy();
  }
}

/**
 * The QAT network of a fresh run: activation scales calibrated with the f32 graph `graph`
 * (calibrateActivations over qat.calibrationClips clips), then a trainable network of the
 * quantized graph holding `parameters`.
 */
async function quantizeTrainable(
  device: GPUDevice,
  config: TrainConfig,
  graph: GraphDescription,
  parameters: Parameters<Real>,
): Promise<TrainableNetwork> {
  const qat = config.qat!;
  const maxAbs = await calibrateActivations(
    device,
    config,
    graph,
    parameters,
    qat.calibrationClips,
  );
  const quantized = quantizeGraph(graph, {
    weightBits: qat.weightBits,
    activationBits: qat.activationBits,
    activationScales: scalesFromMaxAbs(maxAbs, qat.activationBits),
  });
  return createTrainableNetwork(device, quantized, parameters, config.adam);
}
