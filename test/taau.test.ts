// TAAU resolve and output passes vs their CPU references on random inputs (tolerance 1e-4
// relative + 2e-5 absolute: f32 GPU vs float64 CPU), and properties of the resolve itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu, rng } from './helpers/gpu.ts';
import { createImage, luma, type Image } from '../src/core/image.ts';
import { createGpuImage, readGpuImage, uploadGpuImage } from '../src/gpu/gpu-image.ts';
import { encodeTaauResolve } from '../src/gpu/passes/taau-resolve.ts';
import { encodeOutput } from '../src/gpu/passes/output.ts';
import { readImage } from '../src/gpu/resources.ts';
import { taauResolveCpu } from '../src/reference/taau-resolve.ts';
import { outputCpu } from '../src/reference/output.ts';

function fill(image: Image, random: () => number, ranges: [number, number][]): Image {
  const k = image.channels;
  for (let i = 0; i < image.data.length; i++) {
    const [lo, hi] = ranges[i % k]!;
    image.data[i] = lo + (hi - lo) * random();
  }
  return image;
}

function assertClose(actual: Image, expected: Image, what: string): void {
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i]!;
    const e = expected.data[i]!;
    if (!(Math.abs(a - e) <= 2e-5 + 1e-4 * Math.abs(e))) {
      const px = Math.floor(i / 4);
      assert.fail(
        `${what}: pixel ${px % expected.width},${Math.floor(px / expected.width)} channel ${i % 4}: GPU ${a}, CPU ${e}`,
      );
    }
  }
}

async function submit(device: GPUDevice, record: (pass: GPUComputePassEncoder) => void) {
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  record(pass);
  pass.end();
  device.queue.submit([encoder.finish()]);
}

function randomResolveInputs(seed: number, rw: number, rh: number, dw: number, dh: number) {
  const random = rng(seed);
  const color = fill(createImage(rw, rh, 4), random, [
    [0, 0.95],
    [0, 0.95],
    [0, 0.95],
    [0, 0],
  ]);
  for (let i = 0; i < rw * rh; i++) {
    const d = color.data;
    d[i * 4 + 3] = luma(d[i * 4]!, d[i * 4 + 1]!, d[i * 4 + 2]!);
  }
  const motion = fill(createImage(rw, rh, 4), random, [
    [-0.05, 0.05],
    [-0.05, 0.05],
    [0, 1],
    [0, 1],
  ]);
  // Most pixels without disocclusion / reactive, as in real frames.
  for (let i = 0; i < rw * rh; i++) {
    if (random() < 0.6) motion.data[i * 4 + 2] = 0;
    if (random() < 0.6) motion.data[i * 4 + 3] = 0;
  }
  const history = fill(createImage(dw, dh, 4), random, [
    [0, 0.95],
    [0, 0.95],
    [0, 0.95],
    [0, 1],
  ]);
  for (let i = 0; i < dw * dh; i++) history.data[i * 4 + 3] = random() < 0.8 ? 1 : 0;
  const state = fill(createImage(dw, dh, 4), random, [
    [0, 15],
    [0, 1],
    [0, 1],
    [0, 1],
  ]);
  return { color, motion, history, state, jitter: [random() - 0.5, random() - 0.5] as const };
}

for (const [rw, rh, dw, dh] of [
  [8, 6, 16, 12],
  [10, 7, 15, 11],
] as const) {
  test(`TAAU resolve matches the CPU reference (${rw}x${rh} → ${dw}x${dh})`, async () => {
    const { device } = await testGpu();
    for (const reset of [false, true]) {
      const inputs = randomResolveInputs(dw + Number(reset), rw, rh, dw, dh);
      const cpu = taauResolveCpu(
        { color: inputs.color, motion: inputs.motion },
        { history: inputs.history, state: inputs.state },
        { jitter: inputs.jitter, reset, displaySize: [dw, dh] },
      );
      const output = {
        history: createGpuImage(device, dw, dh),
        state: createGpuImage(device, dw, dh),
      };
      await submit(device, (pass) =>
        encodeTaauResolve(
          device,
          pass,
          {
            color: uploadGpuImage(device, inputs.color),
            motion: uploadGpuImage(device, inputs.motion),
          },
          {
            history: uploadGpuImage(device, inputs.history),
            state: uploadGpuImage(device, inputs.state),
          },
          { jitter: inputs.jitter, reset },
          output,
        ),
      );
      assertClose(
        await readGpuImage(device, output.history),
        cpu.history,
        `history reset=${reset}`,
      );
      assertClose(await readGpuImage(device, output.state), cpu.state, `state reset=${reset}`);
      // The random inputs exercise locks being created and kept.
      const locks = Array.from({ length: dw * dh }, (_, i) => cpu.state.data[i * 4 + 1]!);
      assert.ok(locks.some((l) => l === 1));
      if (!reset) assert.ok(locks.some((l) => l > 0 && l < 1));
    }
  });
}

