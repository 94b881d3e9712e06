/**
 * The live demo: the data engine renders a scene at render resolution in the browser (jittered
 * color, depth, motion vectors, and a supersampled display-size "native" render), three upscalers
 * (bilinear, TAAU, the network) upscale every frame, and the canvas shows any two of the four
 * side by side under a draggable split. Quality mode, render scale (dynamic resolution: the
 * upscalers get smaller inputs as they come, without a reset), the network's debug views, GPU time
 * per pass (timestamp queries, where the browser has them), PSNR against native, and stepping one
 * frame at a time.
 *
 * URL parameters: `display=WxH` (default 960x540), `samples=n` (native's samples per pixel,
 * default 8), `scene=name`, `quality=mode`, `present=cpu` (draw through the CPU: see present.ts).
 */
import { createUpscaler, requestGpu, type Upscaler } from '../src/index.ts';
import { QUALITY_RATIOS, renderSizeFor, type Size } from '../src/core/quality.ts';
import type { FrameParams } from '../src/core/frame.ts';
import { createGpuTimer, type GpuTimer } from '../src/gpu/profiler.ts';
import { readGpuImage, type GpuImage } from '../src/gpu/gpu-image.ts';
import { psnr } from '../src/metrics/psnr.ts';
import { createSceneRenderer, type SceneRenderer } from '../src/scene/renderer.ts';
import { PROCEDURAL_SCENES, proceduralScene } from '../src/scene/procedural/scenes.ts';
import { loadGlbScene } from '../src/scene/gltf.ts';
import type { Scene } from '../src/scene/types.ts';
import { createNeuralResolver, type NeuralResolver } from '../src/nn/resolve/neural-resolver.ts';
import { readDebugViews } from '../src/nn/resolve/debug-views.ts';
import { createCpuPresenter, createPresenter } from './present.ts';

/** glTF scenes from assets/ (self-contained .glb files; authors and licenses in assets/README.md). */
const GLB_SCENES: Record<string, URL> = {
  'Fox (glTF)': new URL('../assets/gltf/animated/Fox.glb', import.meta.url),
  'DepthOfFieldExample (glTF)': new URL(
    '../assets/gltf/DepthOfFieldExample/DepthOfFieldExample.glb',
    import.meta.url,
  ),
};
const METHODS = ['bilinear', 'taau', 'neural'] as const;
type Method = (typeof METHODS)[number];
type View = Method | 'native';
/** Frames of the camera path; the demo loops over them (frame 0 is a reset). */
const LOOP = 480;
/** Render scales of dynamic resolution (of the quality mode's render size). */
const SCALES = [1, 0.85, 0.7, 0.55];

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const [dw, dh] = (params.get('display') ?? '960x540').split('x').map(Number) as [number, number];
const displaySize: Size = [dw, dh];
const samples = Number(params.get('samples') ?? 8);

const { device, features } = await requestGpu();
void device.lost.then((info) => {
  ui.status.textContent = `the GPU device was lost: ${info.message}`;
});
const canvas = $<HTMLCanvasElement>('frame');
[canvas.width, canvas.height] = displaySize;
const presenter =
  params.get('present') === 'cpu'
    ? createCpuPresenter(device, canvas)
    : createPresenter(device, canvas);

interface MethodState {
  up: Upscaler;
  timer?: GpuTimer;
  gpuMs: Map<string, number>;
  psnr?: number;
}
let scene: Scene;
let methods = new Map<Method, MethodState>();
let neuralResolver: NeuralResolver;
/** One renderer per render size in use (dynamic resolution switches between them). */
const renderers = new Map<string, SceneRenderer>();
let frameIndex = 0;
let framesDone = 0;
let lastNativePsnr = new Map<Method, number>();
let lastRenderSize: Size = [0, 0];
/** The latest frame's native render (undefined while a scene or mode loads). */
let nativeImage: GpuImage | undefined;
let paused = false;
let steps = 0;
let measureRequested = false;
/** A pending change of scene or mode (applied between frames), and the frame being drawn. */
let dirty: Promise<void> | undefined;
let inFlight: Promise<void> = Promise.resolve();

const ui = {
  scene: $<HTMLSelectElement>('scene'),
  left: $<HTMLSelectElement>('left'),
  right: $<HTMLSelectElement>('right'),
  quality: $<HTMLSelectElement>('quality'),
  scale: $<HTMLSelectElement>('scale'),
  debug: $<HTMLSelectElement>('debug'),
  split: $<HTMLInputElement>('split'),
  pause: $<HTMLButtonElement>('pause'),
  step: $<HTMLButtonElement>('step'),
  stats: $('stats'),
  status: $('status'),
  debugCanvas: $<HTMLCanvasElement>('debug-view'),
};
const option = (value: string, text = value) => new Option(text, value);
for (const name of [...Object.keys(PROCEDURAL_SCENES), ...Object.keys(GLB_SCENES)])
  ui.scene.add(option(name));
