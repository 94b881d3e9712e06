// Training clips: shapes, determinism (same index → same bits), ratio sampling, training layout
// seeds, and crops of sequence directories that stay valid frames (aligned offsets, rescaled
// motion vectors).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { type Image, cropImage } from '../src/core/image.ts';
import { InputError } from '../src/core/errors.ts';
import { renderSizeFor } from '../src/core/quality.ts';
import { createSequenceWriter, openSequence } from '../src/io/index.ts';
import { analyticSequence } from '../src/scene/analytic.ts';
import { createClipSampler, readClipFrames } from '../src/train/data/clips.ts';
import { sceneClipChoice } from '../src/train/data/scene-clips.ts';
import type { TrainingClip } from '../src/train/data/clip-source.ts';
import { cropGrid, cropSizeFor, randomCrop } from '../src/train/data/crop.ts';
import { prepareClipCpu } from '../src/train/bptt-cpu.ts';
import { isHeldOut, TRAIN_LAYOUT_SEEDS, VALIDATION_SEED_BASE } from '../src/train/splits.ts';
import { rng, testGpu } from './helpers/gpu.ts';
import { sceneEntry } from './helpers/split-entry.ts';

const entry = sceneEntry;

/** Every float of a clip's frames, as raw bits. */
async function clipBits(device: GPUDevice, clip: TrainingClip): Promise<Uint32Array[]> {
  const frames = await readClipFrames(device, clip);
  return frames.flatMap(({ images }) =>
    Object.values(images).map((image) => new Uint32Array(image.data.buffer.slice(0))),
  );
}

test('scene clips: shapes, owned buffers, reset on frame 0, same index → identical bits', async () => {
  const { device } = await testGpu();
  const options = {
    displaySize: [32, 32] as const,
    ratio: 2,
    clipLength: 3,
    samples: 4,
    seed: 7,
    sources: [{ kind: 'scenes' as const, weight: 1, entries: [entry('fence', 'orbit', 1)] }],
  };
  const sampler = createClipSampler(device, options);
  const clip = await sampler.clip(5);
  assert.equal(clip.frames.length, 3);
  assert.deepEqual(clip.header.displaySize, [32, 32]);
  assert.deepEqual(clip.header.renderSize, [16, 16]);
  assert.equal(clip.origin.source, 'scenes');
  assert.ok(clip.origin.startFrame >= 0 && clip.origin.startFrame <= 3);
  assert.equal(clip.frames[0]!.params.reset, true);
  for (const { gpu } of clip.frames) {
    for (const role of ['color', 'depth', 'motion', 'reactive'] as const) {
      assert.deepEqual([gpu[role].width, gpu[role].height], [16, 16], role);
    }
    assert.deepEqual([gpu.reference.width, gpu.reference.height], [32, 32]);
  }
  // Consecutive frames differ (they are copies of different renders, not one reused buffer).
  const cpu = await readClipFrames(device, clip);
  assert.notDeepEqual(cpu[0]!.images.reference.data, cpu[2]!.images.reference.data);
  const reference = cpu.map((f) => f.images.reference.data);
  assert.ok(reference.every((d) => d.every(Number.isFinite) && d.some((v) => v > 0)));

  // The CPU training path takes the read-back frames as they are.
  const prepared = prepareClipCpu(clip.header, cpu);
  assert.deepEqual([prepared.length, prepared[2]!.width, prepared[2]!.height], [3, 32, 32]);
  assert.equal(prepared[0]!.params.reset, true);

  const bits = await clipBits(device, clip);
  // Other clips in between use the renderer's buffers; clip 5's copies must not change.
  const other = await sampler.clip(6);
  assert.deepEqual(await clipBits(device, clip), bits);
  // Same index again (cached renderer), also when asked for concurrently with another clip
  // (prefetching), and from a fresh sampler (a resumed run).
  const [again, concurrent] = await Promise.all([sampler.clip(5), sampler.clip(6)]);
  assert.deepEqual(await clipBits(device, again), bits);
  assert.deepEqual(await clipBits(device, concurrent), await clipBits(device, other));
  const fresh = createClipSampler(device, options);
  assert.deepEqual(await clipBits(device, await fresh.clip(5)), bits);
  // next() walks the same indices, and restore() rewinds it.
  fresh.restore({ nextIndex: 5 });
  assert.deepEqual(await clipBits(device, await fresh.next()), bits);
  assert.deepEqual(fresh.state(), { nextIndex: 6 });
  for (const c of [other, clip, again, concurrent]) c.destroy();
  sampler.destroy();
  fresh.destroy();
});

