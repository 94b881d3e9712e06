import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../src/core/errors.ts';
import { createImage, type Image } from '../src/core/image.ts';
import { mulberry32 } from '../src/core/random.ts';
import { zlibSync } from 'fflate';
import { ByteReader, ExrFormatError } from '../src/io/exr/byte-reader.ts';
import { huffmanDecompress } from '../src/io/exr/compression/huffman.ts';
import { rleDecompress } from '../src/io/exr/compression/rle.ts';
import { zipDecompress } from '../src/io/exr/compression/zip.ts';
import { decodeExr, type DecodedExr } from '../src/io/exr/decode.ts';
import { encodeExr } from '../src/io/exr/encode.ts';
import { readExr, writeExr } from '../src/io/exr/file.ts';
import { floatToHalf, halfToFloat } from '../src/core/half.ts';
import { readHeader } from '../src/io/exr/header.ts';

const FIXTURES = 'test/fixtures/exr';

function randomImage(width: number, height: number, channels: number, seed: number): Image {
  const random = mulberry32(seed);
  const image = createImage(width, height, channels);
  for (let i = 0; i < image.data.length; i++) image.data[i] = (random() - 0.3) * 20;
  return image;
}

/** Same values, NaN equal to NaN. */
function sameValue(a: number, b: number): boolean {
  return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)) || a === b;
}

function plane(exr: DecodedExr, name: string): Float32Array {
  const channel = exr.channels.find((c) => c.name === name);
  assert.ok(channel, `channel ${name}`);
  return channel.data;
}

function isInputErrorFor(name: string) {
  return (error: unknown) => {
    assert.ok(error instanceof InputError, `expected InputError, got ${String(error)}`);
    assert.ok(error.message.startsWith(`${name}: `), error.message);
    return true;
  };
}

test('half conversion: every pattern round-trips; rounding is to nearest even', () => {
  for (let h = 0; h < 65536; h++) {
    const f = halfToFloat(h);
    if (Number.isNaN(f)) assert.ok(Number.isNaN(halfToFloat(floatToHalf(f))));
    else assert.equal(floatToHalf(f), h, `pattern ${h}`);
  }
  assert.equal(halfToFloat(0x3c00), 1);
  assert.equal(halfToFloat(0x7bff), 65504);
  assert.equal(halfToFloat(0x0001), 2 ** -24);
  assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00); // tie → even (down)
  assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02); // tie → even (up)
  assert.equal(floatToHalf(65519), 0x7bff);
  assert.equal(floatToHalf(65520), 0x7c00); // rounds past the largest half: Infinity
  assert.equal(floatToHalf(2 ** -25), 0); // half the smallest subnormal: tie → 0
  assert.equal(floatToHalf(1.5 * 2 ** -24), 2); // tie between subnormals 1 and 2 → 2
  assert.equal(floatToHalf(-2), 0xc000);
});

test('EXR write/read round trip: NONE and ZIP, HALF and FLOAT, 1-4 channels', () => {
  for (const compression of ['none', 'zip'] as const) {
    for (const pixelType of ['half', 'float'] as const) {
      for (let channels = 1; channels <= 4; channels++) {
        const image = randomImage(37, 23, channels, channels * 10 + pixelType.length);
        image.data[0] = NaN;
        image.data[1 % image.data.length] = Infinity;
        image.data[5] = -0;
        const bytes = encodeExr(image, { compression, pixelType });
        const decoded = decodeExr(bytes, 'mem.exr');
        assert.equal(decoded.width, 37);
        assert.equal(decoded.height, 23);
        assert.equal(decoded.header.compression, compression);
        const names = [['Y'], ['R', 'G'], ['R', 'G', 'B'], ['R', 'G', 'B', 'A']][channels - 1]!;
        assert.deepEqual(
          decoded.channels.map((c) => c.name),
          [...names].sort(),
        );
        for (let c = 0; c < channels; c++) {
          const data = plane(decoded, names[c]!);
          for (let i = 0; i < 37 * 23; i++) {
            const v = image.data[i * channels + c]!;
            const want = pixelType === 'half' ? halfToFloat(floatToHalf(v)) : v;
            assert.ok(sameValue(data[i]!, want), `${compression} ${pixelType} c${c} i${i}`);
          }
        }
      }
    }
  }
});

