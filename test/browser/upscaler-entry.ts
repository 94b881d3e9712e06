// Browser side of test/upscaler-browser.test.ts: three frames of the analytic sequence through the
// upscaler (TAAU, and the neural method with untrained weights passed in) on the browser's WebGPU.
import { requestGpu } from '../../src/gpu/device.ts';
import { upscaleAnalyticFrames } from './upscaler-frames.ts';

const report = (v: unknown) =>
  (window as unknown as { __report: (v: unknown) => void }).__report(v);

try {
  const { device, adapterName } = await requestGpu();
  report({ adapter: adapterName, ...(await upscaleAnalyticFrames(device)) });
} catch (e) {
  report({ error: String(e) });
}