test('ratios are drawn from the list; sizes follow each ratio', async () => {
  const { device } = await testGpu();
  const ratios = [1.5, 2, 3];
  const sampler = createClipSampler(device, {
    displaySize: [24, 18],
    ratio: ratios,
    clipLength: 2,
    samples: 1,
    seed: 3,
    sources: [{ kind: 'analytic', weight: 1 }],
  });
  const seen = new Map<number, number>();
  for (let i = 0; i < 24; i++) {
    const clip = await sampler.clip(i);
    const { ratio } = clip.origin;
    assert.ok(ratios.includes(ratio), `ratio ${ratio}`);
    seen.set(ratio, (seen.get(ratio) ?? 0) + 1);
    assert.deepEqual(clip.header.renderSize, renderSizeFor([24, 18], ratio));
    assert.equal(clip.frames[0]!.gpu.color.width, clip.header.renderSize[0]);
    assert.equal(clip.frames[1]!.gpu.reference.width, 24);
    clip.destroy();
  }
  for (const r of ratios) assert.ok((seen.get(r) ?? 0) >= 3, `ratio ${r} drawn ${seen.get(r)}×`);
});

test('sources mix by weight', async () => {
  const { device } = await testGpu();
  const root = mkdtempSync(join(tmpdir(), 'uplift-mix-'));
  const dir = await writeAnalytic(root, 'seq', [16, 16], 2, 2);
  const sampler = createClipSampler(device, {
    displaySize: [8, 8],
    clipLength: 2,
    samples: 1,
    seed: 11,
    sources: [
      { kind: 'analytic', weight: 3 },
      { kind: 'sequences', weight: 1, dirs: [dir] },
    ],
  });
  let fromDisk = 0;
  const n = 40;
  for (let i = 0; i < n; i++) {
    const clip = await sampler.clip(i);
    if (clip.origin.source === 'sequences') fromDisk++;
    clip.destroy();
  }
  // Expected 10 of 40; a binomial(40, 1/4) lands in 3..17 with probability > 0.99.
  assert.ok(fromDisk >= 3 && fromDisk <= 17, `${fromDisk} of ${n} from disk`);
});

test('crop grid: offsets and sizes align render and display pixels exactly', () => {
  // 1.5×: 3 display pixels per 2 render pixels.
  const header = { renderSize: [32, 24] as const, displaySize: [48, 36] as const };
  assert.deepEqual(cropGrid(header), { render: [2, 2], display: [3, 3] });
  const size = cropSizeFor(header, [32, 32], 'test');
  assert.deepEqual(size, { renderSize: [20, 20], displaySize: [30, 30] });
  const random = rng(5);
  for (let k = 0; k < 50; k++) {
    const rect = randomCrop(header, size, random);
    for (const a of [0, 1]) {
      assert.equal(rect.renderOffset[a]! % 2, 0);
      assert.equal(rect.displayOffset[a], (rect.renderOffset[a]! * 3) / 2);
      assert.ok(rect.renderOffset[a]! + 20 <= header.renderSize[a]!);
    }
  }
  assert.throws(() => cropSizeFor(header, [2, 2], 'seq/x'), /seq\/x: a 2x2 crop/);
});

async function writeAnalytic(
  root: string,
  name: string,
  displaySize: [number, number],
  ratio: number,
  frames: number,
): Promise<string> {
  const sequence = analyticSequence({ displaySize, ratio, frames, referenceSamples: 16, seed: 4 });
  const dir = join(root, name);
  const writer = await createSequenceWriter(dir, sequence.header, { colorPixelType: 'float' });
  for (const [i, f] of sequence.frames.entries()) await writer.writeFrame(i, f.params, f.images);
  await writer.finish();
  return dir;
}

