// Training data as engines deliver it, part two: exposure steps and ramps within clips (the
// frames' exposure only; the trainer rescales history as the upscaler does), HDR highlights added
// to scenes, reversed Z and an infinite far plane (rendered so by the data engine, for training
// clips and `uplift render`, and upscaled and evaluated like any other sequence), and the config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../src/core/errors.ts';
import { formatSequenceJson, parseSequenceJson } from '../src/io/sequence-json.ts';
import { readBuffer } from '../src/gpu/resources.ts';
import { initWeights } from '../src/nn/weights.ts';
import { proceduralScene } from '../src/scene/procedural/scenes.ts';
import { withHighlights } from '../src/scene/procedural/highlights.ts';
import { DEFAULT_ADAM } from '../src/train/adam-cpu.ts';
import { prepareClipCpu } from '../src/train/bptt-cpu.ts';
import { createGpuClipTrainer } from '../src/train/bptt-gpu.ts';
import { resolveTrainConfig } from '../src/train/config.ts';
import {
  createClipSampler,
  readClipFrames,
  type ClipSamplerOptions,
} from '../src/train/data/clips.ts';
import {
  clipExposureChange,
  exposureAt,
  NO_EXPOSURE_CHANGES,
} from '../src/train/data/exposure-changes.ts';
import { sceneClipChoice } from '../src/train/data/scene-clips.ts';
import { DEFAULT_LOSS_WEIGHTS } from '../src/train/losses/frame-loss-cpu.ts';
import { splitExposureAndHighlights } from '../src/train/tasks.ts';
import { TINY_NETWORK } from '../src/train/tiny-network.ts';
import { createTrainableNetwork } from '../src/train/trainable.ts';
import { maxAbsDiff, testGpu } from './helpers/gpu.ts';
import { sceneEntry } from './helpers/split-entry.ts';

const entry = (scene: string) => sceneEntry(scene);

const analytic: ClipSamplerOptions = {
  displaySize: [24, 16],
  ratio: 2,
  clipLength: 4,
  samples: 2,
  seed: 5,
  sources: [{ kind: 'analytic', weight: 1 }],
};

const sceneOptions = (scene: string): ClipSamplerOptions => ({
  displaySize: [32, 32],
  ratio: 2,
  clipLength: 3,
  samples: 2,
  seed: 5,
  sources: [{ kind: 'scenes', weight: 1, entries: [entry(scene)] }],
});

const RANGE = [0.25, 4] as const;

test('exposure changes: probability 0 never fires, 1 always; steps and ramps stay in the range and start after frame 0', () => {
  const rates = { probability: 1, range: RANGE };
  const kinds = new Set<string>();
  for (let index = 0; index < 64; index++) {
    assert.equal(clipExposureChange({ ...rates, probability: 0 }, 3, index, 6), null);
    const change = clipExposureChange(rates, 3, index, 6)!;
    assert.ok(change, `clip ${index} has a change`);
    kinds.add(change.kind);
    assert.ok(change.at >= 1 && change.at <= 5, `starts at ${change.at}`);
    const exposures = [0, 1, 2, 3, 4, 5].map((t) => exposureAt(change, t));
    assert.equal(exposures[0], change.from, 'frame 0 (a reset) has the first exposure');
    for (const e of exposures) assert.ok(e >= RANGE[0] * 0.999999 && e <= RANGE[1] * 1.000001);
    if (change.kind === 'step') {
      exposures.forEach((e, t) => assert.equal(e, t < change.at ? change.from : change.to));
    } else {
      const last = change.at + change.length - 1;
      assert.ok(Math.abs(exposureAt(change, last) - change.to) <= 1e-12 * change.to);
      // Log-linear: every step between frames is the same ratio while the ramp runs.
      const ratio = (change.to / change.from) ** (1 / change.length);
      for (let t = change.at; t <= last; t++) {
        const r = exposureAt(change, t) / exposureAt(change, t - 1);
        assert.ok(Math.abs(r - ratio) <= 1e-9, `ramp ratio ${r} vs ${ratio}`);
      }
    }
  }
  assert.deepEqual([...kinds].sort(), ['ramp', 'step']);
});

