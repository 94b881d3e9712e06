import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runInBrowser } from './helpers/browser.ts';
import { testGpu, maxAbsDiff } from './helpers/gpu.ts';
import { mulberry32 } from '../src/core/random.ts';
import { NETWORK_V2, NETWORK_V2_INPUT_CHANNELS } from '../src/nn/network-v2.ts';
import { createNetwork } from '../src/nn/network.ts';
import { readGpuTensor, uploadTensor } from '../src/nn/tensor.ts';
import { tensorFrom } from '../src/core/tensor.ts';
import { initWeights } from '../src/nn/weights.ts';
import { calibrateActivationScales, quantizeGraph } from '../src/nn/quantize.ts';
import { planInt8 } from '../src/core/int8-plan.ts';
import { createInt8Network } from '../src/nn/int8-network.ts';

interface BrowserNetworkReport {
  adapter: string;
  gpu: number[];
  cpu: number[];
  quantizedGpu: number[];
  quantizedCpu: number[];
  int8Gpu: number[];
  int8Cpu: number[];
  error?: string;
}

/** One browser run serves both tests. */
let browserRun: Promise<BrowserNetworkReport> | undefined;
const browserReport = () =>
  (browserRun ??= runInBrowser<BrowserNetworkReport>('test/browser/nn-network-entry.ts'));

test('network v2 in a browser matches its CPU reference and the Node GPU output', async () => {
  const r = await browserReport();
  assert.equal(r.error, undefined);
  // The same seeds as the entry: Node's Dawn GPU runs the same network on the same input.
  const { device } = await testGpu();
  const next = mulberry32(11);
  const input = tensorFrom(
    { channels: NETWORK_V2_INPUT_CHANNELS, height: 16, width: 16 },
    Float32Array.from({ length: NETWORK_V2_INPUT_CHANNELS * 16 * 16 }, () => next() * 2 - 1),
  );
  const network = createNetwork(device, NETWORK_V2, initWeights(NETWORK_V2, 5));
  const encoder = device.createCommandEncoder();
  const run = network.run(encoder, uploadTensor(device, input));
  device.queue.submit([encoder.finish()]);
  const node = (await readGpuTensor(device, run.output)).data;
  network.destroy();
  const scale = Math.max(1, ...r.cpu.map(Math.abs));
  assert.ok(
    r.gpu.some((v) => v !== 0),
    'browser output is not all zero',
  );
  for (const [what, values] of [
    ['browser GPU vs browser CPU', r.gpu],
    ['Node GPU vs browser CPU', [...node]],
  ] as const) {
    const { max, at } = maxAbsDiff(values, r.cpu);
    assert.ok(max <= 1e-4 * scale, `${what} (${r.adapter}): ${max} at ${at}`);
  }
});

test('the quantized network (8-bit weights and activations) in a browser matches its CPU reference', async () => {
  const r = await browserReport();
  assert.equal(r.error, undefined);
  const scale = Math.max(1, ...r.quantizedCpu.map(Math.abs));
  // A value within an ulp of a half grid step may round the other way on the GPU and move the
  // outputs that read it: agreement almost everywhere, and quantization visibly applied.
  const close = r.quantizedGpu.filter((v, i) => Math.abs(v - r.quantizedCpu[i]!) <= 1e-4 * scale);
  assert.ok(close.length >= 0.99 * r.quantizedCpu.length, `${close.length} agree (${r.adapter})`);
  assert.ok(maxAbsDiff(r.quantizedCpu, r.cpu).max > 1e-4 * scale, 'quantization changed nothing');
});

test('the INT8 runner in a browser equals its CPU reference and the Node GPU bit for bit', async () => {
  const r = await browserReport();
  assert.equal(r.error, undefined);
  const bits = (values: ArrayLike<number>) => [
    ...new Uint32Array(Float32Array.from(values).buffer),
  ];
  assert.deepEqual(bits(r.int8Gpu), bits(r.int8Cpu), `browser INT8 GPU vs CPU (${r.adapter})`);
  // Node's Dawn GPU on the same plan: the same inputs and weights as the entry derives them.
  const { device } = await testGpu();
  const next = mulberry32(11);
  const input = tensorFrom(
    { channels: NETWORK_V2_INPUT_CHANNELS, height: 16, width: 16 },
    Float32Array.from({ length: NETWORK_V2_INPUT_CHANNELS * 16 * 16 }, () => next() * 2 - 1),
  );
  const parameters = initWeights(NETWORK_V2, 5);
  const quantized = quantizeGraph(NETWORK_V2, {
    weightBits: 8,
    activationBits: 8,
    activationScales: calibrateActivationScales(NETWORK_V2, parameters, [input]),
  });
  const network = createInt8Network(device, planInt8(quantized, parameters));
  const encoder = device.createCommandEncoder();
  const output = network.run(encoder, uploadTensor(device, input));
  device.queue.submit([encoder.finish()]);
  const node = (await readGpuTensor(device, output)).data;
  network.destroy();
  assert.deepEqual(bits(node), bits(r.int8Cpu), 'Node INT8 GPU vs browser CPU');
  // Close to the f32 simulation of the same quantized graph.
  const scale = Math.max(1, ...r.quantizedCpu.map(Math.abs));
  assert.ok(
    maxAbsDiff(r.int8Cpu, r.quantizedCpu).max < 0.1 * scale,
    'INT8 far from its simulation',
  );
});
