/**
 * Upscaler benchmark: createUpscaler per method (bilinear, Lanczos, TAAU, TAAU + RCAS, neural
 * with network v2 (or another architecture) at He-initialised weights — f32, f16 where the adapter has it, and INT8 with
 * those weights quantized: the time does not depend on the values) and
 * display size / quality mode, on synthetic but realistic inputs (smooth HDR color, smooth depth,
 * motion of a pixel or two), uploaded once as float textures and rotated between frames. GPU time
 * of each stage (prepare, reproject | upscale, resolve, output — none where the resolve writes
 * the output, as Uplift's do without sharpening) and of the whole frame from
 * timestamp queries; CPU wall time per frame (encode + submit + queue done).
 */
import { defaultInt8Kernels } from '../src/nn/int8-network.ts';
import { defaultFrameParams } from '../src/core/frame.ts';
import { createImage, type Image } from '../src/core/image.ts';
import { renderSizeFor, QUALITY_RATIOS, type QualityMode, type Size } from '../src/core/quality.ts';
import { mulberry32 } from '../src/core/random.ts';
import { createGpuTimer } from '../src/gpu/profiler.ts';
import { uploadImage } from '../src/gpu/resources.ts';
import { caseGraph } from './network.ts';
import { createNeuralResolver } from '../src/nn/resolve/neural-resolver.ts';
import type { FilterBlendBisect } from '../src/nn/resolve/filter-blend.ts';
import type { ReprojectFeaturesBisect } from '../src/nn/resolve/reproject-features.ts';
import type { NetworkPrecision } from '../src/core/upscaler-options.ts';
import { quantizedNetwork } from './quantized-model.ts';
import { initWeights } from '../src/nn/weights.ts';
import {
  createTaauResolver,
  createUpscaler,
  type Upscaler,
  type UpscalerMethod,
} from '../src/upscaler.ts';
import { DEFAULT_HISTORY_FORMAT, type ImageFormat } from '../src/core/image.ts';
import { measureFrames, measuredCase } from './measure.ts';
import { runCases, type BenchCase, type BenchSettings } from './stats.ts';

/** One upscaler configuration to measure. */
export interface UpscalerCase {
  method: UpscalerMethod;
  /** RCAS sharpness, undefined = off. */
  sharpness?: number;
  displaySize: Size;
  quality: QualityMode;
  /** Network arithmetic of method 'neural'. */
  precision?: NetworkPrecision;
  /** Method 'neural': the architecture, a key of ARCHITECTURES (default v2). */
  network?: string;
  /**
   * Temporal methods: how history and state are stored (default rgba16float, the frame API's);
   * rgba32float cases measure what the f16 storage saves, in the same run.
   */
  historyFormat?: ImageFormat;
  /**
   * Method 'neural', INT8: false keeps the filter + blend as its own pass where the network's last
   * layer could run it (network v3), to measure what that fusion saves in the same run.
   */
  lastLayerFilterBlend?: boolean;
  /**
   * Method 'neural', INT8: true computes the features in the network's first layer where it can
   * (network v3, timer label `nn features + first layer`; the frame's default is the features
   * pass, FEATURES_FIRST_LAYER_BY_DEFAULT), to measure that fusion in the same run.
   */
  featuresFirstLayer?: boolean;
  /**
   * Method 'neural': false runs the upscaler's reproject pass (stage `reproject`) instead of the
   * default reprojection in the features pass (timer label `nn reproject + features`;
   * src/nn/resolve/reproject-features.ts), to measure that fusion in the same run.
   */
  reprojectInFeatures?: boolean;
  /**
   * Method 'neural', INT8: the network on the subgroup-matrix kernels (tensor cores), or on the
   * mixed kernels (matrices for the ops they once measured faster on: v2's head) instead of the
   * default dot4I8Packed.
   */
  int8Kernels?: 'subgroup-matrix' | 'mixed';
  /**
   * Method 'neural', INT8: Infinity runs every conv3x3 on the 16×8 tile (the default takes 16×16
   * from CONV3X3_LARGE_TILE_FROM output pixels on), to measure the larger tile in the same run.
   */
  conv3x3LargeTileFrom?: number;
  /**
   * Method 'neural', INT8: false runs network v2's up1 as its own kernel instead of in dec1's
   * halo (the default since 2026-12-07: src/nn/ops/int8/producer-in-halo.ts), to measure that
   * fusion in the same run.
   */
  producersInHalos?: false;
  /**
   * The same case measured a second time later in the run (named `+again`; nothing else changes):
   * the first case of a network in a process measured 5–10 µs slower than later ones running the
   * same kernels (NVIDIA H100, docs/PERFORMANCE.md 2026-12-07).
   */
  again?: true;
  /**
   * Method 'neural': the model's coverage blend k (GraphDescription.coverageBlend; the shipped v3a
   * has 0.5), to measure what the coverage costs the filter in the same run.
   */
  coverageBlend?: number;
  /**
   * Temporal methods without sharpening: false keeps the output pass after the resolve (the
   * resolve otherwise writes the output itself), to measure what folding it saves in the same run.
   */
  foldOutput?: false;
  /**
   * Method 'neural': the filter + blend (pass or last layer) with a part left out, to time the
   * rest (src/nn/resolve/filter-blend.ts `FilterBlendBisect`; the outputs are wrong).
   */
  filterBlendBisect?: FilterBlendBisect;
  /**
   * Method 'neural': the reproject + features pass with a part left out, to time the rest
   * (src/nn/resolve/reproject-features.ts `ReprojectFeaturesBisect`; the outputs are wrong).
   */
  reprojectFeaturesBisect?: ReprojectFeaturesBisect;
}

