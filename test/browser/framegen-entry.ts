// Browser side of test/framegen-browser.test.ts: one generated frame on the browser's WebGPU by
// each method (the neural one with the shipped weights, bundled as bytes).
import { requestGpu } from '../../src/gpu/device.ts';
import { generateOnGpu } from './framegen-frames.ts';
import shippedWeights from '../../weights/framegen-v1.uplift';

const report = (v: unknown) =>
  (window as unknown as { __report: (v: unknown) => void }).__report(v);

try {
  const { device, adapterName } = await requestGpu();
  report({
    adapter: adapterName,
    frame: await generateOnGpu(device, 'heuristic'),
    neural: await generateOnGpu(device, 'neural', shippedWeights),
  });
} catch (e) {
  report({ error: String(e) });
}
