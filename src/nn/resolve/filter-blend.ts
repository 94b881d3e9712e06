/**
 * The KPN filter and the history blend in one pass (display resolution), as inference runs them:
 * per pixel the output activations, the oriented-Gaussian filter of the jittered render samples
 * and the blend with the rectified reprojected history, writing the new history and the new
 * recurrent state. The filtered color stays in registers: the two-pass form (kpn-filter.ts, then
 * blend.ts) writes it as a display-size vec4 f32 image and reads it back, and reads the raw
 * outputs and the render neighbourhood twice. Training keeps the two passes, because the blend's
 * backward reads the filtered image. Same WGSL functions as those passes; the reprojected
 * history it reads and the history and state it writes may each be rgba32float or rgba16float
 * (the resolver's are rgba16float). CPU reference: `kpnFilterBlendCpu` in
 * src/reference/nn/frame.ts, then `storedImage` for the format written. Given the frame's output
 * targets (`FilterBlendTargets.output`), it also writes the output from the new history, as the
 * output pass does without sharpening (src/gpu/passes/output.ts `wgslFoldedOutput`), and the
 * frame records no output pass.
 */
import { createKernel, groupsFor } from '../../gpu/kernel.ts';
import { formatOf, wgslImages, type GpuImage, type ImageFormat } from '../../gpu/gpu-image.ts';
import { BISECT_NEVER, TILE, WGSL_COMMON, wgslPixelMain } from '../../gpu/wgsl.ts';
import { uniformBlock, type UniformValues } from '../../gpu/uniforms.ts';
import type { GpuTensor } from '../tensor.ts';
import { paddedSize } from '../../core/neural-frame.ts';
import type { Size } from '../../core/quality.ts';
import { WGSL_FRAME, WGSL_RAW_AT, WGSL_RENDER_COLOR } from './wgsl.ts';
import { WGSL_KPN_WINDOW, checkRawShape } from './kpn-filter.ts';
import { WGSL_RECTIFY } from './blend.ts';
import {
  foldedOutputResources,
  wgslFoldedOutput,
  type FoldedOutput,
} from '../../gpu/passes/output.ts';

/** The filter's fields and the blend's (reset): the uniforms the per-pixel function reads. */
export const FILTER_BLEND_FIELDS = {
  width: 'u32',
  height: 'u32',
  renderWidth: 'u32',
  renderHeight: 'u32',
  paddedWidth: 'u32',
  paddedHeight: 'u32',
  jitterX: 'f32',
  jitterY: 'f32',
  ratioX: 'f32',
  ratioY: 'f32',
  reset: 'u32',
  historyGuard: 'f32',
  coveragePower: 'f32',
} as const;

const PARAMS = uniformBlock(FILTER_BLEND_FIELDS);

/**
 * Benchmarks only: the filter + blend with one part left out, to time the rest (the outputs are
 * wrong). `no-window` filters with the render pixel's own sample instead of the 4×4 window's
 * walks, `no-rectify` blends the history unrectified, `no-history-read` blends a constant
 * instead of the reprojected history, `no-writes` computes everything but stores only where the
 * new history's red is a value it never takes. A part skipped at run time stays in the shader
 * behind a condition no dispatch meets (BISECT_NEVER), as the int8 kernels' bisections do
 * (src/nn/ops/int8/common.ts `Conv3x3Bisect`), so its registers still count.
 */
export type FilterBlendBisect = 'no-window' | 'no-rectify' | 'no-history-read' | 'no-writes';
export const FILTER_BLEND_BISECTS: readonly FilterBlendBisect[] = [
  'no-window',
  'no-rectify',
  'no-history-read',
  'no-writes',
];

const never = BISECT_NEVER;

/**
 * The filter + blend of one display pixel: `filterBlendPixel(p, o)` reads the raw outputs of p
 * through `rawAt` and writes the new history and state at display index o (and, with
 * `foldOutput`, the output). Needs `rawAt`, the bindings of `wgslFilterBlendBindings` (with the
 * output texture when `foldOutput`), WGSL_COMMON and a uniform block `u` with
 * FILTER_BLEND_FIELDS. Shared by this pass (rawAt reading the raw output's planes) and the
 * network's last layer with this epilogue (./last-layer-filter-blend.ts, rawAt reading its
 * registers).
 */
