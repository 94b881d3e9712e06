// Training loss: finite-difference check of the CPU reference (float64), GPU vs CPU on random
// images (values within 1e-5 relative, gradients within 1e-6 absolute: they are sums of a few
// ± weight/count terms), the history staleness of the stale term (its definition on hand-made
// cases, GPU vs CPU through the loss), and the GPU two-stage reduction against a float64 sum.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu, maxAbsDiff } from './helpers/gpu.ts';
import { checkGradient, describeGradCheck, randomReal } from '../src/train/grad-check.ts';
import { frameLossCpu, srgbEncode, type LossWeights } from '../src/train/losses/frame-loss-cpu.ts';
import { historyStalenessCpu, STALENESS_RANGE } from '../src/train/losses/staleness-cpu.ts';
import { createImage, type Image } from '../src/core/image.ts';
import { mulberry32 } from '../src/core/random.ts';
import { createFrameLoss } from '../src/train/losses/frame-loss.ts';
import {
  createGpuImage,
  readGpuImage,
  uploadGpuImage,
  type GpuImage,
} from '../src/gpu/gpu-image.ts';
import {
  encodeTonemapReference,
  tonemapReferenceCpu,
} from '../src/train/losses/tonemap-reference.ts';
import { createStorageBuffer, readBuffer } from '../src/gpu/resources.ts';
import { REDUCE_WIDTH, encodeReduceSum } from '../src/train/reduce.ts';
import { createTensorL1, tensorL1Cpu } from '../src/train/losses/tensor-l1.ts';

const weights: LossWeights = { l1: 1, gradient: 0.7, temporal: 0.4, stale: 3, mse: 20, srgb: 2 };

/** Random values in [0, 1] with every 13th near or below black (the sRGB encoding's linear part). */
function withDarkValues(values: Float64Array): Float64Array {
  for (let i = 0; i < values.length; i += 13) values[i] = (values[i]! - 0.4) * 0.008;
  return values;
}

test('frame loss CPU gradient matches finite differences (output and previous output)', () => {
  const [w, h] = [5, 4];
  const n = w * h * 4;
  const output = withDarkValues(randomReal(n, 1, 0, 1));
  const reference = randomReal(n, 2, 0, 1);
  const previous = {
    output: randomReal(n, 3, 0, 1),
    reference: randomReal(n, 4, 0, 1),
    staleness: randomReal(w * h, 5, 0, 1),
  };
  const result = frameLossCpu(w, h, output, reference, weights, previous);
  assert.ok(result.temporal > 0 && result.gradient > 0 && result.l1 > 0 && result.stale > 0);
  // The mse term is the weighted mean squared error over pixels and RGB.
  let squares = 0;
  for (let i = 0; i < n; i++) if (i % 4 !== 3) squares += (output[i]! - reference[i]!) ** 2;
  assert.ok(Math.abs(result.mse - (weights.mse * squares) / (3 * w * h)) < 1e-12);
  // The srgb term is the weighted mean of |srgb(o) − srgb(r)| over pixels and RGB.
  let encoded = 0;
  for (let i = 0; i < n; i++) {
    if (i % 4 !== 3) encoded += Math.abs(srgbEncode(output[i]!) - srgbEncode(reference[i]!));
  }
  assert.ok(Math.abs(result.srgb - (weights.srgb * encoded) / (3 * w * h)) < 1e-12);
  // The stale term is the l1 term once more, pixel by pixel weighted by the staleness.
  const allStale = { ...previous, staleness: new Float64Array(w * h).fill(1) };
  const one = frameLossCpu(w, h, output, reference, weights, allStale);
  assert.ok(Math.abs(one.stale / weights.stale - one.l1 / weights.l1) < 1e-12);
  const byOutput = checkGradient(
    (x) => frameLossCpu(w, h, x, reference, weights, previous).total,
    output,
    result.gradOutput,
  );
  assert.ok(byOutput.maxRelativeError < 1e-6, describeGradCheck('d/d output', byOutput));
  const byPrevious = checkGradient(
    (x) => frameLossCpu(w, h, output, reference, weights, { ...previous, output: x }).total,
    previous.output,
    result.gradPreviousOutput!,
  );
  assert.ok(byPrevious.maxRelativeError < 1e-6, describeGradCheck('d/d previous', byPrevious));
  // Without a previous frame the temporal and stale terms vanish; without staleness, the stale.
  const alone = frameLossCpu(w, h, output, reference, weights);
  assert.equal(alone.temporal, 0);
  assert.equal(alone.stale, 0);
  const noStaleness = { output: previous.output, reference: previous.reference };
  assert.equal(frameLossCpu(w, h, output, reference, weights, noStaleness).stale, 0);
});

