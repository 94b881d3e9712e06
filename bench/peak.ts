/**
 * The dot4I8Packed rate of the device, apart from any convolution: is the INT8 conv3x3 (about
 * 25 T MAC/s on the H100, docs/PERFORMANCE.md) held back by the dot4I8Packed instruction itself or
 * by what feeds it? Two kernels, the same count of dot4I8Packed per thread:
 *
 * - `registers`: 8 independent chains a thread, `a = dot4I8Packed(a, w) + a`, operands in
 *   registers only: the instruction's own rate.
 * - `workgroup-fed`: the conv3x3 kernel's inner loop without its addressing: per step one input
 *   word read from workgroup memory and 4 broadcast vec4 weight reads, feeding 16 dot4I8Packed
 *   into 16 accumulators (src/nn/ops/int8/conv3x3.ts with blocks of 16 output channels); two
 *   steps an iteration, their reads at constant offsets from two indices.
 *
 * Each thread writes the xor of its accumulators; `dot4PeakCpu` computes the same on the CPU, and
 * the case fails if the first threads' results differ (test/bench-peak.test.ts checks both kernels
 * on random seeds). Reported: multiply-accumulates per second (4 per dot4I8Packed).
 */
import { createGpuTimer } from '../src/gpu/profiler.ts';
import { readBuffer } from '../src/gpu/resources.ts';
import { measureFrames, measuredCase } from './measure.ts';
import { runCases, type BenchCase, type BenchSettings } from './stats.ts';

export type Dot4PeakKernel = 'registers' | 'workgroup-fed';

/** Threads a workgroup (the conv3x3 kernel's 8×8). */
const WORKGROUP = 64;
/**
 * Words of input and vec4 weight words each workgroup keeps in workgroup memory: a window of 128
 * moves along them (an AND per iteration, not a modulo per read: the conv's addressing is folded
 * into constants, and integer work here would compete with dot4I8Packed), plus its overhang.
 */
const WINDOW = 128;
const TILE_WORDS = WINDOW + 2;
const TAP_VEC4S = WINDOW + 8;
/** dot4I8Packed a thread runs per loop iteration, in either kernel. */
const DOT4_PER_ITERATION = 32;

const header = /* wgsl */ `
struct Params { iterations: u32, seed: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read_write> result: array<i32>;
fn hash(x: u32) -> u32 {
  var h = x * 0x9e3779b1u;
  h = (h ^ (h >> 15u)) * 0x85ebca77u;
  return h ^ (h >> 13u);
}`;

/** 8 chains, each written out 4 times an iteration: 32 dot4I8Packed, no other work but the loop. */
function registersCode(): string {
  const chains = Array.from({ length: 8 }, (_, k) => k);
  const step = chains
    .map((k) => `    a${k} = dot4I8Packed(bitcast<u32>(a${k}), w) + a${k};`)
    .join('\n');
  return /* wgsl */ `${header}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u) {
  let w = hash(id.x ^ u.seed);
${chains.map((k) => `  var a${k} = bitcast<i32>(hash(id.x * 8u + ${k}u + u.seed));`).join('\n')}
  for (var n = 0u; n < u.iterations; n++) {
${[step, step, step, step].join('\n')}
  }
  result[id.x] = ${chains.map((k) => `a${k}`).join(' ^ ')};
}`;
}

/** The conv3x3 inner loop: a word and 4 vec4 of weights from workgroup memory per 16 dot4I8Packed. */
function workgroupFedCode(): string {
  const accumulate = (q: number) =>
    ['x', 'y', 'z', 'w']
      .map((c, k) => `      acc[${4 * q + k}] += dot4I8Packed(v, t${q}.${c});`)
      .join('\n');
  const half = (h: number) => /* wgsl */ `    {
      let v = tile[tb + ${h}u];
${[0, 1, 2, 3].map((q) => `      let t${q} = taps[kb + ${4 * h + q}u];`).join('\n')}
${[0, 1, 2, 3].map(accumulate).join('\n')}
    }`;
  return /* wgsl */ `${header}
var<workgroup> tile: array<u32, ${TILE_WORDS}>;
var<workgroup> taps: array<vec4u, ${TAP_VEC4S}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(local_invocation_index) li: u32,
        @builtin(workgroup_id) wg: vec3u) {
  for (var i = li; i < ${TILE_WORDS}u; i += ${WORKGROUP}u) { tile[i] = hash(wg.x * 4096u + i + u.seed); }
  for (var i = li; i < ${TAP_VEC4S}u; i += ${WORKGROUP}u) {
    let b = 4u * i + u.seed;
    taps[i] = vec4u(hash(b ^ 0x55555555u), hash((b + 1u) ^ 0x55555555u), hash((b + 2u) ^ 0x55555555u),
                    hash((b + 3u) ^ 0x55555555u));
  }
  workgroupBarrier();
  var acc = array<i32, 16>();
  for (var n = 0u; n < u.iterations; n++) {
    let tb = (li + 2u * n) & ${WINDOW - 1}u;
    let kb = (8u * n) & ${WINDOW - 1}u;
${half(0)}
${half(1)}
  }
  var x = 0;
  for (var k = 0u; k < 16u; k++) { x ^= acc[k]; }
  result[id.x] = x;
}`;
}

export function dot4PeakCode(kernel: Dot4PeakKernel): string {
  return kernel === 'registers' ? registersCode() : workgroupFedCode();
}

function hash(x: number): number {
  let h = Math.imul(x >>> 0, 0x9e3779b1) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca77) >>> 0;
  return (h ^ (h >>> 13)) >>> 0;
}

