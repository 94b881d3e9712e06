// The CLI end to end on sequence directories written to disk: EXR (linear) and 16-bit sRGB PNG.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { analyticSequence } from '../src/scene/analytic.ts';
import { createSequenceWriter, openSequence, writePng } from '../src/io/index.ts';
import { linearToSrgb } from '../src/core/tonemap.ts';
import type { Image } from '../src/core/image.ts';
import { NETWORK_V2 } from '../src/nn/network-v2.ts';
import { initWeights, saveWeights } from '../src/nn/weights.ts';

const root = mkdtempSync(join(tmpdir(), 'uplift-cli-'));
const sequence = analyticSequence({
  displaySize: [48, 32],
  ratio: 2,
  frames: 10,
  referenceSamples: 16,
});

function uplift(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/uplift.mjs', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function srgb16(image: Image): Image {
  return { ...image, data: image.data.map((v) => linearToSrgb(Math.min(1, Math.max(0, v)))) };
}

async function writeSequences() {
  const exr = await createSequenceWriter(join(root, 'exr'), sequence.header);
  const png = await createSequenceWriter(join(root, 'png16'), {
    ...sequence.header,
    colorSpace: 'srgb',
  });
  for (const [i, frame] of sequence.frames.entries()) {
    await exr.writeFrame(i, frame.params, frame.images);
    await png.writeFrame(i, frame.params, frame.images);
    // Replace the 8-bit PNGs with 16-bit ones: eval must read both.
    const name = `${String(i).padStart(4, '0')}.png`;
    writePng(join(root, 'png16', 'color', name), srgb16(frame.images.color), { bits: 16 });
    writePng(join(root, 'png16', 'reference', name), srgb16(frame.images.reference!), {
      bits: 16,
    });
  }
  await exr.finish();
  await png.finish();
}

test('eval on EXR and 16-bit PNG sequences writes a report where TAAU beats bilinear', async () => {
  await writeSequences();
  const report = join(root, 'report');
  const r = uplift(
    'eval',
    join(root, 'exr'),
    join(root, 'png16'),
    '--methods',
    'bilinear,taau',
    '--warmup',
    '4',
    '--report',
    report,
    '-q',
  );
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(readFileSync(join(report, 'report.json'), 'utf8'));
  assert.equal(json.sequences.length, 2);
  const steady = (s: number, m: string) =>
    json.sequences[s].methods.find((x: { method: string }) => x.method === m).steady;
  for (const s of [0, 1]) {
    assert.equal(json.sequences[s].methods.length, 2);
    assert.ok(steady(s, 'taau').psnr > steady(s, 'bilinear').psnr, `sequence ${s}`);
    assert.equal(json.sequences[s].methods[0].frames.length, 10);
  }
  // The PNG copy differs only by 16-bit sRGB quantisation and HDR clipping of the highlight.
  assert.ok(Math.abs(steady(0, 'bilinear').psnr - steady(1, 'bilinear').psnr) < 1.5);
  const md = readFileSync(join(report, 'report.md'), 'utf8');
  assert.match(md, /\| taau \| \d+\.\d\d \|/);
  assert.ok(readdirSync(report).some((f) => f.endsWith('-crops.png')));
  assert.ok(readdirSync(report).some((f) => f.endsWith('-psnr.svg')));
  assert.match(r.stdout, /taau/);
  // ꟻLIP is computed by default.
  assert.ok(steady(0, 'taau').flip > 0 && steady(0, 'taau').flip < 1);
  assert.equal(typeof json.sequences[0].methods[0].frames[0].flip, 'number');
  assert.doesNotMatch(r.stdout, /–/);
});

test('eval --no-flip skips ꟻLIP: absent from report.json, "–" in the tables', () => {
  const report = join(root, 'report-noflip');
  const r = uplift(
    'eval',
    join(root, 'exr'),
    '--methods',
    'bilinear',
    '--no-flip',
    '--report',
    report,
    '-q',
  );
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(readFileSync(join(report, 'report.json'), 'utf8'));
  const method = json.sequences[0].methods[0];
  assert.ok(method.steady.psnr > 0);
  assert.ok(!('flip' in method.steady) && !('flip' in method.warmup));
  assert.ok(method.frames.every((f: object) => !('flip' in f)));
  // Terminal table: PSNR, SSIM, then "–" for FLIP, then tPSNR.
  assert.match(r.stdout, /bilinear\s+\d+\.\d\d\s+\d\.\d{4}\s+–\s+\d+\.\d\d/);
  const md = readFileSync(join(report, 'report.md'), 'utf8');
  assert.match(md, /\| bilinear \| \d+\.\d\d \| \d\.\d{4} \| – \| \d+\.\d\d \|/);
});

