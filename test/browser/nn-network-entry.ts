// Browser side of test/nn-browser.test.ts: network v2 on the browser's WebGPU adapter and on the
// CPU reference in the page, on inputs and weights both sides derive from fixed seeds; then the
// same network quantized (8-bit weights and activations, scales calibrated on the input).
import { requestGpu } from '../../src/gpu/device.ts';
import { mulberry32 } from '../../src/core/random.ts';
import { NETWORK_V2, NETWORK_V2_INPUT_CHANNELS } from '../../src/nn/network-v2.ts';
import { createNetwork } from '../../src/nn/network.ts';
import { runNetworkCpu } from '../../src/reference/nn/network.ts';
import { readGpuTensor, uploadTensor } from '../../src/nn/tensor.ts';
import { tensorFrom } from '../../src/core/tensor.ts';
import { initWeights } from '../../src/nn/weights.ts';
import { calibrateActivationScales, quantizeGraph } from '../../src/nn/quantize.ts';

const report = (v: unknown) =>
  (window as unknown as { __report: (v: unknown) => void }).__report(v);

try {
  const { device, adapterName } = await requestGpu();
  const next = mulberry32(11);
  const input = tensorFrom(
    { channels: NETWORK_V2_INPUT_CHANNELS, height: 16, width: 16 },
    Float32Array.from({ length: NETWORK_V2_INPUT_CHANNELS * 16 * 16 }, () => next() * 2 - 1),
  );
  const parameters = initWeights(NETWORK_V2, 5);
  const network = createNetwork(device, NETWORK_V2, parameters);
  const encoder = device.createCommandEncoder();
  const run = network.run(encoder, uploadTensor(device, input));
  device.queue.submit([encoder.finish()]);
  const gpu = await readGpuTensor(device, run.output);
  const cpu = runNetworkCpu(NETWORK_V2, parameters, input).output;
  const quantized = quantizeGraph(NETWORK_V2, {
    weightBits: 8,
    activationBits: 8,
    activationScales: calibrateActivationScales(NETWORK_V2, parameters, [input]),
  });
  const qNetwork = createNetwork(device, quantized, parameters, { keepActivations: false });
  const qEncoder = device.createCommandEncoder();
  const qRun = qNetwork.run(qEncoder, uploadTensor(device, input));
  device.queue.submit([qEncoder.finish()]);
  const qGpu = await readGpuTensor(device, qRun.output);
  const qCpu = runNetworkCpu(quantized, parameters, input).output;
  report({
    adapter: adapterName,
    gpu: [...gpu.data],
    cpu: [...cpu.data],
    quantizedGpu: [...qGpu.data],
    quantizedCpu: [...qCpu.data],
  });
} catch (e) {
  report({ error: String(e) });
}
