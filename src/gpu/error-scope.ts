/**
 * GPU work whose failure must be an exception: WebGPU reports validation and out-of-memory errors
 * only to `uncapturederror` (the work then does nothing, and read-backs return zeros), unless an
 * error scope catches them. `withGpuErrorScope` runs async work inside both scopes and rejects
 * with a GpuRefusedError naming what failed, so no caller writes an empty frame as a result.
 */
import { GpuRefusedError } from '../core/errors.ts';

export async function withGpuErrorScope<T>(
  device: GPUDevice,
  what: string,
  work: () => Promise<T>,
): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: T;
  try {
    result = await work();
  } finally {
    // Popped whatever happens, so the device's scopes stay balanced for the next frame.
    const validation = await device.popErrorScope();
    const memory = await device.popErrorScope();
    const error = validation ?? memory;
    if (error) {
      throw new GpuRefusedError(`${what}: the GPU refused it (${error.message.split('\n')[0]})`);
    }
  }
  return result;
}
