// The network input's int8 copies in one pass (src/nn/ops/int8/quantize-copies.ts): each copy the
// CPU's quantizeF32 bit for bit (NaN, ±Inf, ties, values past the clamp; sizes that are not whole
// tiles; a word with unused channels), a copy that is a slice of a wider pixel leaving the other
// words as they were, the same words as the separate kernel, and the refusals named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testGpu, rng } from './helpers/gpu.ts';
import { packedGroups, quantizeF32 } from '../src/core/int8.ts';
import { createTensor } from '../src/core/tensor.ts';
import { readBuffer } from '../src/gpu/resources.ts';
import { createGpuInt8Tensor, createGpuTensor, writeGpuTensor } from '../src/nn/tensor.ts';
import {
  prepareQuantizeCopies,
  quantizeCopiesRefusal,
  type QuantizeCopy,
} from '../src/nn/ops/int8/quantize-copies.ts';
import { encodeQuantizeInt8 } from '../src/nn/ops/int8/quantize.ts';
import { createPaddedInt8Tensor } from '../src/nn/ops/int8/padded.ts';

const FILL = 0x55555555;

/** A C×H×W input with every special case among random values. */
function randomInput(channels: number, height: number, width: number, seed: number) {
  const random = rng(seed);
  const t = createTensor({ channels, height, width });
  for (let i = 0; i < t.data.length; i++) t.data[i] = (random() * 2 - 1) * 3;
  const special = [NaN, Infinity, -Infinity, 1e30, -1e30, 0.5 / 40, 1.5 / 40, -2.5 / 40, -0];
  special.forEach((v, k) => (t.data[k * 7] = v));
  return t;
}

/** The words a copy should hold: the CPU's quantization packed at `offset` words of `pitch`. */
function expectedWords(
  input: ReturnType<typeof randomInput>,
  scale: number,
  pitch: number,
  offset: number,
): Uint32Array {
  const { channels, height, width } = input;
  const plane = height * width;
  const words = new Uint32Array(pitch * plane).fill(FILL);
  const inverse = Math.fround(1 / scale);
  for (let p = 0; p < plane; p++) {
    for (let g = 0; g < packedGroups(channels); g++) {
      let word = 0;
      for (let k = 0; k < 4; k++) {
        const c = 4 * g + k;
        const q = c < channels ? quantizeF32(input.data[c * plane + p]!, inverse) : 0;
        word |= (q & 0xff) << (8 * k);
      }
      words[p * pitch + offset + g] = word >>> 0;
    }
  }
  return words;
}

for (const [channels, height, width] of [
  [12, 10, 13],
  [5, 9, 17],
] as const) {
  test(`int8 quantize copies: one pass, each copy the CPU's bits (${channels} channels, ${width}×${height})`, async () => {
    const { device } = await testGpu();
    const input = randomInput(channels, height, width, channels);
    const gpuInput = createGpuTensor(device, input);
    writeGpuTensor(device, gpuInput, input);
    const words = packedGroups(channels);
    // A whole tensor, and a slice 2 words into a pixel 2 words wider (network v2's q(join)).
    const whole = createGpuInt8Tensor(device, { channels, height, width });
    const wide = createGpuInt8Tensor(device, { channels: channels + 16, height, width });
    for (const t of [whole, wide]) {
      device.queue.writeBuffer(t.buffer, 0, new Uint32Array(t.buffer.size / 4).fill(FILL));
    }
    const run = async (copies: QuantizeCopy[]) => {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      prepareQuantizeCopies(device, gpuInput, copies).encode(pass);
      pass.end();
      device.queue.submit([encoder.finish()]);
    };
    const read = async (t: typeof whole) =>
      new Uint32Array((await readBuffer(device, t.buffer)).buffer);
    const [s1, s2] = [1 / 40, 1 / 17];
    // One copy (written from each thread), then two (staged: one is a slice).
    await run([{ output: whole, scale: s1, outChannelOffset: 0 }]);
    assert.deepEqual(await read(whole), expectedWords(input, s1, words, 0), 'one copy');
    device.queue.writeBuffer(whole.buffer, 0, new Uint32Array(whole.buffer.size / 4).fill(FILL));
    await run([
      { output: whole, scale: s2, outChannelOffset: 0 },
      { output: wide, scale: s1, outChannelOffset: 8 },
    ]);
    assert.deepEqual(await read(whole), expectedWords(input, s2, words, 0), 'first of two');
    const wideWords = await read(wide);
    assert.deepEqual(wideWords, expectedWords(input, s1, words + 4, 2), 'the slice; the rest kept');
    // The separate kernel writes the same words.
    const separate = createGpuInt8Tensor(device, { channels: channels + 16, height, width });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeQuantizeInt8(device, pass, gpuInput, s1, separate, 8);
    pass.end();
    device.queue.submit([encoder.finish()]);
    const separateWords = await read(separate);
    const plane = height * width;
    for (let p = 0; p < plane; p++) {
      for (let g = 0; g < words; g++) {
        const i = p * (words + 4) + 2 + g;
        assert.equal(wideWords[i], separateWords[i], `pixel ${p} word ${g}`);
      }
    }
    for (const b of [gpuInput.buffer, whole.buffer, wide.buffer, separate.buffer]) b.destroy();
  });
}

test('int8 quantize copies: more than two copies, none, or a padded output refused by name', async () => {
  const { device } = await testGpu();
  const shape = { channels: 12, height: 8, width: 8 };
  const output = createGpuInt8Tensor(device, shape);
  const copy = { output, scale: 0.1, outChannelOffset: 0 };
  assert.match(quantizeCopiesRefusal([copy, copy, copy])!, /3 copies \(at most 2 a pass\)/);
  assert.match(quantizeCopiesRefusal([])!, /no copies/);
  const padded = createPaddedInt8Tensor(device, shape);
  assert.match(quantizeCopiesRefusal([copy, { ...copy, output: padded }])!, /a padded output/);
  assert.equal(quantizeCopiesRefusal([copy, copy]), undefined);
  const input = createGpuTensor(device, shape);
  assert.throws(
    () => prepareQuantizeCopies(device, input, [copy, copy, copy]),
    /int8 quantize copies: 3 copies/,
  );
  const small = createGpuInt8Tensor(device, { channels: 12, height: 8, width: 7 });
  assert.throws(
    () => prepareQuantizeCopies(device, input, [{ ...copy, output: small }]),
    /does not fit/,
  );
  for (const b of [output.buffer, padded.buffer, input.buffer, small.buffer]) b.destroy();
});