export const wgslFilterBlendPixel = (foldOutput: boolean, bisect?: FilterBlendBisect) => {
  const window =
    bisect === 'no-window'
      ? /* wgsl */ `var f = Filtered(renderColor(i32(renderPixelOf(p.x, u.renderWidth, u.width)),
    i32(renderPixelOf(p.y, u.renderHeight, u.height))), 1.0);
  if (${never}) { f = filterWindow(p, s1, s2, rawAt(2u, p)); }`
      : 'let f = filterWindow(p, s1, s2, rawAt(2u, p));';
  const history =
    bisect === 'no-history-read'
      ? `var reprojected = vec4f(0.5, 0.5, 0.5, 1.0);
  if (${never}) { reprojected = historyAt(o); }`
      : 'let reprojected = historyAt(o);';
  const blend =
    bisect === 'no-rectify'
      ? `var blended = filtered.rgb;
  if (${never}) { blended = blendWithHistory(p, filtered, reprojected); }
  else if (historyValid(reprojected.a, u.reset)) { blended += filtered.a * (reprojected.rgb - blended); }`
      : 'let blended = blendWithHistory(p, filtered, reprojected);';
  const stores = `storeStateOut(o, newState);
  storeHistoryOut(o, newHistory);${foldOutput ? '\n  foldOutput(p, o, newHistory);' : ''}`;
  return /* wgsl */ `
${WGSL_FRAME}
${WGSL_KPN_WINDOW}
${WGSL_RECTIFY}

fn filterBlendPixel(p: vec2u, o: u32) {
  let s1 = SIGMA_MIN + softplus(rawAt(0u, p));
  let s2 = SIGMA_MIN + softplus(rawAt(1u, p));
  ${window}
  let filtered = vec4f(f.color, coverageAlphaOf(f.coverage, sigmoid(rawAt(3u, p))).x);
  let newState = vec4f(tanhSafe(rawAt(4u, p)), tanhSafe(rawAt(5u, p)), tanhSafe(rawAt(6u, p)),
                       tanhSafe(rawAt(7u, p)));
  ${history}
  ${blend}
  let newHistory = vec4f(blended, 1.0);
  ${
    bisect === 'no-writes'
      ? `if (${never} || newHistory.r + newState.x == -1.5e-38) {
    ${stores}
  }`
      : stores
  }
}
`;
};

/**
 * The bindings `filterBlendPixel` reads and writes, from @binding(first): the prepared color, the
 * reprojected history (`input`), the new history and state (`output`) and, with `outputTexture`,
 * the folded output's three (`wgslFoldedOutput`). `filterBlendResources` gives their buffers.
 * `renderColor`: the WGSL of `renderColor(x, y)` (default WGSL_RENDER_COLOR, from the buffer).
 */
export const wgslFilterBlendBindings = (
  first: number,
  input: ImageFormat,
  output: ImageFormat,
  outputTexture: GPUTextureFormat | undefined,
  renderColor = WGSL_RENDER_COLOR,
) => /* wgsl */ `@group(0) @binding(${first}) var<storage, read> color: array<vec4f>;
${renderColor}
${wgslImages([
  { binding: first + 1, name: 'history', access: 'read', format: input },
  { binding: first + 2, name: 'historyOut', access: 'read_write', format: output },
  { binding: first + 3, name: 'stateOut', access: 'read_write', format: output },
])}
${outputTexture ? wgslFoldedOutput(first + 4, outputTexture, output) : ''}`;

/**
 * The resources of `wgslFilterBlendBindings`, in order; the folded output's are checked against
 * the display size first (RangeErrors naming `where`).
 */
export function filterBlendResources(
  where: string,
  inputs: FilterBlendInputs,
  targets: FilterBlendTargets,
  display: Size,
): (GPUBuffer | GPUTextureView)[] {
  const { output } = targets;
  return [
    inputs.color.buffer,
    inputs.history.buffer,
    targets.history.buffer,
    targets.state.buffer,
    ...(output ? foldedOutputResources(where, output, display) : []),
  ];
}

const code = (
  input: ImageFormat,
  output: ImageFormat,
  outputTexture?: GPUTextureFormat,
  bisect?: FilterBlendBisect,
) => /* wgsl */ `
${PARAMS.wgsl}
@group(0) @binding(1) var<storage, read> raw: array<f32>;
${wgslFilterBlendBindings(2, input, output, outputTexture)}
${WGSL_COMMON}
${WGSL_RAW_AT}
${wgslFilterBlendPixel(outputTexture !== undefined, bisect)}

${wgslPixelMain(/* wgsl */ `
  filterBlendPixel(id.xy, id.y * u.width + id.x);`)}
`;