/** Synthetic render-size inputs of one frame. */
export interface SyntheticInputs {
  color: Image;
  depth: Image;
  motion: Image;
}

/** Different input sets rotated between frames, so repeated frames do not just hit the cache. */
const INPUT_SETS = 3;

/**
 * Smooth, realistic-looking render inputs: a few low-frequency waves per channel with HDR
 * highlights up to ~3, depth in [0.2, 0.8], motion up to ~1.5 render pixels in UV units.
 */
export function syntheticInputs([width, height]: Size, seed: number): SyntheticInputs {
  const random = mulberry32(seed);
  const wave = () => {
    const fx = 1 + random() * 6;
    const fy = 1 + random() * 4;
    const phase = random() * 2 * Math.PI;
    return (u: number, v: number) => Math.sin(2 * Math.PI * (fx * u + fy * v) + phase);
  };
  const [r, g, b, highlight, depthWave, mx, my] = Array.from({ length: 7 }, wave);
  const color = createImage(width, height, 4);
  const depth = createImage(width, height, 1);
  const motion = createImage(width, height, 2);
  for (let y = 0; y < height; y++) {
    const v = (y + 0.5) / height;
    for (let x = 0; x < width; x++) {
      const u = (x + 0.5) / width;
      const i = y * width + x;
      const boost = 1 + 3 * Math.max(0, highlight!(u, v) - 0.8) * 5;
      color.data[4 * i] = (0.45 + 0.35 * r!(u, v)) * boost;
      color.data[4 * i + 1] = (0.45 + 0.35 * g!(u, v)) * boost;
      color.data[4 * i + 2] = (0.45 + 0.35 * b!(u, v)) * boost;
      color.data[4 * i + 3] = 1;
      depth.data[i] = 0.5 + 0.3 * depthWave!(u, v);
      motion.data[2 * i] = (1.5 * mx!(u, v)) / width;
      motion.data[2 * i + 1] = (1.5 * my!(u, v)) / height;
    }
  }
  return { color, depth, motion };
}

/** The cases of a full run (neural f16 only where the adapter has shader-f16), or tiny ones. */
export function upscalerCases(quick: boolean, hasF16: boolean): UpscalerCase[] {
  const methods: Omit<UpscalerCase, 'displaySize' | 'quality'>[] = [
    { method: 'bilinear' },
    { method: 'lanczos' },
    { method: 'taau' },
    { method: 'taau', historyFormat: 'rgba16float' },
    { method: 'taau', sharpness: 0.5 },
    { method: 'taau', foldOutput: false },
    { method: 'neural', precision: 'f32' },
    ...(hasF16 && !quick ? [{ method: 'neural' as const, precision: 'f16' as const }] : []),
    { method: 'neural', precision: 'int8' },
    { method: 'neural', precision: 'int8', historyFormat: 'rgba16float' },
    { method: 'neural', precision: 'int8', foldOutput: false },
  ];
  const targets: { displaySize: Size; quality: QualityMode }[] = quick
    ? [
        { displaySize: [48, 32], quality: 'performance' },
        { displaySize: [48, 32], quality: 'quality' },
      ]
    : [
        { displaySize: [1920, 1080], quality: 'performance' },
        { displaySize: [1920, 1080], quality: 'quality' },
        { displaySize: [3840, 2160], quality: 'performance' },
      ];
  return targets.flatMap((target) => methods.map((m) => ({ ...m, ...target })));
}

