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
        entries.push({ binding: binding++, resource: { buffer: uniformBuffer(device, uniforms) } });
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

/** Uniform buffers by content, per device: most dispatches repeat the same sizes every frame. */
const uniformCache = new WeakMap<GPUDevice, Map<string, GPUBuffer>>();
/** Above this many distinct blocks the cache starts over (per-frame values such as jitter vary). */
const UNIFORM_CACHE_LIMIT = 4096;

/**
 * A uniform buffer holding `uniforms`, shared by every dispatch with the same bytes. Creating a
 * buffer per dispatch cost a tenth of a training step's CPU time; the blocks are immutable once
 * made, so sharing them is safe. Dropped buffers are freed by the implementation once unused.
 */
function uniformBuffer(device: GPUDevice, uniforms: ArrayBuffer | ArrayBufferView): GPUBuffer {
  const bytes = ArrayBuffer.isView(uniforms)
    ? new Uint8Array(uniforms.buffer, uniforms.byteOffset, uniforms.byteLength)
    : new Uint8Array(uniforms);
  let perDevice = uniformCache.get(device);
  if (!perDevice) uniformCache.set(device, (perDevice = new Map()));
  let key = '';
  for (const b of bytes) key += String.fromCharCode(b);
  let ubo = perDevice.get(key);
  if (!ubo) {
    if (perDevice.size >= UNIFORM_CACHE_LIMIT) perDevice.clear();
    ubo = device.createBuffer({
      label: 'kernel uniforms',
      size: Math.max(16, Math.ceil(bytes.byteLength / 16) * 16),
      usage: GPUBufferUsage.UNIFORM,
      mappedAtCreation: true,
    });
    new Uint8Array(ubo.getMappedRange()).set(bytes);
    ubo.unmap();
    perDevice.set(key, ubo);
  }
  return ubo;
}

/** Workgroup count covering `n` items with groups of `size`. */
export function groupsFor(n: number, size: number): number {
  return Math.max(1, Math.ceil(n / size));
}