/** WGSL's dot4I8Packed: the dot product of the signed bytes of two words. */
export function dot4I8(a: number, b: number): number {
  let s = 0;
  for (let k = 0; k < 4; k++) s += ((a << (24 - 8 * k)) >> 24) * ((b << (24 - 8 * k)) >> 24);
  return s;
}

/** What thread `thread` writes, computed on the CPU (i32 arithmetic wraps as WGSL's does). */
export function dot4PeakCpu(
  kernel: Dot4PeakKernel,
  thread: number,
  iterations: number,
  seed: number,
): number {
  if (kernel === 'registers') {
    const w = hash(thread ^ seed);
    const a = Array.from({ length: 8 }, (_, k) => hash(thread * 8 + k + seed) | 0);
    for (let n = 0; n < iterations * 4; n++) {
      for (let k = 0; k < 8; k++) a[k] = (dot4I8(a[k]! >>> 0, w) + a[k]!) | 0;
    }
    return a.reduce((x, v) => x ^ v, 0);
  }
  const group = Math.floor(thread / WORKGROUP);
  const li = thread % WORKGROUP;
  const tile = Array.from({ length: TILE_WORDS }, (_, i) => hash(group * 4096 + i + seed));
  const taps = Array.from({ length: TAP_VEC4S * 4 }, (_, j) => hash((j + seed) ^ 0x55555555));
  const acc = new Int32Array(16);
  for (let n = 0; n < iterations; n++) {
    for (let h = 0; h < 2; h++) {
      const v = tile[((li + 2 * n) & (WINDOW - 1)) + h]!;
      for (let q = 0; q < 4; q++) {
        const t = ((8 * n) & (WINDOW - 1)) + 4 * h + q;
        for (let k = 0; k < 4; k++) acc[4 * q + k] = acc[4 * q + k]! + dot4I8(v, taps[4 * t + k]!);
      }
    }
  }
  return acc.reduce((x, v) => x ^ v, 0);
}

/** A dispatch of `threads` threads running `iterations` loop iterations, and its result buffer. */
export function prepareDot4Peak(
  device: GPUDevice,
  kernel: Dot4PeakKernel,
  threads: number,
  iterations: number,
  seed: number,
): { encode(pass: GPUComputePassEncoder): void; result: GPUBuffer; destroy(): void } {
  if (threads % WORKGROUP !== 0) {
    throw new RangeError(`dot4 peak: threads must be a multiple of ${WORKGROUP}, got ${threads}`);
  }
  const module = device.createShaderModule({ code: dot4PeakCode(kernel), label: `dot4 ${kernel}` });
  const pipeline = device.createComputePipeline({
    layout: 'auto',
    compute: { module, entryPoint: 'main' },
    label: `dot4 ${kernel}`,
  });
  const params = device.createBuffer({
    size: 8,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(params, 0, new Uint32Array([iterations, seed >>> 0]));
  const result = device.createBuffer({
    size: threads * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: params } },
      { binding: 1, resource: { buffer: result } },
    ],
  });
  return {
    encode(pass) {
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(threads / WORKGROUP);
    },
    result,
    destroy: () => [params, result].forEach((b) => b.destroy()),
  };
}

interface PeakCase {
  kernel: Dot4PeakKernel;
  threads: number;
  iterations: number;
}

function peakCases(quick: boolean): PeakCase[] {
  // Full: 1M threads (~4 times what an H100 holds resident), ~2.3 ms a frame at 60 T MAC/s.
  const size = quick ? { threads: 1024, iterations: 4 } : { threads: 1 << 20, iterations: 1024 };
  return (['registers', 'workgroup-fed'] as const).map((kernel) => ({ kernel, ...size }));
}

const peakCaseName = (c: PeakCase) => `dot4I8Packed ${c.kernel}`;

/** Threads whose results are checked against the CPU after the frames. */
const CHECKED_THREADS = 256;

async function benchPeakCase(
  device: GPUDevice,
  c: PeakCase,
  settings: BenchSettings,
): Promise<BenchCase> {
  const seed = 12345;
  const run = prepareDot4Peak(device, c.kernel, c.threads, c.iterations, seed);
  const timer = device.features.has('timestamp-query') ? createGpuTimer(device, 2) : undefined;
  try {
    const samples = await measureFrames(device, timer, settings, (encoder) => {
      const pass = encoder.beginComputePass({ label: 'bench dot4 peak' });
      run.encode(pass);
      pass.end();
    });
    const checked = Math.min(CHECKED_THREADS, c.threads);
    const got = new Int32Array((await readBuffer(device, run.result, checked * 4)).buffer);
    for (let t = 0; t < checked; t++) {
      const want = dot4PeakCpu(c.kernel, t, c.iterations, seed);
      if (got[t] !== want) {
        throw new Error(`dot4 ${c.kernel}: thread ${t} wrote ${got[t]}, the CPU says ${want}`);
      }
    }
    const gpuMs = samples.gpu.summaries();
    const macs = c.threads * c.iterations * DOT4_PER_ITERATION * 4;
    const derived: Record<string, number> = { gmac: macs / 1e9 };
    const ms = gpuMs['frame']?.median;
    if (ms) derived['teraMacPerSecond'] = macs / (ms * 1e9);
    return measuredCase(peakCaseName(c), { ...c }, samples, gpuMs, derived);
  } finally {
    timer?.destroy();
    run.destroy();
  }
}

/** Both kernels (a failing case is recorded with its error; the other still runs). */
export function benchPeak(device: GPUDevice, settings: BenchSettings): Promise<BenchCase[]> {
  return runCases('peak', peakCases(settings.quick), peakCaseName, settings, (c) =>
    benchPeakCase(device, c, settings),
  );
}
