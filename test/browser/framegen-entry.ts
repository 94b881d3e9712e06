// Browser side of test/framegen-browser.test.ts: one generated frame on the browser's WebGPU.
import { requestGpu } from '../../src/gpu/device.ts';
import { generateOnGpu } from './framegen-frames.ts';

const report = (v: unknown) =>
  (window as unknown as { __report: (v: unknown) => void }).__report(v);

try {
  const { device, adapterName } = await requestGpu();
  report({ adapter: adapterName, frame: await generateOnGpu(device) });
} catch (e) {
  report({ error: String(e) });
}
