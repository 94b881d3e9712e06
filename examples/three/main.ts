/**
 * The three.js example: the scene of scene.ts upscaled 2× by Uplift inside three's
 * RenderPipeline, with a menu to switch to Uplift TAAU, three's TAAUNode, a bilinear stretch or
 * the native render. `?measure` runs the comparison the tests read (measure.ts) instead.
 */
import * as THREE from 'three/webgpu';
import { createExampleScene } from './scene.ts';
import { createPipeline, METHODS, type Method, type MethodPipeline } from './pipelines.ts';

const params = new URLSearchParams(location.search);

async function interactive(): Promise<void> {
  const canvas = document.querySelector<HTMLCanvasElement>('#view')!;
  const select = document.querySelector<HTMLSelectElement>('#method')!;
  const stats = document.querySelector<HTMLElement>('#stats')!;
  const width = Number(params.get('width') ?? 960);
  const height = Number(params.get('height') ?? 540);
  const renderer = new THREE.WebGPURenderer({ canvas, antialias: false });
  renderer.setPixelRatio(1);
  renderer.setSize(width, height);
  await renderer.init();
  const { scene, camera, setFrame } = createExampleScene(width / height);

  for (const m of METHODS) select.add(new Option(m, m));
  select.value = params.get('method') ?? 'uplift-neural';
  let current: MethodPipeline | null = null;
  const use = async (method: Method) => {
    current?.dispose();
    current = null;
    const next = createPipeline(renderer, scene, camera, method);
    await next.ready();
    current = next;
  };
  select.onchange = () => void use(select.value as Method);
  await use(select.value as Method);

  let frame = 0;
  let last = performance.now();
  const loop = () => {
    if (current) {
      setFrame(frame++);
      current.pipeline.render();
      const now = performance.now();
      stats.textContent = `${select.value} · ${(now - last).toFixed(1)} ms/frame`;
      last = now;
    }
    requestAnimationFrame(loop);
  };
  loop();
}

if (params.has('measure')) {
  const { measure } = await import('./measure.ts');
  measure(params).then(
    (r) => (window as unknown as { __report(v: unknown): void }).__report(r),
    (e: unknown) =>
      (window as unknown as { __report(v: unknown): void }).__report({
        error: String((e as Error)?.stack ?? e),
      }),
  );
} else {
  interactive().catch((e: unknown) => {
    document.body.textContent = String(e);
    throw e;
  });
}