ui.scene.value = params.get('scene') ?? 'city';
for (const mode of Object.keys(QUALITY_RATIOS).filter((m) => m !== 'native'))
  ui.quality.add(option(mode, `${mode} (${QUALITY_RATIOS[mode as keyof typeof QUALITY_RATIOS]}×)`));
ui.quality.value = params.get('quality') ?? 'performance';
for (const s of SCALES) ui.scale.add(option(String(s), `${Math.round(s * 100)} %`));
ui.scale.add(option('auto', 'auto (cycles)'));

async function loadScene(name: string): Promise<Scene> {
  const url = GLB_SCENES[name];
  if (!url) return proceduralScene(name, 1);
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  return loadGlbScene(bytes, name, 1);
}

function destroyRenderers() {
  for (const r of renderers.values()) r.destroy();
  renderers.clear();
}

/** (Re)creates the upscalers for the quality mode: a new history, as a resize would. */
async function createUpscalers() {
  for (const m of methods.values()) {
    m.up.destroy();
    m.timer?.destroy();
  }
  const ratio = QUALITY_RATIOS[ui.quality.value as keyof typeof QUALITY_RATIOS];
  // The network through a resolver of our own, kept so that its debug views can be read.
  neuralResolver = await createNeuralResolver(device, {
    model: undefined,
    debugViews: true,
    renderSize: renderSizeFor(displaySize, ratio),
    displaySize,
  });
  methods = new Map();
  for (const method of METHODS) {
    const timer = features.timestampQuery ? createGpuTimer(device) : undefined;
    const up = await createUpscaler(device, {
      displaySize,
      quality: ratio,
      method,
      ...(method === 'neural' ? { resolver: neuralResolver } : {}),
      ...(timer ? { timer } : {}),
    });
    await up.ready();
    methods.set(method, { up, timer, gpuMs: new Map() });
  }
}

/** The renderer for this frame's render size (the mode's size times the render scale). */
function rendererFor(frame: number): SceneRenderer {
  const choice = ui.scale.value;
  const scale =
    choice === 'auto' ? SCALES[Math.floor(frame / 30) % SCALES.length]! : Number(choice);
  const ratio = QUALITY_RATIOS[ui.quality.value as keyof typeof QUALITY_RATIOS];
  // Never below a third of the display size (ratios stay within [1, 3]).
  const ratioNow = Math.min(3, ratio / scale);
  const key = ratioNow.toFixed(4);
  let renderer = renderers.get(key);
  if (!renderer) {
    renderer = createSceneRenderer(device, {
      scene,
      displaySize,
      ratio: ratioNow,
      samples,
      frames: LOOP,
    });
    renderers.set(key, renderer);
  }
  return renderer;
}

/** Applies a change of scene or quality mode between frames. */
function rebuild(what: 'scene' | 'quality') {
  dirty = Promise.all([dirty, inFlight]).then(async () => {
    ui.status.textContent = 'loading…';
    nativeImage = undefined;
    if (what === 'scene') scene = await loadScene(ui.scene.value);
    destroyRenderers();
    await createUpscalers();
    frameIndex = 0;
    ui.status.textContent = '';
  });
}

function image(view: View): GpuImage {
  return view === 'native' ? nativeImage! : methods.get(view)!.up.outputImage;
}

/** Renders, upscales and shows one frame. */
async function renderFrame() {
  const renderer = rendererFor(frameIndex);
  const { params: frameParams, gpu } = await renderer.renderFrame(frameIndex % LOOP);
  lastRenderSize = renderer.header.renderSize;
  nativeImage = gpu.reference!;
  const encoder = device.createCommandEncoder();
  const inputs: FrameParams & Pick<typeof gpu, 'color' | 'depth' | 'motion' | 'reactive'> = {
    ...frameParams,
    color: gpu.color,
    depth: gpu.depth,
    motion: gpu.motion,
    reactive: gpu.reactive,
  };
  for (const m of methods.values()) {
    m.up.dispatch(encoder, inputs);
    m.timer?.resolve(encoder);
  }
  device.queue.submit([encoder.finish()]);
  await present();
  for (const m of methods.values()) if (m.timer) m.gpuMs = await m.timer.read();
  if (paused || measureRequested || framesDone % 30 === 0) await measurePsnr();
  measureRequested = false;
  if (ui.debug.value !== 'off') await showDebugView(ui.debug.value);
  frameIndex++;
  framesDone++;
  showStats();
}

/** Shows the chosen pair of the latest frame (again, when the choice changes while paused). */
function present(): Promise<void> {
  const column = Math.round((Number(ui.split.value) / 1000) * displaySize[0]);
  return presenter.present(image(ui.left.value as View), image(ui.right.value as View), column);
}

