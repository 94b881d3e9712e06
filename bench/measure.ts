/**
 * The frame loop every GPU benchmark uses: warm-up frames, then measured frames, each encoded,
 * submitted and waited for alone, with GPU stage times from timestamp queries and the CPU wall
 * time of encode + submit + queue completion. With `settings.gpuLoadMs`, a busy kernel runs
 * before each frame (and longer before the first), so the frames see a loaded GPU's clocks.
 */
import type { GpuTimer } from '../src/gpu/profiler.ts';
import {
  SampleSet,
  summarize,
  withTimeout,
  type BenchCase,
  type BenchSettings,
  type Summary,
} from './stats.ts';
import { gpuLoad, type GpuLoad } from './gpu-load.ts';

/**
 * Records frame `frameIndex` into `encoder`, giving stage times to `timer` if it is set; without a
 * timer it must record nothing into any timer (the pipelined frames are never read back).
 */
export type EncodeFrame = (
  encoder: GPUCommandEncoder,
  frameIndex: number,
  timer: GpuTimer | undefined,
) => void;

/** Samples of one case. */
export interface FrameSamples {
  /** GPU ms per label; "frame" spans everything a frame encodes. Empty without a timer. */
  gpu: SampleSet;
  /** Wall ms per measured frame. */
  wall: number[];
  /** CPU ms per measured frame spent recording commands (createCommandEncoder to finish). */
  encode: number[];
  /**
   * Wall ms per frame with as many frames submitted back to back (no timer, one wait at the
   * end), as an app pipelines them; undefined if the time limits left no room.
   */
  pipelined?: number;
}

/** Milliseconds of load before a case's first frame: long enough for the clocks to rise. */
const RAMP_MS = 200;

/** Runs `ms` of load if there is a load kernel. */
async function runLoad(load: GpuLoad | undefined, ms: number): Promise<void> {
  if (load) await withTimeout(load.run(ms), FRAME_TIMEOUT_SECONDS, 'gpu load');
}

/** Longest wait for one frame before the case is declared stuck (the first compiles pipelines). */
const FIRST_FRAME_TIMEOUT_SECONDS = 180;
const FRAME_TIMEOUT_SECONDS = 60;

/**
 * Runs `settings.warmup` + `settings.frames` frames (fewer if `settings.caseSeconds` runs out).
 * The first frame runs inside validation and out-of-memory error scopes, so a broken pipeline
 * fails the case with WebGPU's message instead of measuring nothing.
 */
export async function measureFrames(
  device: GPUDevice,
  timer: GpuTimer | undefined,
  settings: BenchSettings,
  encodeFrame: EncodeFrame,
): Promise<FrameSamples> {
  const gpu = new SampleSet();
  const wall: number[] = [];
  const encode: number[] = [];
  const load = settings.gpuLoadMs > 0 ? await gpuLoad(device) : undefined;
  await load?.run(RAMP_MS);
  const started = performance.now();
  const total = settings.warmup + settings.frames;
  for (let i = 0; i < total; i++) {
    const first = i === 0;
    if (first) {
      device.pushErrorScope('validation');
      device.pushErrorScope('out-of-memory');
    }
    const t0 = performance.now();
    const encoder = device.createCommandEncoder();
    if (timer) timer.span(encoder, 'frame', () => encodeFrame(encoder, i, timer));
    else encodeFrame(encoder, i, undefined);
    timer?.resolve(encoder);
    const commands = encoder.finish();
    const encoded = performance.now();
    await runLoad(load, settings.gpuLoadMs);
    const submitted = performance.now();
    device.queue.submit([commands]);
    const limit = first ? FIRST_FRAME_TIMEOUT_SECONDS : FRAME_TIMEOUT_SECONDS;
    await withTimeout(device.queue.onSubmittedWorkDone(), limit, `frame ${i}`);
    const done = performance.now();
    if (first) {
      const [outOfMemory, invalid] = [await device.popErrorScope(), await device.popErrorScope()];
      const error = outOfMemory ?? invalid;
      if (error) throw new Error(`WebGPU error in the first frame: ${error.message}`);
    }
    const times = timer ? await withTimeout(timer.read(), FRAME_TIMEOUT_SECONDS, 'timer') : null;
    if (i < settings.warmup) continue;
    // The frame's wall time: its encoding, then submit to completion (the load left out).
    wall.push(encoded - t0 + (done - submitted));
    encode.push(encoded - t0);
    if (times) gpu.addAll(times);
    const now = performance.now();
    if ((now - started) / 1e3 > settings.caseSeconds || now > settings.deadline) {
      settings.log(`  stopped after ${wall.length} frames (case or run time limit)`);
      break;
    }
  }
  if (wall.length === 0) throw new Error('no frame was measured (warm-up used the whole time)');
  const now = performance.now();
  if ((now - started) / 1e3 > settings.caseSeconds || now > settings.deadline) {
    return { gpu, wall, encode };
  }
  const submitFrame = (frameIndex: number) => {
    const encoder = device.createCommandEncoder();
    encodeFrame(encoder, frameIndex, undefined);
    device.queue.submit([encoder.finish()]);
  };
  // A few unmeasured frames first: the untimed path may use resources not touched yet.
  const pipelinedWarmup = Math.min(settings.warmup, 5);
  await runLoad(load, RAMP_MS / 2);
  for (let k = 0; k < pipelinedWarmup; k++) submitFrame(total + k);
  await withTimeout(device.queue.onSubmittedWorkDone(), FRAME_TIMEOUT_SECONDS, 'pipelined warm-up');
  const t0 = performance.now();
  for (let k = 0; k < wall.length; k++) submitFrame(total + pipelinedWarmup + k);
  await withTimeout(device.queue.onSubmittedWorkDone(), FRAME_TIMEOUT_SECONDS, 'pipelined frames');
  return { gpu, wall, encode, pipelined: (performance.now() - t0) / wall.length };
}

/** A case's result from its samples: GPU stage times (`gpuMs`, summarised), CPU times, derived. */
export function measuredCase(
  name: string,
  params: BenchCase['params'],
  samples: FrameSamples,
  gpuMs: Record<string, Summary>,
  derived?: Record<string, number>,
): BenchCase {
  const { wall, encode, pipelined } = samples;
  return {
    name,
    params,
    frames: wall.length,
    gpuMs,
    wallMs: summarize(wall),
    encodeMs: summarize(encode),
    ...(pipelined !== undefined ? { pipelinedMs: pipelined } : {}),
    ...(derived ? { derived } : {}),
  };
}
