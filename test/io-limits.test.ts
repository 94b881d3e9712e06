// Readers check the size a file declares before they allocate (issue 16, items 2 and 3): PNG and
// EXR decompression bombs are refused at once with an InputError naming the file, role readers hold
// files to the size sequence.json gives, and PNG image data shorter or longer than the declared
// image needs is refused instead of zero-filled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode as fastPngDecode } from 'fast-png';
import { InputError } from '../src/core/errors.ts';
import { createImage } from '../src/core/image.ts';
import { mulberry32 } from '../src/core/random.ts';
import type { SequenceHeader } from '../src/core/frame.ts';
import { decodeExr } from '../src/io/exr/decode.ts';
import { encodeExr } from '../src/io/exr/encode.ts';
import { readColor, readDepth, readReactive } from '../src/io/frame-files.ts';
import { MAX_IMAGE_SAMPLES, MAX_IMAGE_SIDE } from '../src/io/limits.ts';
import { decodePng, encodePng } from '../src/io/png.ts';
import { adam7ImageData, buildPng, pngChunk, pngImageData } from './helpers/png-bytes.ts';

/** Asserts that `run` throws an InputError starting with `file: ` and matching `pattern`, fast. */
function refusesQuickly(run: () => unknown, file: string, pattern: RegExp): void {
  const start = performance.now();
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof InputError, `InputError, got ${String(error)}`);
    assert.ok(error.message.startsWith(`${file}: `), error.message);
    assert.match(error.message, pattern);
    return true;
  });
  const ms = performance.now() - start;
  // Refused from the header: no multi-GiB allocation, no long inflation.
  assert.ok(ms < 250, `refused in ${ms.toFixed(0)} ms`);
}

test('PNG bombs: a huge declared size is refused from IHDR, before anything is allocated', () => {
  // The 81-byte file: 2147483647×1 gray with almost no image data (fast-png zero-filled it).
  const huge = buildPng({ width: 2147483647, height: 1 }, new Uint8Array([0, 0, 0]));
  assert.ok(huge.length < 90, `${huge.length} bytes`);
  refusesQuickly(() => decodePng(huge, 'bomb.png'), 'bomb.png', /declares 2147483647x1 pixels/);
  // Sides and sample count at the cap's edges, each with matching (tiny-compressed) zero rows.
  const side = buildPng(
    { width: MAX_IMAGE_SIDE + 1, height: 1 },
    new Uint8Array(MAX_IMAGE_SIDE + 2),
  );
  refusesQuickly(() => decodePng(side, 'side.png'), 'side.png', /per side/);
  const rgba = buildPng(
    { width: MAX_IMAGE_SIDE, height: MAX_IMAGE_SIDE, colorType: 6 },
    new Uint8Array(1),
  );
  assert.ok(MAX_IMAGE_SIDE * MAX_IMAGE_SIDE * 4 > MAX_IMAGE_SAMPLES);
  refusesQuickly(() => decodePng(rgba, 'rgba.png'), 'rgba.png', /samples/);
  // Zero width (a PNG of width 0 used to fail without naming the file).
  refusesQuickly(
    () => decodePng(buildPng({ width: 0, height: 4 }, new Uint8Array(4)), 'zero.png'),
    'zero.png',
    /empty image \(0x4\)/,
  );
  // With an expected size, any other declared size is refused, even one below the absolute cap.
  const big = buildPng({ width: 8192, height: 8192 }, new Uint8Array(8));
  refusesQuickly(
    () => decodePng(big, 'c.png', { expectedSize: [64, 32], expectedName: 'renderSize 64x32' }),
    'c.png',
    /size 8192x8192, expected renderSize 64x32$/,
  );
});

test('PNG image data shorter than the declared image is refused, not zero-filled', () => {
  const random = mulberry32(16);
  const image = createImage(16, 8, 3);
  for (let i = 0; i < image.data.length; i++) image.data[i] = random();
  const valid = encodePng(image);
  const data = pngImageData(valid);
  assert.equal(data.length, 8 * (1 + 16 * 3));
  // Valid zlib stream and CRCs, the last 40 bytes of pixel data missing.
  const short = buildPng(
    { width: 16, height: 8, colorType: 2 },
    data.subarray(0, data.length - 40),
  );
  assert.equal(fastPngDecode(short).width, 16, 'fast-png alone accepts it (zero-filled)');
  assert.throws(
    () => decodePng(short, 'short.png'),
    new RegExp(
      `^InputError: short.png: truncated PNG image data \\(${data.length - 40} of the ${data.length} bytes a 16x8 image needs\\)$`,
    ),
  );
  // Extra data after the image (fast-png would inflate any amount of it into memory).
  const longData = new Uint8Array(data.length + 5000);
  longData.set(data);
  assert.throws(
    () => decodePng(buildPng({ width: 16, height: 8, colorType: 2 }, longData), 'long.png'),
    /^InputError: long.png: PNG image data inflates to more than the 392 bytes/,
  );
  // A zlib stream cut short (its last 6 bytes missing, CRCs valid) names the file too.
  const cut = buildPng({ width: 16, height: 8, colorType: 2 }, data);
  const view = new DataView(cut.buffer);
  const idatLength = view.getUint32(33);
  assert.ok(idatLength > 10);
  const idat = cut.subarray(41, 41 + idatLength - 6);
  const broken = new Uint8Array([
    ...cut.subarray(0, 33),
    ...pngChunk('IDAT', idat),
    ...pngChunk('IEND', new Uint8Array(0)),
  ]);
  assert.throws(() => decodePng(broken, 'cut.png'), /^InputError: cut.png: not a valid PNG/);
  // The same image, complete, still reads.
  assert.equal(decodePng(valid, 'ok.png').image.width, 16);
});

