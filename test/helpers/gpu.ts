/** Shared GPU for tests: one device per test file (Dawn over lavapipe on machines without a GPU). */
import { requestGpu, type GpuContext } from '../../src/gpu/device.ts';

let context: Promise<GpuContext> | undefined;

/** The test file's GPU. Fails loudly (never skips) when no adapter exists: CI installs lavapipe. */
export function testGpu(): Promise<GpuContext> {
  context ??= requestGpu().then((ctx) => {
    ctx.device.addEventListener('uncapturederror', (e) => {
      console.error('uncaptured WebGPU error:', (e as GPUUncapturedErrorEvent).error.message);
      process.exitCode = 1;
    });
    return ctx;
  });
  return context;
}

/** Deterministic pseudo-random numbers for test inputs. */
export { mulberry32 as rng } from '../../src/core/random.ts';

/** Largest absolute difference between two arrays, and where. */
export function maxAbsDiff(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): { max: number; at: number } {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let max = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= max)) {
      max = d;
      at = i;
    }
  }
  return { max, at };
}