test('upscale writes one frame per input with the same numbering, and never overwrites', () => {
  const out = join(root, 'up');
  const r = uplift('upscale', join(root, 'exr'), '-o', out, '--format', 'png', '-q');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    readdirSync(out).sort(),
    sequence.frames.map((_, i) => `${String(i).padStart(4, '0')}.png`).concat('upscale.json'),
  );
  const again = uplift('upscale', join(root, 'exr'), '-o', out, '--format', 'png', '-q');
  assert.equal(again.status, 1);
  assert.match(again.stderr, /already holds frames.*--overwrite/);
  const into = uplift('upscale', join(root, 'exr'), '-o', join(root, 'exr'), '-q');
  assert.equal(into.status, 1);
});

test('bad input gives one clear line and exit status 1, never a stack trace', () => {
  const missing = uplift('eval', join(root, 'nope'), '--report', join(root, 'r2'), '-q');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /nope: no such sequence directory/);

  const unknown = uplift('eval', 'builtin:analytic', '--methods', 'fsr9', '--report', root);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /unknown method "fsr9"/);

  truncateSync(join(root, 'exr', 'color', '0003.exr'), 200);
  const corrupt = uplift('eval', join(root, 'exr'), '--report', join(root, 'r3'), '-q');
  assert.equal(corrupt.status, 1);
  assert.match(corrupt.stderr, /0003\.exr/);
  assert.doesNotMatch(corrupt.stderr, /\n\s+at /);
  assert.ok(!existsSync(join(root, 'r3', 'report.json')), 'no report from a failed run');
});

test('info describes a sequence as JSON', () => {
  const r = uplift('info', join(root, 'png16'), '--json');
  assert.equal(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.deepEqual(info.renderSize, [24, 16]);
  assert.deepEqual(info.displaySize, [48, 32]);
  assert.equal(info.frames, 10);
  assert.equal(info.colorSpace, 'srgb');
  assert.equal(info.hasReference, true);
  assert.equal(info.jitterPhaseCount, 32);
});

test('upscale --method neural writes the debug views of every frame', async () => {
  const model = join(root, 'random.uplift');
  await saveWeights(model, { graph: NETWORK_V2, parameters: initWeights(NETWORK_V2, 3) });
  const views = join(root, 'views');
  const r = uplift(
    'upscale',
    join(root, 'png16'),
    '-o',
    join(root, 'up-neural'),
    '--method',
    'neural',
    '--model',
    model,
    '--debug-views',
    views,
    '-q',
  );
  assert.equal(r.status, 0, r.stderr);
  const expected = ['alpha', 'beta', 'disocclusion', 'kernels', 'recurrent0', 'recurrent1'];
  for (const view of expected) {
    assert.equal(readdirSync(join(views, view)).length, sequence.frames.length, view);
  }
  const taau = uplift(
    'upscale',
    join(root, 'png16'),
    '-o',
    join(root, 'x'),
    '--debug-views',
    views,
  );
  assert.equal(taau.status, 1);
  assert.match(taau.stderr, /--debug-views .* --method neural/);
});

test('upscale --method neural@int8 runs INT8-ready weights on the INT8 kernels; f32 weights are refused', () => {
  const out = join(root, 'up-int8');
  const args = ['upscale', join(root, 'png16'), '-o', out, '--method', 'neural@int8', '-q'];
  const r = uplift(...args, '--model', 'weights/uplift-v2-int8.uplift');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readdirSync(out).filter((f) => f.endsWith('.exr')).length, sequence.frames.length);
  const f32 = uplift(...args, '--overwrite', '--model', join(root, 'random.uplift'));
  assert.equal(f32.status, 1);
  assert.match(f32.stderr, /int8 plan of .*(fakequant|weightBits|f32 input)/);
});