test('EXR ZIP compresses smooth data and stores incompressible chunks raw', () => {
  const smooth = createImage(64, 40, 3);
  for (let i = 0; i < smooth.data.length; i++) smooth.data[i] = (i % 192) / 192;
  const zip = encodeExr(smooth, { compression: 'zip' });
  const none = encodeExr(smooth, { compression: 'none' });
  assert.ok(zip.length < none.length / 4, `${zip.length} vs ${none.length}`);
  // 1×1: zlib overhead exceeds the 2 raw bytes, so the chunk is stored raw and still reads back.
  const tiny = createImage(1, 1, 1);
  tiny.data[0] = 0.5;
  assert.equal(decodeExr(encodeExr(tiny), 'tiny.exr').channels[0]!.data[0], 0.5);
});

test('readExr/writeExr: files, default channel choice, custom names', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'uplift-exr-'));
  const rgba = randomImage(9, 5, 4, 3);
  writeExr(join(dir, 'sub/rgba.exr'), rgba, { pixelType: 'float' });
  const read = await readExr(join(dir, 'sub/rgba.exr'));
  assert.deepEqual(read.channels, ['R', 'G', 'B', 'A']);
  assert.deepEqual(read.image.data, rgba.data);

  const motion = randomImage(9, 5, 2, 4);
  const path = join(dir, 'motion.exr');
  writeExr(path, motion, { pixelType: 'float', channelNames: ['X', 'Y'] });
  const xy = await readExr(path);
  assert.deepEqual(xy.channels, ['X', 'Y']);
  assert.deepEqual(xy.image.data, motion.data);
  const swapped = await readExr(path, ['Y', 'X']);
  assert.equal(swapped.image.data[0], motion.data[1]);
  await assert.rejects(readExr(path, ['Z']), /has no channel 'Z'/);
  await assert.rejects(readExr(join(dir, 'absent.exr')), isInputErrorFor(join(dir, 'absent.exr')));
  assert.throws(() => encodeExr(motion, { channelNames: ['X', 'X'] }), RangeError);
});

test('EXR fixtures from OpenEXR (oiiotool): NONE/RLE/ZIPS/ZIP/PIZ, HALF and FLOAT', () => {
  const base = decodeExr(readFileSync(`${FIXTURES}/base-float.exr`), 'base-float.exr');
  assert.equal(base.width, 37);
  assert.equal(base.height, 71);
  for (const compression of ['none', 'rle', 'zips', 'zip', 'piz']) {
    for (const type of ['half', 'float']) {
      if (compression === 'none' && type === 'float') continue;
      const name = `base-${compression}-${type}.exr`;
      const exr = decodeExr(readFileSync(`${FIXTURES}/${name}`), name);
      assert.equal(exr.header.compression, compression, name);
      assert.deepEqual(
        exr.channels.map((c) => [c.name, c.pixelType]),
        [
          ['A', type],
          ['B', type],
          ['G', type],
          ['R', type],
        ],
      );
      for (const channel of exr.channels) {
        const source = plane(base, channel.name);
        for (let i = 0; i < source.length; i++) {
          const want = type === 'half' ? halfToFloat(floatToHalf(source[i]!)) : source[i]!;
          assert.equal(channel.data[i], want, `${name} ${channel.name}[${i}]`);
        }
      }
    }
  }
});

/** Sizes of the chunks of a PIZ file next to their raw sizes (a raw-sized chunk is uncompressed). */
function chunkSizes(bytes: Uint8Array): { size: number; raw: number }[] {
  const reader = new ByteReader(bytes);
  const header = readHeader(reader);
  const width = header.dataWindow.xMax - header.dataWindow.xMin + 1;
  const height = header.dataWindow.yMax - header.dataWindow.yMin + 1;
  const sampleBytes = header.channels.reduce((n, c) => n + (c.pixelType === 'half' ? 2 : 4), 0);
  const out = [];
  for (let y = 0; y < height; y += 32) {
    const chunk = new ByteReader(bytes, reader.u64());
    chunk.i32();
    out.push({ size: chunk.i32(), raw: Math.min(32, height - y) * width * sampleBytes });
  }
  return out;
}

test('EXR PIZ fixtures with over 2^14 distinct values per chunk (16-bit wavelet mode)', () => {
  const bits = new Uint32Array(1);
  const asFloat = new Float32Array(bits.buffer);
  for (const type of ['half', 'float']) {
    const name = `wide-piz-${type}.exr`;
    const bytes = readFileSync(`${FIXTURES}/${name}`);
    const chunks = chunkSizes(bytes);
    assert.equal(chunks.length, 2);
    for (const chunk of chunks)
      assert.ok(chunk.size < chunk.raw, `${name}: chunk stored compressed`);
    const exr = decodeExr(bytes, name);
    assert.equal(exr.width, 130);
    assert.equal(exr.height, 40);
    ['R', 'G', 'B', 'A'].forEach((channel, c) => {
      const data = plane(exr, channel);
      for (let i = 0; i < 130 * 40; i++) {
        const sample = i * 4 + c;
        bits[0] = 0x3f800000 + sample;
        const want = type === 'half' ? halfToFloat(sample + 1) : asFloat[0]!;
        assert.equal(data[i], want, `${name} ${channel}[${i}]`);
      }
    });
  }
});