/** PSNR of each method's frame against the native render (tonemapped display domain). */
async function measurePsnr() {
  const native = await readGpuImage(device, nativeImage!, 3);
  lastNativePsnr = new Map();
  for (const [method, m] of methods) {
    lastNativePsnr.set(method, psnr(await readGpuImage(device, m.up.outputImage, 3), native));
  }
}

async function showDebugView(name: string) {
  const views = await readDebugViews(device, neuralResolver, { spacing: 12 });
  const view = views[name]!;
  const pixels = new ImageData(view.width, view.height);
  for (let i = 0; i < view.width * view.height; i++) {
    for (let c = 0; c < 3; c++) pixels.data[i * 4 + c] = Math.round(view.data[i * 3 + c]! * 255);
    pixels.data[i * 4 + 3] = 255;
  }
  [ui.debugCanvas.width, ui.debugCanvas.height] = [view.width, view.height];
  ui.debugCanvas.getContext('2d')!.putImageData(pixels, 0, 0);
}

function showStats() {
  const passes = ['prepare', 'reproject', 'resolve', 'upscale', 'output'];
  const ms = (v: number | undefined) => (v === undefined ? '' : v.toFixed(3));
  const rows = [...methods].map(([method, m]) => {
    // The stages of a frame (the network's own passes are timed inside resolve as well).
    const total = passes.reduce((sum, p) => sum + (m.gpuMs.get(p) ?? 0), 0);
    const cells = passes.map((p) => `<td>${ms(m.gpuMs.get(p))}</td>`).join('');
    const db = lastNativePsnr.get(method);
    return `<tr><td>${method}</td><td>${db === undefined ? '' : db.toFixed(2)}</td>${cells}<td>${m.timer ? ms(total) : ''}</td></tr>`;
  });
  ui.stats.innerHTML =
    `<p>frame ${frameIndex % LOOP}, render ${lastRenderSize.join('×')} → display ${displaySize.join('×')}` +
    `${features.timestampQuery ? '' : '; this browser gives no timestamp queries (no GPU times)'}</p>` +
    `<table><tr><th>method</th><th>PSNR vs native dB</th>${passes.map((p) => `<th>${p} ms</th>`).join('')}<th>GPU ms</th></tr>${rows.join('')}</table>`;
}

for (const control of [ui.left, ui.right, ui.split]) {
  control.addEventListener('input', () => void (nativeImage && present()));
}
ui.scene.onchange = () => rebuild('scene');
ui.quality.onchange = () => rebuild('quality');
const togglePause = () => {
  paused = !paused;
  ui.pause.textContent = paused ? 'play' : 'pause';
  ui.step.disabled = !paused;
};
ui.pause.onclick = togglePause;
ui.step.onclick = () => steps++;
window.addEventListener('keydown', (e) => {
  if (e.key === ' ') togglePause();
  if (e.key === 'ArrowRight' && paused) steps++;
});
// Dragging on the picture moves the split.
canvas.addEventListener('pointermove', (e) => {
  if (e.buttons !== 1) return;
  const box = canvas.getBoundingClientRect();
  ui.split.value = String(Math.round(((e.clientX - box.left) / box.width) * 1000));
  if (nativeImage) void present();
});

/** Waiters of demo.settle(): resolved after the frame count they wait for. */
const waiters: { frame: number; resolve(): void }[] = [];

async function loop() {
  for (;;) {
    const pending = dirty;
    await pending;
    if (pending !== dirty) continue; // another change came in meanwhile: wait for it too
    if (!paused || steps > 0) {
      if (paused) steps--;
      try {
        inFlight = renderFrame();
        await inFlight;
      } catch (error) {
        ui.status.textContent = String(error);
        throw error;
      }
      for (const w of waiters.filter((w) => framesDone >= w.frame)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
    await new Promise(requestAnimationFrame);
  }
}

// For tests and the console: wait for frames, measure, read the numbers shown.
Object.assign(window, {
  demo: {
    /** Resolves once `n` more frames have been shown (steps them while paused). */
    settle(n = 1): Promise<void> {
      return new Promise<void>((resolve) => {
        waiters.push({ frame: framesDone + n, resolve });
        if (paused) steps += n;
      });
    },
    /** Draws the latest frame again with the current choices (after changing them by script). */
    redraw: () => present(),
    /** The numbers of the next frame, PSNR measured on it. */
    async stats() {
      measureRequested = true;
      await this.settle(1);
      return {
        frame: framesDone,
        renderSize: lastRenderSize,
        psnr: Object.fromEntries(lastNativePsnr),
        gpuMs: Object.fromEntries([...methods].map(([k, m]) => [k, Object.fromEntries(m.gpuMs)])),
      };
    },
  },
});

rebuild('scene');
void loop();
