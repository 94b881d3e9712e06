// A device that the GPU "refuses" on one submit: after the `failAt`-th queue.submit it submits an
// invalid copy (past the end of a 4-byte buffer), a validation error like any refused frame's.
// Everything else goes to the real device, so code under test runs unchanged.

/** `device` with a validation error injected after its `failAt`-th submit (counted from 1). */
export function faultyDevice(device: GPUDevice, failAt: number): GPUDevice {
  const small = device.createBuffer({ size: 4, usage: GPUBufferUsage.COPY_SRC });
  const other = device.createBuffer({ size: 4, usage: GPUBufferUsage.COPY_DST });
  let submits = 0;
  const forward = <T extends object>(target: T, own: Record<string | symbol, unknown>) =>
    new Proxy(target, {
      get(t, key) {
        if (key in own) return own[key];
        const value: unknown = Reflect.get(t, key);
        return typeof value === 'function' ? (value as () => unknown).bind(t) : value;
      },
    });
  const queue = forward(device.queue, {
    submit(buffers: GPUCommandBuffer[]) {
      device.queue.submit(buffers);
      if (++submits !== failAt) return;
      const encoder = device.createCommandEncoder({ label: 'injected fault' });
      encoder.copyBufferToBuffer(small, 0, other, 0, 64);
      device.queue.submit([encoder.finish()]);
    },
  });
  return forward(device, { queue });
}
