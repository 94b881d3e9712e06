/**
 * A busy kernel that keeps the GPU loaded between measured frames. A benchmark that submits one
 * frame and waits leaves the GPU idle most of the time, and the driver lowers its clocks: on
 * NVIDIA H100/H200 (Dawn/Vulkan) whole cases then ran 2–5× slower than others of the same run,
 * in no fixed order (docs/PERFORMANCE.md, 2026-12-04/05). Inside a game the GPU is busy with the
 * rest of the frame, so the measured frames run right after this kernel, at a loaded GPU's clocks.
 */
import { createGpuTimer } from '../src/gpu/profiler.ts';

const LOAD_WGSL = /* wgsl */ `
struct Params { iterations: u32, seed: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> sink: array<f32>;

// Dependent multiply-adds per thread; the result is written only if it hits a value it never
// reaches, so the compiler cannot drop the loop and nothing is written in practice.
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3u) {
  var x = params.seed + f32(id.x) * 1e-9;
  for (var i = 0u; i < params.iterations; i++) {
    x = fma(x, 0.9999999, 1e-7);
  }
  if (x == -1.0) { sink[id.x % 64u] = x; }
}`;

/** Workgroups of one load dispatch: enough threads to fill any of today's GPUs several times. */
const WORKGROUPS = 2048;

export interface GpuLoad {
  /** Submits about `ms` of GPU work and resolves when the GPU has finished it. */
  run(ms: number): Promise<void>;
  /** Iterations per millisecond of this device, as calibrated. */
  readonly iterationsPerMs: number;
}

const loads = new WeakMap<GPUDevice, Promise<GpuLoad>>();

/** The device's load kernel, calibrated once (timestamp queries if the device has them). */
export function gpuLoad(device: GPUDevice): Promise<GpuLoad> {
  let load = loads.get(device);
  if (!load) {
    load = createGpuLoad(device);
    loads.set(device, load);
  }
  return load;
}

async function createGpuLoad(device: GPUDevice): Promise<GpuLoad> {
  const module = device.createShaderModule({ code: LOAD_WGSL, label: 'gpu load' });
  const pipeline = device.createComputePipeline({
    layout: 'auto',
    compute: { module, entryPoint: 'main' },
    label: 'gpu load',
  });
  const params = device.createBuffer({
    size: 8,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const sink = device.createBuffer({ size: 256, usage: GPUBufferUsage.STORAGE });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: params } },
      { binding: 1, resource: { buffer: sink } },
    ],
  });
  const submit = (iterations: number, timer?: ReturnType<typeof createGpuTimer>) => {
    device.queue.writeBuffer(params, 0, new Uint32Array([iterations]));
    device.queue.writeBuffer(params, 4, new Float32Array([Math.random()]));
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass(
      timer ? { timestampWrites: timer.computePass('load') } : {},
    );
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(WORKGROUPS);
    pass.end();
    timer?.resolve(encoder);
    device.queue.submit([encoder.finish()]);
  };
  // Calibrate: time growing dispatches until one takes at least 2 ms (twice, the first warms up).
  const timer = device.features.has('timestamp-query') ? createGpuTimer(device, 1) : undefined;
  let iterations = 256;
  let ms = 0;
  for (let attempt = 0; attempt < 24; attempt++) {
    const t0 = performance.now();
    submit(iterations, timer);
    await device.queue.onSubmittedWorkDone();
    ms = timer ? (await timer.read()).get('load')! : performance.now() - t0;
    if (ms >= 2 && attempt > 0) break;
    iterations *= 2;
  }
  timer?.destroy();
  const iterationsPerMs = iterations / Math.max(ms, 1e-3);
  return {
    iterationsPerMs,
    async run(target: number) {
      // Pieces of ≤ 10 ms, so a long load never trips a driver's watchdog.
      for (let left = target; left > 0; left -= 10) {
        submit(Math.max(1, Math.round(Math.min(left, 10) * iterationsPerMs)));
      }
      await device.queue.onSubmittedWorkDone();
    },
  };
}
