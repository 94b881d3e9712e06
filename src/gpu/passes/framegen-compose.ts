/**
 * Frame generation, step 3 (display resolution): the frame at time t from the previous and the
 * current frame read along the time-t motion field; where both reads are on the image, weighed
 * against the in-place blend (and the one frame the splat says sees the surface) by how well each
 * explains the pixel; blended in place where no read is usable and by the reactive mask; the
 * previous frame on a reset.
 * Writes a GpuImage and a storage texture (one of OUTPUT_FORMATS). Reads the frames and the
 * reactive mask where the caller has them (a texture or a GpuImage: src/gpu/frame-source.ts).
 * CPU reference and exact definition: src/reference/frame-generation.ts (composeFrameCpu).
 */
import { createKernel, groupsFor } from '../kernel.ts';
import type { GpuImage } from '../gpu-image.ts';
import { TILE, WGSL_COMMON, WGSL_READ_WARPED, wgslPixelMain } from '../wgsl.ts';
import { uniformBlock } from '../uniforms.ts';
import {
  DISAGREEMENT_FLOOR,
  IN_PLACE_COST_PER_PIXEL2,
  MAX_COLOR,
  ONE_SIDED_COST,
} from '../../core/frame-generation.ts';
import {
  frameSourceBinding,
  isTextureSource,
  wgslFrameSource,
  type FrameSource,
} from '../frame-source.ts';
import { checkOutputFormat, outputTextureView, type OutputTargets } from './output.ts';

const PARAMS = uniformBlock({
  width: 'u32',
  height: 'u32',
  fieldWidth: 'u32',
  fieldHeight: 'u32',
  t: 'f32',
  reset: 'u32',
  hasReactive: 'u32',
});

/** The output format and which inputs are textures: one pipeline per combination. */
interface ComposeVariant {
  readonly format: GPUTextureFormat;
  readonly previousTexture: boolean;
  readonly currentTexture: boolean;
  readonly reactiveTexture: boolean;
}

