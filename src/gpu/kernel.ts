/**
 * A compute kernel: WGSL source compiled once per device, then dispatched with storage buffers and
 * a small uniform block. Sizes travel in uniforms so one pipeline serves every image size.
 */

export interface KernelSpec {
  /** Shown in errors and GPU timings. */
  readonly label: string;
  /** WGSL with `@group(0)` bindings: 0 = uniform block (if `uniformBytes` > 0), then buffers in order. */
  readonly code: string;
  /** Entry point (default `main`). */
  readonly entryPoint?: string;
}

export interface Kernel {
  readonly label: string;
  readonly pipeline: GPUComputePipeline;
  /**
   * Records one dispatch. `uniforms` (if any) is written to a fresh uniform buffer; `buffers`
   * bind to @binding(1..n) (or 0..n-1 without uniforms), in order.
   */
  dispatch(
    pass: GPUComputePassEncoder,
    workgroups: [number, number?, number?],
    buffers: GPUBuffer[],
    uniforms?: ArrayBuffer | ArrayBufferView,
  ): void;
}

const cache = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

/** Compiles (or fetches from the per-device cache) the kernel's pipeline. */
export function createKernel(device: GPUDevice, spec: KernelSpec): Kernel {
  let perDevice = cache.get(device);
  if (!perDevice) cache.set(device, (perDevice = new Map()));
  const entryPoint = spec.entryPoint ?? 'main';
  const key = `${entryPoint}\n${spec.code}`;
  let pipeline = perDevice.get(key);
  if (!pipeline) {
    const module = device.createShaderModule({ label: spec.label, code: spec.code });
    pipeline = device.createComputePipeline({
      label: spec.label,
      layout: 'auto',
      compute: { module, entryPoint },
    });
    perDevice.set(key, pipeline);
  }
  const compiled = pipeline;
  return {
    label: spec.label,
    pipeline: compiled,
    dispatch(pass, workgroups, buffers, uniforms) {
      const entries: GPUBindGroupEntry[] = [];
      let binding = 0;
      if (uniforms) {
        const bytes = ArrayBuffer.isView(uniforms)
          ? new Uint8Array(uniforms.buffer, uniforms.byteOffset, uniforms.byteLength)
          : new Uint8Array(uniforms);
        const size = Math.max(16, Math.ceil(bytes.byteLength / 16) * 16);
        const ubo = device.createBuffer({
          label: `${spec.label} uniforms`,
          size,
          usage: GPUBufferUsage.UNIFORM,
          mappedAtCreation: true,
        });
        new Uint8Array(ubo.getMappedRange()).set(bytes);
        ubo.unmap();
        entries.push({ binding: binding++, resource: { buffer: ubo } });
      }
      for (const buffer of buffers) entries.push({ binding: binding++, resource: { buffer } });
      const group = device.createBindGroup({
        label: spec.label,
        layout: compiled.getBindGroupLayout(0),
        entries,
      });
      pass.setPipeline(compiled);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1);
    },
  };
}

/** Workgroup count covering `n` items with groups of `size`. */
export function groupsFor(n: number, size: number): number {
  return Math.max(1, Math.ceil(n / size));
}
