/**
 * The comparison the tests and docs/QUALITY.md read (`?measure`): every method renders the same
 * frames of the example scene at one display size; the last frame of each is read back (linear,
 * before any output transform) next to a 4×4 supersampled render of the same frame. Each frame is
 * timed on the wall clock (from `render()` to the queue's `onSubmittedWorkDone()`) and, where the
 * device has timestamp queries, on the GPU: three's render passes (its own timestamp tracking)
 * plus Uplift's compute passes (the upscaler's GpuTimer).
 */
import * as THREE from 'three/webgpu';
import { createGpuTimer } from '../../src/gpu/profiler.ts';
import { createExampleScene } from './scene.ts';
import { createPipeline, METHODS, type Method } from './pipelines.ts';

/** The upscaler's top-level timer labels (the network's own passes are nested in 'resolve'). */
const STAGES = ['prepare', 'reproject', 'resolve', 'upscale', 'output'];

/** Samples per axis of the reference. */
const SUPERSAMPLE = 4;

export interface MethodResult {
  /** The last frame: linear RGBA float32, base64. */
  image: string;
  /** Wall time of each frame, ms. */
  frameMs: number[];
  /** GPU time of each frame (three's passes + Uplift's), ms; empty without timestamps. */
  gpuMs: number[];
}

export interface Measurement {
  displaySize: [number, number];
  frames: number;
  adapter: Record<string, string>;
  timestampQuery: boolean;
  /** Linear RGBA float32, base64. */
  reference: string;
  methods: Partial<Record<Method, MethodResult>>;
}

const halfToFloat = (() => {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const e = (h >> 10) & 31;
    const m = h & 1023;
    const v = e === 0 ? m * 2 ** -24 : e === 31 ? Infinity : (1 + m / 1024) * 2 ** (e - 15);
    table[h] = h & 0x8000 ? -v : v;
  }
  return table;
})();

function base64(data: Float32Array): string {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

async function readLinear(
  renderer: THREE.WebGPURenderer,
  target: THREE.RenderTarget,
): Promise<Float32Array> {
  const { width, height } = target;
  const halves = (await renderer.readRenderTargetPixelsAsync(
    target,
    0,
    0,
    width,
    height,
  )) as Uint16Array;
  return Float32Array.from(halves, (h) => halfToFloat[h]!);
}

/** Box filter by `factor` per axis (the supersampled reference down to display size). */
function downsample(rgba: Float32Array, width: number, height: number, factor: number) {
  const [w, h] = [width / factor, height / factor];
  const out = new Float32Array(w * h * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (Math.floor(y / factor) * w + Math.floor(x / factor)) * 4;
      for (let c = 0; c < 4; c++) out[o + c]! += rgba[(y * width + x) * 4 + c]! / factor ** 2;
    }
  }
  return out;
}

export async function measure(params: URLSearchParams): Promise<Measurement> {
  const [width, height] = (params.get('size') ?? '256x192').split('x').map(Number) as [
    number,
    number,
  ];
  const frames = Number(params.get('frames') ?? 16);
  const methods = (params.get('methods')?.split(',') ?? METHODS) as Method[];

  const canvas = document.createElement('canvas');
  document.body.append(canvas);
  const renderer = new THREE.WebGPURenderer({
    canvas,
    antialias: false,
    trackTimestamp: true,
    reversedDepthBuffer: params.has('reversedDepth'),
  });
  renderer.setPixelRatio(1);
  renderer.setSize(width, height);
  renderer.toneMapping = THREE.NoToneMapping;
  await renderer.init();
  const device = (renderer.backend as unknown as { device: GPUDevice }).device;
  const timestamps = device.features.has('timestamp-query');
  const { scene, camera, setFrame } = createExampleScene(width / height);
  const target = new THREE.RenderTarget(width, height, {
    type: THREE.HalfFloatType,
    depthBuffer: false,
  });
  const info = device.adapterInfo;

  const result: Measurement = {
    displaySize: [width, height],
    frames,
    adapter: {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
    },
    timestampQuery: timestamps,
    reference: '',
    methods: {},
  };
  for (const method of methods) {
    const timer = timestamps ? createGpuTimer(device) : undefined;
    const run = createPipeline(renderer, scene, camera, method, timer ? { timer } : {});
    run.pipeline.outputColorTransform = false;
    await run.ready();
    if (timestamps) await renderer.resolveTimestampsAsync(THREE.TimestampQuery.RENDER);
    const frameMs: number[] = [];
    const gpuMs: number[] = [];
    renderer.setRenderTarget(target);
    for (let i = 0; i < frames; i++) {
      // One frame per animation frame, as an app renders: three's node frame (and so a pass
      // node's scene render, an UpdateType.FRAME update) advances on requestAnimationFrame, and
      // a second render() in the same one would show the last frame's pass again.
      await new Promise((resolve) => requestAnimationFrame(resolve));
      setFrame(i);
      const start = performance.now();
      run.pipeline.render();
      await device.queue.onSubmittedWorkDone();
      frameMs.push(performance.now() - start);
      if (timer) {
        const threeMs = (await renderer.resolveTimestampsAsync(THREE.TimestampQuery.RENDER)) ?? 0;
        let upliftMs = 0;
        for (const [stage, ms] of await timer.read()) if (STAGES.includes(stage)) upliftMs += ms;
        gpuMs.push(threeMs + upliftMs);
      }
    }
    renderer.setRenderTarget(null);
    const image = base64(await readLinear(renderer, target));
    result.methods[method] = { image, frameMs, gpuMs };
    run.dispose();
    timer?.destroy();
  }

  setFrame(frames - 1);
  const big = new THREE.RenderTarget(width * SUPERSAMPLE, height * SUPERSAMPLE, {
    type: THREE.HalfFloatType,
  });
  renderer.setRenderTarget(big);
  renderer.render(scene, camera);
  renderer.setRenderTarget(null);
  const supersampled = await readLinear(renderer, big);
  result.reference = base64(downsample(supersampled, big.width, big.height, SUPERSAMPLE));
  big.dispose();
  target.dispose();
  renderer.dispose();
  return result;
}
