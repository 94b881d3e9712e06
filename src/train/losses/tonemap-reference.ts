/**
 * The ground truth in the loss's domain: exposure, then the reversible tonemap of DESIGN §4
 * (c / (1 + max(r, g, b))), non-finite and negative values read as 0, alpha 1. GPU kernel for
 * clips rendered on the GPU; `tonemapReferenceCpu` is its CPU reference (and the CPU clips' path).
 */
import { tonemapPixel } from '../../core/tonemap.ts';
import type { Image } from '../../core/image.ts';
import { createKernel, groupsFor } from '../../gpu/kernel.ts';
import type { GpuImage } from '../../gpu/gpu-image.ts';
import { TILE, WGSL_COMMON, wgslPixelMain } from '../../gpu/wgsl.ts';
import { uniformBlock } from '../../gpu/uniforms.ts';

const PARAMS = uniformBlock({ width: 'u32', height: 'u32', exposure: 'f32' });

const code = /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> reference: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> tonemapped: array<vec4f>;
${WGSL_COMMON}
fn clean(v: f32) -> f32 { return select(0.0, max(v * u.exposure, 0.0), isFiniteF(v)); }

${wgslPixelMain(/* wgsl */ `
  let i = id.y * u.width + id.x;
  let c = reference[i];
  let rgb = vec3f(clean(c.r), clean(c.g), clean(c.b));
  tonemapped[i] = vec4f(rgb / (1.0 + max(max(rgb.r, rgb.g), rgb.b)), 1.0);`)}
`;

/** CPU reference: the tonemapped reference as a vec4 array (a = 1). */
export function tonemapReferenceCpu(reference: Image, exposure: number): Float32Array {
  const n = reference.width * reference.height;
  const k = reference.channels;
  const out = new Float32Array(n * 4);
  const clean = (v: number) => (Number.isFinite(v) ? Math.max(v * exposure, 0) : 0);
  for (let i = 0; i < n; i++) {
    const rgb = tonemapPixel(
      clean(reference.data[i * k]!),
      clean(reference.data[i * k + 1]!),
      clean(reference.data[i * k + 2]!),
    );
    out.set([...rgb, 1], i * 4);
  }
  return out;
}

/** Records the tonemap of `reference` (display size) into `output` (same size). */
export function encodeTonemapReference(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  reference: GpuImage,
  exposure: number,
  output: GpuImage,
): void {
  if (reference.width !== output.width || reference.height !== output.height) {
    throw new RangeError(
      `reference is ${reference.width}x${reference.height}, output ${output.width}x${output.height}`,
    );
  }
  createKernel(device, { label: 'tonemap reference', code }).dispatch(
    pass,
    [groupsFor(output.width, TILE), groupsFor(output.height, TILE)],
    [reference.buffer, output.buffer],
    PARAMS.pack({ width: output.width, height: output.height, exposure }),
  );
}
