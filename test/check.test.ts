// `uplift check` on data-engine sequences: a correct capture reports clean, and each convention
// broken on purpose (in memory) is found, with the true fix, verified by checking again with it.
// One tiny sequence (48×32 render, 8 frames, the city under a shaking camera at 6 fps so that
// frames move by about a pixel) is rendered once and broken many times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkFrames, type CheckResult } from '../src/check/check.ts';
import { loadCheckFrames, type CheckFix, type CheckFrames } from '../src/check/frames.ts';
import { createSequenceWriter } from '../src/io/sequence.ts';
import { createSceneRenderer, sceneFrameSource } from '../src/scene/renderer.ts';
import type { EngineInputs } from '../src/core/engine-inputs.ts';
import {
  dropObjectMotion,
  flipJitter,
  forwardVectors,
  reverseDepth,
  scaleLens,
  scaleMotion,
  flipDepthRows,
  srgbAsLinear,
} from './helpers/check-breaks.ts';
import { testGpu } from './helpers/gpu.ts';
import { analyticSequence, analyticSource } from '../src/scene/analytic.ts';
import { createImage } from '../src/core/image.ts';

const PAIRS = 6;

async function render(engineInputs: Partial<EngineInputs> = {}, frames = 8) {
  const { device } = await testGpu();
  const renderer = createSceneRenderer(device, {
    scene: 'city',
    path: 'shake',
    fps: 6,
    frames,
    displaySize: [96, 64],
    samples: 0,
    engineInputs,
  });
  const source = sceneFrameSource(renderer);
  return { source, renderer };
}

let correct: CheckFrames | undefined;
async function correctFrames(): Promise<CheckFrames> {
  if (!correct) {
    const { source, renderer } = await render();
    correct = await loadCheckFrames(source, PAIRS);
    renderer.destroy();
  }
  return correct;
}

const ids = (r: CheckResult) => r.findings.filter((f) => f.severity !== 'info').map((f) => f.id);

/** The break is found as `id`, the fix is `fix`, and checking again with it is clean. */
function assertFixed(result: CheckResult, id: string, fix: CheckFix) {
  assert.deepEqual(ids(result), [id], JSON.stringify(result.findings));
  const finding = result.findings.find((f) => f.id === id)!;
  assert.ok(finding.confidence >= 0.5, `confidence ${finding.confidence}`);
  assert.equal(Object.keys(result.fix).length, Object.keys(fix).length);
  for (const [key, value] of Object.entries(fix)) {
    const got = (result.fix as Record<string, unknown>)[key];
    if (Array.isArray(value)) {
      (value as number[]).forEach((v, i) =>
        assert.ok(Math.abs((got as number[])[i]! - v) < 1e-9, `${key}: ${String(got)} ≠ ${value}`),
      );
    } else assert.equal(got, value);
  }
  assert.ok(result.verification?.resolved, JSON.stringify(result.verification?.findings));
  assert.deepEqual(ids({ ...result, findings: result.verification!.findings }), []);
}

test('check: a correct data-engine capture reports clean, the fit at 1', async () => {
  const result = checkFrames(await correctFrames());
  assert.deepEqual(ids(result), [], JSON.stringify(result.findings));
  assert.ok(result.clean);
  assert.deepEqual(result.fix, {});
  const fit = result.analysis.motion!.fit;
  assert.equal(fit.unitName, 'UV');
  for (const k of fit.k) assert.ok(Math.abs(k - 1) < 0.15, `scale ${fit.k}`);
  assert.deepEqual(fit.jitter, [1, 1]);
  assert.equal(result.analysis.jitter.pattern.kind, 'halton');
  assert.ok(result.analysis.depth.stats.nearShare < 0.01);
  assert.ok(result.analysis.motion!.backward < result.analysis.motion!.forward!);
  // Depth and lens explain the vectors: a camera motion per pair fits them to 0.01 px.
  const camera = result.analysis.depth.camera!;
  assert.ok(camera.stated.residual < 0.01, `camera residual ${camera.stated.residual}`);
  assert.deepEqual([camera.suggested.fovYScale, camera.suggested.farScale], [1, 1]);
});

