// Probe: what waiting for the GPU costs the JavaScript thread. Submits a long compute dispatch
// ten times, awaiting `queue.onSubmittedWorkDone()` after each, and prints the wall time; run
// it under `node --trace-gc` to count the collections the wait itself causes (nothing in this
// script allocates while it waits). docs/PERFORMANCE.md, "What waiting for the GPU costs".
//   XDG_RUNTIME_DIR=/tmp/xdg node --trace-gc scripts/probes/wait-gc.mjs
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);
// Kept in a variable: a collected instance takes its adapter and device with it.
const gpu = create([]);
const adapter = await gpu.requestAdapter();
const device = await adapter.requestDevice();
const code = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> b: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  var x = b[id.x];
  for (var i = 0u; i < 20000u; i++) { x = x * 1.0001 + 0.5; }
  b[id.x] = x;
}`;
const pipeline = device.createComputePipeline({
  layout: 'auto',
  compute: { module: device.createShaderModule({ code }), entryPoint: 'main' },
});
const buffer = device.createBuffer({ size: 4 * 65536, usage: GPUBufferUsage.STORAGE });
const bindGroup = device.createBindGroup({
  layout: pipeline.getBindGroupLayout(0),
  entries: [{ binding: 0, resource: { buffer } }],
});
const start = performance.now();
for (let k = 0; k < 10; k++) {
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(1024);
  pass.end();
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
}
console.log(`10 waits: ${(performance.now() - start).toFixed(0)} ms`);
process.exit(0);
