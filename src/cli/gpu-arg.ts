/** The CLI's GPU: one device per process, its adapter named on stderr unless quiet. */
import { requestGpu, type GpuContext } from '../gpu/device.ts';

export async function cliGpu(quiet = false): Promise<GpuContext> {
  const gpu = await requestGpu({ dawnFlags: ['disable-dawn-features=timestamp_quantization'] });
  gpu.device.addEventListener('uncapturederror', (e) => {
    console.error('uplift: WebGPU error:', (e as GPUUncapturedErrorEvent).error.message);
    process.exitCode = 1;
  });
  if (!quiet) console.error(`uplift: GPU ${gpu.adapterName}`);
  return gpu;
}
