// Engine-like training clips (data.engineInputs): each degradation does what it says on every
// source it applies to, probability 0 leaves clips bit for bit as they were, the motion error
// follows an object's silhouette, validation clips stay clean unless asked, and the config block
// is checked key by key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEPTH8_GRID, quantize8, SRGB8_GRID } from '../src/core/engine-inputs.ts';
import { createImage, type Image } from '../src/core/image.ts';
import { InputError } from '../src/core/errors.ts';
import { readGpuImage, uploadGpuImage } from '../src/gpu/gpu-image.ts';
import { createSequenceWriter } from '../src/io/sequence.ts';
import { analyticSequence } from '../src/scene/analytic.ts';
import { resolveTrainConfig } from '../src/train/config.ts';
import {
  createClipSampler,
  readClipFrames,
  type ClipSamplerOptions,
} from '../src/train/data/clips.ts';
import type { TrainingClip } from '../src/train/data/clip-source.ts';
import { NO_ENGINE_INPUTS } from '../src/train/data/engine-augment.ts';
import { encodeMotionError, type MotionError } from '../src/train/data/motion-error.ts';
import { splitEngineInputs } from '../src/train/tasks.ts';
import { testGpu } from './helpers/gpu.ts';
import { sceneEntry } from './helpers/split-entry.ts';

const fence = sceneEntry('fence');

const base = (kind: 'scenes' | 'analytic'): ClipSamplerOptions => ({
  displaySize: [32, 32],
  ratio: 2,
  clipLength: 3,
  samples: 2,
  seed: 5,
  sources: [
    kind === 'scenes'
      ? { kind: 'scenes', weight: 1, entries: [fence] }
      : { kind: 'analytic', weight: 1 },
  ],
});

type Frames = Awaited<ReturnType<typeof readClipFrames>>;

/** Clip `index` of a fresh sampler with these engine-input probabilities, read back. */
async function clipWith(
  device: GPUDevice,
  options: ClipSamplerOptions,
  index: number,
): Promise<{ clip: TrainingClip; frames: Frames }> {
  const sampler = createClipSampler(device, options);
  const clip = await sampler.clip(index);
  const frames = await readClipFrames(device, clip);
  clip.destroy();
  sampler.destroy();
  return { clip, frames };
}

const bits = (image: Image) => new Uint32Array(image.data.buffer.slice(0));

test('probability 0 changes nothing, bit for bit; each degradation touches only its images', async () => {
  const { device } = await testGpu();
  for (const kind of ['scenes', 'analytic'] as const) {
    const clean = await clipWith(device, base(kind), 2);
    const zero = await clipWith(device, { ...base(kind), engineInputs: NO_ENGINE_INPUTS }, 2);
    assert.deepEqual(zero.clip.origin, clean.clip.origin);
    assert.equal(clean.clip.origin.engineInputs, undefined);
    for (const [t, f] of zero.frames.entries()) {
      assert.deepEqual(f.params, clean.frames[t]!.params);
      for (const role of Object.keys(f.images) as (keyof typeof f.images)[])
        assert.deepEqual(bits(f.images[role]), bits(clean.frames[t]!.images[role]), role);
    }

    // Each at probability 1: what it changes, and that everything else stays bit for bit.
    const roles = { depth8: ['depth'], srgb8: ['color'], motionError: ['motion'] } as const;
    for (const [key, changed] of Object.entries(roles)) {
      const engineInputs = { ...NO_ENGINE_INPUTS, [key]: 1 };
      const got = await clipWith(device, { ...base(kind), engineInputs }, 2);
      const { engineInputs: applied, ...origin } = got.clip.origin;
      assert.deepEqual(origin, clean.clip.origin, `${kind} ${key}: the same clip otherwise`);
      assert.equal(Boolean(applied?.[key as keyof typeof applied]), true, `${kind} ${key}`);
      for (const [t, f] of got.frames.entries()) {
        const was = clean.frames[t]!;
        assert.deepEqual(f.params, was.params);
        for (const role of Object.keys(f.images) as (keyof typeof f.images)[]) {
          if (!(changed as readonly string[]).includes(role))
            assert.deepEqual(bits(f.images[role]), bits(was.images[role]), `${key}: ${role}`);
        }
        if (key === 'depth8') {
          const want = was.images.depth.data.map((d) => quantize8(DEPTH8_GRID, d));
          assert.deepEqual(f.images.depth.data, want);
          for (const d of f.images.depth.data)
            assert.equal(Math.fround(Math.round(d * 255) / 255), d, `depth ${d} is k/255`);
        }
        if (key === 'srgb8') {
          const want = was.images.color.data.map((c) => quantize8(SRGB8_GRID, c));
          assert.deepEqual(f.images.color.data, want);
          assert.ok(f.images.color.data.every((c) => SRGB8_GRID.levels.includes(c)));
        }
      }
    }
  }
  assert.throws(
    () =>
      createClipSampler(device, {
        ...base('analytic'),
        engineInputs: { ...NO_ENGINE_INPUTS, depth8: 1.5 },
      }),
    /engineInputs\.depth8 must be a probability in \[0, 1\], got 1\.5/,
  );
});