test('sampler: an exposure change sets the frames’ exposure only; pixels, jitter and other draws stay bit for bit', async () => {
  const { device } = await testGpu();
  const read = async (options: ClipSamplerOptions) => {
    const sampler = createClipSampler(device, options);
    const clip = await sampler.clip(2);
    const frames = await readClipFrames(device, clip);
    const origin = clip.origin;
    clip.destroy();
    sampler.destroy();
    return { frames, origin };
  };
  const plain = await read(analytic);
  const changed = await read({ ...analytic, exposureChanges: { probability: 1, range: RANGE } });
  const change = changed.origin.exposureChange!;
  assert.ok(change, 'the clip records its change');
  assert.equal(plain.origin.exposureChange, undefined);
  changed.frames.forEach((frame, t) => {
    const before = plain.frames[t]!;
    assert.equal(before.params.exposure, 1);
    assert.equal(frame.params.exposure, exposureAt(change, t));
    assert.deepEqual({ ...frame.params, exposure: 1 }, before.params);
    for (const key of ['color', 'depth', 'motion', 'reference'] as const)
      assert.deepEqual(frame.images[key].data, before.images[key].data, `${key} of frame ${t}`);
  });
  assert.ok(
    changed.frames.some(
      (f, t) => t > 0 && f.params.exposure !== changed.frames[t - 1]!.params.exposure,
    ),
    'the exposure changes within the clip',
  );
});

test('GPU BPTT on a sampler clip with an exposure change (prepare, reference and history rescale on the GPU) matches the CPU-prepared clip', async () => {
  const { device } = await testGpu();
  // Seed 5, clip 0 at probability 1: find a clip whose change falls inside its 4 frames.
  const sampler = createClipSampler(device, {
    ...analytic,
    exposureChanges: { probability: 1, range: [0.3, 3] },
  });
  const clip = await sampler.clip(0);
  const cpuClip = prepareClipCpu(clip.header, await readClipFrames(device, clip));
  assert.ok(
    cpuClip.some((f) => Math.abs(f.historyScale - 1) > 0.05),
    `history rescaled: ${cpuClip.map((f) => f.historyScale).join(', ')}`,
  );
  const options = { warmup: 1, weights: DEFAULT_LOSS_WEIGHTS };
  const params = initWeights(TINY_NETWORK, 9);
  const results = [];
  for (const input of [clip, cpuClip]) {
    const trainable = createTrainableNetwork(device, TINY_NETWORK, params, DEFAULT_ADAM);
    const trainer = createGpuClipTrainer(device, trainable);
    const { loss } = await trainer.gradient(input, options);
    const grads = new Map<string, Float32Array>();
    for (const [name, buffer] of trainable.grads) grads.set(name, await readBuffer(device, buffer));
    results.push({ loss, grads });
    trainer.destroy();
    trainable.destroy();
  }
  const [gpu, cpu] = results;
  assert.ok(
    Math.abs(gpu!.loss - cpu!.loss) <= 1e-4 * cpu!.loss,
    `loss ${gpu!.loss} vs ${cpu!.loss}`,
  );
  for (const [name, want] of cpu!.grads) {
    const scale = Math.max(...want.map(Math.abs));
    const { max, at } = maxAbsDiff(gpu!.grads.get(name)!, want);
    assert.ok(
      max <= 1e-2 * scale + 1e-7,
      `${name}[${at}]: ${gpu!.grads.get(name)![at]} vs ${want[at]}`,
    );
  }
  clip.destroy();
  sampler.destroy();
});

test('HDR highlights: a new scene with sparkles and beads, the original untouched; clips of a group share the choice', async () => {
  const scene = proceduralScene('meadow', 1);
  const objects = scene.objects.length;
  const bright = withHighlights(scene, 1);
  assert.equal(scene.objects.length, objects, 'the scene it was given is unchanged');
  assert.ok(bright.objects.length > objects + 20);
  assert.ok(bright.materials.some((m) => Math.max(...m.emissive) >= 8));
  assert.deepEqual(
    withHighlights(scene, 1).materials.map((m) => m.emissive),
    bright.materials.map((m) => m.emissive),
    'the same seed gives the same highlights',
  );
  const choices = (highlights: number) =>
    Array.from({ length: 16 }, (_, index) =>
      sceneClipChoice({}, { seed: 4, index, clipLength: 6, ratios: [2], highlights }),
    );
  const none = choices(0);
  const some = choices(0.5);
  assert.ok(none.every((c) => !c.highlights));
  assert.deepEqual(
    some.map((c) => ({ ...c, highlights: false })),
    none,
    'the probability changes nothing else',
  );
  for (let group = 0; group < 4; group++) {
    const flags = some.slice(group * 4, group * 4 + 4).map((c) => c.highlights);
    assert.ok(
      flags.every((f) => f === flags[0]),
      'one renderer, one choice',
    );
  }
  assert.ok(some.some((c) => c.highlights) && some.some((c) => !c.highlights));
});

