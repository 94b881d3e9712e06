/**
 * Network benchmark: the forward of network v2 (or another architecture of src/nn/networks.ts) at display-size inputs, on random inputs
 * and He-initialised weights. Two measurements per size and precision: the forward as the
 * upscaler runs it (one compute pass; "frame" = its GPU time), and every node in its own timed
 * pass (per-node times; the pass boundaries add a little). Achieved throughput counts
 * 2 FLOP per multiply-accumulate of the graph (`macsPerNode`).
 */
import { mulberry32 } from '../src/core/random.ts';
import type { Size } from '../src/core/quality.ts';
import { createGpuTimer, type GpuTimer } from '../src/gpu/profiler.ts';
import { macsPerNode, macsPerOutputPixel } from '../src/core/graph.ts';
import type { GraphDescription } from '../src/core/graph.ts';
import { ARCHITECTURES } from '../src/nn/networks.ts';
import { createNetwork } from '../src/nn/network.ts';
import {
  createGpuTensor,
  writeGpuTensor,
  type GpuTensor,
  type TensorDtype,
} from '../src/nn/tensor.ts';
import { createTensor } from '../src/core/tensor.ts';
import { initWeights } from '../src/nn/weights.ts';
import { planInt8 } from '../src/core/int8-plan.ts';
import { createInt8Network, type Int8Kernels } from '../src/nn/int8-network.ts';
import {
  MATRIX_BISECTS,
  subgroupMatricesUsable,
  type MatrixBisect,
  type MatrixTiling,
} from '../src/nn/ops/int8/matrix.ts';
import {
  CONV3X3_BISECTS,
  DIRECT_BISECTS,
  type Conv3x3Bisect,
  type DirectBisect,
  type DirectRows,
  type DirectSplit,
} from '../src/nn/ops/int8/common.ts';
import { DIRECT_ROWS } from '../src/nn/ops/int8/direct-rows.ts';
import { quantizedNetwork } from './quantized-model.ts';
import { measureFrames, measuredCase } from './measure.ts';
import { runCases, type BenchCase, type BenchSettings } from './stats.ts';

/** One network configuration to measure. */
export interface NetworkCase {
  size: Size;
  /** int8: the graph quantized to 8 bits and run by the INT8 runner (src/nn/int8-network.ts). */
  precision: TensorDtype | 'int8';
  /** Time every node in its own pass instead of the whole forward in one pass. */
  perNode: boolean;
  /** The INT8 kernels (default dot4I8Packed). */
  kernels?: Int8Kernels;
  /** The architecture, a key of ARCHITECTURES (default v2). */
  network?: string;
  /** Subgroup-matrix kernels with a part left out, to time the rest (MatrixBisect). */
  bisect?: MatrixBisect;
  /** The dot4I8Packed conv3x3 with a part left out, likewise (Conv3x3Bisect). */
  conv3x3Bisect?: Conv3x3Bisect;
  /** The dot4I8Packed direct kernels (down2x2, up2x2, conv1x1) with a part left out (DirectBisect). */
  directBisect?: DirectBisect;
  /** The direct kernels on ./direct-rows.ts's kernel, this many output pixels a thread. */
  directRows?: DirectRows;
  /** The direct kernels whose blocks are all real on ./direct-split.ts's, a block over this many threads. */
  directSplit?: DirectSplit;
  /** Subgroup-matrix kernels with another tiling (same outputs), named in the case. */
  tiling?: NamedTiling;
  /**
   * false: no conv3x3 computes its input in its halo (src/nn/ops/int8/producer-in-halo.ts; the
   * default since 2026-12-07), named `no-halo`: what that fusion saves, kernel by kernel.
   */
  producersInHalos?: false;
}

/** A matrix tiling other than the default, and its name in a case ("pad8", "tiles1"). */
export interface NamedTiling extends MatrixTiling {
  readonly name: string;
}

/**
 * The tilings timed beside the default: the results' rows padded by 8 words (other banks for a
 * matrix store's rows), at most one or two 16-pixel tiles a subgroup (more workgroups for the
 * small layers; the weights loaded more often), and the K steps split over a workgroup's
 * subgroups (four times the workgroups, the same loads).
 */
export const MATRIX_TILINGS: readonly NamedTiling[] = [
  { name: 'pad8', resultPad: 8 },
  { name: 'tiles1', maxMTiles: 1 },
  { name: 'tiles2', maxMTiles: 2 },
  { name: 'splitk', splitK: true },
  { name: 'splitk-tiles1', splitK: true, maxMTiles: 1 },
];

/**
 * The cases of a full run (f16 too where the adapter has shader-f16), or tiny f32 ones (compiling
 * the f16 pipelines on lavapipe takes longer than a smoke test should).
 */
