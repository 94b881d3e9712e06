/**
 * Draws two display-size images side by side into the canvas, split at a column: the left image
 * left of it, the right image right of it, a white divider between. The images are the pipeline's
 * vec4 storage buffers (linear color: the upscalers' outputImage, the data engine's reference),
 * clamped to [0, 1] and sRGB-encoded for the canvas.
 */
import { readGpuImage, type GpuImage } from '../src/gpu/gpu-image.ts';
import { linearToSrgb } from '../src/core/tonemap.ts';

const WGSL = /* wgsl */ `
struct Split { width: u32, height: u32, column: u32, pad: u32 }
@group(0) @binding(0) var<uniform> split: Split;
@group(0) @binding(1) var<storage, read> left: array<vec4f>;
@group(0) @binding(2) var<storage, read> right: array<vec4f>;

@vertex fn vertex(@builtin(vertex_index) i: u32) -> @builtin(position) vec4f {
  // One triangle that covers the viewport.
  let p = vec2f(f32((i << 1u) & 2u), f32(i & 2u));
  return vec4f(p * 2.0 - 1.0, 0.0, 1.0);
}

fn srgb(c: vec3f) -> vec3f {
  let v = clamp(c, vec3f(0.0), vec3f(1.0));
  return select(1.055 * pow(v, vec3f(1.0 / 2.4)) - 0.055, v * 12.92, v <= vec3f(0.0031308));
}

@fragment fn fragment(@builtin(position) position: vec4f) -> @location(0) vec4f {
  let x = u32(position.x);
  let y = u32(position.y);
  if (x == split.column) { return vec4f(1.0); }
  let i = y * split.width + x;
  let c = select(right[i], left[i], x < split.column);
  return vec4f(srgb(c.rgb), 1.0);
}
`;

export interface Presenter {
  /** Shows `left` | `right` split at `column` (display pixels), divider included. */
  present(left: GpuImage, right: GpuImage, column: number): Promise<void>;
}

/** Draws on the GPU into the canvas's WebGPU context (the demo's way). */
export function createPresenter(device: GPUDevice, canvas: HTMLCanvasElement): Presenter {
  const context = canvas.getContext('webgpu')!;
  const format = navigator.gpu.getPreferredCanvasFormat();
  context.configure({ device, format, alphaMode: 'opaque' });
  const module = device.createShaderModule({ code: WGSL, label: 'present' });
  const pipeline = device.createRenderPipeline({
    label: 'present',
    layout: 'auto',
    vertex: { module, entryPoint: 'vertex' },
    fragment: { module, entryPoint: 'fragment', targets: [{ format }] },
  });
  const uniforms = device.createBuffer({
    size: 16,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  return {
    async present(left, right, column) {
      device.queue.writeBuffer(uniforms, 0, new Uint32Array([left.width, left.height, column, 0]));
      const bindGroup = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: uniforms } },
          { binding: 1, resource: { buffer: left.buffer } },
          { binding: 2, resource: { buffer: right.buffer } },
        ],
      });
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginRenderPass({
        colorAttachments: [
          { view: context.getCurrentTexture().createView(), loadOp: 'clear', storeOp: 'store' },
        ],
      });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.draw(3);
      pass.end();
      device.queue.submit([encoder.finish()]);
    },
  };
}

/**
 * The same picture through the CPU: both images read back and drawn into a 2D canvas. For
 * headless Chromium (SwiftShader), where a WebGPU canvas comes out blank in screenshots (DESIGN
 * §10): the page's `?present=cpu`.
 */
export function createCpuPresenter(device: GPUDevice, canvas: HTMLCanvasElement): Presenter {
  const context = canvas.getContext('2d')!;
  const srgb = (v: number) =>
    Math.round(255 * linearToSrgb(Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0))));
  return {
    async present(left, right, column) {
      const [a, b] = await Promise.all([readGpuImage(device, left), readGpuImage(device, right)]);
      const pixels = new ImageData(a.width, a.height);
      for (let y = 0; y < a.height; y++) {
        for (let x = 0; x < a.width; x++) {
          const i = y * a.width + x;
          const source = x < column ? a : b;
          for (let c = 0; c < 3; c++) {
            pixels.data[i * 4 + c] = x === column ? 255 : srgb(source.data[i * 4 + c]!);
          }
          pixels.data[i * 4 + 3] = 255;
        }
      }
      context.putImageData(pixels, 0, 0);
    },
  };
}
