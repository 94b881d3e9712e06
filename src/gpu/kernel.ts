/**
 * The kernel runtime every GPU pass and op uses: WGSL compiled once per device, then dispatched
 * with storage buffers and a small uniform block (declared by name in ./uniforms.ts). Sizes travel
 * in uniforms so one pipeline serves every image size. Two ways to dispatch, one binding rule:
 * `dispatch` builds the bind group as it records (passes that run once per frame), `prepare`
 * builds it once and only encodes afterwards (the network's nodes, run many times per size).
 */
import { GpuRefusedError } from '../core/errors.ts';
import { createStorageBuffer } from './resources.ts';

export interface KernelSpec {
  /** Shown in errors and GPU timings. */
  readonly label: string;
  /** WGSL with `@group(0)` bindings: 0 = uniform block (if any), then buffers in order. */
  readonly code: string;
  /** Entry point (default `main`). */
  readonly entryPoint?: string;
}

/**
 * One dispatch with its bind group and uniforms built ahead of time: the network prepares every
 * node once per size and then only encodes, so a frame creates no buffers or bind groups.
 */
export interface PreparedDispatch {
  readonly label: string;
  encode(pass: GPUComputePassEncoder): void;
  /** Frees the uniform buffer(s); the dispatch must not be encoded afterwards. */
  destroy(): void;
}

export interface Kernel {
  readonly label: string;
  readonly pipeline: GPUComputePipeline;
  /**
   * Records one dispatch. `uniforms` (if any) comes from a uniform buffer shared by every dispatch
   * with the same bytes; `resources` (buffers, or texture views for texture bindings) bind to
   * @binding(1..n) (or 0..n-1 without uniforms), in order.
   */
  dispatch(
    pass: GPUComputePassEncoder,
    workgroups: [number, number?, number?],
    resources: readonly (GPUBuffer | GPUTextureView | undefined)[],
    uniforms?: ArrayBuffer | ArrayBufferView,
  ): void;
  /**
   * Builds a dispatch to encode later, with its own uniform buffer at @binding(0): `buffers[i]`
   * binds to @binding(i + 1); undefined entries (optional tensors not used) bind nothing.
   */
  prepare(
    workgroups: [number, number, number],
    buffers: readonly (GPUBuffer | undefined)[],
    uniforms: ArrayBuffer,
  ): PreparedDispatch;
}

/**
 * Compiled pipelines per device, by entry point, then by WGSL: a key joining the two would be a
 * new string of the whole WGSL to build and hash at every dispatch.
 */
const cache = new WeakMap<GPUDevice, Map<string, Map<string, GPUComputePipeline>>>();

/**
 * Thrown before binding a buffer larger than the device allows: WebGPU would only report it to
 * `uncapturederror` and run nothing, leaving the outputs empty. Names the limit to raise.
 */
export class DeviceLimitError extends GpuRefusedError {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceLimitError';
  }
}

function checkBindingSize(device: GPUDevice, kernel: string | undefined, buffer: GPUBuffer): void {
  const limit = device.limits.maxStorageBufferBindingSize;
  if (buffer.size > limit) {
    throw new DeviceLimitError(
      `${kernel ?? 'a kernel'} binds ${buffer.label || 'a buffer'} of ${buffer.size} bytes; this device allows ${limit} (maxStorageBufferBindingSize): request a higher maxStorageBufferBindingSize in requestDevice (requestGpu asks for the adapter's), or use a smaller display size`,
    );
  }
}

function isBuffer(resource: GPUBuffer | GPUTextureView): resource is GPUBuffer {
  return 'mapAsync' in resource;
}

function pipelineDescriptor(device: GPUDevice, spec: KernelSpec): GPUComputePipelineDescriptor {
  const module = device.createShaderModule({ label: spec.label, code: spec.code });
  return {
    label: spec.label,
    layout: 'auto',
    compute: { module, entryPoint: spec.entryPoint ?? 'main' },
  };
}

function cachedPipeline(device: GPUDevice, spec: KernelSpec): GPUComputePipeline | undefined {
  return cache
    .get(device)
    ?.get(spec.entryPoint ?? 'main')
    ?.get(spec.code);
}

