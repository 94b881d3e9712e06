/**
 * Steps whose results arrive later (GPU read-backs), kept a bounded number in flight: while the GPU
 * runs step n, the CPU prepares step n + 1 (renders its clips, encodes its passes) instead of
 * waiting for step n's loss. The bound keeps the GPU's queue, and the memory of the clips it still
 * holds, small.
 */

/** What one step hands back once its work is submitted: its result, still on its way. */
export interface SubmittedStep<T> {
  readonly result: Promise<T>;
}

/**
 * Submits `count` steps in order with `submit(i)` and returns their results in order. After each
 * submission, while `depth` results are pending, waits for the oldest: depth 1 is strictly one
 * step after the other. A failed step fails the call once the steps in flight have settled.
 */
export async function runInFlight<T>(
  count: number,
  depth: number,
  submit: (index: number) => Promise<SubmittedStep<T>>,
): Promise<T[]> {
  if (!Number.isInteger(depth) || depth < 1)
    throw new RangeError(`steps in flight must be an integer ≥ 1, got ${depth}`);
  const results: T[] = [];
  const inFlight: Promise<T>[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const { result } = await submit(i);
      // Awaited below, in order; until then a rejection must not count as unhandled.
      result.catch(() => undefined);
      inFlight.push(result);
      if (inFlight.length >= depth) results.push(await inFlight.shift()!);
    }
    while (inFlight.length > 0) results.push(await inFlight.shift()!);
  } finally {
    await Promise.allSettled(inFlight);
  }
  return results;
}
