// TAAU resolve and output passes vs their CPU references on random inputs (tolerance 1e-4
// relative + 2e-5 absolute: f32 GPU vs float64 CPU; plus one binary16 step for history and state
// stored as rgba16float, test/helpers/half-images.ts), and properties of the resolve itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu, rng } from './helpers/gpu.ts';
import { createImage, luma, storedImage, withChannels, type Image } from '../src/core/image.ts';
import { assertHalvesClose } from './helpers/half-images.ts';
import { jitterOffset } from '../src/core/jitter.ts';
import { psnr } from '../src/metrics/psnr.ts';
import { createReferenceUpscaler, storedHistory } from '../src/reference/upscaler.ts';
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
  for (const format of ['rgba32float', 'rgba16float'] as const) {
    test(`TAAU resolve matches the CPU reference (${rw}x${rh} → ${dw}x${dh}, history ${format})`, async () => {
      const { device } = await testGpu();
      let identical = 0;
      for (const reset of [false, true]) {
        const inputs = randomResolveInputs(dw + Number(reset), rw, rh, dw, dh);
        // The reprojected images as the GPU holds them, and the CPU's output as stored.
        const reprojected = {
          history: storedImage(inputs.history, format),
          state: storedImage(inputs.state, format),
        };
        const cpu = storedHistory(
          taauResolveCpu({ color: inputs.color, motion: inputs.motion }, reprojected, {
            jitter: inputs.jitter,
            reset,
            displaySize: [dw, dh],
          }),
          format,
        );
        const output = {
          history: createGpuImage(device, dw, dh, undefined, format),
          state: createGpuImage(device, dw, dh, undefined, format),
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
              history: uploadGpuImage(device, reprojected.history, undefined, format),
              state: uploadGpuImage(device, reprojected.state, undefined, format),
            },
            { jitter: inputs.jitter, reset },
            output,
          ),
        );
        for (const key of ['history', 'state'] as const) {
          const gpu = await readGpuImage(device, output[key]);
          const what = `${key} reset=${reset}`;
          if (format === 'rgba32float') assertClose(gpu, cpu[key], what);
          else identical += assertHalvesClose(gpu, cpu[key], what);
        }
        // The random inputs exercise locks being created and kept.
        const locks = Array.from({ length: dw * dh }, (_, i) => cpu.state.data[i * 4 + 1]!);
        assert.ok(locks.some((l) => l === 1));
        if (!reset) assert.ok(locks.some((l) => l > 0 && l < 1));
      }
      // Stored as halves, GPU and CPU round to the same bits but for rare boundary straddles.
      if (format === 'rgba16float') {
        assert.ok(identical >= 0.99 * 2 * 2 * 4 * dw * dh, `${identical} identical`);
      }
    });
  }
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

