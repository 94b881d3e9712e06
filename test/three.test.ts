// uplift/three: the three.js node in headless Chromium (WebGPU on SwiftShader). The example page
// (examples/three, built with Vite) renders its scene through three's RenderPipeline with the
// Uplift node, neural and TAAU, and the last frame of each is compared with a 4×4 supersampled
// render of the same frame: both must beat a bilinear upscale of the same render-size pass. Also:
// reversed depth, no console errors, and three staying out of the other entries.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';
import {
  buildExample,
  decodeImage,
  runExample,
  score,
  type MethodScore,
} from '../examples/three/harness.ts';
import type { Method } from '../examples/three/pipelines.ts';

// Small and short: neural runs ~2 s a frame on SwiftShader at this size.
const QUERY = 'measure&size=192x144&frames=8';

let scores: Map<Method, MethodScore>;

before(
  () => {
    const log = buildExample();
    assert.doesNotMatch(log, /externalized for browser compatibility|error/i, log);
  },
  { timeout: 120_000 },
);

test('package: uplift/three is an entry, three an optional peer, and no other entry imports three', async () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  assert.deepEqual(pkg.exports['./three'], {
    types: './dist/integrations/three/index.d.ts',
    default: './dist/integrations/three/index.js',
  });
  assert.ok(pkg.peerDependencies.three, 'three is a peer dependency');
  assert.equal(pkg.peerDependenciesMeta.three.optional, true);
  assert.ok(pkg.devDependencies.three, 'three is a development dependency');

  const bundle = async (entry: string) =>
    build({
      entryPoints: [entry],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      metafile: true,
      external: ['webgpu'],
      logLevel: 'silent',
    });
  // The front door bundles without three.
  const core = await bundle('src/index.ts');
  const inputs = Object.keys(core.metafile.inputs);
  assert.ok(!inputs.some((f) => f.includes('node_modules/three')), inputs.join(' '));
  // The integration reaches three only through its public entries.
  const three = await bundle('src/integrations/three/index.ts');
  const used = Object.keys(three.metafile.inputs).filter((f) => f.includes('node_modules/three'));
  assert.ok(
    used.length > 0 && used.every((f) => /three\/build\/three\.(webgpu|tsl|core)\.js$/.test(f)),
    used.join(' '),
  );
});

test(
  'three.js scene in Chromium: Uplift neural and TAAU through RenderPipeline beat bilinear against a supersampled render',
  { timeout: 300_000 },
  async (t) => {
    const { measurement: m, errors } = await runExample(
      `${QUERY}&methods=uplift-neural,uplift-taau,bilinear,native`,
      280_000,
    );
    assert.equal(m.error, undefined, m.error);
    assert.deepEqual(errors, [], 'no console errors');
    scores = new Map(score(m).map((s) => [s.method, s]));
    const psnr = (method: Method) => scores.get(method)!.psnr;
    const line = [...scores.values()].map((s) => `${s.method} ${s.psnr.toFixed(2)} dB`).join(', ');
    t.diagnostic(line);
    for (const [method, r] of Object.entries(m.methods)) {
      const image = decodeImage(r.image, m.displaySize);
      let sum = 0;
      for (const v of image.data) {
        assert.ok(Number.isFinite(v), `${method}: finite`);
        sum += v;
      }
      assert.ok(sum / image.data.length > 0.1, `${method}: not black (${sum / image.data.length})`);
    }
    // Measured (SwiftShader): neural 27.35, TAAU 26.99, bilinear 25.74, native (no AA) 32.11 dB.
    assert.ok(psnr('uplift-neural') > psnr('bilinear') + 1, line);
    assert.ok(psnr('uplift-taau') > psnr('bilinear') + 0.4, line);
    assert.ok(psnr('native') > psnr('uplift-neural'), `the native render is the ceiling: ${line}`);
  },
);

test(
  'three.js with reversedDepthBuffer: the node reads inverted depth (TAAU as good as with standard depth)',
  { timeout: 120_000 },
  async (t) => {
    const { measurement: m, errors } = await runExample(
      `${QUERY}&methods=uplift-taau,bilinear&reversedDepth`,
      110_000,
    );
    assert.equal(m.error, undefined, m.error);
    assert.deepEqual(errors, [], 'no console errors');
    const reversed = new Map(score(m).map((s) => [s.method, s]));
    const taau = reversed.get('uplift-taau')!.psnr;
    t.diagnostic(`reversed depth: TAAU ${taau.toFixed(2)} dB`);
    assert.ok(taau > reversed.get('bilinear')!.psnr + 0.4, `reversed: ${taau}`);
    if (scores) {
      const standard = scores.get('uplift-taau')!.psnr;
      assert.ok(Math.abs(taau - standard) < 0.3, `reversed ${taau} vs standard ${standard} dB`);
    }
  },
);
