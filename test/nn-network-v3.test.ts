// Network v3 candidates: the frame's contract, the MAC budget, and every one of them run by the
// f32 GPU network and the INT8 runner exactly as their CPU references compute them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu, rng } from './helpers/gpu.ts';
import { inferShapes, macsPerOutputPixel, validateGraph } from '../src/core/graph.ts';
import { FEATURE_CHANNELS, RAW_CHANNELS } from '../src/core/neural-frame.ts';
import { planInt8 } from '../src/core/int8-plan.ts';
import { createTensor } from '../src/core/tensor.ts';
import { NETWORK_V3_CANDIDATES } from '../src/nn/network-v3.ts';
import { ARCHITECTURES, architectureCost } from '../src/nn/networks.ts';
import { execFileSync } from 'node:child_process';
import { createNetwork } from '../src/nn/network.ts';
import { createInt8Network } from '../src/nn/int8-network.ts';
import { calibrateActivationScales, quantizeGraph } from '../src/nn/quantize.ts';
import { createGpuTensor, readGpuTensor, writeGpuTensor } from '../src/nn/tensor.ts';
import { initWeights } from '../src/nn/weights.ts';
import { runInt8NetworkCpu } from '../src/reference/nn/int8-network.ts';
import { runNetworkCpu } from '../src/reference/nn/network.ts';
import { NETWORKS } from '../src/train/config.ts';

/** The budget for v3, and what each candidate's comment says it costs. */
const MAC_BUDGET = 2500;
const DOCUMENTED_MACS: Record<string, number> = {
  v3a: 2260,
  v3b: 2424,
  v3c: 2260,
  v3d: 1684,
  v3e: 2449,
  v3f: 2440,
};

test('v3 candidates: the frame contract, under the MAC budget, trainable by name', () => {
  assert.deepEqual(Object.keys(NETWORK_V3_CANDIDATES).sort(), Object.keys(DOCUMENTED_MACS).sort());
  for (const [name, graph] of Object.entries(NETWORK_V3_CANDIDATES)) {
    validateGraph(graph);
    assert.equal(graph.version, 3, name);
    assert.deepEqual(graph.inputs, [{ name: 'features', channels: FEATURE_CHANNELS }], name);
    const shapes = inferShapes(graph, 32, 48);
    assert.deepEqual(shapes.get('raw'), { channels: RAW_CHANNELS, height: 32, width: 48 }, name);
    const macs = macsPerOutputPixel(graph);
    assert.equal(macs, DOCUMENTED_MACS[name], name);
    assert.ok(macs <= MAC_BUDGET, `${name}: ${macs} MACs`);
    assert.equal(ARCHITECTURES[name], graph, name);
    assert.equal(NETWORKS[name], graph, name);
  }
  assert.ok(macsPerOutputPixel(ARCHITECTURES['v2']!) > 3 * MAC_BUDGET);
});

test('v3 candidates on the GPU: f32 equals the CPU reference, INT8 equals it bit for bit', async () => {
  const { device } = await testGpu();
  const random = rng(31);
  const shape = { channels: FEATURE_CHANNELS, height: 16, width: 24 };
  const features = createTensor(shape);
  for (let i = 0; i < features.data.length; i++) features.data[i] = random() * 2 - 0.5;
  const input = createGpuTensor(device, shape, 'v3 test input');
  writeGpuTensor(device, input, features);
  for (const [name, graph] of Object.entries(NETWORK_V3_CANDIDATES)) {
    const parameters = initWeights(graph, 3);
    const want = runNetworkCpu(graph, parameters, features).output.data;
    const network = createNetwork(device, graph, parameters);
    const encoder = device.createCommandEncoder();
    const output = network.run(encoder, input).output;
    device.queue.submit([encoder.finish()]);
    const got = (await readGpuTensor(device, output)).data;
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    assert.ok(worst < 1e-4, `${name} f32: max |GPU − CPU| = ${worst}`);
    network.destroy();

    const scales = calibrateActivationScales(graph, parameters, [features]);
    const quantized = quantizeGraph(graph, {
      weightBits: 8,
      activationBits: 8,
      activationScales: scales,
    });
    const plan = planInt8(quantized, parameters);
    const int8 = createInt8Network(device, plan);
    const encoder8 = device.createCommandEncoder();
    const output8 = int8.run(encoder8, input);
    device.queue.submit([encoder8.finish()]);
    const got8 = await readGpuTensor(device, output8);
    const want8 = runInt8NetworkCpu(plan, features).output;
    assert.deepEqual(
      new Uint32Array(got8.data.buffer),
      new Uint32Array(want8.data.buffer),
      `${name} int8`,
    );
    assert.ok(new Set(want8.data).size > 50, `${name}: a varied output`);
    int8.destroy();
  }
  input.buffer.destroy();
});

test('the cost model: v3 candidates need fewer INT8 kernels, MACs and bytes than v2', () => {
  const v2 = architectureCost('v2', [1920, 1080]);
  assert.equal(v2.parameters, 132945);
  // up0 in mix's kernel, mix in the head's, up1 in dec1's; the input's two copies in one pass
  assert.equal(v2.plan.kernels.length, 14);
  for (const name of Object.keys(NETWORK_V3_CANDIDATES)) {
    const c = architectureCost(name, [1920, 1080]);
    assert.equal(c.macsPerPixel, DOCUMENTED_MACS[name], name);
    assert.equal(c.plan.macs, c.macsPerPixel * 1920 * 1080, name);
    assert.ok(c.plan.kernels.length < v2.plan.kernels.length, name);
    // Since v2's mix is computed in its head's halo (2026-12-07), v3e — v3a with a per-pixel
    // layer at display resolution — moves more bytes than v2; every other candidate fewer.
    const fewer =
      c.plan.bytesRead < v2.plan.bytesRead && c.plan.bytesWritten < v2.plan.bytesWritten;
    assert.equal(fewer, name !== 'v3e', `${name}: bytes against v2's`);
    assert.ok(c.parameters < v2.parameters / 2, `${name}: ${c.parameters} parameters`);
  }
  assert.throws(() => architectureCost('v9', [64, 64]), /unknown network "v9"/);
});

test('uplift info --networks and --network print the cost model', () => {
  const run = (...args: string[]) =>
    execFileSync(process.execPath, ['bin/uplift.mjs', 'info', ...args], { encoding: 'utf8' });
  const table = JSON.parse(run('--networks', '--json')) as {
    network: string;
    int8Kernels: number;
  }[];
  assert.deepEqual(
    table.map((r) => r.network),
    Object.keys(ARCHITECTURES),
  );
  assert.match(
    run('--network', 'v3a', '--plan'),
    /INT8 plan of uplift-kpn-v3a at 1920x1080 .*: 10 kernels/,
  );
  assert.throws(() => run('--network', 'v9'), /unknown architecture "v9"; known: v2, v3a/);
});
