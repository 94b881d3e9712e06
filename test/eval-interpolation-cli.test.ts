// `uplift eval --higher-rate`: frame generation scored against a sequence rendered at twice the
// rate, every method on the same displayed frames; its numbers equal `uplift interpolate
// --reference`'s for heuristic, blend and repeat (one loop, one protocol); the report's files,
// stream metrics and crops; refusals naming the bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderTestSequence } from './helpers/render-sequence.ts';

const uplift = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
  });

// The 'cut' path: at 30 fps frame 2 starts the second shot, at 60 fps frame 4.
const renderSequence = (dir: string, fps: number, frames: number) =>
  renderTestSequence(dir, { path: 'cut', fps, frames });

interface FrameJson {
  frame: number;
  generated: boolean;
  cut?: boolean;
  psnr: number;
  flip?: number;
  tpsnr?: number;
}

test('uplift eval --higher-rate: the same numbers as uplift interpolate --reference, a report of the stream', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'uplift-eval-fg-'));
  try {
    const [s30, s60] = [join(dir, 's30'), join(dir, 's60')];
    await renderSequence(s30, 30, 4);
    await renderSequence(s60, 60, 8);
    const interpolate = uplift([
      'interpolate',
      s30,
      '-o',
      join(dir, 'out'),
      '--upscale',
      'reference',
      '--reference',
      s60,
      '-q',
    ]);
    assert.equal(interpolate.status, 0, interpolate.stderr);
    const scores = JSON.parse(readFileSync(join(dir, 'out', 'interpolate.json'), 'utf8')).scores;
    assert.equal(scores.frames, 2);
    assert.equal(scores.cutFrames, 1);

    const report = join(dir, 'report');
    const run = uplift([
      'eval',
      s30,
      '--higher-rate',
      s60,
      '--methods',
      'heuristic,blend,repeat',
      '--report',
      report,
      '-q',
    ]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^s30 +heuristic +\d+\.\d\d/m);
    const json = JSON.parse(readFileSync(join(report, 'report.json'), 'utf8'));
    assert.equal(json.kind, 'frame-generation');
    const [sequence] = json.sequences;
    assert.equal(sequence.factor, 2);
    assert.equal(sequence.upscale, 'reference');
    const method = (name: string) =>
      sequence.methods.find((m: { method: string }) => m.method === name);
    // One protocol: the mean of the MSEs of the generated frames within shots, then dB; the
    // frames across the cut apart.
    for (const [name, key] of [
      ['heuristic', 'generated'],
      ['blend', 'blend'],
      ['repeat', 'repeat'],
    ] as const) {
      assert.equal(method(name).steady.psnr, scores.psnr[key], name);
      assert.equal(method(name).steady.frames, 2, name);
      assert.equal(method(name).cuts.psnr, scores.psnrAtCuts[key], name);
      assert.equal(method(name).cuts.frames, 1, name);
    }
    // The stream: 7 frames at 60 fps, 3 generated (1 across the cut), the displayed ones the
    // truth's own instants; ꟻLIP on generated frames only; tPSNR from frame 1 on except at the
    // truth's cut (frame 4).
    const frames: FrameJson[] = method('heuristic').frames;
    assert.deepEqual(
      frames.map((f) => f.frame),
      [0, 1, 2, 3, 4, 5, 6],
    );
    assert.deepEqual(
      frames.map((f) => f.generated),
      [false, true, false, true, false, true, false],
    );
    assert.deepEqual(
      frames.filter((f) => f.cut).map((f) => f.frame),
      [3],
    );
    assert.deepEqual(
      frames.filter((f) => f.flip !== undefined).map((f) => f.frame),
      [1, 3, 5],
    );
    assert.deepEqual(
      frames.filter((f) => f.tpsnr !== undefined).map((f) => f.frame),
      [1, 2, 3, 5, 6],
    );
    for (const name of ['heuristic', 'blend', 'repeat']) {
      assert.ok(Number.isFinite(method(name).stream.tpsnr), name);
      assert.ok(method(name).stream.flicker >= 0, name);
    }
    // At the cut the generator repeats the previous shot, as the truth shows; the blend mixes
    // both shots, and its stream pops.
    assert.equal(method('heuristic').cuts.psnr, method('repeat').cuts.psnr);
    assert.ok(method('blend').cuts.psnr < method('repeat').cuts.psnr - 3);
    assert.ok(method('heuristic').stream.tpsnr > method('blend').stream.tpsnr);
    // The showcase is a generated frame within a shot.
    assert.ok([1, 5].includes(sequence.showcaseFrame), String(sequence.showcaseFrame));
    for (const file of ['report.md', 'report.html', 's30-psnr.svg', 's30-crops.png']) {
      assert.ok(existsSync(join(report, file)), file);
    }
    const md = readFileSync(join(report, 'report.md'), 'utf8');
    assert.match(md, /\| heuristic \| \d+\.\d\d \| 0\.\d{4} \| 0\.\d{4} \| \d+\.\d\d \|/);
    assert.match(md, /Left to right: truth, heuristic, blend, repeat/);
    const svg = readFileSync(join(report, 's30-psnr.svg'), 'utf8');
    assert.equal((svg.match(/<circle /g) ?? []).length, 3 * 3, 'a dot per generated frame');
    const html = readFileSync(join(report, 'report.html'), 'utf8');
    assert.match(html, /<h1>Uplift frame-generation report<\/h1>/);
    assert.match(html, /<th>PSNR dB at cuts ↑<\/th>/);

    // Displayed frames upscaled by TAAU, one input frame of warm-up from the start and from the
    // cut: stream frames 0-1 and 4-5 (the truth cuts at 4) are warm-up, so both generated frames
    // within shots (1 and 5) are reported apart.
    const taau = uplift([
      'eval',
      s30,
      '--higher-rate',
      s60,
      '--methods',
      'heuristic,repeat',
      '--upscale',
      'taau',
      '--warmup',
      '1',
      '--no-flip',
      '--report',
      join(dir, 'taau'),
      '-q',
    ]);
    assert.equal(taau.status, 0, taau.stderr);
    const [upscaled] = JSON.parse(readFileSync(join(dir, 'taau', 'report.json'), 'utf8')).sequences;
    assert.equal(upscaled.upscale, 'taau');
    assert.ok(upscaled.displayedPsnr > 10 && upscaled.displayedPsnr < 60, upscaled.displayedPsnr);
    const heuristic = upscaled.methods[0];
    assert.deepEqual(
      heuristic.frames.map((f: { warmup: boolean }) => f.warmup),
      [true, true, false, false, true, true, false],
    );
    assert.deepEqual([heuristic.warmup.frames, heuristic.steady.frames], [2, 0]);
    assert.ok(heuristic.frames.every((f: FrameJson) => f.flip === undefined));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('uplift eval --higher-rate --factor 3: per-t means whose frames add up to the steady mean', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'uplift-eval-fg3-'));
  try {
    const [s30, s90] = [join(dir, 's30'), join(dir, 's90')];
    await renderTestSequence(s30, { path: 'orbit', fps: 30, frames: 3 });
    await renderTestSequence(s90, { path: 'orbit', fps: 90, frames: 7 });
    const report = join(dir, 'report');
    const run = uplift([
      'eval',
      s30,
      '--higher-rate',
      s90,
      '--factor',
      '3',
      '--methods',
      'heuristic,blend',
      '--no-flip',
      '--report',
      report,
      '-q',
    ]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /PSNR t=0\.333 +PSNR t=0\.667/);
    assert.match(run.stdout, /^s30 +blend +\d+\.\d\d +\d+\.\d\d\s*$/m);
    const [sequence] = JSON.parse(readFileSync(join(report, 'report.json'), 'utf8')).sequences;
    assert.equal(sequence.factor, 3);
    for (const method of sequence.methods) {
      const frames: (FrameJson & { t?: number })[] = method.frames;
      assert.deepEqual(
        frames.filter((f) => f.generated).map((f) => [f.frame, f.t]),
        [
          [1, 1 / 3],
          [2, 2 / 3],
          [4, 1 / 3],
          [5, 2 / 3],
        ],
      );
      const byT: { t: number; frames: number; psnr: number }[] = method.steadyByT;
      assert.deepEqual(
        byT.map((g) => [g.t, g.frames]),
        [
          [1 / 3, 2],
          [2 / 3, 2],
        ],
      );
      // PSNR of a group is the dB of its mean MSE: the per-t groups' MSEs average to the whole.
      const mse = (psnr: number) => 10 ** (-psnr / 10);
      const perT = byT.map((g) => mse(g.psnr));
      const whole = mse(method.steady.psnr);
      assert.ok(Math.abs((perT[0]! + perT[1]!) / 2 - whole) < 1e-9 * Math.max(1, whole));
      for (const g of byT) {
        const own = frames.filter((f) => f.t === g.t).map((f) => mse(f.psnr));
        assert.ok(Math.abs(mse(g.psnr) - (own[0]! + own[1]!) / 2) < 1e-6 * mse(g.psnr));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('uplift eval --higher-rate refuses what cannot be scored, naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'uplift-eval-fg-bad-'));
  try {
    const [s30, s60] = [join(dir, 's30'), join(dir, 's60')];
    await renderSequence(s30, 30, 2);
    await renderSequence(s60, 60, 4);
    const report = join(dir, 'report');
    const refused = (args: string[], message: RegExp) => {
      const run = uplift(['eval', ...args, '--report', report, '-q']);
      assert.equal(run.status, 1, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.equal(existsSync(join(report, 'report.json')), false);
    };
    refused([s30, s30, '--higher-rate', s60], /--higher-rate names 1 sequence\(s\) for 2 input/);
    refused(
      [s30, '--higher-rate', s60, '--methods', 'taau'],
      /unknown frame generation method "taau"/,
    );
    refused([s30, '--higher-rate', s60, '--methods', 'blend,blend'], /--methods names blend twice/);
    refused([s30, '--higher-rate', s60, '--factor', '5'], /--factor must be 2, 3 or 4, got "5"/);
    refused(
      [s30, '--higher-rate', s60, '--factor', '3'],
      /--higher-rate .*s60 was rendered at 60 fps, not 3 × 30/,
    );
    refused(
      [s30, '--higher-rate', s30],
      /--higher-rate .*s30 has 2 frames; ×2 of 2 frames needs 3/,
    );
    refused(
      [s30, '--higher-rate', s60, '--upscale', 'bicubic'],
      /--upscale must be taau, neural or reference/,
    );
    refused([s30, '--factor', '2'], /--factor is for frame generation \(--higher-rate/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
