/**
 * WGSL of the scene rasterizer (src/scene/rasterizer.ts): one vertex stage, and fragment stages
 * for the render-resolution inputs (MRT: color, depth, motion, reactive) and for ground-truth
 * samples (color only), and a depth-only shadow-map pass. Shading: metallic-roughness base color,
 * normal map, one directional light with GGX specular and a PCF shadow map, ambient, emissive;
 * alpha mask by discard.
 */

/** Bytes of one Frame uniform slot (the dynamic-offset stride; the struct uses 320). */
export const FRAME_UNIFORM_BYTES = 512;
/** Bytes of one Object uniform slot. */
export const OBJECT_UNIFORM_BYTES = 256;

export const RASTERIZER_WGSL = /* wgsl */ `
const PI = 3.14159265358979;
const MAX_RADIANCE = 16384.0;

struct Frame {
  // Jittered projection · view: where triangles land in the target.
  jitteredViewProj: mat4x4f,
  // Unjittered current and previous projection · view: motion vectors (DESIGN §4).
  viewProj: mat4x4f,
  prevViewProj: mat4x4f,
  // xyz = camera position; w = texture mip bias.
  cameraPosBias: vec4f,
  // xyz = unit direction towards the light.
  lightDir: vec4f,
  lightColor: vec4f,
  ambient: vec4f,
  // World → shadow-map clip space (orthographic, depth 0 at the light).
  lightViewProj: mat4x4f,
  // x = shadows on (0/1), y = shadow-map texel size in world units, z = depth bias.
  shadowParams: vec4f,
}

struct Object {
  model: mat4x4f,
  prevModel: mat4x4f,
  // Inverse transpose of model (normals).
  normalMatrix: mat4x4f,
  baseColor: vec4f,
  // rgb = emissive radiance; w = reactive strength (blended surfaces).
  emissiveReactive: vec4f,
  // roughness, metallic, alpha cutoff (−1 = none), normal scale.
  material: vec4f,
  // uv scale xy, unlit (0/1), has normal map (0/1).
  uvFlags: vec4f,
}

@group(0) @binding(0) var<uniform> frame: Frame;
@group(1) @binding(0) var<uniform> object: Object;
@group(2) @binding(0) var baseColorTexture: texture_2d<f32>;
@group(2) @binding(1) var normalTexture: texture_2d<f32>;
@group(2) @binding(2) var metallicRoughnessTexture: texture_2d<f32>;
@group(2) @binding(3) var emissiveTexture: texture_2d<f32>;
@group(2) @binding(4) var materialSampler: sampler;
// R = ambient occlusion (glTF occlusionTexture).
@group(2) @binding(5) var occlusionTexture: texture_2d<f32>;
@group(3) @binding(0) var shadowMap: texture_depth_2d;
@group(3) @binding(1) var shadowSampler: sampler_comparison;

struct VertexOut {
  @builtin(position) position: vec4f,
  @location(0) worldPos: vec3f,
  @location(1) normal: vec3f,
  @location(2) tangent: vec4f,
  @location(3) uv: vec2f,
  // Clip positions without jitter, now and in the previous frame (perspective-correct, so their
  // per-fragment ratio xy / w is exact for the surface point).
  @location(4) currClip: vec4f,
  @location(5) prevClip: vec4f,
}

@vertex
fn vs_main(
  @location(0) position: vec3f,
  @location(1) normal: vec3f,
  @location(2) uv: vec2f,
  @location(3) tangent: vec4f,
  // The same point in the previous frame (differs from position for skinned meshes only).
  @location(4) prevPosition: vec3f,
) -> VertexOut {
  let world = object.model * vec4f(position, 1.0);
  let prevWorld = object.prevModel * vec4f(prevPosition, 1.0);
  var out: VertexOut;
  out.position = frame.jitteredViewProj * world;
  out.worldPos = world.xyz;
  out.normal = (object.normalMatrix * vec4f(normal, 0.0)).xyz;
  out.tangent = vec4f((object.model * vec4f(tangent.xyz, 0.0)).xyz, tangent.w);
  out.uv = uv * object.uvFlags.xy;
  out.currClip = frame.viewProj * world;
  out.prevClip = frame.prevViewProj * prevWorld;
  return out;
}

/** Fraction of the sun visible from a surface point: 3×3 PCF of the shadow map, lit outside it. */
fn sunVisibility(worldPos: vec3f, n: vec3f) -> f32 {
  if (frame.shadowParams.x < 0.5) {
    return 1.0;
  }
  // Offset along the normal by a texel and a half: no self-shadowing acne on slopes.
  let p = frame.lightViewProj * vec4f(worldPos + n * frame.shadowParams.y * 1.5, 1.0);
  let uv = p.xy * vec2f(0.5, -0.5) + 0.5;
  if (any(uv < vec2f(0.0)) || any(uv > vec2f(1.0)) || p.z > 1.0) {
    return 1.0;
  }
  let texel = 1.0 / vec2f(textureDimensions(shadowMap));
  var sum = 0.0;
  for (var y = -1; y <= 1; y++) {
    for (var x = -1; x <= 1; x++) {
      let offset = vec2f(f32(x), f32(y)) * texel;
      sum += textureSampleCompareLevel(shadowMap, shadowSampler, uv + offset, p.z - frame.shadowParams.z);
    }
  }
  return sum / 9.0;
}

/**
 * True where the uvs do not vary across the pixel quad (constant uvs: a glTF primitive without
 * TEXCOORD_0 gets zeros). There the uv footprint is zero, and the anisotropic sampler's axis ratio
 * is 0/0: lavapipe returns NaN for every implicit-LOD sample (with maxAnisotropy 1 it does not).
 * Such pixels take level 0 explicitly, on any driver. The threshold (uv units) is under 1/200
 * texel of a 4096² texture, where the implicit LOD is level 0 anyway; other pixels are unchanged.
 */
fn pointFootprint(uv: vec2f) -> bool {
  let w = fwidth(uv);
  return max(w.x, w.y) < 1e-6;
}

/** A material texture at the implicit LOD (plus bias), or level 0 at a point footprint. */
fn sampleMaterial(t: texture_2d<f32>, uv: vec2f, bias: f32, point: bool) -> vec4f {
  var s = textureSampleBias(t, materialSampler, uv, bias);
  if (point) {
    s = textureSampleLevel(t, materialSampler, uv, 0.0);
  }
  return s;
}

fn shade(in: VertexOut, frontFacing: bool) -> vec4f {
  let bias = frame.cameraPosBias.w;
  // Sample everything first: implicit derivatives need uniform control flow.
  let point = pointFootprint(in.uv);
  let base = object.baseColor * sampleMaterial(baseColorTexture, in.uv, bias, point);
  let normalSample = sampleMaterial(normalTexture, in.uv, bias, point).xyz;
  let mr = sampleMaterial(metallicRoughnessTexture, in.uv, bias, point);
  let occlusion = sampleMaterial(occlusionTexture, in.uv, bias, point).r;
  let emissive = object.emissiveReactive.rgb *
    sampleMaterial(emissiveTexture, in.uv, bias, point).rgb;
  if (base.a < object.material.z) {
    discard;
  }
  if (object.uvFlags.z > 0.5) {
    return vec4f(min(base.rgb + emissive, vec3f(MAX_RADIANCE)), base.a);
  }
  var n = normalize(in.normal);
  if (!frontFacing) {
    n = -n;
  }
  if (object.uvFlags.w > 0.5) {
    let t = normalize(in.tangent.xyz - n * dot(n, in.tangent.xyz));
    let b = cross(n, t) * in.tangent.w;
    let m = vec3f((normalSample.xy * 2.0 - 1.0) * object.material.w, normalSample.z * 2.0 - 1.0);
    n = normalize(t * m.x + b * m.y + n * m.z);
  }
  let v = normalize(frame.cameraPosBias.xyz - in.worldPos);
  let l = frame.lightDir.xyz;
  let h = normalize(v + l);
  let nl = max(dot(n, l), 0.0);
  let nv = max(dot(n, v), 1e-4);
  let nh = max(dot(n, h), 0.0);
  let vh = max(dot(v, h), 0.0);
  let roughness = clamp(object.material.x * mr.g, 0.08, 1.0);
  let metallic = clamp(object.material.y * mr.b, 0.0, 1.0);
  // GGX distribution, Smith-Schlick visibility, Schlick Fresnel.
  let a = roughness * roughness;
  let a2 = a * a;
  let dd = nh * nh * (a2 - 1.0) + 1.0;
  let distribution = a2 / (PI * dd * dd);
  let k = a * 0.5;
  let visibility = 1.0 / ((nl * (1.0 - k) + k) * (nv * (1.0 - k) + k) * 4.0);
  let f0 = mix(vec3f(0.04), base.rgb, metallic);
  let fresnel = f0 + (1.0 - f0) * pow(1.0 - vh, 5.0);
  let specular = distribution * visibility * fresnel;
  let diffuse = base.rgb * (1.0 - metallic) / PI;
  let direct = (diffuse + specular) * frame.lightColor.rgb * nl * sunVisibility(in.worldPos, n);
  let ambient = frame.ambient.rgb * (base.rgb * (1.0 - metallic) + f0 * 0.5) * occlusion;
  // Grazing GGX peaks can exceed half-float range: keep highlights HDR but finite.
  return vec4f(min(direct + ambient + emissive, vec3f(MAX_RADIANCE)), base.a);
}

struct ShadowOut {
  @builtin(position) position: vec4f,
  @location(0) uv: vec2f,
}

@vertex
fn vs_shadow(@location(0) position: vec3f, @location(2) uv: vec2f) -> ShadowOut {
  var out: ShadowOut;
  out.position = frame.lightViewProj * object.model * vec4f(position, 1.0);
  out.uv = uv * object.uvFlags.xy;
  return out;
}

/** Alpha-masked casters (leaves, grates) cast the shadow of their texture, not of their cards. */
@fragment
fn fs_shadow_mask(in: ShadowOut) {
  let point = pointFootprint(in.uv);
  let alpha = object.baseColor.a * sampleMaterial(baseColorTexture, in.uv, 0.0, point).a;
  if (alpha < object.material.z) {
    discard;
  }
}

fn screenUv(clip: vec4f) -> vec2f {
  return clip.xy / clip.w * vec2f(0.5, -0.5) + 0.5;
}

struct InputsOut {
  @location(0) color: vec4f,
  @location(1) depth: f32,
  @location(2) motion: vec2f,
  @location(3) reactive: f32,
}

@fragment
fn fs_inputs(in: VertexOut, @builtin(front_facing) frontFacing: bool) -> InputsOut {
  let color = shade(in, frontFacing);
  var out: InputsOut;
  out.color = color;
  out.depth = in.position.z;
  out.motion = screenUv(in.prevClip) - screenUv(in.currClip);
  out.reactive = color.a * object.emissiveReactive.w;
  return out;
}

@fragment
fn fs_reference(in: VertexOut, @builtin(front_facing) frontFacing: bool) -> @location(0) vec4f {
  return shade(in, frontFacing);
}
`;