export function networkCases(
  quick: boolean,
  hasF16: boolean,
  subgroupMatrices = false,
): NetworkCase[] {
  const sizes: Size[] = quick
    ? [[32, 24]]
    : [
        [1920, 1080],
        [2560, 1440],
      ];
  const precisions: TensorDtype[] = hasF16 && !quick ? ['f32', 'f16'] : ['f32'];
  return sizes.flatMap((size) => [
    ...precisions.flatMap((precision) => [
      { size, precision, perNode: false },
      { size, precision, perNode: true },
    ]),
    { size, precision: 'int8' as const, perNode: false },
    { size, precision: 'int8' as const, perNode: true },
    // v2 on dot4I8Packed with a part of every conv3x3 left out in turn, per node, at the first
    // size (outputs wrong): where the conv kernels' time goes besides their inner loop.
    ...(size === sizes[0] && !quick
      ? CONV3X3_BISECTS.map((conv3x3Bisect) => ({
          size,
          precision: 'int8' as const,
          perNode: true,
          conv3x3Bisect,
        }))
      : []),
    // The same for v2's direct kernels that run alone (down1–3, up2: 1.19 GMAC in ~105 µs at
    // 1080p on an H100, a third of the 3×3 convs' rate).
    ...(size === sizes[0] && !quick
      ? DIRECT_BISECTS.map((directBisect) => ({
          size,
          precision: 'int8' as const,
          perNode: true,
          directBisect,
        }))
      : []),
    // And on the kernel that loads a pixel's words before its products, 1, 2 or 4 pixels a
    // thread (the same outputs), per node and whole.
    ...(size === sizes[0] && !quick
      ? DIRECT_ROWS.flatMap((directRows) =>
          [false, true].map((perNode) => ({
            size,
            precision: 'int8' as const,
            perNode,
            directRows,
          })),
        )
      : []),
    // And on the kernel that splits each pixel's block over two threads, per node and whole.
    ...(size === sizes[0] && !quick
      ? [false, true].map((perNode) => ({
          size,
          precision: 'int8' as const,
          perNode,
          directSplit: 2 as const,
        }))
      : []),
    ...(subgroupMatrices
      ? [false, true].map((perNode) => ({
          size,
          precision: 'int8' as const,
          perNode,
          kernels: 'subgroup-matrix' as const,
        }))
      : []),
    // v2 on the matrix kernels with each part left out in turn, per node, at the first size:
    // what the loads, the multiplies and the epilogue of each layer cost (outputs wrong).
    ...(subgroupMatrices && size === sizes[0]
      ? MATRIX_BISECTS.map((bisect) => ({
          size,
          precision: 'int8' as const,
          perNode: true,
          kernels: 'subgroup-matrix' as const,
          bisect,
        }))
      : []),
    ...(subgroupMatrices && size === sizes[0]
      ? MATRIX_TILINGS.flatMap((tiling) =>
          [undefined, 'v3a'].map((network) => ({
            size,
            precision: 'int8' as const,
            perNode: true,
            kernels: 'subgroup-matrix' as const,
            tiling,
            ...(network ? { network } : {}),
          })),
        )
      : []),
    // v3a (48 channels, an up2x2 head) on both INT8 kernels, at the first size, where the
    // device has subgroup matrices: the second matrix design runs whole networks of both shapes.
    ...(subgroupMatrices && size === sizes[0]
      ? (['dot4', 'subgroup-matrix'] as const).flatMap((kernels) =>
          [false, true].map((perNode) => ({
            size,
            precision: 'int8' as const,
            perNode,
            kernels,
            network: 'v3a',
          })),
        )
      : []),
  ]);
}

/**
 * "f32 1920x1080", "f32 1920x1080 per-node", "int8-matrix 1920x1080" (subgroup matrices), "v3a
 * int8 1920x1080" (an architecture other than v2).
 */
export function networkCaseName(c: NetworkCase): string {
  const precision =
    c.kernels === 'subgroup-matrix'
      ? 'int8-matrix'
      : c.kernels === 'mixed'
        ? 'int8-mixed'
        : c.precision;
  const network = c.network && c.network !== 'v2' ? `${c.network} ` : '';
  const variant =
    c.bisect ??
    c.conv3x3Bisect ??
    (c.directBisect && `direct ${c.directBisect}`) ??
    (c.directRows && `direct rows ${c.directRows}`) ??
    (c.directSplit && `direct split ${c.directSplit}`) ??
    c.tiling?.name ??
    (c.producersInHalos === false ? 'no-halo' : '');
  return `${network}${precision} ${c.size.join('x')}${c.perNode ? ' per-node' : ''}${variant ? ` ${variant}` : ''}`;
}