for (const [sharpness, format] of [
  [undefined, 'rgba32float'],
  [0, 'rgba32float'],
  [0.7, 'rgba32float'],
  [1, 'rgba32float'],
  [undefined, 'rgba16float'],
  [0.7, 'rgba16float'],
] as const) {
  test(`output pass matches the CPU reference (sharpness ${sharpness}, input ${format})`, async () => {
    const { device } = await testGpu();
    const random = rng(31);
    const [w, h] = [11, 7];
    // A temporal method's history is read as stored (rgba16float), the spatial image as f32.
    const tonemapped = storedImage(
      fill(createImage(w, h, 4), random, [
        [0, 0.98],
        [0, 0.98],
        [0, 0.98],
        [1, 1],
      ]),
      format,
    );
    const cpu = outputCpu(tonemapped, 1.5, sharpness);
    const image = createGpuImage(device, w, h);
    const texture = device.createTexture({
      size: [w, h],
      format: 'rgba32float',
      usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_SRC,
    });
    const input = uploadGpuImage(device, tonemapped, undefined, format);
    await submit(device, (pass) =>
      encodeOutput(device, pass, input, 1.5, sharpness, { image, texture }),
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

/**
 * A checker (cells of 4 display pixels) panned at `speed` display pixels per frame along x or y,
 * with exact motion, through the whole CPU TAAU (prepare, reproject, resolve, output). Frame i is
 * rendered with jitter (jx, jy) = `jitterOf(i)` (DESIGN §4) and the resolve is told `told(i)`.
 * Returns the mean PSNR after 8 warm-up frames against the box-filtered reference.
 */
function pannedCheckerPsnr(
  axis: 'x' | 'y',
  speed: number,
  jitterOf: (i: number) => [number, number],
  told: (i: number) => [number, number] = jitterOf,
): number {
  const [dw, rw] = [32, 16];
  const scene = (qx: number, qy: number) =>
    (Math.floor(qx / 4) + Math.floor(qy / 4)) & 1 ? 0.55 : 0.12;
  const up = createReferenceUpscaler({ displaySize: [dw, dw], renderSize: [rw, rw] });
  const psnrs: number[] = [];
  for (let i = 0; i < 24; i++) {
    // Layer offset in display pixels; the same start on both axes so the scene is symmetric.
    const o = 0.3 + speed * i;
    const [ox, oy] = axis === 'x' ? [o, 0.3] : [0.3, o];
    const [jx, jy] = jitterOf(i);
    const color = createImage(rw, rw, 3);
    const depth = createImage(rw, rw, 1);
    const motion = createImage(rw, rw, 2);
    for (let y = 0; y < rw; y++) {
      for (let x = 0; x < rw; x++) {
        const k = y * rw + x;
        const v = scene(((x + 0.5 + jx) * dw) / rw - ox, ((y + 0.5 + jy) * dw) / rw - oy);
        color.data.fill(v, k * 3, k * 3 + 3);
        depth.data[k] = 0.5;
        // prevUV − uv: the surface was `speed` pixels back along the axis.
        motion.data[k * 2 + (axis === 'x' ? 0 : 1)] = i > 0 ? -speed / dw : 0;
      }
    }
    const reference = createImage(dw, dw, 3);
    for (let y = 0; y < dw; y++) {
      for (let x = 0; x < dw; x++) {
        let sum = 0;
        for (let s = 0; s < 64; s++) {
          sum += scene(x + ((s % 8) + 0.5) / 8 - ox, y + (Math.floor(s / 8) + 0.5) / 8 - oy);
        }
        reference.data.fill(sum / 64, (y * dw + x) * 3, (y * dw + x) * 3 + 3);
      }
    }
    const out = up.dispatch(
      { color, depth, motion },
      {
        jitter: told(i),
        reset: i === 0,
        exposure: 1,
        cameraNear: 0.1,
        cameraFar: 100,
        fovY: 1,
        motionScale: [1, 1],
      },
    );
    if (i >= 8) psnrs.push(psnr(withChannels(out, 3), reference));
  }
  return psnrs.reduce((a, b) => a + b, 0) / psnrs.length;
}

test('TAAU: a vertical pan resolves exactly like the transposed horizontal pan', () => {
  // Halton(2,3) treats x and y differently, so the vertical pan gets the horizontal pan's jitter
  // with its axes swapped: any y-only convention error (jitter sign, half-pixel, motion
  // direction) in prepare, reproject or resolve breaks the symmetry.
  const jitter = (i: number) => jitterOffset(i, 32);
  const swapped = (i: number): [number, number] => [jitter(i)[1], jitter(i)[0]];
  for (const speed of [0.75, -1.1]) {
    const horizontal = pannedCheckerPsnr('x', speed, jitter);
    const vertical = pannedCheckerPsnr('y', speed, swapped);
    assert.ok(
      Math.abs(horizontal - vertical) < 0.01,
      `speed ${speed}: horizontal ${horizontal.toFixed(3)} dB, vertical ${vertical.toFixed(3)} dB`,
    );
  }
});

test('TAAU: the jitter convention of DESIGN §4 beats a flipped sign on either axis', () => {
  // Samples sit at (x + 0.5 + jx, y + 0.5 + jy): telling the resolve −jy (or −jx) misplaces
  // every sample and must cost at least 0.5 dB, during a pan along either axis.
  const jitter = (i: number) => jitterOffset(i, 32);
  for (const axis of ['x', 'y'] as const) {
    const right = pannedCheckerPsnr(axis, 0.75, jitter);
    for (const [sx, sy] of [
      [1, -1],
      [-1, 1],
    ]) {
      const flipped = pannedCheckerPsnr(axis, 0.75, jitter, (i) => [
        sx! * jitter(i)[0],
        sy! * jitter(i)[1],
      ]);
      assert.ok(
        right > flipped + 0.5,
        `${axis} pan, jitter signs (${sx}, ${sy}): right ${right.toFixed(2)} dB, flipped ${flipped.toFixed(2)} dB`,
      );
    }
  }
});