const code = (v: ComposeVariant) => /* wgsl */ `
${PARAMS.wgsl}
${wgslFrameSource('previous', 1, v.previousTexture)}
${wgslFrameSource('current', 2, v.currentTexture)}
@group(0) @binding(3) var<storage, read> field: array<vec4f>;
${wgslFrameSource('reactive', 4, v.reactiveTexture, 'u.fieldWidth')}
@group(0) @binding(5) var<storage, read_write> outImage: array<vec4f>;
@group(0) @binding(6) var outTexture: texture_storage_2d<${v.format}, write>;
${WGSL_COMMON}
fn finite3(v: vec3f) -> vec3f {
  return vec3f(select(0.0, v.x, isFiniteF(v.x)), select(0.0, v.y, isFiniteF(v.y)),
               select(0.0, v.z, isFiniteF(v.z)));
}
// Reads clamp to the edge; non-finite input values read as 0.
fn onEdge(x: i32, y: i32) -> vec2i {
  return clamp(vec2i(x, y), vec2i(0), vec2i(i32(u.width) - 1, i32(u.height) - 1));
}
fn previousFrameAt(x: i32, y: i32) -> vec3f {
  let c = onEdge(x, y);
  return finite3(previousAt(c.x, c.y).rgb);
}
fn currentFrameAt(x: i32, y: i32) -> vec3f {
  let c = onEdge(x, y);
  return finite3(currentAt(c.x, c.y).rgb);
}
// A branch, not select(): select would read both frames at every tap.
fn frameAt(fromCurrent: bool, x: i32, y: i32) -> vec3f {
  if (fromCurrent) { return currentFrameAt(x, y); }
  return previousFrameAt(x, y);
}
${WGSL_READ_WARPED}
fn onImage(p: vec2f) -> bool {
  return p.x >= 0.0 && p.x <= f32(u.width) && p.y >= 0.0 && p.y <= f32(u.height);
}
// Squared distance of two colors in the tonemapped domain c / (1 + max(c)).
fn tonemappedDistance(a: vec3f, b: vec3f) -> f32 {
  let d = a / (1.0 + max(max(a.r, a.g), max(a.b, 0.0))) -
          b / (1.0 + max(max(b.r, b.g), max(b.b, 0.0)));
  return dot(d, d);
}
fn candidateWeight(cost: f32) -> f32 {
  let c = cost + ${DISAGREEMENT_FLOOR};
  return 1.0 / (c * c);
}
fn sanitize(v: vec3f) -> vec3f {
  return clamp(finite3(v), vec3f(0.0), vec3f(${MAX_COLOR.toFixed(1)}));
}

${wgslPixelMain(/* wgsl */ `
  let o = id.y * u.width + id.x;
  let x = i32(id.x);
  let y = i32(id.y);
  let p = previousFrameAt(x, y);
  var color = p;
  if (u.reset == 0u) {
    let t = u.t;
    let s = 1.0 - t;
    let rx = renderPixelOf(id.x, u.fieldWidth, u.width);
    let ry = renderPixelOf(id.y, u.fieldHeight, u.height);
    let k = ry * u.fieldWidth + rx;
    let v = field[k];
    let r = select(0.0, clamp(reactiveAt(i32(rx), i32(ry)).x, 0.0, 1.0), u.hasReactive != 0u);
    let d = v.xy * vec2f(f32(u.width), f32(u.height));
    let centre = vec2f(id.xy) + 0.5;
    let atPrevious = centre + t * d;
    let atCurrent = centre - s * d;
    let previousOn = onImage(atPrevious);
    let currentOn = onImage(atCurrent);
    let q = currentFrameAt(x, y);
    let blended = s * p + t * q;
    var warped = blended;
    if (previousOn && currentOn && (v.z != 0.0 || v.w != 0.0)) {
      // Candidates weighed by how well each explains the pixel (the reference's file comment).
      let a = readWarped(false, atPrevious);
      let b = readWarped(true, atCurrent);
      let wAlong = candidateWeight(tonemappedDistance(a, b));
      let wInPlace = candidateWeight(tonemappedDistance(p, q) + ${IN_PLACE_COST_PER_PIXEL2} * dot(d, d));
      var sum = wAlong * (s * a + t * b) + wInPlace * blended;
      var total = wAlong + wInPlace;
      if (v.z != v.w) {
        let wOne = candidateWeight(${ONE_SIDED_COST});
        sum += wOne * select(b, a, v.z != 0.0);
        total += wOne;
      }
      warped = sum / total;
    } else {
      let wp = select(0.0, s * v.z, previousOn);
      let wc = select(0.0, t * v.w, currentOn);
      if (wp + wc > 0.0) {
        var sum = vec3f(0.0);
        if (wp > 0.0) { sum += wp * readWarped(false, atPrevious); }
        if (wc > 0.0) { sum += wc * readWarped(true, atCurrent); }
        warped = sum / (wp + wc);
      }
    }
    color = warped + r * (blended - warped);
  }
  let out = vec4f(sanitize(color), 1.0);
  outImage[o] = out;
  textureStore(outTexture, id.xy, out);`)}
`;

/** The pass's kernel writing `variant.format` (one of OUTPUT_FORMATS). */
export function frameGenerationComposeKernel(variant: ComposeVariant): {
  label: string;
  code: string;
} {
  return { label: `framegen compose ${variant.format}`, code: code(variant) };
}

/**
 * Records the compose: `previous` and `current` display size; `field` (render size) as
 * encodeFrameGenerationResolve wrote it (unread on a reset); `reactive` optional, render size.
 * The frames and the mask are GpuImages or textures (read in place).
 */
export function encodeFrameGenerationCompose(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  frames: {
    previous: FrameSource;
    current: FrameSource;
    field: GpuImage;
    reactive?: FrameSource;
  },
  params: { t: number; reset: boolean },
  targets: OutputTargets,
): void {
  const { width, height } = frames.previous;
  const variant: ComposeVariant = {
    format: checkOutputFormat(targets.texture.format),
    previousTexture: isTextureSource(frames.previous),
    currentTexture: isTextureSource(frames.current),
    reactiveTexture: frames.reactive !== undefined && isTextureSource(frames.reactive),
  };
  createKernel(device, frameGenerationComposeKernel(variant)).dispatch(
    pass,
    [groupsFor(width, TILE), groupsFor(height, TILE)],
    [
      frameSourceBinding(frames.previous),
      frameSourceBinding(frames.current),
      frames.field.buffer,
      // Without a mask the field is bound in its place (the flag says it is not read).
      frames.reactive ? frameSourceBinding(frames.reactive) : frames.field.buffer,
      targets.image.buffer,
      outputTextureView(targets.texture),
    ],
    PARAMS.pack({
      width,
      height,
      fieldWidth: frames.field.width,
      fieldHeight: frames.field.height,
      t: params.t,
      reset: params.reset,
      hasReactive: frames.reactive !== undefined,
    }),
  );
}
