/**
 * GPU timing with timestamp queries: wrap passes, resolve, read back nanoseconds.
 * In Node, create the device with dawnFlags ['disable-dawn-features=timestamp_quantization'] or
 * Dawn rounds timestamps to ~65 µs steps (DESIGN §11).
 */

export interface GpuTimer {
  /** timestampWrites for a compute pass, recording slot `label`. */
  computePass(label: string): GPUComputePassTimestampWrites;
  /** timestampWrites for a render pass. */
  renderPass(label: string): GPURenderPassTimestampWrites;
  /**
   * Times everything `record` adds to `encoder` (any number of passes and copies) as slot
   * `label`, between two empty marker passes: for work whose passes the caller does not open.
   */
  span<T>(encoder: GPUCommandEncoder, label: string, record: () => T): T;
  /** Adds resolve + copy to the encoder; call once, after the timed passes, before submit. */
  resolve(encoder: GPUCommandEncoder): void;
  /** Waits for the results: label → milliseconds (sums if a label was recorded several times). */
  read(): Promise<Map<string, number>>;
  destroy(): void;
}

/** A timer for at most `maxPasses` passes per submission. */
export function createGpuTimer(device: GPUDevice, maxPasses = 64): GpuTimer {
  if (!device.features.has('timestamp-query')) {
    throw new Error('this device has no timestamp-query feature; GPU timings are unavailable');
  }
  const count = maxPasses * 2;
  const querySet = device.createQuerySet({ type: 'timestamp', count });
  const resolveBuffer = device.createBuffer({
    size: count * 8,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  const readBuffer = device.createBuffer({
    size: count * 8,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  let labels: string[] = [];
  const next = (label: string) => {
    if (labels.length >= maxPasses) throw new Error(`GpuTimer: more than ${maxPasses} passes`);
    labels.push(label);
    const i = (labels.length - 1) * 2;
    return { querySet, beginningOfPassWriteIndex: i, endOfPassWriteIndex: i + 1 };
  };
  return {
    computePass: next,
    renderPass: next,
    span(encoder, label, record) {
      const { beginningOfPassWriteIndex, endOfPassWriteIndex } = next(label);
      encoder.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex } }).end();
      const result = record();
      encoder.beginComputePass({ timestampWrites: { querySet, endOfPassWriteIndex } }).end();
      return result;
    },
    resolve(encoder) {
      if (labels.length === 0) return;
      encoder.resolveQuerySet(querySet, 0, labels.length * 2, resolveBuffer, 0);
      encoder.copyBufferToBuffer(resolveBuffer, 0, readBuffer, 0, labels.length * 16);
    },
    async read() {
      const result = new Map<string, number>();
      if (labels.length === 0) return result;
      await readBuffer.mapAsync(GPUMapMode.READ, 0, labels.length * 16);
      const t = new BigUint64Array(readBuffer.getMappedRange(0, labels.length * 16).slice(0));
      readBuffer.unmap();
      labels.forEach((label, k) => {
        const ms = Number(t[2 * k + 1]! - t[2 * k]!) / 1e6;
        result.set(label, (result.get(label) ?? 0) + ms);
      });
      labels = [];
      return result;
    },
    destroy() {
      querySet.destroy();
      resolveBuffer.destroy();
      readBuffer.destroy();
    },
  };
}