test('PNG length checks hold for Adam7-interlaced and sub-byte palette images', () => {
  // 13×9 RGB, interlaced by hand: each Adam7 pass's rows, filter byte 0, then the pixels.
  const width = 13;
  const height = 9;
  const pixels = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 37) & 0xff);
  const rows = [...adam7ImageData(pixels, width, height, 3)];
  const interlaced = buildPng({ width, height, colorType: 2, interlace: 1 }, Uint8Array.from(rows));
  const read = decodePng(interlaced, 'adam7.png').image;
  assert.deepEqual(
    [...read.data].map((v) => Math.round(v * 255)),
    [...pixels],
  );
  const shortRows = buildPng(
    { width, height, colorType: 2, interlace: 1 },
    Uint8Array.from(rows.slice(0, -3)),
  );
  assert.throws(() => decodePng(shortRows, 'a.png'), /truncated PNG image data/);

  // 5×2 palette at 4 bits: rows of ceil(5·4/8) = 3 bytes after the filter byte.
  const plte = pngChunk('PLTE', new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255]));
  const indices = [0, 1, 2, 1, 0, 2, 2, 1, 0, 0];
  const packed = [0, 0x01, 0x21, 0x00, 0, 0x22, 0x10, 0x00];
  const palette = buildPng(
    { width: 5, height: 2, colorType: 3, bitDepth: 4 },
    Uint8Array.from(packed),
    [plte],
  );
  const rgb = decodePng(palette, 'pal.png').image;
  assert.equal(rgb.channels, 3);
  assert.deepEqual(
    indices.map((_, i) => [0, 1, 2].findIndex((c) => rgb.data[i * 3 + c] === 1)),
    indices,
  );
});

/** An EXR file whose data and display windows are patched to `width` × `height`. */
function exrDeclaring(width: number, height: number): Uint8Array {
  const bytes = encodeExr(createImage(4, 2, 1), { compression: 'zip' });
  const text = Buffer.from(bytes);
  for (const name of ['dataWindow', 'displayWindow']) {
    const at = text.indexOf(`${name}\0box2i\0`) + name.length + 7 + 4;
    const view = new DataView(bytes.buffer, bytes.byteOffset + at, 16);
    view.setInt32(8, width - 1, true);
    view.setInt32(12, height - 1, true);
  }
  return bytes;
}

test('EXR bombs: windows are checked before the planes are allocated', () => {
  // The 268435456×1 file (it allocated 2.1 GB before the size check).
  refusesQuickly(
    () => decodeExr(exrDeclaring(268435456, 1), 'bomb.exr'),
    'bomb.exr',
    /declares 268435456x1 pixels/,
  );
  refusesQuickly(
    () =>
      decodeExr(exrDeclaring(4096, 4096), 'd.exr', {
        expectedSize: [4, 2],
        expectedName: 'renderSize 4x2',
      }),
    'd.exr',
    /size 4096x4096, expected renderSize 4x2$/,
  );
  // A data window far larger than the display window (4×2): bounded by the display window.
  const bytes = encodeExr(createImage(4, 2, 1), { compression: 'zip' });
  const at = Buffer.from(bytes).indexOf('dataWindow\0box2i\0') + 'dataWindow'.length + 7 + 4;
  new DataView(bytes.buffer, bytes.byteOffset + at, 16).setInt32(8, 16000, true);
  refusesQuickly(
    () => decodeExr(bytes, 'wide.exr'),
    'wide.exr',
    /data window 16001x2 is more than 4 times the 4x2 display window/,
  );
  new DataView(bytes.buffer, bytes.byteOffset + at, 16).setInt32(8, 100000, true);
  refusesQuickly(
    () => decodeExr(bytes, 'wider.exr'),
    'wider.exr',
    /data window 100001x2 is more than 16384 pixels per side/,
  );
  // The untouched file still reads.
  assert.equal(decodeExr(encodeExr(createImage(4, 2, 1)), 'ok.exr').width, 4);
});

test('role readers hold each file to the size sequence.json gives, before decoding', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'uplift-limits-'));
  const header: SequenceHeader = {
    renderSize: [4, 2],
    displaySize: [8, 4],
    depthInverted: false,
    colorSpace: 'srgb',
  };
  const depth = join(dir, 'depth.exr');
  await writeFile(depth, exrDeclaring(8192, 8192));
  await assert.rejects(
    readDepth(depth, header),
    new RegExp(
      `^InputError: ${depth}: size 8192x8192, expected renderSize 4x2 from sequence\\.json$`,
    ),
  );
  const color = join(dir, 'color.png');
  await writeFile(color, buildPng({ width: 8192, height: 8192, colorType: 2 }, new Uint8Array(4)));
  await assert.rejects(
    readColor(color, header),
    /color.png: size 8192x8192, expected renderSize 4x2/,
  );
  const reactive = join(dir, 'reactive.png');
  await writeFile(reactive, buildPng({ width: 2147483647, height: 1 }, new Uint8Array(3)));
  await assert.rejects(
    readReactive(reactive, header),
    /reactive.png: size 2147483647x1, expected renderSize 4x2/,
  );
  // The right size reads.
  const good = join(dir, 'good.png');
  await writeFile(good, encodePng(createImage(4, 2, 3)));
  assert.equal((await readColor(good, header)).width, 4);
});
