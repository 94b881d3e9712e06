// Browser side of test/nn-browser.test.ts: network v2 on the browser's WebGPU adapter and on the
// CPU reference in the page, on inputs and weights both sides derive from fixed seeds; then the
// same network quantized (8-bit weights and activations, scales calibrated on the input), simulated
// in f32 and run on the INT8 runner.
import { requestGpu } from '../../src/gpu/device.ts';
import { mulberry32 } from '../../src/core/random.ts';
import { NETWORK_V2, NETWORK_V2_INPUT_CHANNELS } from '../../src/nn/network-v2.ts';
import { createNetwork } from '../../src/nn/network.ts';
import { runNetworkCpu } from '../../src/reference/nn/network.ts';
import { readGpuTensor, uploadTensor } from '../../src/nn/tensor.ts';
import { tensorFrom } from '../../src/core/tensor.ts';
import { initWeights } from '../../src/nn/weights.ts';
import { calibrateActivationScales, quantizeGraph } from '../../src/nn/quantize.ts';
import { planInt8 } from '../../src/core/int8-plan.ts';
import { createInt8Network } from '../../src/nn/int8-network.ts';
import { runInt8NetworkCpu } from '../../src/reference/nn/int8-network.ts';

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
  const plan = planInt8(quantized, parameters);
  const int8Network = createInt8Network(device, plan);
  const int8Encoder = device.createCommandEncoder();
  const int8Output = int8Network.run(int8Encoder, uploadTensor(device, input));
  device.queue.submit([int8Encoder.finish()]);
  const int8Gpu = await readGpuTensor(device, int8Output);
  const int8Cpu = runInt8NetworkCpu(plan, input).output;
  report({
    int8Gpu: [...int8Gpu.data],
    int8Cpu: [...int8Cpu.data],
    adapter: adapterName,
    gpu: [...gpu.data],
    cpu: [...cpu.data],
    quantizedGpu: [...qGpu.data],
    quantizedCpu: [...qCpu.data],
  });
} catch (e) {
  report({ error: String(e) });
}