test('HDR highlights in training clips: meadow, whose brightest value is the sky (1.6), gets values far above it', async () => {
  const { device } = await testGpu();
  const brightest = async (highlights: number) => {
    const sampler = createClipSampler(device, { ...sceneOptions('meadow'), highlights });
    const clip = await sampler.clip(0);
    const frames = await readClipFrames(device, clip);
    assert.equal(clip.origin.highlights, highlights === 1 ? true : undefined);
    clip.destroy();
    sampler.destroy();
    return Math.max(...frames.map((f) => Math.max(...f.images.reference.data)));
  };
  const plain = await brightest(0);
  const bright = await brightest(1);
  assert.ok(plain <= 1.61, `meadow without highlights peaks at ${plain}`);
  assert.ok(bright > 8, `with highlights the reference peaks at ${bright}`);
});

test('reversed Z and an infinite far plane: scene clips rendered so, depth as the projection says, motion unchanged', async () => {
  const { device } = await testGpu();
  const render = async (depthInverted: number, infiniteFar: number) => {
    const sampler = createClipSampler(device, {
      ...sceneOptions('runners'),
      engineInputs: {
        noJitter: 0,
        depth8: 0,
        srgb8: 0,
        motionError: 0,
        depthInverted,
        infiniteFar,
      },
    });
    const clip = await sampler.clip(1);
    const frames = await readClipFrames(device, clip);
    const result = { header: clip.header, frames, origin: clip.origin };
    clip.destroy();
    sampler.destroy();
    return result;
  };
  const standard = await render(0, 0);
  const engine = await render(1, 1);
  assert.equal(standard.header.depthInverted, false);
  assert.equal(engine.header.depthInverted, true);
  assert.equal(engine.origin.engineInputs?.depthInverted, true);
  const { cameraNear: n, cameraFar: f } = standard.frames[0]!.params;
  assert.ok(Number.isFinite(f));
  engine.frames.forEach((frame, t) => {
    const before = standard.frames[t]!;
    assert.equal(frame.params.cameraFar, Infinity);
    assert.deepEqual(
      frame.images.color.data,
      before.images.color.data,
      'color does not depend on depth',
    );
    const motion = maxAbsDiff(frame.images.motion.data, before.images.motion.data);
    assert.ok(motion.max < 1e-6, `motion differs by ${motion.max}`);
    // Standard finite: d = f/(f − n)·(1 − n/z); reversed infinite: d' = n/z = 1 − d·(f − n)/f.
    let compared = 0;
    let worst = 0;
    before.images.depth.data.forEach((d, i) => {
      if (d >= 1) return; // nothing drawn: each convention clears to its own far value
      compared++;
      worst = Math.max(worst, Math.abs(frame.images.depth.data[i]! - (1 - (d * (f - n)) / f)));
    });
    assert.ok(compared > 100, `${compared} pixels compared`);
    assert.ok(worst < 2e-5, `frame ${t}: reversed infinite depth off by ${worst}`);
  });
});

const uplift = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
  });