/** The graph a case runs. */
export function caseGraph(network = 'v2'): GraphDescription {
  const graph = ARCHITECTURES[network];
  if (!graph) throw new RangeError(`unknown network "${network}"`);
  return graph;
}

/** TFLOP/s of `macs` multiply-accumulates done in `ms` milliseconds. */
function teraflops(macs: number, ms: number): number {
  return (2 * macs) / (ms * 1e9);
}

/** The forward of one case: its record function, its per-node labels and a cleanup. */
function setUpForward(device: GPUDevice, c: NetworkCase, input: GpuTensor) {
  const graph = caseGraph(c.network);
  if (c.precision === 'int8') {
    const model = quantizedNetwork(graph);
    const network = createInt8Network(device, planInt8(model.graph, model.parameters), {
      kernels: c.kernels ?? 'dot4',
      ...(c.bisect ? { matrixBisect: c.bisect } : {}),
      ...(c.conv3x3Bisect ? { conv3x3Bisect: c.conv3x3Bisect } : {}),
      ...(c.directBisect ? { directBisect: c.directBisect } : {}),
      ...(c.directRows ? { directRows: c.directRows } : {}),
      ...(c.directSplit ? { directSplit: c.directSplit } : {}),
      ...(c.tiling ? { matrixTiling: c.tiling } : {}),
      ...(c.producersInHalos === false ? { producersInHalos: false } : {}),
    });
    return {
      record: (encoder: GPUCommandEncoder, timer?: GpuTimer) =>
        void network.run(encoder, input, { timer: c.perNode ? timer : undefined }),
      destroy: () => network.destroy(),
    };
  }
  // As the neural resolver runs it: inference, intermediates sharing buffers once read.
  const network = createNetwork(device, graph, initWeights(graph, 1), {
    precision: c.precision,
    keepActivations: false,
  });
  return {
    record: (encoder: GPUCommandEncoder, timer?: GpuTimer) =>
      void network.run(encoder, input, c.perNode && timer ? { timer } : {}),
    destroy: () => network.destroy(),
  };
}

/** Measures one case on `device`. */
export async function benchNetworkCase(
  device: GPUDevice,
  c: NetworkCase,
  settings: BenchSettings,
): Promise<BenchCase> {
  const graph = caseGraph(c.network);
  const [width, height] = c.size;
  const shape = { channels: graph.inputs[0]!.channels, height, width };
  const input = createGpuTensor(device, shape, 'bench network input');
  const values = createTensor(shape);
  const random = mulberry32(7);
  for (let i = 0; i < values.data.length; i++) values.data[i] = random() * 2 - 1;
  writeGpuTensor(device, input, values);
  const forward = setUpForward(device, c, input);
  const timer = device.features.has('timestamp-query')
    ? createGpuTimer(device, graph.nodes.length + 4)
    : undefined;
  try {
    const samples = await measureFrames(device, timer, settings, (encoder, _i, t) =>
      forward.record(encoder, t),
    );
    const gpuMs = samples.gpu.summaries();
    const pixels = width * height;
    const derived: Record<string, number> = {
      macsPerPixel: macsPerOutputPixel(graph),
      gmacPerFrame: (macsPerOutputPixel(graph) * pixels) / 1e9,
    };
    const frameMs = gpuMs['frame']?.median;
    if (frameMs)
      derived['tflopsPerSecond'] = teraflops(macsPerOutputPixel(graph) * pixels, frameMs);
    if (c.perNode) {
      for (const [node, macs] of macsPerNode(graph)) {
        const ms = gpuMs[node]?.median;
        if (macs > 0 && ms) derived[`${node}.tflopsPerSecond`] = teraflops(macs * pixels, ms);
      }
    }
    const params = {
      network: `${graph.name} v${graph.version}`,
      size: c.size.join('x'),
      precision: c.precision,
      perNode: c.perNode,
      ...(c.precision === 'int8' ? { kernels: c.kernels ?? 'dot4' } : {}),
      ...(c.bisect ? { bisect: c.bisect } : {}),
      ...(c.tiling ? { tiling: c.tiling.name } : {}),
    };
    return measuredCase(networkCaseName(c), params, samples, gpuMs, derived);
  } finally {
    timer?.destroy();
    forward.destroy();
    input.buffer.destroy();
  }
}

/** Every case (a failing case is recorded with its error; the others still run). */
export function benchNetwork(device: GPUDevice, settings: BenchSettings): Promise<BenchCase[]> {
  const cases = networkCases(
    settings.quick,
    device.features.has('shader-f16'),
    subgroupMatricesUsable(device),
  );
  return runCases('network', cases, networkCaseName, settings, (c) =>
    benchNetworkCase(device, c, settings),
  );
}
