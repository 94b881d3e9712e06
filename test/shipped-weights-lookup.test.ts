// The shipped weights are found wherever the code runs: the search over the layouts of the
// sources, the built package and a bundle (src/nn/shipped-weights.ts), and the CLI bundled into
// one file outside the repository (as the GPU machine runs it) and run from the repository root,
// where the default weights of both networks load; run from elsewhere, it names every place tried.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { InputError } from '../src/core/errors.ts';
import {
  SHIPPED_FRAMEGEN_MODEL,
  SHIPPED_MODEL,
  locateShippedWeights,
  resolveWeightsUrl,
  shippedWeightsCandidates,
} from '../src/nn/shipped-weights.ts';
import { renderTestSequence } from './helpers/render-sequence.ts';

const folder = (path: string) => new URL(`file://${path}`);

/** A file system holding only `files` (absolute POSIX paths). */
const holding = (...files: string[]) => {
  const hrefs = new Set(files.map((f) => folder(f).href));
  return (place: URL) => hrefs.has(place.href);
};

test('shipped weights search: sources, built package, bundle inside the repository, working directory', () => {
  const exists = holding('/repo/weights/uplift-v2.uplift');
  const cwd = folder('/elsewhere/');
  for (const module of ['/repo/src/nn/', '/repo/dist/nn/', '/repo/.device/']) {
    const found = locateShippedWeights('uplift-v2.uplift', {
      exists,
      workingDirectory: cwd,
      moduleFolder: folder(module),
    });
    assert.equal(found.pathname, '/repo/weights/uplift-v2.uplift', module);
  }
  // A bundle outside the repository, run from its root.
  const fromRoot = locateShippedWeights('uplift-v2.uplift', {
    exists,
    workingDirectory: folder('/repo/'),
    moduleFolder: folder('/tmp/bundle/'),
  });
  assert.equal(fromRoot.pathname, '/repo/weights/uplift-v2.uplift');
  // The module's side comes first: another checkout as working directory does not shadow it.
  const both = holding('/repo/weights/framegen-v1.uplift', '/other/weights/framegen-v1.uplift');
  const first = locateShippedWeights('framegen-v1.uplift', {
    exists: both,
    workingDirectory: folder('/other/'),
    moduleFolder: folder('/repo/dist/nn/'),
  });
  assert.equal(first.pathname, '/repo/weights/framegen-v1.uplift');

  const search = { exists, workingDirectory: cwd, moduleFolder: folder('/tmp/bundle/') };
  assert.deepEqual(
    shippedWeightsCandidates('uplift-v2-int8.uplift', search).map((u) => u.pathname),
    [
      '/tmp/bundle/weights/uplift-v2-int8.uplift',
      '/tmp/weights/uplift-v2-int8.uplift',
      '/weights/uplift-v2-int8.uplift',
      '/elsewhere/weights/uplift-v2-int8.uplift',
    ],
  );
  assert.throws(
    () => locateShippedWeights('uplift-v2-int8.uplift', search),
    (e: unknown) =>
      e instanceof InputError &&
      /uplift-v2-int8\.uplift are not here/.test(e.message) &&
      e.message.includes('/tmp/bundle/weights/uplift-v2-int8.uplift') &&
      e.message.includes('/elsewhere/weights/uplift-v2-int8.uplift'),
  );
});

test('shipped weights from the sources: the module-relative URLs, located in the repository', async () => {
  const root = process.cwd();
  assert.equal(fileURLToPath(SHIPPED_MODEL), resolve(root, 'weights/uplift-v3-int8.uplift'));
  assert.equal(fileURLToPath(SHIPPED_FRAMEGEN_MODEL), resolve(root, 'weights/framegen-v1.uplift'));
  assert.equal((await resolveWeightsUrl(SHIPPED_MODEL)).href, SHIPPED_MODEL.href);
  // Other URLs are read as given, even missing ones (their reader reports them).
  const other = pathToFileURL(resolve(root, 'no-such.uplift'));
  assert.equal((await resolveWeightsUrl(other)).href, other.href);
});

test('the CLI bundled outside the repository finds both shipped weights from its root, and names the places tried elsewhere', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'uplift-bundle-'));
  try {
    const bundle = join(dir, 'bundle', 'main.mjs');
    // As the GPU machine's bundles are made: one ESM file, webgpu left outside.
    await build({
      entryPoints: ['src/cli/main.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: ['webgpu'],
      logLevel: 'warning',
      outfile: bundle,
      banner: {
        js: "import{createRequire as __cr}from'module';const require=__cr(import.meta.url);",
      },
    });
    symlinkSync(resolve('node_modules'), join(dir, 'bundle', 'node_modules'), 'dir');
    await renderTestSequence(join(dir, 'seq'), { path: 'orbit', fps: 30, frames: 2 });
    const uplift = (cwd: string, output: string) =>
      spawnSync(
        process.execPath,
        [
          bundle,
          'interpolate',
          join(dir, 'seq'),
          '-o',
          join(dir, output),
          '--upscale',
          'neural',
          '--method',
          'neural',
          '-q',
        ],
        { cwd, encoding: 'utf8' },
      );

    const run = uplift(process.cwd(), 'out');
    assert.equal(run.status, 0, run.stderr);
    const marker = JSON.parse(readFileSync(join(dir, 'out', 'interpolate.json'), 'utf8'));
    assert.equal(marker.frames, 3);

    const lost = uplift(dir, 'out-elsewhere');
    assert.equal(lost.status, 1, lost.stderr);
    const missing = /the shipped weights (\S+\.uplift) are not here/.exec(lost.stderr)?.[1];
    assert.ok(missing === 'uplift-v3-int8.uplift' || missing === 'framegen-v1.uplift', lost.stderr);
    assert.ok(lost.stderr.includes(join(dir, 'bundle', 'weights', missing)), lost.stderr);
    assert.ok(lost.stderr.includes(join(dir, 'weights', missing)), lost.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