function storePipeline(device: GPUDevice, spec: KernelSpec, pipeline: GPUComputePipeline): void {
  let perDevice = cache.get(device);
  if (!perDevice) cache.set(device, (perDevice = new Map()));
  const entry = spec.entryPoint ?? 'main';
  let byCode = perDevice.get(entry);
  if (!byCode) perDevice.set(entry, (byCode = new Map()));
  byCode.set(spec.code, pipeline);
}

/** Whether two specs name one pipeline (the same entry point of the same WGSL). */
const samePipeline = (a: KernelSpec, b: KernelSpec) =>
  (a.entryPoint ?? 'main') === (b.entryPoint ?? 'main') && a.code === b.code;

/** The kernel's pipeline from the per-device cache, compiled now (synchronously) if missing. */
function pipelineOf(device: GPUDevice, spec: KernelSpec): GPUComputePipeline {
  let pipeline = cachedPipeline(device, spec);
  if (!pipeline) {
    pipeline = device.createComputePipeline(pipelineDescriptor(device, spec));
    storePipeline(device, spec, pipeline);
  }
  return pipeline;
}

/** Kernels asked for while `collectKernels` runs, with their devices; undefined otherwise. */
let collecting: { device: GPUDevice; spec: KernelSpec }[] | undefined;

/**
 * Runs `record` (synchronous: a frame recorded into an encoder that is never submitted) with
 * every kernel whose pipeline is not compiled yet recording nothing, and returns those kernels.
 * `compileKernels` then compiles them off the main thread, so that the real frame finds them
 * ready (`Upscaler.ready`). Their prepared dispatches bind on their first real encode.
 */
export function collectKernels(record: () => void): { device: GPUDevice; spec: KernelSpec }[] {
  if (collecting) throw new Error('collectKernels: already collecting');
  const found: { device: GPUDevice; spec: KernelSpec }[] = [];
  collecting = found;
  try {
    record();
  } finally {
    collecting = undefined;
  }
  return found;
}

/**
 * Compiles kernels (as `collectKernels` lists them: each once per device) with
 * createComputePipelineAsync into the per-device cache.
 */
export async function compileKernels(
  kernels: readonly { device: GPUDevice; spec: KernelSpec }[],
): Promise<void> {
  await Promise.all(
    kernels.map(async ({ device, spec }) => {
      if (cachedPipeline(device, spec)) return;
      const pipeline = await device.createComputePipelineAsync(pipelineDescriptor(device, spec));
      storePipeline(device, spec, pipeline);
    }),
  );
}

/**
 * The kernel of `spec` on `device`: its pipeline compiled once per device and cached. While
 * `collectKernels` runs, a kernel not compiled yet is recorded and its dispatches do nothing.
 */
export function createKernel(device: GPUDevice, spec: KernelSpec): Kernel {
  if (collecting && !cachedPipeline(device, spec)) {
    if (!collecting.some((k) => k.device === device && samePipeline(k.spec, spec)))
      collecting.push({ device, spec });
    return deferredKernel(device, spec);
  }
  return compiledKernel(device, spec, pipelineOf(device, spec));
}

/**
 * A kernel met while collecting: records nothing until collection ends, then behaves as the
 * compiled kernel (a prepared dispatch made while collecting binds on its first encode).
 */
function deferredKernel(device: GPUDevice, spec: KernelSpec): Kernel {
  const compiled = () => compiledKernel(device, spec, pipelineOf(device, spec));
  return {
    label: spec.label,
    get pipeline() {
      return pipelineOf(device, spec);
    },
    dispatch(pass, workgroups, resources, uniforms) {
      if (!collecting) compiled().dispatch(pass, workgroups, resources, uniforms);
    },
    prepare(workgroups, buffers, uniforms) {
      if (!collecting) return compiled().prepare(workgroups, buffers, uniforms);
      let real: PreparedDispatch | undefined;
      return {
        label: spec.label,
        encode(pass) {
          if (collecting) return;
          real ??= compiled().prepare(workgroups, buffers, uniforms);
          real.encode(pass);
        },
        destroy: () => real?.destroy(),
      };
    },
  };
}