test('noJitter: scene and analytic clips render at jitter (0, 0); sequence directories keep theirs', async () => {
  const { device } = await testGpu();
  const engineInputs = { ...NO_ENGINE_INPUTS, noJitter: 1 };
  for (const kind of ['scenes', 'analytic'] as const) {
    const clean = await clipWith(device, base(kind), 1);
    const still = await clipWith(device, { ...base(kind), engineInputs }, 1);
    assert.ok(clean.frames.some((f) => f.params.jitter.some((j) => j !== 0)));
    for (const f of still.frames) assert.deepEqual(f.params.jitter, [0, 0], kind);
    assert.equal(still.clip.origin.engineInputs?.noJitter, true);
    // Rendered at other sample positions, not only relabelled.
    assert.notDeepEqual(still.frames[1]!.images.color.data, clean.frames[1]!.images.color.data);
    // The reference does not depend on the jitter.
    assert.deepEqual(
      bits(still.frames[1]!.images.reference),
      bits(clean.frames[1]!.images.reference),
    );
  }

  const root = mkdtempSync(join(tmpdir(), 'uplift-engine-seq-'));
  try {
    const sequence = analyticSequence({ displaySize: [32, 32], frames: 3, referenceSamples: 1 });
    const dir = join(root, 'seq');
    const writer = await createSequenceWriter(dir, sequence.header, { colorPixelType: 'float' });
    for (const [i, f] of sequence.frames.entries()) await writer.writeFrame(i, f.params, f.images);
    await writer.finish();
    const options: ClipSamplerOptions = {
      ...base('analytic'),
      sources: [{ kind: 'sequences', weight: 1, dirs: [dir] }],
    };
    const clean = await clipWith(device, options, 0);
    const got = await clipWith(device, { ...options, engineInputs }, 0);
    assert.deepEqual(
      got.frames.map((f) => f.params.jitter),
      clean.frames.map((f) => f.params.jitter),
    );
    assert.equal(got.clip.origin.engineInputs, undefined, 'nothing was applied');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('motionError: one object inside the ellipse, zeroed or shifted by at most a render pixel', async () => {
  const { device } = await testGpu();
  const engineInputs = { ...NO_ENGINE_INPUTS, motionError: 1 };
  const kinds = new Set<string>();
  for (let index = 0; index < 6; index++) {
    const clean = await clipWith(device, base('analytic'), index);
    const got = await clipWith(device, { ...base('analytic'), engineInputs }, index);
    const error = got.clip.origin.engineInputs!.motionError!;
    kinds.add(error.kind);
    assert.ok(Math.hypot(...error.offset) <= 1, 'offset within a pixel');
    const [w, h] = got.clip.header.renderSize;
    let changed = 0;
    for (let t = 0; t < got.frames.length; t++) {
      const before = clean.frames[t]!.images.motion.data;
      const after = got.frames[t]!.images.motion.data;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const k = (y * w + x) * 2;
          if (after[k] === before[k] && after[k + 1] === before[k + 1]) continue;
          changed++;
          const e = [(x + 0.5) / w - error.center[0], (y + 0.5) / h - error.center[1]];
          const r = ((e[0]! / error.radius[0]) ** 2 + (e[1]! / error.radius[1]) ** 2) ** 0.5;
          assert.ok(r <= 1 + 1e-5, `(${x}, ${y}) changed outside the ellipse`);
          const want =
            error.kind === 'missing'
              ? [0, 0]
              : [before[k]! + error.offset[0] / w, before[k + 1]! + error.offset[1] / h];
          assert.ok(Math.abs(after[k]! - want[0]!) < 1e-6, `(${x}, ${y}) x`);
          assert.ok(Math.abs(after[k + 1]! - want[1]!) < 1e-6, `(${x}, ${y}) y`);
        }
      }
    }
    // Some clips' ellipse lies over already-zero motion (missing changes nothing visible there).
    if (error.kind === 'offset') assert.ok(changed > 0, `clip ${index}: nothing changed`);
  }
  assert.deepEqual([...kinds].sort(), ['missing', 'offset'], 'both kinds are drawn');
});

test('the motion error keeps to the object at the ellipse centre and what lies in front', async () => {
  const { device } = await testGpu();
  const [w, h] = [24, 16];
  for (const depthInverted of [false, true]) {
    // Background far away, a nearer disc at the centre, and a nearest square in the ellipse.
    const far = depthInverted ? 0.02 : 0.98;
    const disc = depthInverted ? 0.2 : 0.8;
    const front = depthInverted ? 0.6 : 0.4;
    const depth = createImage(w, h, 1);
    const motion = createImage(w, h, 2);
    const region = (x: number, y: number) =>
      x >= 3 && x < 6 && y >= 6 && y < 9
        ? 'front'
        : (x + 0.5 - 12) ** 2 + (y + 0.5 - 8) ** 2 <= 9
          ? 'disc'
          : 'far';
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        const where = region(x, y);
        depth.data[i] = where === 'far' ? far : where === 'disc' ? disc : front;
        motion.data[i * 2] = 0.01;
        motion.data[i * 2 + 1] = -0.02;
      }
    }
    const images = { depth: uploadGpuImage(device, depth), motion: uploadGpuImage(device, motion) };
    // An ellipse much larger than the disc, centred on it: only the disc and the front square.
    const error: MotionError = {
      center: [12 / w, 8 / h],
      radius: [0.45, 0.45],
      kind: 'offset',
      offset: [0.6, -0.8],
    };
    const encoder = device.createCommandEncoder();
    encodeMotionError(device, encoder, images, error, depthInverted);
    device.queue.submit([encoder.finish()]);
    const out = await readGpuImage(device, images.motion, 2);
    const counts = { far: 0, disc: 0, front: 0 };
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        const moved = out.data[i * 2] !== motion.data[i * 2];
        const where = region(x, y);
        assert.equal(moved, where !== 'far', `(${x}, ${y}) ${where}, inverted ${depthInverted}`);
        if (moved) {
          counts[where]++;
          assert.ok(Math.abs(out.data[i * 2]! - (0.01 + 0.6 / w)) < 1e-7);
          assert.ok(Math.abs(out.data[i * 2 + 1]! - (-0.02 - 0.8 / h)) < 1e-7);
        }
      }
    }
    assert.ok(counts.disc >= 25 && counts.front === 9, JSON.stringify(counts));
    for (const image of Object.values(images)) image.buffer.destroy();
  }
});