test('EXR errors: bad magic, truncation at many points, bad offsets, unsupported features', () => {
  const small = encodeExr(randomImage(13, 37, 3, 9), { compression: 'zip' });
  const flipped = small.slice();
  flipped[0] ^= 0xff;
  assert.throws(() => decodeExr(flipped, 'flip.exr'), /^InputError: flip.exr: not an OpenEXR/);
  assert.throws(() => decodeExr(new Uint8Array(0), 'empty.exr'), isInputErrorFor('empty.exr'));

  const files = [
    ['zip.exr', small],
    ['piz.exr', new Uint8Array(readFileSync(`${FIXTURES}/base-piz-half.exr`))],
    ['rle.exr', new Uint8Array(readFileSync(`${FIXTURES}/base-rle-float.exr`))],
  ] as const;
  for (const [name, bytes] of files) {
    for (const cut of [1, 4, 7, 8, 20, 100, 300, 340, 400, bytes.length >> 1, bytes.length - 1]) {
      assert.throws(
        () => decodeExr(bytes.subarray(0, cut), name),
        isInputErrorFor(name),
        `cut ${cut}`,
      );
    }
  }

  // A chunk offset pointing past the end of the file.
  const reader = new ByteReader(small);
  readHeader(reader);
  const badOffset = small.slice();
  new DataView(badOffset.buffer).setUint32(reader.pos, 1e6, true);
  assert.throws(
    () => decodeExr(badOffset, 'off.exr'),
    /off.exr: chunk 0 offset 1000000 out of range/,
  );

  // Version flags and compression byte patched in a valid file.
  const tiled = small.slice();
  tiled[5] |= 0x02;
  assert.throws(() => decodeExr(tiled, 't.exr'), /^InputError: t.exr: tiled EXR not supported$/);
  const compressionAt = Buffer.from(small).indexOf('compression\0compression\0') + 24 + 4;
  const unknown = small.slice();
  unknown[compressionAt] = 42;
  assert.throws(() => decodeExr(unknown, 'u.exr'), /u.exr: unknown compression 42/);
  const pxr24 = small.slice();
  pxr24[compressionAt] = 5;
  assert.throws(() => decodeExr(pxr24, 'p.exr'), /p.exr: PXR24 compression not supported/);
});

test('EXR corrupt header or chunk bytes never escape as anything but InputError', () => {
  const random = mulberry32(1234);
  const files = [
    'base-piz-half.exr',
    'base-piz-float.exr',
    'base-rle-half.exr',
    'base-zip-half.exr',
  ];
  for (const name of files) {
    const bytes = new Uint8Array(readFileSync(`${FIXTURES}/${name}`));
    const reader = new ByteReader(bytes);
    readHeader(reader);
    const dataStart = reader.pos;
    let rejected = 0;
    for (let trial = 0; trial < 100; trial++) {
      const corrupt = bytes.slice();
      // Half the trials hit the header and offset table, half the chunks.
      const [from, to] = trial % 2 ? [0, dataStart] : [dataStart, bytes.length];
      for (let k = 0; k < 4; k++) {
        corrupt[from + Math.floor(random() * (to - from))] = Math.floor(random() * 256);
      }
      try {
        decodeExr(corrupt, name);
      } catch (error) {
        isInputErrorFor(name)(error);
        rejected++;
      }
    }
    assert.ok(rejected > 0, `${name}: some corruptions detected`);
  }
});

test('EXR data window inside the display window, bottom-up chunks, tiled files', () => {
  const base = decodeExr(readFileSync(`${FIXTURES}/base-float.exr`), 'base-float.exr');
  const crop = decodeExr(readFileSync(`${FIXTURES}/crop-piz-half.exr`), 'crop.exr');
  assert.deepEqual(crop.header.dataWindow, { xMin: 4, yMin: 9, xMax: 33, yMax: 58 });
  assert.equal(crop.width, 37);
  assert.equal(crop.height, 71);
  for (const channel of crop.channels) {
    const source = plane(base, channel.name);
    for (let y = 0; y < 71; y++) {
      for (let x = 0; x < 37; x++) {
        const inside = x >= 4 && x <= 33 && y >= 9 && y <= 58;
        const want = inside ? halfToFloat(floatToHalf(source[y * 37 + x]!)) : 0;
        assert.equal(channel.data[y * 37 + x], want, `${channel.name} (${x}, ${y})`);
      }
    }
  }
  const decreasing = decodeExr(readFileSync(`${FIXTURES}/decreasing-zip-half.exr`), 'dec.exr');
  assert.equal(decreasing.header.lineOrder, 'decreasing');
  const increasing = decodeExr(readFileSync(`${FIXTURES}/base-zip-half.exr`), 'inc.exr');
  assert.deepEqual(decreasing.channels, increasing.channels);
  assert.throws(
    () => decodeExr(readFileSync(`${FIXTURES}/tiled-zip-half.exr`), 'tiled.exr'),
    /^InputError: tiled.exr: tiled EXR not supported$/,
  );
});

