/**
 * One way to get a GPUDevice, in Node (Dawn through npm `webgpu`) and in a browser
 * (navigator.gpu), with the adapter's relevant features reported.
 */

export interface GpuFeatures {
  /** WGSL `f16` (feature "shader-f16"). */
  shaderF16: boolean;
  /** Subgroup operations (feature "subgroups"). */
  subgroups: boolean;
  /** GPU timestamps (feature "timestamp-query"). */
  timestampQuery: boolean;
  /** WGSL `dot4I8Packed` (language feature packed_4x8_integer_dot_product). */
  dot4I8Packed: boolean;
  /**
   * Subgroup matrices (feature "chromium-experimental-subgroup-matrix": tensor cores from WGSL).
   * Dawn offers it only to an instance created with allow_unsafe_apis, which `requestGpu` does in
   * Node unless `subgroupMatrices: false`.
   */
  subgroupMatrix: boolean;
}

export interface GpuContext {
  device: GPUDevice;
  adapterName: string;
  features: GpuFeatures;
  /** Where the device came from. */
  runtime: 'node-dawn' | 'browser';
}

export interface RequestGpuOptions {
  powerPreference?: GPUPowerPreference;
  /** Ask for these optional features when the adapter has them (default: all of GpuFeatures). */
  wantFeatures?: GPUFeatureName[];
  /** Extra Dawn toggles in Node, e.g. 'disable-dawn-features=timestamp_quantization'. */
  dawnFlags?: string[];
  /**
   * Node: create Dawn's instance with allow_unsafe_apis so that experimental subgroup matrices
   * (the INT8 tensor-core kernels) are offered where the adapter has them. Default true. The
   * first `requestGpu` of a process creates the instance: later calls share it.
   */
  subgroupMatrices?: boolean;
  /**
   * 'adapter' (default): ask for the adapter's limits where the pipeline needs more than the
   * defaults (large storage bindings and textures, 16 storage buffers per stage). 'default':
   * WebGPU's default limits, as a browser page or three.js creates its device (what an upscaler
   * handed such a device must live with).
   */
  limits?: 'adapter' | 'default';
}

export class NoGpuError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoGpuError';
  }
}

const SUBGROUP_MATRIX = 'chromium-experimental-subgroup-matrix' as GPUFeatureName;
const DEFAULT_FEATURES: GPUFeatureName[] = [
  'shader-f16',
  'subgroups',
  'timestamp-query',
  SUBGROUP_MATRIX,
];
const UNSAFE_APIS = 'enable-dawn-features=allow_unsafe_apis';

const WEBGPU = 'webgpu';
let nodeGpu: GPU | undefined;

async function getGpu(dawnFlags: string[]): Promise<{ gpu: GPU; runtime: GpuContext['runtime'] }> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return { gpu: nav.gpu, runtime: 'browser' };
  if (typeof process === 'undefined' || !process.versions?.node) {
    throw new NoGpuError(
      'WebGPU is not available in this browser (navigator.gpu is missing). Use a browser with WebGPU enabled.',
    );
  }
  if (!nodeGpu) {
    // A specifier bundlers do not follow: Dawn (a native addon) never enters a browser bundle,
    // installed or not, and a Node bundle leaves it to Node.
    const mod = (await import(/* @vite-ignore */ WEBGPU)) as typeof import('webgpu');
    Object.assign(globalThis, mod.globals);
    nodeGpu = mod.create(dawnFlags) as GPU;
  }
  return { gpu: nodeGpu, runtime: 'node-dawn' };
}

/**
 * Dawn flags with every `enable-dawn-features=` (and `disable-dawn-features=`) list joined into
 * one flag: Dawn keeps one value per key, so a second list would replace the first.
 */
export function mergeDawnToggles(flags: readonly string[]): string[] {
  const lists = new Map<string, string[]>();
  const rest: string[] = [];
  for (const flag of flags) {
    const m = /^((?:enable|disable)-dawn-features)=(.*)$/.exec(flag);
    if (!m) {
      rest.push(flag);
      continue;
    }
    const list = lists.get(m[1]!) ?? [];
    for (const t of m[2]!.split(',').filter(Boolean)) if (!list.includes(t)) list.push(t);
    lists.set(m[1]!, list);
  }
  return [...[...lists].map(([key, list]) => `${key}=${list.join(',')}`), ...rest];
}

const adapterInfos = new WeakMap<GPUDevice, GPUAdapterInfo>();

/**
 * The adapter info of a device: its adapter's, where `requestGpu` made the device (Dawn's
 * `device.adapterInfo` lists no subgroup matrix configurations, its adapter's `info` does), else
 * `device.adapterInfo`.
 */
export function adapterInfoOf(device: GPUDevice): GPUAdapterInfo | undefined {
  return (
    adapterInfos.get(device) ?? (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo
  );
}

/** Requests an adapter and device, enabling the optional features it has. */
export async function requestGpu(options: RequestGpuOptions = {}): Promise<GpuContext> {
  const flags = options.dawnFlags ?? [];
  const { gpu, runtime } = await getGpu(
    mergeDawnToggles(options.subgroupMatrices === false ? flags : [UNSAFE_APIS, ...flags]),
  );
  const adapter = await gpu.requestAdapter(
    options.powerPreference ? { powerPreference: options.powerPreference } : {},
  );
  if (!adapter) {
    throw new NoGpuError(
      runtime === 'node-dawn'
        ? 'No WebGPU adapter found. On Linux without a GPU install Mesa >= 24 lavapipe ' +
            '(Debian: apt-get install -t bookworm-backports mesa-vulkan-drivers); on a GPU machine ' +
            'check that the Vulkan loader and driver are installed.'
        : 'No WebGPU adapter found (navigator.gpu.requestAdapter returned null).',
    );
  }
  const want = options.wantFeatures ?? DEFAULT_FEATURES;
  const requiredFeatures = want.filter((f) => adapter.features.has(f));
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures,
    requiredLimits:
      options.limits === 'default'
        ? {}
        : {
            maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
            maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
            maxBufferSize: limits.maxBufferSize,
            maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
            maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
            maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
            maxComputeWorkgroupSizeY: limits.maxComputeWorkgroupSizeY,
            // Displays above 8192 (the default) need it; the size checks allow 16384.
            maxTextureDimension2D: limits.maxTextureDimension2D,
          },
  });
  const info = adapter.info;
  adapterInfos.set(device, info);
  const wgslFeatures = (gpu as GPU & { wgslLanguageFeatures?: Set<string> }).wgslLanguageFeatures;
  return {
    device,
    runtime,
    adapterName: [info.vendor, info.architecture, info.device, info.description]
      .filter((s) => s)
      .join(' '),
    features: {
      shaderF16: device.features.has('shader-f16'),
      subgroups: device.features.has('subgroups'),
      timestampQuery: device.features.has('timestamp-query'),
      dot4I8Packed: wgslFeatures?.has('packed_4x8_integer_dot_product') ?? false,
      subgroupMatrix: device.features.has(SUBGROUP_MATRIX),
    },
  };
}
