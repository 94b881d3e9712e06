// The installable package: `npm pack` (which builds dist/), install the tarball into an empty
// project, and there a plain Node ESM script — no tsx, no flags — imports `uplift` and runs TAAU
// and the neural method on this machine's adapter; the `uplift` command runs from the built CLI;
// a strict TypeScript consumer type-checks against the shipped declarations (skipLibCheck off);
// a Vite build of a page that imports `uplift` runs both methods in Chromium, served as static
// files (the shipped weights among them, emitted by Vite as an asset).
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openInBrowser, serveDirectory } from './helpers/browser.ts';

const repo = resolve('.');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const SCRIPT = `
import { createUpscaler } from 'uplift';
import { requestGpu, uploadImage, readImage } from 'uplift/gpu';
import { analyticSequence } from 'uplift/scene';

const { device } = await requestGpu();
const seq = analyticSequence({ displaySize: [32, 24], ratio: 2, frames: 3, referenceSamples: 1 });
const result = {};
for (const method of ['taau', 'neural']) {
  const up = await createUpscaler(device, {
    displaySize: seq.header.displaySize,
    quality: 2,
    method,
    // method 'neural' without a model: the shipped weights, found beside the built files.
  });
  let out;
  for (const frame of seq.frames) {
    const color = uploadImage(device, frame.images.color);
    const depth = uploadImage(device, frame.images.depth);
    const motion = uploadImage(device, frame.images.motion);
    const encoder = device.createCommandEncoder();
    up.dispatch(encoder, { ...frame.params, color, depth, motion });
    device.queue.submit([encoder.finish()]);
    out = await readImage(device, up.output);
  }
  let sum = 0;
  let finite = true;
  for (const v of out.data) { finite &&= Number.isFinite(v); sum += v; }
  result[method] = { width: out.width, height: out.height, finite, mean: sum / out.data.length };
  up.destroy();
}
console.log(JSON.stringify(result));
process.exit(0);
`;

const CONSUMER = `
import { createUpscaler, type Upscaler, type UpscalerOptions } from 'uplift';
import { requestGpu, type GpuContext } from 'uplift/gpu';

export async function make(): Promise<Upscaler> {
  const gpu: GpuContext = await requestGpu();
  const options: UpscalerOptions = { displaySize: [64, 32], quality: 'performance', method: 'taau' };
  return createUpscaler(gpu.device, options);
}
`;

// A page as a web app writes it: only `uplift` and `uplift/gpu`, a smooth pattern rendered at
// render resolution with the upscaler's jitter (DESIGN §4: render pixel (x, y) shows the scene at
// (x + 0.5 + jx, y + 0.5 + jy)), no motion; it reports each method's output against the pattern
// at display pixel centers.
const PAGE = `
import { createUpscaler } from 'uplift';
import { requestGpu, uploadImage, readImage } from 'uplift/gpu';

const pattern = (u, v) => [0.2 + 0.6 * u, 0.8 - 0.6 * v, 0.5 + 0.3 * Math.sin(6.2832 * u) * Math.cos(6.2832 * v)];

async function run() {
  const { device, runtime } = await requestGpu();
  const result = { runtime };
  for (const method of ['taau', 'neural']) {
    // method 'neural' without a model: the shipped weights, a Vite asset beside the bundle.
    const up = await createUpscaler(device, { displaySize: [32, 24], quality: 'performance', method });
    const [w, h] = up.renderSize;
    const depth = uploadImage(device, { width: w, height: h, channels: 1, data: new Float32Array(w * h).fill(0.5) });
    const motion = uploadImage(device, { width: w, height: h, channels: 2, data: new Float32Array(w * h * 2) });
    for (let i = 0; i < 8; i++) {
      const jitter = up.jitter(i);
      const data = new Float32Array(w * h * 3);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          data.set(pattern((x + 0.5 + jitter[0]) / w, (y + 0.5 + jitter[1]) / h), (y * w + x) * 3);
      const color = uploadImage(device, { width: w, height: h, channels: 3, data });
      const encoder = device.createCommandEncoder();
      up.dispatch(encoder, {
        color, depth, motion, jitter, reset: i === 0, exposure: 1, motionScale: [1, 1],
        cameraNear: 0.1, cameraFar: 1000, fovY: 1, frameTimeDelta: 1 / 60,
      });
      device.queue.submit([encoder.finish()]);
    }
    const out = await readImage(device, up.output);
    let finite = true, error = 0, min = Infinity, max = -Infinity;
    for (let y = 0; y < out.height; y++)
      for (let x = 0; x < out.width; x++) {
        const want = pattern((x + 0.5) / out.width, (y + 0.5) / out.height);
        for (let c = 0; c < 3; c++) {
          const v = out.data[(y * out.width + x) * out.channels + c];
          finite &&= Number.isFinite(v);
          min = Math.min(min, v);
          max = Math.max(max, v);
          error += Math.abs(v - want[c]);
        }
      }
    result[method] = { width: out.width, height: out.height, finite, min, max, meanError: error / (out.width * out.height * 3) };
    up.destroy();
  }
  return result;
}
run().then(
  (r) => window.__report(r),
  (e) => window.__report({ error: String((e && e.stack) || e) }),
);
`;

let work: string;
let app: string;

