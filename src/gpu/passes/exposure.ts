/**
 * Exposure pass (one thread): this frame's exposure — a number, or the red texel of a 1×1 texture
 * the engine computed on the GPU (auto-exposure) — into a 1-texel state image that prepare,
 * reproject and output read: x = exposure / preExposure (the color's scale), y = the history's
 * rescale factor (exposure / last frame's exposure; 1 after a reset), z = the exposure (the next
 * frame's "last"). CPU reference: src/reference/exposure.ts.
 */
import { createKernel } from '../kernel.ts';
import { WGSL_COMMON } from '../wgsl.ts';
import { uniformBlock } from '../uniforms.ts';

const PARAMS = uniformBlock({ exposure: 'f32', preExposure: 'f32', reset: 'u32' });

/** The texture formats an exposure texture may have (its .r is read). */
export const EXPOSURE_TEXTURE_FORMATS: readonly GPUTextureFormat[] = [
  'r32float',
  'r16float',
  'rg32float',
  'rg16float',
  'rgba32float',
  'rgba16float',
];

const code = (fromTexture: boolean) => /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read_write> state: array<vec4f>;
${fromTexture ? '@group(0) @binding(2) var exposureTexture: texture_2d<f32>;' : ''}
${WGSL_COMMON}
@compute @workgroup_size(1)
fn main() {
  let previous = state[0].z;
  let hasPrevious = isFiniteF(previous) && previous > 0.0;
  var e = ${fromTexture ? 'textureLoad(exposureTexture, vec2u(0u, 0u), 0).r' : 'u.exposure'};
  // A bad value (NaN, Inf, 0, negative) keeps the last good exposure: history is never poisoned.
  if (!(isFiniteF(e) && e > 0.0)) { e = select(1.0, previous, hasPrevious); }
  let historyScale = select(1.0, e / previous, hasPrevious && u.reset == 0u);
  state[0] = vec4f(e / u.preExposure, historyScale, e, 0.0);
}
`;

/** The pass's kernel for a numeric exposure or an exposure texture. */
export function exposureKernel(fromTexture: boolean): { label: string; code: string } {
  return { label: `exposure${fromTexture ? ' texture' : ''}`, code: code(fromTexture) };
}

/**
 * Records the exposure step into `pass`: `state` is a 16-byte storage buffer kept across frames
 * (zero before the first frame).
 */
export function encodeExposure(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  exposure: number | GPUTexture,
  preExposure: number,
  reset: boolean,
  state: GPUBuffer,
): void {
  const fromTexture = typeof exposure !== 'number';
  const kernel = createKernel(device, exposureKernel(fromTexture));
  kernel.dispatch(
    pass,
    [1],
    fromTexture ? [state, exposure.createView()] : [state],
    PARAMS.pack({ exposure: fromTexture ? 1 : exposure, preExposure, reset }),
  );
}
