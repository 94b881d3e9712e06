import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { InputError } from '../src/core/errors.ts';
import { createImage } from '../src/core/image.ts';
import { mulberry32 } from '../src/core/random.ts';
import { decodePng, encodePng, readPng, writePng } from '../src/io/png.ts';

test('PNG round trip: 8 and 16 bits, 1-4 channels, values quantized to the bit depth', () => {
  const random = mulberry32(5);
  for (const bits of [8, 16] as const) {
    for (let channels = 1; channels <= 4; channels++) {
      const image = createImage(13, 7, channels);
      for (let i = 0; i < image.data.length; i++) image.data[i] = random();
      const { image: read, bitDepth } = decodePng(encodePng(image, { bits }), 'mem.png');
      assert.equal(bitDepth, bits);
      assert.equal(read.channels, channels);
      assert.equal(read.width, 13);
      assert.equal(read.height, 7);
      const max = 2 ** bits - 1;
      for (let i = 0; i < image.data.length; i++) {
        assert.equal(read.data[i], Math.fround(Math.round(image.data[i]! * max) / max));
      }
    }
  }
});

test('PNG write clamps to 0..1 and maps NaN to 0', () => {
  const image = createImage(4, 1, 1);
  image.data.set([-1, 2, NaN, Infinity]);
  assert.deepEqual([...decodePng(encodePng(image), 'c.png').image.data], [0, 1, 0, 1]);
});

test('PNG palette images read as RGB floats', () => {
  const bytes = encode({
    width: 3,
    height: 1,
    data: new Uint8Array([2, 0, 1]),
    depth: 8,
    channels: 1,
    palette: [
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 51],
    ],
  });
  const { image } = decodePng(bytes, 'pal.png');
  assert.equal(image.channels, 3);
  assert.deepEqual([...image.data], [0, 0, Math.fround(0.2), 1, 0, 0, 0, 1, 0]);
});

test('PNG files and errors name the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'uplift-png-'));
  const image = createImage(5, 4, 3);
  image.data.fill(0.4);
  const path = join(dir, 'a/b.png');
  writePng(path, image, { bits: 16 });
  assert.equal((await readPng(path)).image.data[7], Math.fround(Math.round(0.4 * 65535) / 65535));

  const bytes = encodePng(image);
  const isInputError = (name: string) => (error: unknown) =>
    error instanceof InputError && error.message.startsWith(`${name}: `);
  const flipped = bytes.slice();
  flipped[1] ^= 0xff;
  assert.throws(() => decodePng(flipped, 'x.png'), isInputError('x.png'));
  for (const cut of [0, 8, 20, 40, bytes.length - 13, bytes.length - 1]) {
    assert.throws(
      () => decodePng(bytes.subarray(0, cut), 't.png'),
      isInputError('t.png'),
      `cut ${cut}`,
    );
  }
  await assert.rejects(readPng(join(dir, 'missing.png')), /missing.png: file not found/);
});