for (const [name, fovY, far, id] of [
  ['fovY ×1.3', 1.3, 1, 'camera-fovy'],
  ['far plane ×0.05', 1, 0.05, 'camera-far'],
  ['fovY ×0.8 and far ×0.1', 0.8, 0.1, 'camera-fovy'],
] as const) {
  test(`check: the lens in sequence.json is not the one rendered with: ${name}`, async () => {
    const result = checkFrames(scaleLens(await correctFrames(), fovY, far), { skipMismatch: true });
    assert.deepEqual(ids(result), [id], JSON.stringify(result.findings));
    const { fix } = result;
    const near = (got: number | undefined, want: number, tolerance: number) =>
      assert.ok(got !== undefined && Math.abs(got / want - 1) < tolerance, `${got} ≠ ${want}`);
    if (fovY !== 1) near(fix.fovYScale, 1 / fovY, 0.03);
    else assert.equal(fix.fovYScale, undefined);
    // The far plane is less sharply determined: every larger one moves distant depths less.
    if (far !== 1) near(fix.cameraFarScale, 1 / far, 0.15);
    else assert.equal(fix.cameraFarScale, undefined);
    assert.ok(result.verification?.resolved, JSON.stringify(result.verification?.findings));
    assert.deepEqual(ids({ ...result, findings: result.verification!.findings }), []);
  });
}

test('check: a far plane larger than stated, beyond every surface, is not an error', async () => {
  const result = checkFrames(scaleLens(await correctFrames(), 1, 20), { skipMismatch: true });
  assert.deepEqual(ids(result), [], JSON.stringify(result.findings));
});

test('check: depth upside down (rows in the other order) fits no camera motion', async () => {
  const result = checkFrames(flipDepthRows(await correctFrames()), { skipMismatch: true });
  assert.ok(ids(result).includes('camera-inconsistent'), JSON.stringify(result.findings));
});

for (const [name, scale, fix] of [
  ['sign (current − previous)', [-1, -1], [-1, -1]],
  ['y axis flipped (y-up NDC)', [1, -1], [1, -1]],
  ['×0.5', [0.5, 0.5], [2, 2]],
  ['×2', [2, 2], [0.5, 0.5]],
  ['render pixels instead of UV', [48, 32], [1 / 48, 1 / 32]],
] as const) {
  test(`check: motion vectors broken: ${name}`, async () => {
    const result = checkFrames(scaleMotion(await correctFrames(), scale), { skipMismatch: true });
    assertFixed(result, 'motion-scale', { motionScale: [...fix] });
  });
}

test('check: forward vectors (to the next frame) are told from backward ones', async () => {
  const result = checkFrames(forwardVectors(await correctFrames()), { skipMismatch: true });
  assert.deepEqual(ids(result), ['motion-forward'], JSON.stringify(result.findings));
  // No setting turns forward vectors into backward ones: no motionScale is suggested.
  assert.deepEqual(result.fix, {});
  const m = result.analysis.motion!;
  assert.ok(m.forward! < 0.85 * m.backward);
});

test('check: jitter applied with the opposite sign', async () => {
  const result = checkFrames(flipJitter(await correctFrames()), { skipMismatch: true });
  assertFixed(result, 'jitter-sign', { jitterScale: [-1, -1] });
  for (const f of result.analysis.jitter.alignment!.factor) assert.ok(Math.abs(f! + 1) < 0.25);
});

test('check: depth reversed while sequence.json says near = 0', async () => {
  const result = checkFrames(reverseDepth(await correctFrames()), { skipMismatch: true });
  assertFixed(result, 'depth-orientation', { depthInverted: true });
  assert.ok(result.findings[0]!.message.includes('disocclusions agree'));
});

test('check: vectors missing on one object are found where the object is', async () => {
  const { frames, masks } = dropObjectMotion(await correctFrames(), [0.5, 0.6], 0.35);
  const result = checkFrames(frames);
  assert.deepEqual(ids(result), ['motion-mismatch'], JSON.stringify(result.findings));
  const mm = result.analysis.motion!.mismatch!;
  // Most of the reported region lies on the object whose vectors were dropped.
  const mask = masks.get(mm.frame)!;
  let inside = 0;
  let flagged = 0;
  mm.mask.forEach((v, i) => {
    if (!v) return;
    flagged++;
    inside += mask[i]!;
  });
  assert.ok(inside / flagged > 0.6, `${inside} of ${flagged} flagged pixels on the object`);
  assert.deepEqual(result.fix, {});
});

test('check: an object without vectors under the reactive mask is not a warning', async () => {
  const { frames, masks } = dropObjectMotion(await correctFrames(), [0.5, 0.6], 0.35);
  const [w, h] = frames.header.renderSize;
  const flagged = {
    ...frames,
    images: new Map(
      [...frames.images].map(([t, im]) => {
        const reactive = createImage(w, h, 1);
        masks.get(t)!.forEach((v, i) => (reactive.data[i] = v));
        return [t, { ...im, reactive }];
      }),
    ),
  };
  const result = checkFrames(flagged);
  assert.deepEqual(ids(result), [], JSON.stringify(result.findings));
  assert.ok(
    result.findings.some((f) => f.id === 'motion-mismatch-masked'),
    JSON.stringify(result.findings),
  );
  assert.ok(result.analysis.motion!.mismatch!.masked > 0.015);
});

