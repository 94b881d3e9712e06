/**
 * Output pass (display resolution): optional RCAS sharpening in the tonemapped domain, inverse
 * tonemap, division by the exposure (a number, or the exposure pass's state); writes a GpuImage and a storage texture — Uplift's own
 * rgba32float one, or the caller's in one of `OUTPUT_FORMATS` (unorm formats clamp to [0, 1] as
 * the store converts). CPU reference and the RCAS description: src/reference/output.ts.
 *
 * Without sharpening a pixel's output needs only that pixel's history, so the resolves that write
 * the history (TAAU, the neural filter + blend, the INT8 last layer + filter + blend) can write
 * the output themselves and the frame records no output pass: they declare the output's bindings
 * with `wgslFoldedOutput` and call the same `storeOutput` this pass calls (WGSL_OUTPUT_STORE).
 */
import { createKernel, groupsFor } from '../kernel.ts';
import {
  checkF32Image,
  formatOf,
  wgslImages,
  type GpuImage,
  type ImageFormat,
} from '../gpu-image.ts';
import { MAX_TONEMAPPED, rcasScale } from '../../core/pass-constants.ts';
import { TILE, WGSL_COMMON, wgslPixelMain } from '../wgsl.ts';
import { uniformBlock } from '../uniforms.ts';

const PARAMS = uniformBlock({
  width: 'u32',
  height: 'u32',
  sharpen: 'u32',
  rcasScale: 'f32',
  exposure: 'f32',
  exposureFromState: 'u32',
});

/** The texture formats the output pass writes (storage formats every WebGPU device has). */
export const OUTPUT_FORMATS: readonly GPUTextureFormat[] = [
  'rgba32float',
  'rgba16float',
  'rgba8unorm',
];

/** The format, if the output pass writes it; else a RangeError listing those it writes. */
export function checkOutputFormat(format: GPUTextureFormat): GPUTextureFormat {
  if (!OUTPUT_FORMATS.includes(format)) {
    throw new RangeError(
      `output: format ${format} is not written; use one of ${OUTPUT_FORMATS.join(', ')}`,
    );
  }
  return format;
}

/**
 * WGSL `storeOutput(p, o, tonemapped, exposure)`: the inverse tonemap and the division by the
 * exposure of one pixel (display position p, index o), written to `outImage` and `outTexture`
 * (the store converts to the texture's format). Shared by this pass and the resolves that fold it.
 */
export const WGSL_OUTPUT_STORE = /* wgsl */ `
fn storeOutput(p: vec2u, o: u32, tonemapped: vec3f, exposure: f32) {
  let c = clamp(tonemapped, vec3f(0.0), vec3f(${MAX_TONEMAPPED}));
  let linear = vec4f(c / ((1.0 - max(c.x, max(c.y, c.z))) * exposure), 1.0);
  outImage[o] = linear;
  textureStore(outTexture, p, linear);
}
`;

/**
 * WGSL of a resolve that writes the output itself: the output image, texture (`format`) and
 * exposure at @binding(first), (first + 1), (first + 2), WGSL_OUTPUT_STORE, and
 * `foldOutput(p, o, history)`, which writes the output of the new history as the output pass would
 * read it back: rounded to `historyFormat` first (halfBits, then halfPair as wgslImages reads it;
 * the kernel includes WGSL_HALF through its rgba16float images). The exposure state is bound as a
 * uniform, not a storage buffer: the INT8 last layer already binds 7 of the 8 storage buffers a
 * stage may have by default (maxStorageBuffersPerShaderStage).
 */
export function wgslFoldedOutput(
  first: number,
  format: GPUTextureFormat,
  historyFormat: ImageFormat,
): string {
  const stored =
    historyFormat === 'rgba16float'
      ? 'vec3f(halfPair(halfBits(h.r) | (halfBits(h.g) << 16u)), halfPair(halfBits(h.b)).x)'
      : 'h.rgb';
  return /* wgsl */ `
@group(0) @binding(${first}) var<storage, read_write> outImage: array<vec4f>;
@group(0) @binding(${first + 1}) var outTexture: texture_storage_2d<${checkOutputFormat(format)}, write>;
@group(0) @binding(${first + 2}) var<uniform> outputExposure: vec4f;
${WGSL_OUTPUT_STORE}
fn foldOutput(p: vec2u, o: u32, h: vec4f) {
  storeOutput(p, o, ${stored}, outputExposure.x);
}
`;
}

/**
 * What a resolve that folds the output pass writes (display size) and reads: the output image,
 * the output texture (one of OUTPUT_FORMATS) and the exposure pass's state (its x is divided
 * out), which must have been created with GPUBufferUsage.UNIFORM (see `wgslFoldedOutput`).
 */
export interface FoldedOutput {
  readonly image: GpuImage;
  readonly texture: GPUTexture;
  readonly exposureState: GPUBuffer;
}

/**
 * The bindings of `wgslFoldedOutput`, in order, after checking the targets against the display
 * size (RangeErrors naming them and `where`).
 */