/** What the fused pass reads besides the raw network output. */
export interface FilterBlendInputs {
  /** Prepared color (render size): the filter's samples and the rectification box. */
  readonly color: GpuImage;
  /** Reprojected history (display size). */
  readonly history: GpuImage;
  readonly jitter: readonly [number, number];
  readonly reset: boolean;
  /** The model's history guard in box ranges (GraphDescription.historyGuard); absent or 0: none. */
  readonly historyGuard?: number;
  /** The model's coverage blend k (GraphDescription.coverageBlend); absent or 0: none. */
  readonly coverageBlend?: number;
  /** Benchmarks only: a part left out (FilterBlendBisect; the outputs are wrong). */
  readonly bisect?: FilterBlendBisect;
}

/**
 * The fused pass's outputs (display size): the new history (rgb, a = 1) and recurrent state, and
 * optionally the frame's output (written from the new history: the output pass folded in).
 */
export interface FilterBlendTargets {
  readonly history: GpuImage;
  readonly state: GpuImage;
  readonly output?: FoldedOutput;
}

/**
 * Checks the display-size images against the history target (RangeErrors naming the image) and
 * returns the uniform values of FILTER_BLEND_FIELDS for this frame.
 */
export function filterBlendUniforms(
  where: string,
  inputs: FilterBlendInputs,
  targets: FilterBlendTargets,
): UniformValues<typeof FILTER_BLEND_FIELDS> {
  const display: Size = [targets.history.width, targets.history.height];
  for (const [name, image] of [
    ['reprojected history', inputs.history],
    ['state target', targets.state],
  ] as const) {
    if (image.width !== display[0] || image.height !== display[1]) {
      throw new RangeError(
        `${where}: ${name} is ${image.width}x${image.height}, the history target ${display[0]}x${display[1]}`,
      );
    }
  }
  if (formatOf(targets.state) !== formatOf(targets.history)) {
    throw new RangeError(
      `${where}: the history target (${formatOf(targets.history)}) and state target (${formatOf(targets.state)}) must share a format`,
    );
  }
  const [pw, ph] = paddedSize(display);
  const { color } = inputs;
  return {
    width: display[0],
    height: display[1],
    renderWidth: color.width,
    renderHeight: color.height,
    paddedWidth: pw,
    paddedHeight: ph,
    jitterX: inputs.jitter[0],
    jitterY: inputs.jitter[1],
    ratioX: display[0] / color.width,
    ratioY: display[1] / color.height,
    reset: inputs.reset,
    historyGuard: inputs.historyGuard ?? 0,
    coveragePower: inputs.coverageBlend ?? 0,
  };
}

/**
 * The pass's kernel for a reprojected history in `input` and targets in `output`; with
 * `outputTexture`, the one that also writes the frame's output to a texture of that format.
 */
export function filterBlendKernel(
  input: ImageFormat,
  output: ImageFormat,
  outputTexture?: GPUTextureFormat,
  bisect?: FilterBlendBisect,
): { label: string; code: string } {
  const label = outputTexture
    ? `nn kpn filter + blend + output ${outputTexture}`
    : 'nn kpn filter + blend';
  return {
    label: bisect ? `${label} (${bisect})` : label,
    code: code(input, output, outputTexture, bisect),
  };
}

/** Records the fused filter + blend into `pass`; `raw` is the padded network output. */
export function encodeKpnFilterBlend(
  device: GPUDevice,
  pass: GPUComputePassEncoder,
  raw: GpuTensor,
  inputs: FilterBlendInputs,
  targets: FilterBlendTargets,
): void {
  const display: Size = [targets.history.width, targets.history.height];
  checkRawShape(raw, display);
  const uniforms = filterBlendUniforms('filter + blend', inputs, targets);
  const resources = filterBlendResources('filter + blend', inputs, targets, display);
  const kernel = createKernel(
    device,
    filterBlendKernel(
      formatOf(inputs.history),
      formatOf(targets.history),
      targets.output?.texture.format,
      inputs.bisect,
    ),
  );
  kernel.dispatch(
    pass,
    [groupsFor(display[0], TILE), groupsFor(display[1], TILE)],
    [raw.buffer, ...resources],
    PARAMS.pack(uniforms),
  );
}