test('data.engineInputs: defaults, key-by-key merge, validation split, clear errors', () => {
  const defaults = resolveTrainConfig({}).data.engineInputs;
  assert.deepEqual(defaults, { ...NO_ENGINE_INPUTS, validation: false });
  const first = resolveTrainConfig({ data: { engineInputs: { srgb8: 0.5 } } });
  assert.deepEqual(first.data.engineInputs, { ...NO_ENGINE_INPUTS, srgb8: 0.5, validation: false });
  // A resumed run's flags over its stored config keep the stored probabilities.
  const resumed = resolveTrainConfig({ data: { engineInputs: { depth8: 1 } } }, first);
  assert.equal(resumed.data.engineInputs.srgb8, 0.5);
  assert.equal(resumed.data.engineInputs.depth8, 1);
  // Old configs without the block read as before.
  const old = { ...first, data: { ...first.data, engineInputs: undefined } };
  assert.deepEqual(resolveTrainConfig(old).data.engineInputs, defaults);

  assert.deepEqual(splitEngineInputs(first.data, 'train'), { ...NO_ENGINE_INPUTS, srgb8: 0.5 });
  assert.deepEqual(splitEngineInputs(first.data, 'validation'), NO_ENGINE_INPUTS);
  const both = resolveTrainConfig({ data: { engineInputs: { srgb8: 0.5, validation: true } } });
  assert.deepEqual(splitEngineInputs(both.data, 'validation'), { ...NO_ENGINE_INPUTS, srgb8: 0.5 });

  const cases: Array<[unknown, RegExp]> = [
    [{ srgb8: 2 }, /data\.engineInputs\.srgb8 must be a probability in \[0, 1\], got 2/],
    [{ motionError: -0.1 }, /data\.engineInputs\.motionError must be a probability/],
    [{ depth8: '0.5' }, /data\.engineInputs\.depth8 must be a probability/],
    [{ noJitter: null }, /data\.engineInputs\.noJitter must be a probability/],
    [{ jitter: 0.5 }, /unknown key "data\.engineInputs\.jitter"/],
    [{ validation: 1 }, /data\.engineInputs\.validation must be true or false/],
    [0.5, /data\.engineInputs must be an object/],
    [[0.5], /data\.engineInputs must be an object/],
  ];
  for (const [engineInputs, message] of cases) {
    assert.throws(
      () => resolveTrainConfig({ data: { engineInputs } }),
      (e: unknown) => e instanceof InputError && message.test(e.message),
      JSON.stringify(engineInputs),
    );
  }
});
