/**
 * Data-parallel training over processes. A training step is bound by the CPU (rendering clips,
 * encoding passes), not the GPU: N processes on one GPU each take their share of a step's clips.
 * The process that runs `uplift train` (worker 0) owns the weights, Adam, checkpoints and
 * validation; each step it sends the parameters to workers 1..N−1 (`uplift train-worker`
 * processes), computes its own clips' gradient meanwhile, adds theirs (in worker order) and steps
 * Adam. Worker w draws its clips from its own stretch of clip indices (clipIndexFor), so a worker's
 * consecutive clips still share scenes; one worker is exactly the single-process run.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { GraphDescription, ParameterSpec } from '../core/graph.ts';
import { echoedClipIndex, type EchoSettings } from './data/echo.ts';

/** Clip indices of worker w start at w · WORKER_CLIP_STRIDE (far beyond any run's steps · clips). */
export const WORKER_CLIP_STRIDE = 1 << 24;

/**
 * Clip `c` of step `step` for worker `worker` of a run with `clipsPerStep` clips per worker (with
 * `echo`, data echoing's choice for the slot: ./data/echo.ts).
 */
export function clipIndexFor(
  step: number,
  c: number,
  clipsPerStep: number,
  worker: number,
  echo?: EchoSettings,
) {
  const slot = step * clipsPerStep + c;
  return worker * WORKER_CLIP_STRIDE + (echo ? echoedClipIndex(slot, echo) : slot);
}

/** One step's share of a worker: its clips' summed loss and gradient (packed, spec order). */
export interface WorkerGradient {
  readonly loss: number;
  readonly grads: Float32Array;
}

/** A worker other than 0: computes its share of step `step` at the parameters `params`. */
export interface GradientWorker {
  compute(step: number, params: Float32Array): Promise<WorkerGradient>;
  destroy(): void;
}

/** What a worker process is told once, before its first step. */
export interface WorkerInit {
  /** The resolved training config (TrainConfig). */
  readonly config: unknown;
  /** The graph being trained (with its quantization, under QAT). */
  readonly graph: GraphDescription;
  readonly worker: number;
  readonly workers: number;
}

/** How to start a worker process: a script and its arguments (`uplift train-worker`). */
export interface WorkerCommand {
  readonly file: string;
  readonly args: readonly string[];
  /** Node options of the worker (e.g. the TypeScript loader of a checkout); default this process's. */
  readonly execArgv?: readonly string[];
}

type Reply =
  | { type: 'ready' }
  | { type: 'gradient'; step: number; loss: number; grads: Float32Array }
  | { type: 'error'; message: string };

/** Starts workers 1..workers−1 and waits until each has its GPU and data ready. */
export async function forkGradientWorkers(
  command: WorkerCommand,
  init: Omit<WorkerInit, 'worker'>,
): Promise<GradientWorker[]> {
  const workers: ProcessWorker[] = [];
  try {
    for (let w = 1; w < init.workers; w++) workers.push(processWorker(command, w));
    await Promise.all(workers.map((p, i) => p.request({ type: 'init', ...init, worker: i + 1 })));
    return workers;
  } catch (e) {
    for (const p of workers) p.destroy();
    throw e;
  }
}

interface ProcessWorker extends GradientWorker {
  request(message: object): Promise<Reply>;
}

