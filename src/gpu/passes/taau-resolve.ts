/**
 * Heuristic TAAU resolve (display resolution), the FSR 2-class baseline: Lanczos-2 upsample of the
 * jittered samples, YCoCg neighbourhood clamp of the reprojected history, accumulation weight and
 * thin-feature locks in the recurrent state, disocclusion / reactive → drop history, luma
 * instability → slower accumulation, blend. The algorithm is documented step by step in its CPU
 * reference, src/reference/taau-resolve.ts. The reprojected images and the outputs may each be
 * rgba32float or rgba16float (the frame API's are rgba16float: `storedImage` on the CPU). Given
 * the frame's output targets, it also writes the output from the new history, as the output pass
 * does without sharpening (./output.ts `wgslFoldedOutput`; CPU: `outputCpu` of the stored
 * history), and the frame records no output pass.
 */
import { createKernel, groupsFor } from '../kernel.ts';
import { formatOf, wgslImages, type ImageFormat } from '../gpu-image.ts';
import type { PreparedFrame } from './prepare.ts';
import type { Reprojected } from './reproject.ts';
import { DEFAULT_TAAU_SETTINGS, type TaauSettings } from '../../core/taau-settings.ts';
import { INSIDE, MAX_TONEMAPPED } from '../../core/pass-constants.ts';
import { TILE, WGSL_COMMON, wgslPixelMain } from '../wgsl.ts';
import { uniformBlock } from '../uniforms.ts';
import { foldedOutputResources, wgslFoldedOutput, type FoldedOutput } from './output.ts';

const PARAMS = uniformBlock({
  width: 'u32',
  height: 'u32',
  renderWidth: 'u32',
  renderHeight: 'u32',
  reset: 'u32',
  jitterX: 'f32',
  jitterY: 'f32',
  maxAccumulation: 'f32',
  motionFalloff: 'f32',
  sampleSigma: 'f32',
  wideWeight: 'f32',
  clampGamma: 'f32',
  rectifyScale: 'f32',
  instabilityScale: 'f32',
  instabilityStrength: 'f32',
  lockFrames: 'f32',
  lockSimilarity: 'f32',
  lockContrast: 'f32',
  lockRelease: 'f32',
});

const code = (
  input: ImageFormat,
  output: ImageFormat,
  outputTexture?: GPUTextureFormat,
) => /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> color: array<vec4f>;
@group(0) @binding(2) var<storage, read> motion: array<vec4f>;
${wgslImages([
  { binding: 3, name: 'history', access: 'read', format: input },
  { binding: 4, name: 'state', access: 'read', format: input },
  { binding: 5, name: 'historyOut', access: 'read_write', format: output },
  { binding: 6, name: 'stateOut', access: 'read_write', format: output },
])}
${outputTexture ? wgslFoldedOutput(7, outputTexture, output) : ''}
${WGSL_COMMON}
${wgslPixelMain(/* wgsl */ `
  let o = id.y * u.width + id.x;
  let renderSize = vec2f(f32(u.renderWidth), f32(u.renderHeight));
  let displaySize = vec2f(f32(u.width), f32(u.height));
  let jitter = vec2f(u.jitterX, u.jitterY);
  let p = (vec2f(id.xy) + 0.5) * renderSize / displaySize;
  let nearest = clamp(floor(p - jitter), vec2f(0.0), renderSize - 1.0);
  let cx = i32(nearest.x);
  let cy = i32(nearest.y);

  let toDisplay = displaySize / renderSize;
  let inv2Sigma2 = 0.5 / (u.sampleSigma * u.sampleSigma);
  var sum = vec3f(0.0);
  var weightSum = 0.0;
  var splat = vec3f(0.0);
  var splatWeight = 0.0;
  var mn = vec3f(3.4e38);
  var mx = vec3f(-3.4e38);
  var rgbMin = vec3f(3.4e38);
  var rgbMax = vec3f(-3.4e38);
  var m1 = vec3f(0.0);
  var m2 = vec3f(0.0);
  let centreLuma = color[texelAt(u.renderWidth, u.renderHeight, cx, cy)].a;
  var similar = 0u;
  var neighbourLuma = 0.0;
  for (var dy = -1; dy <= 1; dy++) {
    for (var dx = -1; dx <= 1; dx++) {
      let sx = cx + dx;
      let sy = cy + dy;
      let sample = color[texelAt(u.renderWidth, u.renderHeight, sx, sy)];
      let rgb = sample.rgb;
      let offset = vec2f(f32(sx), f32(sy)) + 0.5 + jitter - p;
      let w = lanczos2(offset.x) * lanczos2(offset.y);
      weightSum += w;
      sum += w * rgb;
      let e = offset * toDisplay;
      let g = exp(-dot(e, e) * inv2Sigma2);
      splatWeight += g;
      splat += g * rgb;
      rgbMin = min(rgbMin, rgb);
      rgbMax = max(rgbMax, rgb);
      let ycc = rgbToYCoCg(rgb);
      mn = min(mn, ycc);
      mx = max(mx, ycc);
      m1 += ycc;
      m2 += ycc * ycc;
      if (dx != 0 || dy != 0) {
        let l = sample.a;
        neighbourLuma += l / 8.0;
        if (abs(l - centreLuma) < u.lockSimilarity * max(l, centreLuma) + 0.01) { similar++; }
      }
    }
  }
  let mean = m1 / 9.0;
  let sigma = sqrt(max(m2 / 9.0 - mean * mean, vec3f(0.0)));
  let lo = max(mn, mean - u.clampGamma * sigma);
  let hi = min(mx, mean + u.clampGamma * sigma);

  let rx = renderPixelOf(id.x, u.renderWidth, u.width);
  let ry = renderPixelOf(id.y, u.renderHeight, u.height);
  let cue = motion[ry * u.renderWidth + rx];
  let reprojected = historyAt(o);
  var trust = reprojected.a * (1.0 - cue.z) * (1.0 - cue.w);
  if (u.reset != 0u) { trust = 0.0; }
  let speed = length(cue.xy * displaySize);
  let frameWeight = 2.0 * PI * u.sampleSigma * u.sampleSigma * f32(u.renderWidth * u.renderHeight)
                  / f32(u.width * u.height);
  let cap = u.maxAccumulation * frameWeight / (1.0 + u.motionFalloff * speed);
  let previous = stateAt(o);
  var accumulated = min(previous.x, cap) * trust;
  let lock = previous.y * trust;

  let wideWeight = u.wideWeight * (1.0 - saturate(accumulated / frameWeight)) + 1e-3;
  let wide = clamp(sum / weightSum, rgbMin, rgbMax);
  let upY = rgbToYCoCg((splat + wideWeight * wide) / (splatWeight + wideWeight));

  let hY = rgbToYCoCg(reprojected.rgb);
  let clamped = clamp(hY, lo, hi);
  let rect = clamped + (hY - clamped) * lock;
  accumulated *= 1.0 - saturate(abs(rect.x - hY.x) / u.rectifyScale);

  var sampleWeight = splatWeight + wideWeight;
  let dNow = upY.x - rect.x;
  let dBefore = previous.z - rect.x;
  var oscillation = 0.0;
  if (dNow * dBefore < 0.0) { oscillation = min(abs(dNow), abs(dBefore)); }
  sampleWeight *= 1.0 - u.instabilityStrength * trust * saturate(oscillation / u.instabilityScale);

  let alpha = sampleWeight / (accumulated + sampleWeight);
  let outRgb = yCoCgToRgb(rect + (upY - rect) * alpha);
  let newHistory = vec4f(clamp(outRgb, vec3f(0.0), vec3f(${MAX_TONEMAPPED})), 1.0);
  storeHistoryOut(o, newHistory);${outputTexture ? '\n  foldOutput(id.xy, o, newHistory);' : ''}

  let n = (nearest + 0.5 + jitter - p) * toDisplay;
  let inside = abs(n.x) < ${INSIDE} && abs(n.y) < ${INSIDE};
  let thin = similar <= 2u && abs(centreLuma - neighbourLuma) > u.lockContrast;
  var newLock = lock * (1.0 - 1.0 / u.lockFrames);
  var lockedLuma = previous.w;
  if (inside && thin) {
    newLock = 1.0;
    lockedLuma = centreLuma;
  } else if (inside && abs(centreLuma - lockedLuma) > u.lockRelease) {
    newLock = 0.0;
  }
  storeStateOut(o, vec4f(min(accumulated + sampleWeight, cap), newLock, upY.x, lockedLuma));`)}
