/**
 * GPU timing of a network's forward: every node timed in its own pass with timestamp queries,
 * medians over iterations. Run directly for JSON on stdout:
 *   tsx src/nn/benchmark.ts [--size 1920x1080] [--iterations 20] [--precision f32|f16]
 * (in Node, with Dawn's timestamp quantization off; DESIGN §11).
 */
import { createGpuTimer } from '../gpu/profiler.ts';
import {
  macsPerNode,
  macsPerOutputPixel,
  type GraphDescription,
  type Parameters,
} from '../core/graph.ts';
import { NETWORK_V2 } from './network-v2.ts';
import { createNetwork, type NetworkOptions } from './network.ts';
import { createGpuTensor } from './tensor.ts';
import { initWeights } from './weights.ts';

/** Result of `benchmarkNetwork`. */
export interface NetworkBenchmark {
  readonly network: string;
  readonly width: number;
  readonly height: number;
  readonly iterations: number;
  readonly precision: string;
  /** Bytes of the intermediate and output buffers. */
  readonly intermediateBytes: number;
  /** Median over iterations of the sum of the node times, in ms. */
  readonly totalMs: number;
  /** Median time of each dispatch (labelled with its node names, fused ones joined by '+'), in ms. */
  readonly nodeMs: Record<string, number>;
  /** Multiply-accumulates per second over the whole network, in billions. */
  readonly gmacPerSecond: number;
  /** Per dispatch with weights: billions of MACs per second. */
  readonly nodeGmacPerSecond: Record<string, number>;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Times the forward of `graph` at width × height (one warm-up run first), as inference runs it
 * (keepActivations false unless `options` says otherwise).
 */
export async function benchmarkNetwork(
  device: GPUDevice,
  graph: GraphDescription,
  parameters: Parameters,
  width: number,
  height: number,
  iterations = 10,
  options: NetworkOptions = {},
): Promise<NetworkBenchmark> {
  const network = createNetwork(device, graph, parameters, { keepActivations: false, ...options });
  const inputs = new Map(
    graph.inputs.map((i) => [
      i.name,
      createGpuTensor(device, { channels: i.channels, height, width }),
    ]),
  );
  const timer = createGpuTimer(device, graph.nodes.length);
  const samples = new Map<string, number[]>();
  for (let i = 0; i <= iterations; i++) {
    const encoder = device.createCommandEncoder();
    network.run(encoder, inputs, { timer });
    timer.resolve(encoder);
    device.queue.submit([encoder.finish()]);
    const times = await timer.read();
    if (i === 0) continue; // warm-up: pipeline creation, first touches of memory
    for (const [name, ms] of times) samples.set(name, [...(samples.get(name) ?? []), ms]);
  }
  timer.destroy();
  const intermediateBytes = network.intermediateBytes();
  network.destroy();
  for (const t of inputs.values()) t.buffer.destroy();
  const nodeMs: Record<string, number> = {};
  for (const [name, values] of samples) nodeMs[name] = median(values);
  const totals = Array.from({ length: iterations }, (_, k) =>
    [...samples.values()].reduce((s, v) => s + v[k]!, 0),
  );
  const totalMs = median(totals);
  const pixels = width * height;
  const nodeGmacPerSecond: Record<string, number> = {};
  const macs = macsPerNode(graph);
  for (const [label, ms] of Object.entries(nodeMs)) {
    // Fused dispatches are labelled 'conv+add': count the MACs of every node they run.
    const total = label.split('+').reduce((sum, name) => sum + (macs.get(name) ?? 0), 0);
    if (total > 0) nodeGmacPerSecond[label] = (total * pixels) / (ms * 1e6);
  }
  return {
    network: `${graph.name} v${graph.version}`,
    width,
    height,
    iterations,
    precision: network.precision,
    intermediateBytes,
    totalMs,
    nodeMs,
    gmacPerSecond: (macsPerOutputPixel(graph) * pixels) / (totalMs * 1e6),
    nodeGmacPerSecond,
  };
}

async function main(): Promise<void> {
  const { requestGpu } = await import('../gpu/device.ts');
  const { parseSize } = await import('../core/quality.ts');
  const args = process.argv.slice(2);
  const flag = (name: string, fallback: string) => {
    const i = args.indexOf(name);
    return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
  };
  const [width, height] = parseSize(flag('--size', '1920x1080'));
  const iterations = Number(flag('--iterations', '20'));
  const precision = flag('--precision', 'f32');
  if (precision !== 'f32' && precision !== 'f16') throw new RangeError('--precision is f32 or f16');
  const gpu = await requestGpu({ dawnFlags: ['disable-dawn-features=timestamp_quantization'] });
  const result = await benchmarkNetwork(
    gpu.device,
    NETWORK_V2,
    initWeights(NETWORK_V2, 1),
    width,
    height,
    iterations,
    { precision },
  );
  console.log(
    JSON.stringify(
      { adapter: gpu.adapterName, date: new Date().toISOString(), ...result },
      null,
      2,
    ),
  );
  gpu.device.destroy();
}

// Run directly (not when bundled into another entry, where every module shares one import.meta.url).
if (typeof process !== 'undefined' && /[\\/]benchmark\.[mc]?[jt]s$/.test(process.argv[1] ?? ''))
  await main();
