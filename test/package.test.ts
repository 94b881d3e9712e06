// The installable package: `npm pack` (which builds dist/), install the tarball into an empty
// project, and there a plain Node ESM script — no tsx, no flags — imports `uplift` and runs TAAU
// and the neural method on this machine's adapter; the `uplift` command runs from the built CLI;
// a strict TypeScript consumer type-checks against the shipped declarations (skipLibCheck off).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

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

test(
  'npm pack → install into an empty project: plain Node ESM runs TAAU and neural; strict TypeScript accepts the declarations',
  { timeout: 600_000 },
  () => {
    const work = mkdtempSync(join(tmpdir(), 'uplift-pack-'));
    execFileSync(npm, ['pack', '--pack-destination', work, '--silent'], {
      cwd: repo,
      stdio: 'pipe',
    });
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack wrote a tarball');

    const app = join(work, 'app');
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
    // The optional peer (Dawn) and the consumer's type packages come from this checkout, linked
    // after the install: npm prunes what its lockfile does not list, through links too.
    for (const dep of ['webgpu', '@webgpu', '@types']) {
      symlinkSync(join(repo, 'node_modules', dep), join(app, 'node_modules', dep));
    }
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