test('TAAU resolve drops history on reset, disocclusion and reactive pixels', () => {
  const inputs = randomResolveInputs(3, 8, 6, 16, 12);
  for (let i = 0; i < 48; i++) {
    if (i % 5 === 0) inputs.motion.data[i * 4 + 2] = 1;
    if (i % 7 === 0) inputs.motion.data[i * 4 + 3] = 1;
  }
  const run = (reset: boolean) =>
    taauResolveCpu(
      { color: inputs.color, motion: inputs.motion },
      { history: inputs.history, state: inputs.state },
      { jitter: inputs.jitter, reset, displaySize: [16, 12] },
    );
  const reset = run(true);
  const kept = run(false);
  // With no history the result is the upsampled frame: independent of the history contents.
  const other = {
    ...inputs.history,
    data: inputs.history.data.map((v, i) => (i % 4 === 3 ? v : 0.5)),
  };
  const resetOther = taauResolveCpu(
    { color: inputs.color, motion: inputs.motion },
    { history: other, state: inputs.state },
    { jitter: inputs.jitter, reset: true, displaySize: [16, 12] },
  );
  assert.deepEqual(resetOther.history.data, reset.history.data);
  // Fully disoccluded / reactive pixels ignore history too; trusted ones use it.
  let ignored = 0;
  let used = 0;
  for (let y = 0; y < 12; y++) {
    for (let x = 0; x < 16; x++) {
      const r = (Math.floor(y / 2) * 8 + Math.floor(x / 2)) * 4;
      const o = (y * 16 + x) * 4;
      const cue = inputs.motion.data;
      const same = Math.abs(kept.history.data[o]! - reset.history.data[o]!) < 1e-7;
      if (cue[r + 2] === 0 && cue[r + 3] === 0 && inputs.history.data[o + 3] === 1) {
        used += same ? 0 : 1;
      } else if (cue[r + 2]! > 0.999 || cue[r + 3]! > 0.999) {
        ignored++;
        assert.ok(same, `pixel ${x},${y} should ignore history`);
      }
    }
  }
  assert.ok(used > 20);
  assert.ok(ignored > 20);
});

for (const sharpness of [undefined, 0, 0.7, 1]) {
  test(`output pass matches the CPU reference (sharpness ${sharpness})`, async () => {
    const { device } = await testGpu();
    const random = rng(31);
    const [w, h] = [11, 7];
    const tonemapped = fill(createImage(w, h, 4), random, [
      [0, 0.98],
      [0, 0.98],
      [0, 0.98],
      [1, 1],
    ]);
    const cpu = outputCpu(tonemapped, 1.5, sharpness);
    const image = createGpuImage(device, w, h);
    const texture = device.createTexture({
      size: [w, h],
      format: 'rgba32float',
      usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_SRC,
    });
    await submit(device, (pass) =>
      encodeOutput(device, pass, uploadGpuImage(device, tonemapped), 1.5, sharpness, {
        image,
        texture,
      }),
    );
    assertClose(await readGpuImage(device, image), cpu, 'output image');
    assertClose(await readImage(device, texture), cpu, 'output texture');
  });
}

test('RCAS steepens an edge and leaves flat regions alone', () => {
  const [w, h] = [8, 3];
  const profile = [0.2, 0.2, 0.2, 0.35, 0.8, 0.8, 0.8, 0.8];
  const image = createImage(w, h, 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++)
      image.data.set([profile[x]!, profile[x]!, profile[x]!, 1], (y * w + x) * 4);
  }
  const plain = outputCpu(image, 1);
  const sharp = outputCpu(image, 1, 1);
  const weak = outputCpu(image, 1, 0);
  const at = (img: Image, x: number) => img.data[(1 * w + x) * 4]!;
  assert.ok(at(sharp, 3) < at(weak, 3) && at(weak, 3) < at(plain, 3));
  assert.ok(at(sharp, 4) > at(weak, 4) && at(weak, 4) > at(plain, 4));
  for (const x of [0, 7]) assert.ok(Math.abs(at(sharp, x) - at(plain, x)) < 1e-9);
  assert.ok(sharp.data.every(Number.isFinite));
});
