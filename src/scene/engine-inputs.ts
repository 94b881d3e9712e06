/**
 * Engine-like inputs on the GPU: depth onto an 8-bit depth target's grid and color through an
 * 8-bit sRGB render target, in place on the render-resolution vec4 images (alpha and the unused
 * channels kept). The grids come from src/core/engine-inputs.ts, whose `quantize8` is this pass's
 * CPU twin, bit for bit.
 */
import { DEPTH8_GRID, SRGB8_GRID, type Grid8 } from '../core/engine-inputs.ts';
import type { GpuImage } from '../gpu/gpu-image.ts';
import { createKernel, flatDispatch } from '../gpu/kernel.ts';
import { createStorageBuffer } from '../gpu/resources.ts';
import { uniformBlock } from '../gpu/uniforms.ts';
import { wgslElementwiseMain } from '../gpu/wgsl.ts';

const PARAMS = uniformBlock({ count: 'u32', depth8: 'u32', srgb8: 'u32' });

/** Floats of one grid in the tables buffer: 256 levels, then 255 thresholds, then one pad. */
const GRID_FLOATS = 512;

const code = /* wgsl */ `
${PARAMS.wgsl}
// Depth grid at 0, sRGB grid at ${GRID_FLOATS}: levels, then thresholds from +256.
@group(0) @binding(1) var<storage, read> grids: array<f32>;
@group(0) @binding(2) var<storage, read_write> color: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> depth: array<vec4f>;

// The level of the code whose thresholds lie at or below v (code8 in core/engine-inputs.ts).
fn quantize8(base: u32, v: f32) -> f32 {
  var lo = 0u;
  var hi = 255u;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (grids[base + 256u + mid] <= v) { lo = mid + 1u; } else { hi = mid; }
  }
  return grids[base + lo];
}
${wgslElementwiseMain(
  'u.count',
  /* wgsl */ `
  if (u.depth8 != 0u) {
    let d = depth[i];
    depth[i] = vec4f(quantize8(0u, d.x), d.yzw);
  }
  if (u.srgb8 != 0u) {
    let c = color[i];
    let s = ${GRID_FLOATS}u;
    color[i] = vec4f(quantize8(s, c.r), quantize8(s, c.g), quantize8(s, c.b), c.a);
  }`,
)}`;

const gridsByDevice = new WeakMap<GPUDevice, GPUBuffer>();

/** The two grids as one read-only buffer, made once per device. */
function gridBuffer(device: GPUDevice): GPUBuffer {
  let buffer = gridsByDevice.get(device);
  if (!buffer) {
    const data = new Float32Array(2 * GRID_FLOATS);
    const place = (grid: Grid8, at: number) => {
      data.set(grid.levels, at);
      data.set(grid.thresholds, at + 256);
    };
    place(DEPTH8_GRID, 0);
    place(SRGB8_GRID, GRID_FLOATS);
    buffer = createStorageBuffer(device, data, GPUBufferUsage.STORAGE, 'engine input grids');
    gridsByDevice.set(device, buffer);
  }
  return buffer;
}

/**
 * Records the quantization of `images` (color and depth of one size) in place: `depth8` puts
 * depth on the 8-bit grid, `srgb8` color through an 8-bit sRGB target. Records nothing when
 * both are off.
 */
export function encodeEngineQuantize(
  device: GPUDevice,
  encoder: GPUCommandEncoder,
  images: { color: GpuImage; depth: GpuImage },
  options: { depth8: boolean; srgb8: boolean },
): void {
  if (!options.depth8 && !options.srgb8) return;
  const { color, depth } = images;
  if (color.width !== depth.width || color.height !== depth.height)
    throw new RangeError(
      `color ${color.width}x${color.height} and depth ${depth.width}x${depth.height} differ`,
    );
  const count = color.width * color.height;
  const pass = encoder.beginComputePass({ label: 'engine-like inputs' });
  createKernel(device, { label: 'engine-like inputs', code }).dispatch(
    pass,
    flatDispatch(count),
    [gridBuffer(device), color.buffer, depth.buffer],
    PARAMS.pack({ count, depth8: options.depth8, srgb8: options.srgb8 }),
  );
  pass.end();
}