/** One forked worker process: one request at a time, its exit or error failing the request. */
function processWorker(command: WorkerCommand, worker: number): ProcessWorker {
  const child: ChildProcess = fork(command.file, [...command.args], {
    serialization: 'advanced', // typed arrays travel as such, not as JSON
    execArgv: [...(command.execArgv ?? process.execArgv)],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let pending: { resolve(r: Reply): void; reject(e: Error): void } | undefined;
  let exited: Error | undefined;
  const fail = (e: Error) => {
    exited ??= e;
    pending?.reject(e);
    pending = undefined;
  };
  child.on('message', (reply: Reply) => {
    const p = pending;
    pending = undefined;
    if (reply.type === 'error') p?.reject(new Error(`training worker ${worker}: ${reply.message}`));
    else p?.resolve(reply);
  });
  child.on('error', (e) => fail(new Error(`training worker ${worker}: ${e.message}`)));
  child.on('exit', (code, signal) =>
    fail(new Error(`training worker ${worker} exited (${signal ?? `code ${code}`})`)),
  );
  const request = (message: object) =>
    new Promise<Reply>((resolve, reject) => {
      if (exited) return reject(exited);
      if (pending) return reject(new Error(`training worker ${worker}: a request is pending`));
      pending = { resolve, reject };
      child.send(message);
    });
  return {
    request,
    async compute(step, params) {
      const reply = await request({ type: 'step', step, params });
      if (reply.type !== 'gradient' || reply.step !== step)
        throw new Error(`training worker ${worker}: unexpected reply to step ${step}`);
      return { loss: reply.loss, grads: reply.grads };
    },
    destroy() {
      exited ??= new Error(`training worker ${worker} stopped`);
      if (child.connected) child.disconnect(); // the worker exits when its channel closes
    },
  };
}

/** Packs per-parameter arrays into one array in spec order. */
export function packParameters(
  specs: readonly ParameterSpec[],
  values: ReadonlyMap<string, Float32Array>,
): Float32Array {
  const out = new Float32Array(specs.reduce((n, s) => n + s.length, 0));
  let offset = 0;
  for (const s of specs) {
    const v = values.get(s.name);
    if (!v || v.length !== s.length) throw new RangeError(`parameter ${s.name}: wrong length`);
    out.set(v, offset);
    offset += s.length;
  }
  return out;
}

/** The inverse of packParameters (views into `packed`). */
export function unpackParameters(
  specs: readonly ParameterSpec[],
  packed: Float32Array,
): Map<string, Float32Array> {
  const total = specs.reduce((n, s) => n + s.length, 0);
  if (packed.length !== total)
    throw new RangeError(`packed parameters hold ${packed.length} values, the graph ${total}`);
  const out = new Map<string, Float32Array>();
  let offset = 0;
  for (const s of specs) {
    out.set(s.name, packed.subarray(offset, offset + s.length));
    offset += s.length;
  }
  return out;
}

/** Reads one buffer per spec (its first spec.length floats) back, packed, with a single map. */
export async function readPacked(
  device: GPUDevice,
  specs: readonly ParameterSpec[],
  buffers: ReadonlyMap<string, GPUBuffer>,
): Promise<Float32Array> {
  const total = specs.reduce((n, s) => n + s.length, 0);
  const staging = device.createBuffer({
    label: 'packed read-back',
    size: total * 4,
    usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
  });
  const encoder = device.createCommandEncoder({ label: 'packed read-back' });
  let offset = 0;
  for (const s of specs) {
    encoder.copyBufferToBuffer(buffers.get(s.name)!, 0, staging, offset * 4, s.length * 4);
    offset += s.length;
  }
  device.queue.submit([encoder.finish()]);
  try {
    await staging.mapAsync(GPUMapMode.READ);
    return new Float32Array(staging.getMappedRange().slice(0));
  } finally {
    staging.destroy();
  }
}

/** Writes packed values into one buffer per spec. */
export function writePacked(
  device: GPUDevice,
  specs: readonly ParameterSpec[],
  buffers: ReadonlyMap<string, GPUBuffer>,
  packed: Float32Array,
): void {
  const total = specs.reduce((n, s) => n + s.length, 0);
  if (packed.length !== total)
    throw new RangeError(`packed values hold ${packed.length} values, the graph ${total}`);
  let offset = 0;
  for (const s of specs) {
    const at = packed.byteOffset + offset * 4;
    device.queue.writeBuffer(buffers.get(s.name)!, 0, packed.buffer, at, s.length * 4);
    offset += s.length;
  }
}

/** Adds `b` into `a` (same length). */
export function addInto(a: Float32Array, b: Float32Array): void {
  if (a.length !== b.length) throw new RangeError(`gradient lengths ${a.length} and ${b.length}`);
  for (let i = 0; i < a.length; i++) a[i] = a[i]! + b[i]!;
}