/** A motion image (render size, 4 channels) with motion (mx, my) in UV everywhere. */
function uniformMotion(width: number, height: number, mx: number, my: number): Image {
  const image = createImage(width, height, 4);
  for (let i = 0; i < width * height; i++) image.data.set([mx, my], i * 4);
  return image;
}

test('the srgb term weighs an error on a dark pixel more than the same error on a bright one', () => {
  const only: LossWeights = { l1: 0, gradient: 0, temporal: 0, stale: 0, mse: 0, srgb: 1 };
  const cost = (level: number) => {
    const reference = new Float64Array(4).fill(level);
    const output = reference.map((v) => v + 0.01);
    return frameLossCpu(1, 1, output, reference, only).srgb;
  };
  // 0.01 above 0.02 against 0.01 above 0.8: several times the cost (the eye's, and ꟻLIP's, weighing).
  assert.ok(cost(0.02) > 4 * cost(0.8), `${cost(0.02)} > 4 × ${cost(0.8)}`);
  // The l1 term alone cannot tell them apart.
  const l1 = { ...only, l1: 1, srgb: 0 };
  const at = (level: number) =>
    frameLossCpu(1, 1, new Float64Array(4).fill(level + 0.01), new Float64Array(4).fill(level), l1)
      .l1;
  assert.ok(Math.abs(at(0.02) - at(0.8)) < 1e-12);
});

test('history staleness: 0 where the moved previous reference holds this one, 1 where not', () => {
  const [w, h] = [8, 6];
  // A sharp vertical edge at x = 4 in the previous frame, moved 1.5 pixels right in this one.
  const edge = (shift: number) => {
    const image = new Float64Array(w * h * 4);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        image.fill(x + 0.5 >= 4 + shift ? 0.8 : 0.1, (y * w + x) * 4, (y * w + x) * 4 + 3);
    return image;
  };
  const previous = edge(0);
  // Still: identical references, no staleness anywhere.
  const still = historyStalenessCpu(w, h, uniformMotion(4, 3, 0, 0), previous, previous, false);
  assert.deepEqual([...still], new Array(w * h).fill(0));
  // The edge moved by a pixel and a half; motion that says so finds it in the previous box
  // (between two texels): nothing stale, though no single texel holds every value, except the
  // first column, which comes from off screen.
  const moved = edge(1.5);
  const right = historyStalenessCpu(w, h, uniformMotion(4, 3, -1.5 / w, 0), moved, previous, false);
  for (let i = 0; i < w * h; i++) assert.equal(right[i], i % w === 0 ? 1 : 0, `pixel ${i}`);
  // Motion that missed the move (zero): the pixels the edge crossed are stale, the rest not.
  const missed = historyStalenessCpu(w, h, uniformMotion(4, 3, 0, 0), moved, previous, false);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const crossed = x === 4; // 0.8 before, 0.1 now (x = 5 is 0.8 in both)
      assert.equal(missed[y * w + x], crossed ? 1 : 0, `(${x}, ${y})`);
    }
  }
  // A small change scales: half the range outside the box → 0.5.
  const dimmer = previous.map((v, i) => (i % 4 === 1 ? v - STALENESS_RANGE / 2 : v));
  const half = historyStalenessCpu(w, h, uniformMotion(4, 3, 0, 0), dimmer, previous, false);
  assert.ok(half.every((s) => Math.abs(s - 0.5) < 1e-9));
  // Off screen and reset: fully stale.
  const flat = new Float64Array(w * h * 4).fill(0.4);
  const off = historyStalenessCpu(w, h, uniformMotion(4, 3, 2.5 / w, 0), flat, flat, false);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) assert.equal(off[y * w + x], x + 0.5 + 2.5 > w ? 1 : 0);
  }
  // Off-screen history given another staleness (0: left to the other terms); a cut stays 1.
  const offRight = uniformMotion(4, 3, 2.5 / w, 0);
  const offZero = historyStalenessCpu(w, h, offRight, flat, flat, false, 1, 0);
  assert.ok(offZero.every((s) => s === 0));
  const offHalf = historyStalenessCpu(w, h, offRight, flat, flat, false, 1, 0.5);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) assert.equal(offHalf[y * w + x], x + 0.5 + 2.5 > w ? 0.5 : 0);
  }
  assert.ok(historyStalenessCpu(w, h, offRight, flat, flat, true, 1, 0).every((s) => s === 1));
  // An exposure change is not staleness once the history is rescaled as the reprojection does:
  // linear 0.25 (tonemapped 0.2) seen at twice the exposure is 0.5 (tonemapped 1/3).
  const before = new Float64Array(w * h * 4).fill(0.2);
  const after = new Float64Array(w * h * 4).fill(1 / 3);
  const still0 = uniformMotion(4, 3, 0, 0);
  assert.ok(historyStalenessCpu(w, h, still0, after, before, false, 2).every((s) => s < 1e-9));
  assert.ok(historyStalenessCpu(w, h, still0, after, before, false).every((s) => s === 1));
  const cut = historyStalenessCpu(w, h, uniformMotion(4, 3, 0, 0), previous, previous, true);
  assert.ok(cut.every((s) => s === 1));
  assert.throws(
    () =>
      historyStalenessCpu(w, h, uniformMotion(4, 3, 0, 0), previous.subarray(4), previous, false),
    /staleness reference has 188 values, want 192/,
  );
});