`;

/**
 * The resolve's kernel for reprojected images in `input` and outputs in `output`; with
 * `outputTexture`, the one that also writes the frame's output to a texture of that format.
 */
export function taauResolveKernel(
  input: ImageFormat,
  output: ImageFormat,
  outputTexture?: GPUTextureFormat,
): { label: string; code: string } {
  return {
    label: outputTexture ? `taau resolve + output ${outputTexture}` : 'taau resolve',
    code: code(input, output, outputTexture),
  };
}

/** What one resolve step reads besides the images. */
export interface TaauResolveParams {
  jitter: readonly [number, number];
  reset: boolean;
  settings?: Readonly<TaauSettings>;
}

/**
 * Records one TAAU resolve: `prepared` is render size; `reprojected` and `output` display size.
 * `output` must not alias the reprojected images. With `folded`, the resolve also writes the
 * frame's output (the output pass without sharpening).
 */
export function encodeTaauResolve(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  prepared: PreparedFrame,
  reprojected: Reprojected,
  params: TaauResolveParams,
  output: Reprojected,
  folded?: FoldedOutput,
): void {
  const s = params.settings ?? DEFAULT_TAAU_SETTINGS;
  const { width, height } = output.history;
  const input = formatOf(reprojected.history);
  const written = formatOf(output.history);
  if (formatOf(reprojected.state) !== input || formatOf(output.state) !== written) {
    throw new RangeError(
      `taau resolve: history and state must share a format (reprojected ${input} / ${formatOf(reprojected.state)}, output ${written} / ${formatOf(output.state)})`,
    );
  }
  const outputs = folded ? foldedOutputResources('taau resolve', folded, [width, height]) : [];
  const kernel = createKernel(device, taauResolveKernel(input, written, folded?.texture.format));
  kernel.dispatch(
    pass,
    [groupsFor(width, TILE), groupsFor(height, TILE)],
    [
      prepared.color.buffer,
      prepared.motion.buffer,
      reprojected.history.buffer,
      reprojected.state.buffer,
      output.history.buffer,
      output.state.buffer,
      ...outputs,
    ],
    PARAMS.pack({
      width,
      height,
      renderWidth: prepared.color.width,
      renderHeight: prepared.color.height,
      reset: params.reset,
      jitterX: params.jitter[0],
      jitterY: params.jitter[1],
      maxAccumulation: s.maxAccumulation,
      motionFalloff: s.motionFalloff,
      sampleSigma: s.sampleSigma,
      wideWeight: s.wideWeight,
      clampGamma: s.clampGamma,
      rectifyScale: s.rectifyScale,
      instabilityScale: s.instabilityScale,
      instabilityStrength: s.instabilityStrength,
      lockFrames: s.lockFrames,
      lockSimilarity: s.lockSimilarity,
      lockContrast: s.lockContrast,
      lockRelease: s.lockRelease,
    }),
  );
}