test('uplift render --depth-inverted --infinite-far --highlights: sequence.json says so; TAAU and the network upscale it as the standard render', () => {
  const dir = mkdtempSync(join(tmpdir(), 'uplift-reversed-z-'));
  try {
    const common = ['render', '--scene', 'runners', '--frames', '6', '--display', '48x32'];
    const psnr: number[] = [];
    for (const [name, flags] of [
      ['standard', ['--highlights']],
      ['reversed', ['--highlights', '--depth-inverted', '--infinite-far']],
    ] as const) {
      const out = join(dir, name);
      const rendered = uplift([...common, ...flags, '--samples', '4', '-q', '-o', out]);
      assert.equal(rendered.status, 0, rendered.stderr);
      const json = JSON.parse(readFileSync(join(out, 'sequence.json'), 'utf8'));
      const reversed = name === 'reversed';
      assert.equal(json.depthInverted, reversed);
      assert.equal(json.frames[0].cameraFar, reversed ? null : 400);
      assert.equal(json.source.highlights, true);
      const report = join(dir, `${name}-report`);
      const evaluated = uplift([
        'eval',
        out,
        '--methods',
        'taau,neural',
        '--warmup',
        '2',
        '--no-flip',
        '--report',
        report,
        '-q',
      ]);
      assert.equal(evaluated.status, 0, evaluated.stderr);
      const result = JSON.parse(readFileSync(join(report, 'report.json'), 'utf8'));
      psnr.push(
        ...result.sequences[0].methods.map((m: { steady: { psnr: number } }) => m.steady.psnr),
      );
    }
    assert.equal(psnr.length, 4);
    assert.ok(psnr.every(Number.isFinite), `PSNR ${psnr.join(', ')}`);
    // Both methods read depth as view distance (dilation, disocclusion), whatever the convention:
    // the same result on either render.
    for (const [method, k] of [
      ['TAAU', 0],
      ['neural', 1],
    ] as const)
      assert.ok(
        Math.abs(psnr[k]! - psnr[k + 2]!) < 0.05,
        `${method}: standard ${psnr[k]} dB, reversed ${psnr[k + 2]} dB`,
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('data.exposure, data.highlights and the depth conventions in the config: defaults, merge, validation split, clear errors', () => {
  const defaults = resolveTrainConfig({});
  assert.deepEqual(defaults.data.exposure, NO_EXPOSURE_CHANGES);
  assert.equal(defaults.data.highlights, 0);
  assert.equal(defaults.data.engineInputs.depthInverted, 0);
  const first = resolveTrainConfig({
    data: { exposure: { probability: 0.3 }, highlights: 0.25, engineInputs: { infiniteFar: 0.5 } },
  });
  assert.deepEqual(first.data.exposure, { probability: 0.3, range: [0.25, 4] });
  // Key by key over a base (a resumed run's config): the range alone keeps the probability.
  const second = resolveTrainConfig({ data: { exposure: { range: [0.5, 2] } } }, first);
  assert.deepEqual(second.data.exposure, { probability: 0.3, range: [0.5, 2] });
  assert.deepEqual(splitExposureAndHighlights(first.data, 'train'), {
    exposureChanges: first.data.exposure,
    highlights: 0.25,
  });
  assert.deepEqual(splitExposureAndHighlights(first.data, 'validation'), {
    exposureChanges: NO_EXPOSURE_CHANGES,
    highlights: 0,
  });
  const both = resolveTrainConfig({ data: { engineInputs: { validation: true } } }, first);
  assert.equal(splitExposureAndHighlights(both.data, 'validation').highlights, 0.25);
  const refused: [unknown, RegExp][] = [
    [{ exposure: 0.3 }, /data\.exposure must be an object \{ probability, range \}, got 0\.3/],
    [
      { exposure: { probability: 2 } },
      /data\.exposure\.probability must be a probability in \[0, 1\], got 2/,
    ],
    [
      { exposure: { range: [4, 0.25] } },
      /data\.exposure\.range must be \[min, max\] with 1\/1024 ≤ min ≤ max ≤ 1024, got \[4,0\.25\]/,
    ],
    [{ exposure: { range: [0, 4] } }, /data\.exposure\.range must be \[min, max\]/],
    [{ exposure: { range: [1] } }, /data\.exposure\.range must be \[min, max\]/],
    [{ exposure: { probabilty: 0.1 } }, /unknown key "data\.exposure\.probabilty"/],
    [{ highlights: -0.1 }, /data\.highlights must be a probability in \[0, 1\], got -0\.1/],
    [{ highlights: '1' }, /data\.highlights must be a probability in \[0, 1\], got "1"/],
    [
      { engineInputs: { infiniteFar: 1.5 } },
      /data\.engineInputs\.infiniteFar must be a probability in \[0, 1\], got 1\.5/,
    ],
  ];
  for (const [data, message] of refused) {
    assert.throws(
      () => resolveTrainConfig({ data }),
      (e: unknown) => e instanceof InputError && message.test(e.message),
      JSON.stringify(data),
    );
  }
});

test('sequence.json: "cameraFar": null is an infinite far plane; the string "Infinity" and a far below near are refused', () => {
  const text = (far: unknown) =>
    JSON.stringify({
      version: 1,
      renderSize: [4, 4],
      displaySize: [8, 8],
      depthInverted: true,
      frames: [{ cameraNear: 0.1, cameraFar: far }],
    });
  assert.equal(parseSequenceJson(text(null), 'seq.json').frames[0]!.cameraFar, Infinity);
  assert.throws(
    () => parseSequenceJson(text('Infinity'), 'seq.json'),
    /seq\.json: frames\[0\]\.cameraFar must be a finite number > cameraNear \(0\.1\), or null for an infinite far plane, got "Infinity"/,
  );
  assert.throws(() => parseSequenceJson(text(0.05), 'seq.json'), /frames\[0\]\.cameraFar must be/);
  const written = formatSequenceJson(
    {
      header: {
        renderSize: [4, 4],
        displaySize: [8, 8],
        depthInverted: true,
        colorSpace: 'linear',
      },
      frames: [{ ...parseSequenceJson(text(null), 'seq.json').frames[0]! }],
    },
    'seq.json',
  );
  assert.match(written, /"cameraFar":null/);
});