function upload(device: GPUDevice, data: Float64Array, w: number, h: number): GpuImage {
  const image = createGpuImage(device, w, h);
  device.queue.writeBuffer(image.buffer, 0, new Float32Array(data));
  return image;
}

test('frame loss GPU matches the CPU reference (values and gradients, with accumulation)', async () => {
  // Off-screen history fully stale (the default), and counted a quarter.
  for (const offscreen of [1, 0.25]) await checkFrameLossGpu(offscreen);
});

async function checkFrameLossGpu(offscreen: number) {
  const { device } = await testGpu();
  const [w, h] = [13, 9];
  const n = w * h * 4;
  // Round inputs to f32 first so both sides see the same numbers.
  const f32 = (seed: number) => new Float64Array(new Float32Array(randomReal(n, seed, 0, 1)));
  const [out, ref, prevOut, prevRef] = [f32(5), f32(6), f32(7), f32(8)];
  out.set(new Float32Array(withDarkValues(out)));
  // Half of this frame's reference is the previous one's, so the staleness spans 0 to 1.
  for (let i = 0; i < n; i += 8) ref.set(prevRef.subarray(i, i + 4), i);
  const initialGrad = f32(9);
  // Render-size motion (7×5) of whole display pixels plus 0.3 (no tap decision near a tie in
  // f32), some of it off screen.
  const random = mulberry32(10);
  const motion = createImage(7, 5, 4);
  for (let i = 0; i < 35; i++) {
    const pixels = () => Math.floor(random() * 7) - 3 + 0.3;
    motion.data.set([pixels() / w, pixels() / h], i * 4);
  }
  const staleness = historyStalenessCpu(w, h, motion, ref, prevRef, false, 1, offscreen);
  assert.ok(staleness.some((s) => s === 0) && staleness.some((s) => s === 1));
  assert.ok(staleness.some((s) => s > 0 && s < 1 && s !== offscreen));
  assert.ok(
    staleness.some((s) => s === offscreen),
    'some history off screen',
  );
  const cpu = frameLossCpu(w, h, out, ref, weights, {
    output: prevOut,
    reference: prevRef,
    staleness,
  });

  const loss = createFrameLoss(device, w, h, 2);
  const gradOut = upload(device, initialGrad, w, h);
  const gradPrev = upload(device, initialGrad, w, h);
  const gradNoPrev = createGpuImage(device, w, h);
  const images = [out, ref, prevOut, prevRef].map((d) => upload(device, d, w, h));
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  loss.encode(
    pass,
    {
      output: images[0]!,
      reference: images[1]!,
      gradOutput: gradOut,
      accumulate: true,
      previous: {
        output: images[2]!,
        reference: images[3]!,
        gradOutput: gradPrev,
        staleness: { motion: uploadGpuImage(device, motion), reset: false, offscreen },
      },
      slot: 1,
    },
    weights,
  );
  loss.encode(pass, { output: images[0]!, reference: images[1]!, gradOutput: gradNoPrev }, weights);
  pass.end();
  device.queue.submit([encoder.finish()]);

  const [noPrevious, withPrevious] = await loss.read();
  for (const key of ['l1', 'gradient', 'temporal', 'stale', 'mse', 'srgb', 'total'] as const) {
    const e = cpu[key];
    assert.ok(
      Math.abs(withPrevious![key] - e) <= 1e-5 * e,
      `${key}: GPU ${withPrevious![key]}, CPU ${e}`,
    );
  }
  assert.equal(noPrevious!.temporal, 0);
  assert.equal(noPrevious!.stale, 0);
  assert.ok(Math.abs(noPrevious!.mse - cpu.mse) <= 1e-5 * cpu.mse);
  assert.ok(Math.abs(noPrevious!.srgb - cpu.srgb) <= 1e-5 * cpu.srgb);
  const alone = cpu.l1 + cpu.gradient + cpu.mse + cpu.srgb;
  assert.ok(Math.abs(noPrevious!.total - alone) <= 1e-5 * cpu.total);

  const expectOut = cpu.gradOutput.map((g, i) => g + initialGrad[i]!);
  const expectPrev = cpu.gradPreviousOutput!.map((g, i) => g + initialGrad[i]!);
  const gotOut = (await readGpuImage(device, gradOut)).data;
  const gotPrev = (await readGpuImage(device, gradPrev)).data;
  assert.ok(maxAbsDiff(gotOut, expectOut).max < 1e-6, 'gradient wrt output');
  assert.ok(maxAbsDiff(gotPrev, expectPrev).max < 1e-6, 'gradient wrt previous output');
  const cpuNoPrev = frameLossCpu(w, h, out, ref, weights);
  const gotNoPrev = (await readGpuImage(device, gradNoPrev)).data;
  assert.ok(maxAbsDiff(gotNoPrev, cpuNoPrev.gradOutput).max < 1e-6, 'gradient without previous');
  loss.destroy();
}

