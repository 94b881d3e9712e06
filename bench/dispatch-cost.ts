/**
 * What a kernel boundary costs the GPU apart from the kernels' work: a frame runs ~15 dependent
 * dispatches (network v3a: 8 in its network, 4 passes around it), and the conv3x3 bisection of
 * 2026-12-07 (docs/PERFORMANCE.md) left ~14 µs of each ~45 µs kernel to none of its parts. Here a
 * chain of K dispatches of a trivial kernel (`data[i] = data[i] * 3 + 1` over T words), timed as
 * one pass, for K = 1 and K = 16: the cost a dispatch adds is (t16 − t1) / 15.
 *
 * - `dependent`: every dispatch reads and writes one buffer, so each waits for the last (as the
 *   layers of a network do: WebGPU orders them with a barrier).
 * - `independent`: each dispatch its own buffer, nothing to wait for: the launch alone.
 *
 * T: one workgroup; the words of a ⅛-resolution layer's output at 1080p (240 × 135 pixels × 12
 * words); of a ½-resolution one (960 × 540 × 4 words). `dispatchChainCpu` computes the words the
 * chain leaves; the case fails if the GPU's differ (test/bench-dispatch-cost.test.ts checks the
 * kernel at small sizes).
 */
import { createGpuTimer } from '../src/gpu/profiler.ts';
import { readBuffer } from '../src/gpu/resources.ts';
import { measureFrames, measuredCase } from './measure.ts';
import { runCases, type BenchCase, type BenchSettings } from './stats.ts';

export type DispatchChain = 'dependent' | 'independent';

const WORKGROUP = 64;

const CODE = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> data: array<u32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x < arrayLength(&data)) { data[id.x] = data[id.x] * 3u + 1u; }
}`;

/** Word i after `steps` dispatches over it: x → 3x + 1 (mod 2³²) from x = i. */
export function dispatchChainCpu(i: number, steps: number): number {
  let x = i >>> 0;
  for (let s = 0; s < steps; s++) x = (Math.imul(x, 3) + 1) >>> 0;
  return x;
}

/**
 * K dispatches over `words` words (K buffers when `chain` is independent, each starting at
 * data[i] = i), recorded into one pass; `reset` writes the starting words again.
 */
export function prepareDispatchChain(
  device: GPUDevice,
  chain: DispatchChain,
  words: number,
  dispatches: number,
): {
  encode(pass: GPUComputePassEncoder): void;
  reset(): void;
  buffers: GPUBuffer[];
  destroy(): void;
} {
  if (!Number.isInteger(words) || words < 1 || !Number.isInteger(dispatches) || dispatches < 1) {
    throw new RangeError(
      `dispatch chain: words and dispatches must be positive integers, got ${words} and ${dispatches}`,
    );
  }
  const module = device.createShaderModule({ code: CODE, label: 'dispatch chain' });
  const pipeline = device.createComputePipeline({
    layout: 'auto',
    compute: { module, entryPoint: 'main' },
    label: 'dispatch chain',
  });
  const start = Uint32Array.from({ length: words }, (_, i) => i);
  const buffers = Array.from({ length: chain === 'dependent' ? 1 : dispatches }, () =>
    device.createBuffer({
      size: words * 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    }),
  );
  const groups = buffers.map((buffer) =>
    device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer } }],
    }),
  );
  const reset = () => buffers.forEach((b) => device.queue.writeBuffer(b, 0, start));
  reset();
  return {
    encode(pass) {
      pass.setPipeline(pipeline);
      for (let k = 0; k < dispatches; k++) {
        pass.setBindGroup(0, groups[k % groups.length]!);
        pass.dispatchWorkgroups(Math.ceil(words / WORKGROUP));
      }
    },
    reset,
    buffers,
    destroy: () => buffers.forEach((b) => b.destroy()),
  };
}

interface DispatchCostCase {
  chain: DispatchChain;
  words: number;
  dispatches: number;
}

/** The words of one workgroup, of a ⅛- and of a ½-resolution layer's output at 1080p. */
function dispatchCostCases(quick: boolean): DispatchCostCase[] {
  const sizes = quick ? [64, 1000] : [64, 240 * 135 * 12, 960 * 540 * 4];
  return (['dependent', 'independent'] as const).flatMap((chain) =>
    sizes.flatMap((words) => [1, 16].map((dispatches) => ({ chain, words, dispatches }))),
  );
}

const caseName = (c: DispatchCostCase) =>
  `dispatch chain ${c.chain} ${c.words} words x${c.dispatches}`;

/** Words checked against the CPU after the frames (the first ones of each buffer). */
const CHECKED_WORDS = 64;

async function benchDispatchCostCase(
  device: GPUDevice,
  c: DispatchCostCase,
  settings: BenchSettings,
): Promise<BenchCase> {
  const run = prepareDispatchChain(device, c.chain, c.words, c.dispatches);
  const timer = device.features.has('timestamp-query') ? createGpuTimer(device, 2) : undefined;
  try {
    const samples = await measureFrames(device, timer, settings, (encoder) => {
      const pass = encoder.beginComputePass({ label: 'bench dispatch chain' });
      run.encode(pass);
      pass.end();
    });
    // The chain once more from the start, checked: every buffer after its dispatches.
    run.reset();
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    run.encode(pass);
    pass.end();
    device.queue.submit([encoder.finish()]);
    const steps = c.chain === 'dependent' ? c.dispatches : 1;
    const checked = Math.min(CHECKED_WORDS, c.words);
    for (const [b, buffer] of run.buffers.entries()) {
      const got = new Uint32Array((await readBuffer(device, buffer, checked * 4)).buffer);
      for (let i = 0; i < checked; i++) {
        const want = dispatchChainCpu(i, steps);
        if (got[i] !== want) {
          throw new Error(
            `${caseName(c)}: buffer ${b} word ${i} is ${got[i]}, the CPU says ${want}`,
          );
        }
      }
    }
    return measuredCase(caseName(c), { ...c }, samples, samples.gpu.summaries(), {});
  } finally {
    timer?.destroy();
    run.destroy();
  }
}

/** Every case (a failing case is recorded with its error; the others still run). */
export function benchDispatchCost(
  device: GPUDevice,
  settings: BenchSettings,
): Promise<BenchCase[]> {
  return runCases('dispatch-cost', dispatchCostCases(settings.quick), caseName, settings, (c) =>
    benchDispatchCostCase(device, c, settings),
  );
}