// One tarball and one installed project for every test here (npm pack builds dist/: the slow part).
before(
  () => {
    work = mkdtempSync(join(tmpdir(), 'uplift-pack-'));
    execFileSync(npm, ['pack', '--pack-destination', work, '--silent'], {
      cwd: repo,
      stdio: 'pipe',
    });
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack wrote a tarball');

    app = join(work, 'app');
    mkdirSync(join(app, 'node_modules'), { recursive: true });
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'app', type: 'module', private: true }),
    );
    execFileSync(
      npm,
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-save', join(work, tarball)],
      { cwd: app, stdio: 'pipe' },
    );
    // The optional peer (Dawn), the consumer's type packages and Vite come from this checkout,
    // linked after the install: npm prunes what its lockfile does not list, through links too.
    for (const dep of ['webgpu', '@webgpu', '@types', 'vite']) {
      symlinkSync(join(repo, 'node_modules', dep), join(app, 'node_modules', dep));
    }
  },
  { timeout: 300_000 },
);

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test(
  'npm pack → install into an empty project: plain Node ESM runs TAAU and neural; strict TypeScript accepts the declarations',
  { timeout: 600_000 },
  () => {
    const installed = readdirSync(join(app, 'node_modules', 'uplift'));
    assert.ok(installed.includes('dist') && installed.includes('weights'), installed.join(' '));
    assert.ok(!installed.includes('src') && !installed.includes('test'), 'sources stay out');

    writeFileSync(join(app, 'run.mjs'), SCRIPT);
    const run = spawnSync(process.execPath, ['run.mjs'], { cwd: app, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    for (const method of ['taau', 'neural']) {
      const r = result[method];
      assert.deepEqual([r.width, r.height], [32, 24], method);
      assert.ok(r.finite && r.mean > 0.01, `${method}: ${JSON.stringify(r)}`);
    }

    // The command, from the built CLI.
    const info = spawnSync(
      process.execPath,
      [
        'node_modules/uplift/bin/uplift.mjs',
        'info',
        'node_modules/uplift/weights/uplift-v2.uplift',
      ],
      { cwd: app, encoding: 'utf8' },
    );
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stdout, /uplift-kpn v2: 132945 parameters/);

    writeFileSync(join(app, 'consumer.ts'), CONSUMER);
    const tsc = spawnSync(
      process.execPath,
      [
        join(repo, 'node_modules/typescript/bin/tsc'),
        '--noEmit',
        '--strict',
        '--skipLibCheck',
        'false',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
        '--types',
        'node,@webgpu/types',
        'consumer.ts',
      ],
      { cwd: app, encoding: 'utf8' },
    );
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  },
);

test(
  'the installed package in a Vite app: the build has no Node module, and the page runs TAAU and neural (shipped weights) in Chromium',
  { timeout: 300_000 },
  async () => {
    const web = join(app, 'web');
    mkdirSync(web);
    writeFileSync(
      join(web, 'index.html'),
      '<!doctype html>\n<meta charset="utf-8">\n<script type="module" src="./main.js"></script>\n',
    );
    writeFileSync(join(web, 'main.js'), PAGE);
    const build = spawnSync(
      process.execPath,
      [join(app, 'node_modules/vite/bin/vite.js'), 'build', web],
      { cwd: app, encoding: 'utf8' },
    );
    const log = build.stdout + build.stderr;
    assert.equal(build.status, 0, log);
    // Nothing Node-only reached the bundle: no module Vite had to stub, no Dawn chunk.
    assert.doesNotMatch(log, /externalized for browser compatibility|warn/i, log);
    const dist = join(web, 'dist');
    const assets = readdirSync(join(dist, 'assets'));
    // One upscaler weights asset; the frame generator's shipped weights are an asset of its own
    // (Vite emits every `new URL(…, import.meta.url)` of the package; a page fetches only what runs).
    const weights = assets.filter((f) => f.endsWith('.uplift'));
    const upscalerWeights = weights.filter((f) => f.startsWith('uplift-v3-int8-'));
    assert.equal(upscalerWeights.length, 1, `one upscaler weights asset: ${assets.join(' ')}`);
    assert.ok(
      weights.every((f) => f.startsWith('uplift-v3-int8-') || f.startsWith('framegen-v1-')),
      `only shipped weights: ${assets.join(' ')}`,
    );
    for (const js of assets.filter((f) => f.endsWith('.js'))) {
      assert.doesNotMatch(js, /webgpu/, `no chunk for the webgpu package: ${assets.join(' ')}`);
      assert.doesNotMatch(readFileSync(join(dist, 'assets', js), 'utf8'), /createRequire/, js);
    }

    const server = await serveDirectory(dist);
    try {
      const r = await openInBrowser<{
        error?: string;
        runtime: string;
        [method: string]: unknown;
      }>(server.url, 180_000);
      assert.equal(r.error, undefined, r.error);
      assert.equal(r.runtime, 'browser');
      for (const method of ['taau', 'neural']) {
        const m = r[method] as {
          width: number;
          height: number;
          finite: boolean;
          min: number;
          max: number;
          meanError: number;
        };
        assert.deepEqual([m.width, m.height], [32, 24], method);
        assert.ok(m.finite, `${method}: ${JSON.stringify(m)}`);
        // The pattern spans [0.2, 0.8]: an upscaled frame stays near it and close to it (0.003 measured).
        assert.ok(m.min > 0.05 && m.max < 0.95, `${method}: ${JSON.stringify(m)}`);
        assert.ok(m.meanError < 0.01, `${method}: ${JSON.stringify(m)}`);
      }
      // The neural method fetched the shipped weights from the app's own files.
      assert.ok(
        server.requests.includes(`/assets/${upscalerWeights[0]}`),
        `weights requested: ${server.requests.join(' ')}`,
      );
      // …and nothing it did not use.
      assert.ok(
        !server.requests.some((r) => r.includes('framegen-v1')),
        `frame generator weights not requested: ${server.requests.join(' ')}`,
      );
    } finally {
      server.close();
    }
  },
);