function compiledKernel(device: GPUDevice, spec: KernelSpec, compiled: GPUComputePipeline): Kernel {
  const bindGroup = (resources: readonly (GPUBuffer | GPUTextureView | undefined)[]) => {
    for (const resource of resources) {
      if (resource && isBuffer(resource)) checkBindingSize(device, spec.label, resource);
    }
    return device.createBindGroup({
      label: spec.label,
      layout: compiled.getBindGroupLayout(0),
      entries: resources.flatMap((resource, binding) =>
        resource
          ? [{ binding, resource: isBuffer(resource) ? { buffer: resource } : resource }]
          : [],
      ),
    });
  };
  return {
    label: spec.label,
    pipeline: compiled,
    dispatch(pass, workgroups, resources, uniforms) {
      const group = cachedBindGroup(
        compiled,
        uniforms ? [uniformBuffer(device, uniforms), ...resources] : resources,
        bindGroup,
      );
      pass.setPipeline(compiled);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1);
    },
    prepare(workgroups, buffers, uniforms) {
      const padded = new Uint32Array(Math.max(4, Math.ceil(uniforms.byteLength / 16) * 4));
      padded.set(new Uint32Array(uniforms));
      const ubo = createStorageBuffer(
        device,
        padded,
        GPUBufferUsage.UNIFORM,
        `${spec.label} uniforms`,
      );
      const group = bindGroup([ubo, ...buffers]);
      return {
        label: spec.label,
        encode(pass) {
          pass.setPipeline(compiled);
          pass.setBindGroup(0, group);
          pass.dispatchWorkgroups(...workgroups);
        },
        destroy: () => ubo.destroy(),
      };
    },
  };
}

/**
 * Bind groups of `dispatch` by pipeline and bound buffers, the most recently used
 * BIND_GROUP_CACHE_LIMIT per pipeline: a frame pass or training step binds the same buffers every
 * time, and made a new bind group per dispatch (1,300 a training step, a tenth of its CPU time on
 * an H100). Groups with texture views are made anew (a view is usually created per call).
 */
const bindGroupCache = new WeakMap<GPUComputePipeline, Map<string, GPUBindGroup>>();
const BIND_GROUP_CACHE_LIMIT = 64;
const resourceIds = new WeakMap<object, number>();
let nextResourceId = 1;

function cachedBindGroup(
  pipeline: GPUComputePipeline,
  resources: readonly (GPUBuffer | GPUTextureView | undefined)[],
  make: (resources: readonly (GPUBuffer | GPUTextureView | undefined)[]) => GPUBindGroup,
): GPUBindGroup {
  if (resources.some((r) => r && !isBuffer(r))) return make(resources);
  let key = '';
  for (const r of resources) {
    let id = 0;
    if (r) {
      id = resourceIds.get(r) ?? nextResourceId++;
      resourceIds.set(r, id);
    }
    key += `${id},`;
  }
  let groups = bindGroupCache.get(pipeline);
  if (!groups) bindGroupCache.set(pipeline, (groups = new Map()));
  let group = groups.get(key);
  if (group) {
    groups.delete(key); // most recently used last
  } else {
    group = make(resources);
    if (groups.size >= BIND_GROUP_CACHE_LIMIT) groups.delete(groups.keys().next().value!);
  }
  groups.set(key, group);
  return group;
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
export function uniformBuffer(
  device: GPUDevice,
  uniforms: ArrayBuffer | ArrayBufferView,
): GPUBuffer {
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

/** Threads per workgroup of the elementwise ops. */
export const FLAT_GROUP = 256;
/** Most workgroups per dispatch dimension (WebGPU's default limit). */
const MAX_GROUPS_PER_DIMENSION = 65535;

/**
 * Dispatch size covering `count` elements with FLAT_GROUP threads each, folded into 2-D when one
 * dimension would exceed the limit; WGSL recovers the index with `flatIndex`.
 */
export function flatDispatch(count: number): [number, number, number] {
  const groups = groupsFor(count, FLAT_GROUP);
  const x = Math.min(groups, MAX_GROUPS_PER_DIMENSION);
  return [x, Math.ceil(groups / x), 1];
}
