/**
 * Frame generation benchmark: one generated frame (heuristic and neural methods, the neural one
 * with He-initialised weights: the time does not depend on the values; t = 0.5) at 1920×1080 from
 * display-size previous and current frames and render-size motion and depth (Performance 2× and
 * native), on the upscaler benchmark's synthetic inputs, uploaded once as float textures and
 * rotated between frames. GPU time of the whole frame from timestamp queries ("frame": dilate,
 * splat, resolve, then compose or features, network, blend and output; the textures are read in
 * place), and of its stages on a second generator; CPU wall time per frame.
 */
import { QUALITY_RATIOS, renderSizeFor, type QualityMode, type Size } from '../src/core/quality.ts';
import { createGpuTimer } from '../src/gpu/profiler.ts';
import { uploadImage } from '../src/gpu/resources.ts';
import {
  createFrameGenerator,
  type FrameGenerator,
  type FrameGeneratorMethod,
} from '../src/frame-generator.ts';
import { FRAMEGEN_NETWORK_V1 } from '../src/nn/framegen-network.ts';
import { initWeights } from '../src/nn/weights.ts';
import { syntheticInputs } from './upscaler.ts';
import { measureFrames, measuredCase } from './measure.ts';
import { runCases, type BenchCase, type BenchSettings } from './stats.ts';

interface FrameGenerationCase {
  displaySize: Size;
  /** The quality mode of the render-size motion and depth. */
  quality: QualityMode;
  method: FrameGeneratorMethod;
  /** Neural: the head, blend and output in one pass (default) or in separate passes. */
  fuseHead?: boolean;
  /**
   * Neural: the shipped INT8 (post-training quantized) weights on the INT8 kernels, instead of
   * network v1 with He-initialised f32 weights.
   */
  int8?: boolean;
}

/** The shipped quantized weights (relative to the repository root, where the benchmarks run). */
const INT8_WEIGHTS = 'weights/framegen-v1-w8a8.uplift';

const INPUT_SETS = 3;

function cases(quick: boolean): FrameGenerationCase[] {
  const sizes: Omit<FrameGenerationCase, 'method'>[] = quick
    ? [{ displaySize: [48, 32], quality: 'performance' }]
    : [
        { displaySize: [1920, 1080], quality: 'performance' },
        { displaySize: [1920, 1080], quality: 'native' },
      ];
  // The separate head passes beside the fused ones, at the first size: what the fusion saves.
  return [
    ...(['heuristic', 'neural'] as const).flatMap((method) =>
      sizes.map((size) => ({ ...size, method })),
    ),
    { ...sizes[0]!, method: 'neural' as const, fuseHead: false },
    { ...sizes[0]!, method: 'neural' as const, int8: true },
  ];
}

const caseName = (c: FrameGenerationCase) =>
  `framegen-${c.method}${c.int8 ? '-int8' : ''}${c.fuseHead === false ? '+separate-head' : ''} ${c.displaySize.join('x')} ${c.quality}`;

async function benchCase(
  device: GPUDevice,
  c: FrameGenerationCase,
  settings: BenchSettings,
): Promise<BenchCase> {
  const renderSize = renderSizeFor(c.displaySize, QUALITY_RATIOS[c.quality]);
  const sets = Array.from({ length: INPUT_SETS }, (_, k) => {
    const display = syntheticInputs(c.displaySize, 2000 + k);
    const render = syntheticInputs(renderSize, 3000 + k);
    return {
      previous: uploadImage(device, display.color),
      current: uploadImage(device, syntheticInputs(c.displaySize, 2100 + k).color),
      motion: uploadImage(device, render.motion),
      depth: uploadImage(device, render.depth),
    };
  });
  const timer = device.features.has('timestamp-query') ? createGpuTimer(device, 16) : undefined;
  // Two generators: one timing its stages, one exactly as an app creates it (pipelined frames).
  const create = (withTimer: boolean) =>
    createFrameGenerator(device, {
      displaySize: c.displaySize,
      method: c.method,
      fuseHead: c.fuseHead ?? true,
      ...(withTimer && timer ? { timer } : {}),
      ...(c.method === 'neural'
        ? {
            weights: c.int8
              ? INT8_WEIGHTS
              : { graph: FRAMEGEN_NETWORK_V1, parameters: initWeights(FRAMEGEN_NETWORK_V1, 1) },
          }
        : {}),
    });
  const generators = [await create(true)];
  try {
    generators.push(await create(false));
    const [timed, plain] = generators as [FrameGenerator, FrameGenerator];
    const samples = await measureFrames(device, timer, settings, (encoder, i, t) => {
      (t ? timed : plain).dispatch(encoder, {
        ...sets[i % INPUT_SETS]!,
        motionScale: [1, 1],
        cameraNear: 0.1,
        cameraFar: 1000,
        t: 0.5,
        reset: false,
      });
    });
    const gpuMs = samples.gpu.summaries();
    const params = {
      method: c.method,
      fuseHead: c.fuseHead ?? true,
      int8: c.int8 ?? false,
      display: c.displaySize.join('x'),
      render: renderSize.join('x'),
      quality: c.quality,
    };
    return measuredCase(caseName(c), params, samples, gpuMs);
  } finally {
    for (const generator of generators) generator.destroy();
    timer?.destroy();
    for (const set of sets) for (const t of Object.values(set)) t.destroy();
  }
}

/** Every case (a failing case is recorded with its error; the others still run). */
export function benchFrameGeneration(
  device: GPUDevice,
  settings: BenchSettings,
): Promise<BenchCase[]> {
  return runCases('frame-generation', cases(settings.quick), caseName, settings, (c) =>
    benchCase(device, c, settings),
  );
}