test('upscale --precision: auto runs INT8-ready weights as INT8 (same frames as neural@int8), f32 runs the simulation; conflicts are refused', () => {
  const base = ['upscale', join(root, 'png16'), '--method', 'neural', '-q'];
  const model = ['--model', 'weights/uplift-v2-int8.uplift'];
  const auto = uplift(...base, '-o', join(root, 'up-auto'), ...model);
  assert.equal(auto.status, 0, auto.stderr);
  const int8 = uplift(...base, '-o', join(root, 'up-auto-int8'), ...model, '--precision', 'int8');
  assert.equal(int8.status, 0, int8.stderr);
  const f32 = uplift(...base, '-o', join(root, 'up-auto-f32'), ...model, '--precision', 'f32');
  assert.equal(f32.status, 0, f32.stderr);
  const frames = readdirSync(join(root, 'up-auto')).filter((f) => f.endsWith('.exr'));
  assert.equal(frames.length, sequence.frames.length);
  const bytes = (dir: string) => frames.map((f) => readFileSync(join(root, dir, f)));
  assert.deepEqual(bytes('up-auto'), bytes('up-auto-int8'));
  assert.notDeepEqual(bytes('up-auto'), bytes('up-auto-f32'));
  const both = uplift(
    ...base,
    '-o',
    join(root, 'up-x'),
    '--method',
    'neural@int8',
    '--precision',
    'f32',
  );
  assert.equal(both.status, 1);
  assert.match(both.stderr, /disagree/);
  const bad = uplift(...base, '-o', join(root, 'up-x'), '--precision', 'int4');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--precision: precision must be one of auto, f32, f16, int8, got int4/);
});

test("info --plan: the INT8 runner's kernels for a frame, with MACs and bytes; refused for f32 weights", () => {
  const r = uplift(
    'info',
    'weights/uplift-v2-int8.uplift',
    '--plan',
    '--display',
    '100x60',
    '--json',
  );
  assert.equal(r.status, 0, r.stderr);
  const plan = JSON.parse(r.stdout);
  assert.deepEqual(plan.inputSize, [104, 64]); // padded to multiples of 8
  // 18 steps: up0 computed in mix's kernel, mix in the head's and up1 in dec1's
  // (producersInConsumers).
  // The input's two copies written by one pass.
  assert.equal(plan.kernels.length, 14);
  assert.deepEqual(
    plan.kernels.slice(0, 2).map((k: { name: string }) => k.name),
    ['quantize q(features) + q(join)', 'down1'],
  );
  assert.deepEqual(
    plan.kernels.slice(-2).map((k: { name: string }) => k.name),
    ['up1 + dec1', 'up0 + mix + head'],
  );
  // Every multiply-accumulate of network v2 (7,864 per pixel) at the padded size, and the
  // producers' again for the border of the 16×8 tiles' halos (18×10): up1's (32 × 16 a pixel at
  // ½ resolution) in dec1's, up0's and mix's (16 × 8 + 20 × 24 a display pixel) in the head's.
  const again = (32 * 16 * 52 * 32 + (16 * 8 + 20 * 24) * 104 * 64) * (180 / 128 - 1);
  assert.equal(plan.macs, 7864 * 104 * 64 + again);
  assert.ok(plan.bytesRead > 0 && plan.bytesWritten > 0);
  const text = uplift('info', 'weights/uplift-v2-int8.uplift', '--plan');
  assert.match(text.stdout, /INT8 plan of uplift-kpn at 1920x1080 .*14 kernels, 16\.71 GMAC/);
  const f32 = uplift('info', join(root, 'random.uplift'), '--plan');
  assert.equal(f32.status, 1);
  assert.match(f32.stderr, /not quantized .*uplift quantize/);
});

test('info on a .uplift file: network, cost, quantization and training metadata', () => {
  const r = uplift('info', 'weights/uplift-v2-int8.uplift', '--json');
  assert.equal(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.equal(info.network, 'uplift-kpn');
  assert.equal(info.parameters, 132945);
  assert.equal(info.quantization.weightBits, 8);
  assert.equal(info.quantization.activationBits, 8);
  assert.ok(info.quantization.activationScales.features > 0);
  assert.equal(info.metadata.task, 'frames');
  const text = uplift('info', 'weights/uplift-v2.uplift');
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /132945 parameters, 7864 MACs per output pixel/);
  assert.doesNotMatch(text.stdout, /quantized/);
  const missing = uplift('info', 'nothing-here.uplift');
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /nothing-here\.uplift/);
});

test('a sequence with an infinite far plane ("cameraFar": null) reads as Infinity and upscales', async () => {
  const dir = join(root, 'infinite-far');
  const writer = await createSequenceWriter(dir, sequence.header);
  for (const [i, frame] of sequence.frames.slice(0, 3).entries()) {
    await writer.writeFrame(i, { ...frame.params, cameraFar: Infinity }, frame.images);
  }
  await writer.finish();
  const json = JSON.parse(readFileSync(join(dir, 'sequence.json'), 'utf8'));
  assert.equal(json.frames[0].cameraFar, null);
  const source = await openSequence(dir);
  assert.equal(source.frameParams(2).cameraFar, Infinity);
  const out = join(root, 'infinite-far-taau');
  const r = uplift('upscale', dir, '-o', out, '--method', 'taau', '-q');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readdirSync(out).filter((f) => f.endsWith('.exr')).length, 3);
});