/**
 * "taau+rcas 1920x1080 performance", "neural-f32 1920x1080 quality", "neural-int8+f16-history
 * 1920x1080 performance", "neural-int8-v3a+filter-blend-pass 1920x1080 performance",
 * "neural-int8-v3a+features-first-layer 1920x1080 performance".
 */
export function upscalerCaseName(c: UpscalerCase): string {
  let method: string = c.method;
  if (c.sharpness !== undefined) method += '+rcas';
  if (c.precision) method += `-${c.precision}`;
  if (c.network && c.network !== 'v2') method += `-${c.network}`;
  if (c.historyFormat === 'rgba16float') method += '+f16-history';
  if (c.lastLayerFilterBlend === false) method += '+filter-blend-pass';
  if (c.lastLayerFilterBlend === true) method += '+last-layer-filter-blend';
  if (c.featuresFirstLayer === false) method += '+features-pass';
  if (c.featuresFirstLayer === true) method += '+features-first-layer';
  if (c.reprojectInFeatures === true) method += '+reproject-in-features';
  if (c.reprojectInFeatures === false) method += '+reproject-pass';
  if (c.foldOutput === false) method += '+output-pass';
  if (c.int8Kernels === 'subgroup-matrix') method += '+matrix';
  if (c.int8Kernels === 'mixed') method += '+mixed';
  if (c.conv3x3LargeTileFrom === Infinity) method += '+tile-16x8';
  else if (c.conv3x3LargeTileFrom !== undefined)
    method += `+tile-16x16-from-${c.conv3x3LargeTileFrom}`;
  if (c.producersInHalos === false) method += '+no-halo-producer';
  if (c.coverageBlend !== undefined) method += `+coverage-${c.coverageBlend}`;
  if (c.filterBlendBisect) method += `+filter-blend-${c.filterBlendBisect}`;
  if (c.reprojectFeaturesBisect) method += `+features-${c.reprojectFeaturesBisect}`;
  if (c.again) method += '+again';
  return `${method} ${c.displaySize.join('x')} ${c.quality}`;
}