/** Copies the four input targets into vec4 storage buffers (GpuImage layout). */
export const GATHER_INPUTS_WGSL = /* wgsl */ `
struct Size { width: u32, height: u32 }
@group(0) @binding(0) var<uniform> size: Size;
@group(0) @binding(1) var colorTarget: texture_2d<f32>;
@group(0) @binding(2) var depthTarget: texture_2d<f32>;
@group(0) @binding(3) var motionTarget: texture_2d<f32>;
@group(0) @binding(4) var reactiveTarget: texture_2d<f32>;
@group(0) @binding(5) var<storage, read_write> colorOut: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> depthOut: array<vec4f>;
@group(0) @binding(7) var<storage, read_write> motionOut: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> reactiveOut: array<vec4f>;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x >= size.width || id.y >= size.height) {
    return;
  }
  let p = vec2i(id.xy);
  let i = id.y * size.width + id.x;
  colorOut[i] = vec4f(textureLoad(colorTarget, p, 0).rgb, 1.0);
  depthOut[i] = vec4f(textureLoad(depthTarget, p, 0).r, 0.0, 0.0, 1.0);
  motionOut[i] = vec4f(textureLoad(motionTarget, p, 0).rg, 0.0, 1.0);
  reactiveOut[i] = vec4f(textureLoad(reactiveTarget, p, 0).r, 0.0, 0.0, 1.0);
}
`;

/** Adds weight · sample into the ground-truth accumulator (or overwrites it for the first sample). */
export const ACCUMULATE_WGSL = /* wgsl */ `
struct Params { width: u32, height: u32, first: u32, weight: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var sampleTarget: texture_2d<f32>;
@group(0) @binding(2) var<storage, read_write> accumulator: array<vec4f>;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x >= params.width || id.y >= params.height) {
    return;
  }
  let i = id.y * params.width + id.x;
  let value = vec4f(textureLoad(sampleTarget, vec2i(id.xy), 0).rgb * params.weight, params.weight);
  if (params.first != 0u) {
    accumulator[i] = value;
  } else {
    accumulator[i] += value;
  }
}
`;