test('GPU two-stage sum (and sum of squares) matches a float64 sum, bit-reproducibly', async () => {
  const { device } = await testGpu();
  const count = 100_003; // more than REDUCE_WIDTH² so groups stride
  const data = new Float32Array(randomReal(count + 7, 11, -1, 1));
  const values = createStorageBuffer(device, data);
  const scratch = createStorageBuffer(device, new Float32Array(REDUCE_WIDTH));
  const output = createStorageBuffer(device, new Float32Array(4));
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encodeReduceSum(device, pass, { values, offset: 7, count, scratch, output, outIndex: 0 });
  encodeReduceSum(device, pass, {
    values,
    offset: 7,
    count,
    squared: true,
    scratch,
    output,
    outIndex: 1,
  });
  encodeReduceSum(device, pass, { values, offset: 7, count, scratch, output, outIndex: 2 });
  pass.end();
  device.queue.submit([encoder.finish()]);
  const got = await readBuffer(device, output);
  let sum = 0;
  let squares = 0;
  for (let i = 7; i < count + 7; i++) {
    sum += data[i]!;
    squares += data[i]! * data[i]!;
  }
  assert.ok(Math.abs(got[0]! - sum) < 1e-3, `sum GPU ${got[0]} CPU ${sum}`);
  assert.ok(Math.abs(got[1]! - squares) < 1e-5 * squares, `squares GPU ${got[1]} CPU ${squares}`);
  assert.equal(got[2], got[0], 'same inputs, same bits');
});

test('tensor L1 loss on the GPU matches the CPU reference (value and gradient)', async () => {
  const { device } = await testGpu();
  const count = 3001;
  const prediction = new Float32Array(randomReal(count, 21));
  const target = new Float32Array(randomReal(count, 22));
  const cpu = tensorL1Cpu(prediction, target);
  const l1 = createTensorL1(device, count);
  const grad = createStorageBuffer(device, new Float32Array(count));
  const values = createStorageBuffer(device, new Float32Array(2));
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  l1.encode(
    pass,
    createStorageBuffer(device, prediction),
    createStorageBuffer(device, target),
    grad,
    values,
    1,
  );
  pass.end();
  device.queue.submit([encoder.finish()]);
  const got = await readBuffer(device, values);
  assert.ok(Math.abs(got[1]! - cpu.loss) <= 1e-5 * cpu.loss, `L1 GPU ${got[1]}, CPU ${cpu.loss}`);
  assert.ok(maxAbsDiff(await readBuffer(device, grad), cpu.grad).max < 1e-9);
  l1.destroy();
});

test('reference tonemap on the GPU matches the CPU reference (exposure, NaN/Inf/negative → 0)', async () => {
  const { device } = await testGpu();
  const [w, h] = [7, 5];
  const image = {
    width: w,
    height: h,
    channels: 4,
    data: new Float32Array(randomReal(w * h * 4, 31, -0.5, 20)),
  };
  image.data[4] = NaN;
  image.data[9] = Infinity;
  const want = tonemapReferenceCpu(image, 1.3);
  const input = uploadGpuImage(device, image);
  const output = createGpuImage(device, w, h);
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encodeTonemapReference(device, pass, input, 1.3, output);
  pass.end();
  device.queue.submit([encoder.finish()]);
  const got = (await readGpuImage(device, output)).data;
  for (let i = 0; i < want.length; i++) {
    assert.ok(
      Math.abs(got[i]! - want[i]!) <= 1e-6 + 1e-5 * Math.abs(want[i]!),
      `[${i}] GPU ${got[i]}, CPU ${want[i]}`,
    );
  }
  assert.equal(got[4], 0);
});