test('EXR UINT channels read as float', () => {
  const image = createImage(5, 3, 1);
  for (let i = 0; i < 15; i++) image.data[i] = i * 1.5;
  const bytes = encodeExr(image, { pixelType: 'float', compression: 'none' });
  // Re-label the FLOAT channel as UINT (type 2 → 0): the same bytes now hold 32-bit integers.
  const typeAt = Buffer.from(bytes).indexOf('Y\0') + 2;
  assert.equal(bytes[typeAt], 2);
  bytes[typeAt] = 0;
  const decoded = decodeExr(bytes, 'uint.exr');
  assert.equal(decoded.channels[0]!.pixelType, 'uint');
  const words = new Uint32Array(image.data.buffer);
  assert.deepEqual([...decoded.channels[0]!.data], [...words]);
});

test('EXR default channels: RGB(A) in RGBA order, layer-prefixed channels ignored', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'uplift-exr-'));
  const path = join(dir, 'layers.exr');
  const image = randomImage(3, 2, 4, 8);
  writeExr(path, image, { pixelType: 'float', channelNames: ['diffuse.R', 'B', 'G', 'R'] });
  const read = await readExr(path);
  assert.deepEqual(read.channels, ['R', 'G', 'B']);
  assert.equal(read.image.data[0], image.data[3]);
  assert.equal(read.image.data[2], image.data[1]);
  const layered = await readExr(path, ['diffuse.R']);
  assert.equal(layered.image.data[1], image.data[4]);
  const generic = randomImage(3, 2, 4, 9);
  writeExr(path, generic, { channelNames: ['P', 'Q', 'S', 'T'] });
  assert.deepEqual((await readExr(path)).channels, ['P', 'Q', 'S', 'T']);
});

test('EXR codecs reject data that decodes to the wrong length', () => {
  const bytes = new Uint8Array(100).map((_, i) => i % 7);
  assert.equal(zipDecompress(zlibSync(bytes), 100).length, 100);
  assert.throws(() => zipDecompress(zlibSync(bytes), 99), ExrFormatError);
  assert.throws(() => zipDecompress(zlibSync(bytes), 101), ExrFormatError);
  assert.throws(() => zipDecompress(new Uint8Array([1, 2, 3]), 100), ExrFormatError);
  // RLE: a run of 5, then 2 literals = 7 bytes.
  const rle = new Uint8Array([4, 9, 0xfe, 1, 2]);
  assert.equal(rleDecompress(rle, 7).length, 7);
  assert.throws(() => rleDecompress(rle, 6), ExrFormatError);
  assert.throws(() => rleDecompress(rle, 8), ExrFormatError);
  assert.throws(() => rleDecompress(rle.subarray(0, 4), 7), ExrFormatError);
});

test('PIZ Huffman: long codes decode bit by bit the same as through the look-up table', () => {
  let checked = 0;
  for (const name of ['base-piz-half.exr', 'base-piz-float.exr', 'wide-piz-float.exr']) {
    const bytes = new Uint8Array(readFileSync(`${FIXTURES}/${name}`));
    const reader = new ByteReader(bytes);
    readHeader(reader);
    for (const { size, raw } of chunkSizes(bytes)) {
      const chunk = new ByteReader(bytes, reader.u64());
      chunk.i32();
      chunk.i32();
      if (size === raw) continue; // stored uncompressed
      const minNonZero = chunk.u16();
      const maxNonZero = chunk.u16();
      if (minNonZero <= maxNonZero) chunk.take(maxNonZero - minNonZero + 1);
      const block = chunk.take(chunk.i32());
      const full = huffmanDecompress(block, raw / 2);
      for (const tableBits of [1, 5, 9]) {
        assert.deepEqual(
          huffmanDecompress(block, raw / 2, tableBits),
          full,
          `${name} ${tableBits}`,
        );
      }
      checked++;
    }
  }
  assert.ok(checked >= 5, `${checked} compressed chunks checked`);
});