/** Bilinear sample (clamped) of channel c at continuous pixel position (px, py). */
function bilinear(image: Image, px: number, py: number, c: number): number {
  const x = Math.min(image.width - 1, Math.max(0, px - 0.5));
  const y = Math.min(image.height - 1, Math.max(0, py - 0.5));
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const x1 = Math.min(image.width - 1, x0 + 1);
  const y1 = Math.min(image.height - 1, y0 + 1);
  const fx = x - x0;
  const fy = y - y0;
  const at = (xx: number, yy: number) => image.data[(yy * image.width + xx) * image.channels + c]!;
  return (
    (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x1, y0)) +
    fy * ((1 - fx) * at(x0, y1) + fx * at(x1, y1))
  );
}

/**
 * Warps reference t−1 to frame t with the motion vectors: display pixel p takes the motion of the
 * render pixel under it, prevUV = uv + m. Returns the per-pixel mean abs error over RGB against
 * reference t, for pixels whose previous position lies `margin` display pixels inside the image.
 */
function warpErrors(
  previous: Image,
  current: Image,
  motion: Image,
  useMotion: boolean,
  margin: number,
): number[] {
  const errors: number[] = [];
  const { width: W, height: H } = current;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const rx = Math.floor(((x + 0.5) / W) * motion.width);
      const ry = Math.floor(((y + 0.5) / H) * motion.height);
      const k = (ry * motion.width + rx) * 2;
      const mx = useMotion ? motion.data[k]! : 0;
      const my = useMotion ? motion.data[k + 1]! : 0;
      const px = ((x + 0.5) / W + mx) * W;
      const py = ((y + 0.5) / H + my) * H;
      if (px < margin || py < margin || px > W - margin || py > H - margin) continue;
      let e = 0;
      for (let c = 0; c < 3; c++) {
        e += Math.abs(bilinear(previous, px, py, c) - current.data[(y * W + x) * 3 + c]!);
      }
      errors.push(e / 3);
    }
  }
  return errors;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

test('cropped sequence clips: exact crops, and motion vectors still warp t−1 onto t', async () => {
  const { device } = await testGpu();
  const root = mkdtempSync(join(tmpdir(), 'uplift-crop-'));
  const dir = await writeAnalytic(root, 'analytic', [96, 64], 2, 4);
  const full = await openSequence(dir);
  const sampler = createClipSampler(device, {
    displaySize: [48, 32],
    clipLength: 3,
    seed: 2,
    sources: [{ kind: 'sequences', weight: 1, dirs: [dir] }],
  });
  const offsets = new Set<string>();
  for (let index = 0; index < 3; index++) {
    const clip = await sampler.clip(index);
    const { origin, header } = clip;
    offsets.add(origin.renderOffset.join(','));
    assert.deepEqual(header.renderSize, [24, 16]);
    assert.deepEqual(header.displaySize, [48, 32]);
    assert.deepEqual(origin.displayOffset, [
      origin.renderOffset[0] * 2,
      origin.renderOffset[1] * 2,
    ]);
    const frames = await readClipFrames(device, clip);
    for (let t = 0; t < frames.length; t++) {
      const f = t + origin.startFrame;
      const source = await full.readFrame(f);
      const { images, params } = frames[t]!;
      // Jitter unchanged; color, depth, reference are plain crops; motion is scaled by 96/48, 64/32.
      assert.deepEqual(params.jitter, full.frameParams(f).jitter);
      const [ox, oy] = origin.renderOffset;
      assert.deepEqual(images.color.data, cropImage(source.color, ox, oy, 24, 16).data);
      assert.deepEqual(images.depth.data, cropImage(source.depth, ox, oy, 24, 16).data);
      const [dx, dy] = origin.displayOffset;
      assert.deepEqual(images.reference.data, cropImage(source.reference!, dx, dy, 48, 32).data);
      const motion = cropImage(source.motion, ox, oy, 24, 16);
      assert.deepEqual(
        images.motion.data,
        motion.data.map((m) => m * 2),
      );
    }
    // The motion property in the crop's own UV: warping t−1 by the motion reproduces t.
    for (let t = 1; t < frames.length; t++) {
      const args = [frames[t - 1]!.images.reference, frames[t]!.images.reference] as const;
      const motion = frames[t]!.images.motion;
      const warped = warpErrors(...args, motion, true, 2);
      const still = warpErrors(...args, motion, false, 2);
      // Motion left in full-frame UV (not rescaled to the crop) moves half as far: worse.
      const fullFrameUv = { ...motion, data: motion.data.map((m) => m / 2) };
      const unscaled = warpErrors(...args, fullFrameUv, true, 2);

      assert.ok(warped.length > 500, `${warped.length} pixels compared`);
      assert.ok(
        median(warped) < 0.25 * median(still),
        `warped ${median(warped)} vs ${median(still)}`,
      );
      assert.ok(median(warped) < 0.02, `median warp error ${median(warped)}`);
      assert.ok(median(warped) < 0.5 * median(unscaled), `unscaled motion ${median(unscaled)}`);
    }
    clip.destroy();
  }
  assert.ok(offsets.size >= 2, 'crops land at different positions');
  sampler.destroy();
});

