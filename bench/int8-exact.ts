/**
 * Not a timing: checks that the INT8 kernels this device runs — dot4I8Packed, and the
 * subgroup-matrix GEMM where the device has it — equal the CPU reference bit for bit, on random
 * ops (src/nn/int8-self-check.ts) and on the shipped INT8 network at a small size, and that it
 * widens every binary16 pattern exactly (the rgba16float history's reads,
 * src/gpu/half-self-check.ts). A mismatch fails the case, so the benchmark run exits 1. Runs
 * first on the GPU machine, before timing.
 */
import { planInt8 } from '../src/core/int8-plan.ts';
import { mulberry32 } from '../src/core/random.ts';
import { createTensor } from '../src/core/tensor.ts';
import { createInt8Network, type Int8Kernels } from '../src/nn/int8-network.ts';
import { subgroupMatricesUsable } from '../src/nn/ops/int8/matrix.ts';
import { checkInt8Kernels } from '../src/nn/int8-self-check.ts';
import { createGpuTensor, readGpuTensor, writeGpuTensor } from '../src/nn/tensor.ts';
import { runInt8NetworkCpu } from '../src/reference/nn/int8-network.ts';
import { quantizedNetwork } from './quantized-model.ts';
import { runCases, type BenchCase, type BenchSettings } from './stats.ts';
import { checkHalfWidening } from '../src/gpu/half-self-check.ts';

/** The binary16 widening check as a case (its mismatches, the first few named, fail it). */
async function halfCase(device: GPUDevice): Promise<BenchCase> {
  const mismatches = await checkHalfWidening(device);
  const named = mismatches
    .slice(0, 8)
    .map((m) => `0x${m.half.toString(16)} ${m.place} -> 0x${m.bits.toString(16)}`);
  return {
    name: 'binary16 widening',
    params: { patterns: 65536 },
    frames: 0,
    gpuMs: {},
    derived: { mismatchedPatterns: mismatches.length },
    ...(mismatches.length > 0
      ? { error: `${mismatches.length} half patterns widen wrongly: ${named.join(', ')}` }
      : {}),
  };
}

/** Values of the shipped-shape INT8 network's output that differ from the CPU reference. */
async function networkDiffering(device: GPUDevice, kernels: Int8Kernels): Promise<number> {
  const model = quantizedNetwork();
  const plan = planInt8(model.graph, model.parameters);
  const shape = { channels: model.graph.inputs[0]!.channels, height: 48, width: 72 };
  const features = createTensor(shape);
  const random = mulberry32(3);
  for (let i = 0; i < features.data.length; i++) features.data[i] = random() * 2 - 0.5;
  const want = runInt8NetworkCpu(plan, features).output.data;
  const network = createInt8Network(device, plan, { kernels });
  const input = createGpuTensor(device, shape, 'int8 exact input');
  writeGpuTensor(device, input, features);
  const encoder = device.createCommandEncoder();
  const output = network.run(encoder, input);
  device.queue.submit([encoder.finish()]);
  const got = (await readGpuTensor(device, output)).data;
  network.destroy();
  input.buffer.destroy();
  let differing = 0;
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) differing++;
  return differing;
}

async function checkCase(device: GPUDevice, kernels: Int8Kernels): Promise<BenchCase> {
  const ops = await checkInt8Kernels(device, kernels);
  const network = await networkDiffering(device, kernels);
  const failed = ops.mismatches.length > 0 || network > 0;
  return {
    name: kernels,
    params: { kernels, opCases: ops.cases },
    frames: 0,
    gpuMs: {},
    derived: { mismatchedOpCases: ops.mismatches.length, networkValuesDiffering: network },
    ...(failed
      ? {
          error: `not bit-exact: ${[
            ...ops.mismatches.map(
              (m) => `${m.case} (${m.error ?? `${m.differing} of ${m.values} differ`})`,
            ),
            ...(network > 0 ? [`network (${network} values)`] : []),
          ].join(', ')}`,
        }
      : {}),
  };
}

/** dot4I8Packed, subgroup matrices where the device has them, and the binary16 widening. */
export function benchInt8Exact(device: GPUDevice, settings: BenchSettings): Promise<BenchCase[]> {
  const kernels: Int8Kernels[] = subgroupMatricesUsable(device)
    ? ['dot4', 'subgroup-matrix']
    : ['dot4'];
  return runCases(
    'int8-exact',
    [...kernels, 'binary16' as const],
    (k) => k,
    settings,
    (k) => (k === 'binary16' ? halfCase(device) : checkCase(device, k)),
  );
}