test('check: an engine-like capture (no jitter, 8-bit depth and sRGB color) reports only what is true of it', async () => {
  const { source, renderer } = await render({ noJitter: true, depth8: true, srgb8: true }, 6);
  const result = checkFrames(await loadCheckFrames(source, PAIRS));
  renderer.destroy();
  assert.deepEqual(ids(result), ['jitter-missing'], JSON.stringify(result.findings));
  const info = result.findings.filter((f) => f.severity === 'info').map((f) => f.id);
  assert.ok(info.includes('depth-8bit') && info.includes('color-srgb8'), info.join());
  assert.deepEqual(result.fix, {});
});

test('check: sRGB-encoded 8-bit color read as linear, and a NaN', async () => {
  const frames = await correctFrames();
  const result = checkFrames(srgbAsLinear(frames, frames.pairs[0]!), { skipMismatch: true });
  assert.deepEqual(
    ids(result),
    ['color-nonfinite', 'color-linear8'],
    JSON.stringify(result.findings),
  );
  assert.match(result.findings.find((f) => f.id === 'color-nonfinite')!.message, /^1 NaN\/Inf/);
  assert.deepEqual(result.fix, { colorSpace: 'srgb' });
  // Decoded as sRGB the values are an sRGB target's; the NaN stays (no setting fixes it).
  const after = result.verification!.findings.map((f) => f.id);
  assert.ok(after.includes('color-srgb8') && !after.includes('color-linear8'), after.join());
});

test('check: the analytic sequence (aliasing-heavy stripes and rings, exact vectors) reports clean', async () => {
  const source = analyticSource(analyticSequence({}), 'analytic');
  const result = checkFrames(await loadCheckFrames(source, PAIRS), { skipMismatch: true });
  assert.deepEqual(ids(result), [], JSON.stringify(result.findings));
});

test('uplift check: text, --json, --report and --strict on a directory; errors name the input', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'uplift-check-'));
  try {
    // The first four frames of the correct capture, written as an engine that stores pixels
    // would: vectors ×(w, h) while sequence.json keeps motionScale (1, 1).
    const frames = await correctFrames();
    const writer = await createSequenceWriter(join(dir, 'seq'), frames.header);
    for (let i = 0; i < 4; i++) {
      const images = scaleMotion(frames, [48, 32]).images.get(i)!;
      await writer.writeFrame(i, frames.params[i]!, images);
    }
    await writer.finish();
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'check', ...args], {
        encoding: 'utf8',
      });
    const report = join(dir, 'report');
    const json = run(join(dir, 'seq'), '--pairs', '3', '--json', '--report', report, '--strict');
    assert.equal(json.status, 2, json.stderr);
    const parsed = JSON.parse(json.stdout);
    assert.deepEqual(
      parsed.findings.map((f: { id: string }) => f.id),
      ['motion-scale'],
    );
    assert.ok(Math.abs(parsed.fix.motionScale[0] - 1 / 48) < 1e-9, JSON.stringify(parsed.fix));
    assert.ok(Math.abs(parsed.fix.motionScale[1] - 1 / 32) < 1e-9, JSON.stringify(parsed.fix));
    assert.equal(parsed.verification.resolved, true);
    for (const file of [
      'report.html',
      'report.json',
      'motion-field.png',
      'warp-error.png',
      'motion-residual.svg',
      'jitter-offsets.svg',
      'depth-histogram.svg',
    ]) {
      assert.ok(existsSync(join(report, file)), file);
    }
    assert.ok(readFileSync(join(report, 'report.html'), 'utf8').includes('motion-scale'));
    // The fix, written into sequence.json, makes the capture clean.
    const seqJson = JSON.parse(readFileSync(join(dir, 'seq', 'sequence.json'), 'utf8'));
    for (const f of seqJson.frames) f.motionScale = parsed.fix.motionScale;
    writeFileSync(join(dir, 'seq', 'sequence.json'), JSON.stringify(seqJson));
    const text = run(join(dir, 'seq'), '--pairs', '3', '--strict');
    assert.equal(text.status, 0, text.stdout + text.stderr);
    assert.match(text.stdout, /clean: no errors or warnings/);
    const missing = run(join(dir, 'nope'));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /nope: no such sequence directory/);
    const pairs = run(join(dir, 'seq'), '--pairs', '0');
    assert.equal(pairs.status, 1);
    assert.match(pairs.stderr, /--pairs must be an integer ≥ 1, got "0"/);
    const help = run('--help');
    assert.match(help.stdout, /Examples:\n {2}uplift check/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