export function foldedOutputResources(
  where: string,
  output: FoldedOutput,
  [width, height]: readonly [number, number],
): [GPUBuffer, GPUTextureView, GPUBuffer] {
  const { image, texture } = output;
  for (const [name, w, h] of [
    ['output image', image.width, image.height],
    ['output texture', texture.width, texture.height],
  ] as const) {
    if (w !== width || h !== height) {
      throw new RangeError(`${where}: the ${name} is ${w}x${h}, the history ${width}x${height}`);
    }
  }
  checkF32Image(image, `${where}: the output image`);
  checkOutputFormat(texture.format);
  if ((output.exposureState.usage & GPUBufferUsage.UNIFORM) === 0) {
    throw new RangeError(`${where}: the exposure state needs GPUBufferUsage.UNIFORM`);
  }
  return [image.buffer, outputTextureView(texture), output.exposureState];
}

const code = (format: GPUTextureFormat, input: ImageFormat) => /* wgsl */ `
${PARAMS.wgsl}
${wgslImages([{ binding: 1, name: 'tonemapped', access: 'read', format: input }])}
@group(0) @binding(2) var<storage, read_write> outImage: array<vec4f>;
@group(0) @binding(3) var outTexture: texture_storage_2d<${format}, write>;
@group(0) @binding(4) var<storage, read> exposureState: array<vec4f>;
${WGSL_COMMON}
${WGSL_OUTPUT_STORE}
fn at(x: i32, y: i32) -> vec3f {
  return tonemappedAt(texelAt(u.width, u.height, x, y)).rgb;
}
fn rcasLuma(c: vec3f) -> f32 {
  return c.b * 0.5 + (c.r * 0.5 + c.g);
}
fn max3(v: vec3f) -> f32 { return max(v.x, max(v.y, v.z)); }

${wgslPixelMain(/* wgsl */ `
  let x = i32(id.x);
  let y = i32(id.y);
  let e = at(x, y);
  var v = e;
  if (u.sharpen != 0u) {
    let b = at(x, y - 1);
    let d = at(x - 1, y);
    let f = at(x + 1, y);
    let h = at(x, y + 1);
    let mn4 = min(min(b, d), min(f, h));
    let mx4 = max(max(b, d), max(f, h));
    let hitMin = min(mn4, e) / max(4.0 * mx4, vec3f(1e-6));
    let hitMax = (1.0 - max(mx4, e)) / min(4.0 * mn4 - 4.0, vec3f(-1e-6));
    var lobe = max3(max(-hitMin, hitMax));
    lobe = max(${-(0.25 - 1 / 16)}, min(lobe, 0.0)) * u.rcasScale;
    let bL = rcasLuma(b);
    let dL = rcasLuma(d);
    let eL = rcasLuma(e);
    let fL = rcasLuma(f);
    let hL = rcasLuma(h);
    let range = max(max(max(bL, dL), max(eL, fL)), hL) - min(min(min(bL, dL), min(eL, fL)), hL);
    let noise = abs(0.25 * (bL + dL + fL + hL) - eL);
    lobe *= 1.0 - 0.5 * saturate(noise / max(range, 1e-6));
    v = (lobe * (b + d + f + h) + e) / (4.0 * lobe + 1.0);
  }
  let exposure = select(u.exposure, exposureState[0].x, u.exposureFromState != 0u);
  storeOutput(id.xy, id.y * u.width + id.x, v, exposure);`)}
`;

/**
 * The view a pass writes a caller's output texture through: mip level 0 of the first layer (a
 * storage binding is one subresource; the default view of a texture with mip levels is refused).
 */
export function outputTextureView(texture: GPUTexture): GPUTextureView {
  return texture.createView({
    dimension: '2d',
    baseMipLevel: 0,
    mipLevelCount: 1,
    baseArrayLayer: 0,
    arrayLayerCount: 1,
  });
}

/**
 * The pass's kernel writing `format` (one of OUTPUT_FORMATS) from a tonemapped image in `input`
 * (rgba16float: a temporal method's history; rgba32float: the spatial methods' image).
 */
export function outputKernel(
  format: GPUTextureFormat,
  input: ImageFormat = 'rgba32float',
): { label: string; code: string } {
  return { label: `output ${format}`, code: code(format, input) };
}

/** Output targets: a GpuImage and a storage texture (one of OUTPUT_FORMATS), both display size. */
export interface OutputTargets {
  image: GpuImage;
  texture: GPUTexture;
}

/**
 * Records the output pass from a tonemapped display image. `sharpness` 0..1 enables RCAS;
 * undefined leaves the image unsharpened.
 */
export function encodeOutput(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  tonemapped: GpuImage,
  exposure: number,
  sharpness: number | undefined,
  targets: OutputTargets,
  exposureState?: GPUBuffer,
): void {
  const { width, height } = tonemapped;
  const format = checkOutputFormat(targets.texture.format);
  const kernel = createKernel(device, outputKernel(format, formatOf(tonemapped)));
  const uniforms = PARAMS.pack({
    width,
    height,
    sharpen: sharpness !== undefined,
    rcasScale: rcasScale(sharpness ?? 0),
    exposure,
    exposureFromState: exposureState !== undefined,
  });
  kernel.dispatch(
    pass,
    [groupsFor(width, TILE), groupsFor(height, TILE)],
    [
      tonemapped.buffer,
      targets.image.buffer,
      outputTextureView(targets.texture),
      exposureState ?? tonemapped.buffer,
    ],
    uniforms,
  );
}
