// Browser side of test/browser.test.ts: get a device through the same function Node uses and run
// a tiny compute pass, reporting the adapter and the result.
import { requestGpu } from '../../src/gpu/device.ts';
import { createStorageBuffer, readBuffer } from '../../src/gpu/resources.ts';

const report = (v: unknown) =>
  (window as unknown as { __report: (v: unknown) => void }).__report(v);

try {
  const gpu = await requestGpu();
  const { device } = gpu;
  const module = device.createShaderModule({
    code: `@group(0) @binding(0) var<storage, read_write> o: array<f32>;
@compute @workgroup_size(8) fn main(@builtin(global_invocation_id) g: vec3u) { o[g.x] = f32(g.x) * 0.5 + 1.0; }`,
  });
  const pipeline = device.createComputePipeline({
    layout: 'auto',
    compute: { module, entryPoint: 'main' },
  });
  const buffer = createStorageBuffer(device, new Float32Array(8));
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(
    0,
    device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer } }],
    }),
  );
  pass.dispatchWorkgroups(1);
  pass.end();
  device.queue.submit([encoder.finish()]);
  report({
    runtime: gpu.runtime,
    adapter: gpu.adapterName,
    features: gpu.features,
    values: [...(await readBuffer(device, buffer))],
  });
} catch (e) {
  report({ error: String(e) });
}