test('bad options and unusable sequences are named in the error', async () => {
  const { device } = await testGpu();
  const base = { displaySize: [16, 16] as const, clipLength: 2, seed: 1 };
  assert.throws(() => createClipSampler(device, { ...base, clipLength: 0 }), /clipLength/);
  assert.throws(() => createClipSampler(device, { ...base, ratio: [] }), /ratio list is empty/);
  assert.throws(() => createClipSampler(device, { ...base, ratio: 4 }), /quality must be/);
  assert.throws(() => createClipSampler(device, { ...base, samples: 0 }), /samples/);
  const short = { ...entry('city', 'orbit', 1), frames: 1 };
  assert.throws(
    () =>
      createClipSampler(device, {
        ...base,
        sources: [{ kind: 'scenes', weight: 1, entries: [short] }],
      }),
    /city-orbit-1 has 1 frames/,
  );
  assert.throws(
    () => createClipSampler(device, { ...base, sources: [{ kind: 'analytic', weight: 0 }] }),
    /positive sum/,
  );
  // A sequence without references cannot train.
  const root = mkdtempSync(join(tmpdir(), 'uplift-noref-'));
  const sequence = analyticSequence({ displaySize: [16, 16], frames: 2, referenceSamples: 1 });
  const dir = join(root, 'noref');
  const writer = await createSequenceWriter(dir, sequence.header);
  for (const [i, f] of sequence.frames.entries()) {
    const { reference: _, ...inputs } = f.images;
    await writer.writeFrame(i, f.params, inputs);
  }
  await writer.finish();
  const sampler = createClipSampler(device, {
    ...base,
    sources: [{ kind: 'sequences', weight: 1, dirs: [dir] }],
  });
  await assert.rejects(
    sampler.clip(0),
    (e: Error) => e instanceof InputError && /noref frame \d+: no reference/.test(e.message),
  );
  await assert.rejects(
    createClipSampler(device, {
      ...base,
      clipLength: 3,
      sources: [{ kind: 'sequences', weight: 1, dirs: [dir] }],
    }).clip(0),
    /2 frames, fewer than the clip length 3/,
  );
});

test('default scene clips render the pure choice: wide training layout seeds, no held-out pair', async () => {
  const { device } = await testGpu();
  const options = { displaySize: [16, 16] as const, clipLength: 2, samples: 1, seed: 9 };
  const sampler = createClipSampler(device, options);
  // Indices in different renderer groups (4 clips per renderer).
  for (const index of [0, 5]) {
    const clip = await sampler.clip(index);
    const { entry, ratio, startFrame } = sceneClipChoice(
      {},
      { seed: 9, index, clipLength: 2, ratios: [2] },
    );
    assert.deepEqual(
      [clip.origin.name, clip.origin.seed, clip.origin.ratio, clip.origin.startFrame],
      [entry.name, entry.seed, ratio, startFrame],
    );
    assert.ok(clip.origin.seed! >= TRAIN_LAYOUT_SEEDS.first);
    assert.ok(clip.origin.seed! < VALIDATION_SEED_BASE);
    assert.ok(!isHeldOut(clip.origin.scene!, clip.origin.path!));
    clip.destroy();
  }
  sampler.destroy();
  assert.throws(
    () =>
      createClipSampler(device, {
        ...options,
        sources: [{ kind: 'scenes', weight: 1, layoutSeeds: { first: 5, last: 4 } }],
      }),
    /layoutSeeds/,
  );
});