/** Measures one case on `device`. */
export async function benchUpscalerCase(
  device: GPUDevice,
  c: UpscalerCase,
  settings: BenchSettings,
): Promise<BenchCase> {
  const renderSize = renderSizeFor(c.displaySize, QUALITY_RATIOS[c.quality]);
  const textures = Array.from({ length: INPUT_SETS }, (_, k) => {
    const inputs = syntheticInputs(renderSize, 1000 + k);
    return {
      color: uploadImage(device, inputs.color),
      depth: uploadImage(device, inputs.depth),
      motion: uploadImage(device, inputs.motion),
    };
  });
  const timer = device.features.has('timestamp-query') ? createGpuTimer(device, 16) : undefined;
  // Two upscalers: one timing its stages, one exactly as an app creates it (pipelined frames).
  const upscalers: Upscaler[] = [];
  const create = async (withTimer: boolean) => {
    // The neural resolver is passed in, not loaded by path, so that bundles contain it.
    const architecture = caseGraph(c.network);
    const graph =
      c.coverageBlend === undefined
        ? architecture
        : { ...architecture, coverageBlend: c.coverageBlend };
    const resolver =
      c.method === 'neural'
        ? await createNeuralResolver(device, {
            model:
              c.precision === 'int8'
                ? quantizedNetwork(graph)
                : { graph, parameters: initWeights(graph, 1) },
            precision: c.precision,
            historyFormat: c.historyFormat,
            lastLayerFilterBlend: c.lastLayerFilterBlend,
            featuresFirstLayer: c.featuresFirstLayer,
            reprojectInFeatures: c.reprojectInFeatures,
            foldOutput: c.foldOutput,
            int8Kernels: c.int8Kernels,
            conv3x3LargeTileFrom: c.conv3x3LargeTileFrom,
            ...(c.producersInHalos === false ? { producersInHalos: false } : {}),
            ...(c.filterBlendBisect ? { filterBlendBisect: c.filterBlendBisect } : {}),
            ...(c.reprojectFeaturesBisect
              ? { reprojectFeaturesBisect: c.reprojectFeaturesBisect }
              : {}),
          })
        : c.method === 'taau' && (c.historyFormat || c.foldOutput === false)
          ? createTaauResolver(device, {}, c.historyFormat, { foldOutput: c.foldOutput })
          : undefined;
    try {
      const options = { displaySize: c.displaySize, renderSize, method: c.method, resolver };
      const up = await createUpscaler(device, {
        ...options,
        sharpness: c.sharpness,
        timer: withTimer ? timer : undefined,
      });
      upscalers.push(up);
      return up;
    } catch (error) {
      resolver?.destroy(); // the upscaler destroys it, but there is none
      throw error;
    }
  };
  try {
    const timed = await create(true);
    const plain = await create(false);
    const params = defaultFrameParams();
    const samples = await measureFrames(device, timer, settings, (encoder, i, t) => {
      const up = t ? timed : plain;
      up.dispatch(encoder, {
        ...params,
        ...textures[i % INPUT_SETS]!,
        jitter: up.jitter(i),
        reset: i === 0,
        frameTimeDelta: 1 / 60,
      });
    });
    const gpuMs = samples.gpu.summaries();
    const displayPixels = c.displaySize[0] * c.displaySize[1];
    const frameMs = gpuMs['frame']?.median;
    const caseParams = {
      method: c.method,
      rcas: c.sharpness !== undefined,
      ...(c.sharpness !== undefined ? { sharpness: c.sharpness } : {}),
      ...(c.precision ? { precision: c.precision } : {}),
      ...(c.method === 'neural' ? { network: c.network ?? 'v2' } : {}),
      ...(c.lastLayerFilterBlend !== undefined
        ? { lastLayerFilterBlend: c.lastLayerFilterBlend }
        : {}),
      ...(c.featuresFirstLayer !== undefined ? { featuresFirstLayer: c.featuresFirstLayer } : {}),
      ...(c.reprojectInFeatures !== undefined
        ? { reprojectInFeatures: c.reprojectInFeatures }
        : {}),
      ...(c.foldOutput === false ? { foldOutput: false } : {}),
      ...(c.conv3x3LargeTileFrom !== undefined
        ? { conv3x3LargeTileFrom: String(c.conv3x3LargeTileFrom) }
        : {}),
      ...(c.coverageBlend !== undefined ? { coverageBlend: c.coverageBlend } : {}),
      ...(c.producersInHalos === false ? { producersInHalos: false } : {}),
      ...(c.filterBlendBisect ? { filterBlendBisect: c.filterBlendBisect } : {}),
      ...(c.reprojectFeaturesBisect ? { reprojectFeaturesBisect: c.reprojectFeaturesBisect } : {}),
      // The kernels the INT8 network ran on.
      ...(c.method === 'neural' && c.precision === 'int8'
        ? { int8Kernels: c.int8Kernels ?? defaultInt8Kernels() }
        : {}),
      ...(c.method === 'taau' || c.method === 'neural'
        ? { historyFormat: c.historyFormat ?? DEFAULT_HISTORY_FORMAT }
        : {}),
      quality: c.quality,
      display: c.displaySize.join('x'),
      render: renderSize.join('x'),
    };
    const derived = frameMs
      ? { displayMegapixelsPerSecond: displayPixels / (frameMs * 1e3) }
      : undefined;
    return measuredCase(upscalerCaseName(c), caseParams, samples, gpuMs, derived);
  } finally {
    for (const up of upscalers) up.destroy();
    timer?.destroy();
    for (const set of textures) for (const t of Object.values(set)) t.destroy();
  }
}

/** Every case (a failing case is recorded with its error; the others still run). */
export function benchUpscaler(device: GPUDevice, settings: BenchSettings): Promise<BenchCase[]> {
  const cases = upscalerCases(settings.quick, device.features.has('shader-f16'));
  return runCases('upscaler', cases, upscalerCaseName, settings, (c) =>
    benchUpscalerCase(device, c, settings),
  );
}
