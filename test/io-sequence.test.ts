import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../src/core/errors.ts';
import { defaultFrameParams, type SequenceHeader } from '../src/core/frame.ts';
import { createImage, type Image } from '../src/core/image.ts';
import { linearToSrgb, srgbToLinear } from '../src/core/tonemap.ts';
import {
  createSequenceWriter,
  openSequence,
  parseSequenceJson,
  readColor,
  readDepth,
  readExr,
  readMotion,
  readPng,
  readReactive,
  readReference,
  writeExr,
  writeOutputFrame,
  writePng,
} from '../src/io/index.ts';
import { analyticSequence } from '../src/scene/analytic.ts';

const analytic = analyticSequence({ displaySize: [24, 16], frames: 3, referenceSamples: 4 });

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'uplift-seq-'));
}

/** Writes the analytic sequence (with a reactive mask and references) to a fresh directory. */
async function writeAnalytic(dir: string, header: SequenceHeader = analytic.header): Promise<void> {
  const writer = await createSequenceWriter(dir, header);
  for (const [i, frame] of analytic.frames.entries()) {
    const reactive = createImage(frame.images.depth.width, frame.images.depth.height, 1);
    reactive.data.fill(i / 4);
    await writer.writeFrame(i, frame.params, { ...frame.images, reactive });
  }
  await writer.finish();
}

function assertClose(
  actual: Image,
  expected: Image,
  tolerance: (v: number) => number,
  what: string,
) {
  assert.equal(actual.width, expected.width, what);
  assert.equal(actual.height, expected.height, what);
  assert.equal(actual.channels, expected.channels, what);
  for (let i = 0; i < expected.data.length; i++) {
    const e = expected.data[i]!;
    assert.ok(
      Math.abs(actual.data[i]! - e) <= tolerance(e),
      `${what}[${i}]: ${actual.data[i]} vs ${e}`,
    );
  }
}

const halfTolerance = (v: number) => Math.abs(v) * 2 ** -11 + 1e-7;
const exact = () => 0;

function rejectsWith(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof InputError, `expected InputError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  };
}

async function writtenAnalytic(): Promise<string> {
  const dir = await tempDir();
  await writeAnalytic(dir);
  return dir;
}

test('sequence round trip: writer → sequence.json last → openSequence reads the same frames', async () => {
  const dir = await tempDir();
  await writeAnalytic(dir);
  const source = await openSequence(dir);
  assert.equal(source.frameCount, 3);
  assert.deepEqual(source.header, analytic.header);
  for (let i = 0; i < 3; i++) {
    assert.equal(source.frameNumber(i), i);
    assert.deepEqual(source.frameParams(i), analytic.frames[i]!.params);
    const images = await source.readFrame(i);
    const want = analytic.frames[i]!.images;
    assertClose(images.color, want.color, halfTolerance, `color ${i}`);
    assertClose(images.depth, want.depth, exact, `depth ${i}`);
    assertClose(images.motion, want.motion, exact, `motion ${i}`);
    assertClose(images.reference!, want.reference!, halfTolerance, `reference ${i}`);
    assert.ok(
      images.reactive!.data.every((v) => Math.abs(v - Math.round((i / 4) * 255) / 255) < 1e-6),
    );
  }
  assert.throws(() => source.frameParams(3), RangeError);
});

test('sequence with colorSpace srgb: 8-bit sRGB PNG color, read back as linear', async () => {
  const dir = await tempDir();
  await writeAnalytic(dir, { ...analytic.header, colorSpace: 'srgb' });
  assert.ok(existsSync(join(dir, 'color/0000.png')));
  const source = await openSequence(dir);
  const color = (await source.readFrame(1)).color;
  const want = analytic.frames[1]!.images.color;
  for (let i = 0; i < want.data.length; i++) {
    const error = Math.abs(linearToSrgb(color.data[i]!) - linearToSrgb(want.data[i]!));
    assert.ok(error <= 0.5 / 255 + 1e-6, `sRGB error ${error} at ${i}`);
  }
});

test('16-bit PNG color with colorSpace linear and numbering that starts at 1001', async () => {
  const dir = await tempDir();
  const [w, h] = [4, 3];
  writeFileSync(
    join(dir, 'sequence.json'),
    JSON.stringify({ version: 1, renderSize: [w, h], displaySize: [8, 6], frames: [{}, {}] }),
  );
  for (const n of [1001, 1002]) {
    const color = createImage(w, h, 3);
    color.data.fill(n === 1001 ? 0.25 : 0.75);
    writePng(join(dir, `color/${n}.png`), color, { bits: 16 });
    writeExr(join(dir, `depth/${n}.exr`), createImage(w, h, 1), { pixelType: 'float' });
    writeExr(join(dir, `motion/${n}.exr`), createImage(w, h, 2), {
      pixelType: 'float',
      channelNames: ['X', 'Y'],
    });
  }
  const source = await openSequence(dir);
  assert.deepEqual([source.frameNumber(0), source.frameNumber(1)], [1001, 1002]);
  assert.deepEqual(source.frameParams(0), defaultFrameParams());
  assert.equal(source.header.colorSpace, 'linear');
  assert.equal(source.header.depthInverted, false);
  const color = (await source.readFrame(1)).color;
  assert.equal(color.data[0], Math.fround(Math.round(0.75 * 65535) / 65535));
});

test('writer refuses to overwrite a sequence unless asked; overwrite removes the old frames', async () => {
  const dir = await tempDir();
  await writeAnalytic(dir);
  await assert.rejects(
    createSequenceWriter(dir, analytic.header),
    rejectsWith(/already holds a sequence/),
  );
  const writer = await createSequenceWriter(dir, analytic.header, { overwrite: true });
  assert.ok(!existsSync(join(dir, 'sequence.json')), 'old sequence.json removed first');
  const frame = analytic.frames[0]!;
  await writer.writeFrame(0, frame.params, frame.images);
  await writer.finish();
  const source = await openSequence(dir);
  assert.equal(source.frameCount, 1);
  assert.ok(!existsSync(join(dir, 'color/0002.exr')));
  assert.ok(!existsSync(join(dir, 'reactive/0000.png')));
});

test('a writer that stops before finish() leaves no sequence.json', async () => {
  const dir = await tempDir();
  const writer = await createSequenceWriter(dir, analytic.header);
  const frame = analytic.frames[0]!;
  await writer.writeFrame(0, frame.params, frame.images);
  await writer.writeFrame(2, frame.params, frame.images);
  // Frame 1 never came: finish refuses, and the directory is not a sequence.
  await assert.rejects(writer.finish(), /frame 1 was never written/);
  assert.ok(existsSync(join(dir, 'color/0000.exr')));
  assert.ok(!existsSync(join(dir, 'sequence.json')));
  await assert.rejects(openSequence(dir), rejectsWith(/sequence.json: not found/));
  // Leftover frame files also count as "something to overwrite".
  await assert.rejects(createSequenceWriter(dir, analytic.header), rejectsWith(/already holds/));
  await assert.rejects(
    createSequenceWriter(join(dir, 'other'), { ...analytic.header, renderSize: [0, 4] }),
    rejectsWith(/other\/sequence.json \(header\): renderSize must be/),
  );
  // Images that do not match the header are a programming error.
  await assert.rejects(
    writer.writeFrame(1, frame.params, { ...frame.images, depth: frame.images.motion }),
    RangeError,
  );
});

test('missing frame files are named', async () => {
  const empty = await tempDir();
  writeFileSync(
    join(empty, 'sequence.json'),
    readFileSync(join(await writtenAnalytic(), 'sequence.json')),
  );
  for (const role of ['color', 'depth', 'motion']) mkdirSync(join(empty, role));
  writeFileSync(join(empty, 'color/001.exr'), '');
  await assert.rejects(
    openSequence(empty),
    rejectsWith(/color: no frame files \(names are frame numbers of 4\+ digits/),
  );
  rmSync(join(empty, 'motion'), { recursive: true });
  await assert.rejects(openSequence(empty), rejectsWith(/motion: directory not found/));

  const dir = await tempDir();
  await writeAnalytic(dir);
  rmSync(join(dir, 'depth/0001.exr'));
  await assert.rejects(openSequence(dir), rejectsWith(/depth\/0001\.exr: missing$/));
  rmSync(join(dir, 'color/0001.exr'));
  rmSync(join(dir, 'motion/0001.exr'));
  await assert.rejects(
    openSequence(dir),
    rejectsWith(/color\/0001\.exr: missing \(sequence.json lists 3 frames/),
  );
  const partialReference = await tempDir();
  await writeAnalytic(partialReference);
  rmSync(join(partialReference, 'reference/0002.exr'));
  await assert.rejects(
    openSequence(partialReference),
    rejectsWith(/reference\/0002\.exr: missing$/),
  );
  const extra = await tempDir();
  await writeAnalytic(extra);
  for (const role of ['color', 'depth', 'motion']) {
    writeFileSync(join(extra, `${role}/0003.exr`), readFileSync(join(extra, `${role}/0000.exr`)));
  }
  await assert.rejects(openSequence(extra), rejectsWith(/lists 3 frames but .* hold 4/));
});

test('readFrame checks size, channels and file integrity, naming the file', async () => {
  const dir = await tempDir();
  await writeAnalytic(dir);
  const source = await openSequence(dir);
  const [rw, rh] = analytic.header.renderSize;

  writeExr(join(dir, 'color/0000.exr'), createImage(rw + 1, rh, 3));
  await assert.rejects(
    source.readFrame(0),
    rejectsWith(
      new RegExp(`color/0000.exr: size ${rw + 1}x${rh}, expected renderSize ${rw}x${rh}`),
    ),
  );
  writeExr(join(dir, 'motion/0001.exr'), createImage(rw, rh, 1));
  await assert.rejects(
    source.readFrame(1),
    rejectsWith(/motion\/0001.exr: motion needs channels R, G or X, Y, found Y/),
  );
  writeExr(join(dir, 'depth/0001.exr'), createImage(rw, rh, 3));
  writeExr(join(dir, 'motion/0001.exr'), createImage(rw, rh, 2));
  await assert.rejects(
    source.readFrame(1),
    rejectsWith(/depth\/0001.exr: depth needs a single channel \(or one named Z\), found B, G, R$/),
  );
  const referencePath = join(dir, 'reference/0002.exr');
  truncateSync(referencePath, readFileSync(referencePath).length - 10);
  await assert.rejects(source.readFrame(2), rejectsWith(/reference\/0002.exr: truncated/));
});

test('sequence.json validation names the file, the frame and the field', async () => {
  const file = 'seq/sequence.json';
  const good = {
    version: 1,
    renderSize: [4, 3],
    displaySize: [8, 6],
    depthInverted: true,
    colorSpace: 'srgb',
    frames: [{ jitter: [0.25, -0.25], reset: true, exposure: 2 }],
    source: { generator: 'test' },
  };
  const parsed = parseSequenceJson(JSON.stringify(good), file);
  assert.equal(parsed.header.depthInverted, true);
  assert.deepEqual(parsed.header.source, { generator: 'test' });
  assert.deepEqual(parsed.frames[0], {
    ...defaultFrameParams(),
    jitter: [0.25, -0.25],
    reset: true,
    exposure: 2,
  });

  const withFrame = (frame: unknown) => JSON.stringify({ ...good, frames: [{}, frame] });
  const cases: [string, RegExp][] = [
    [
      withFrame({ exposure: 'abc' }),
      /^seq\/sequence.json: frames\[1\]\.exposure must be a positive finite number, got "abc"$/,
    ],
    [
      withFrame({ cameraNear: null }),
      /frames\[1\]\.cameraNear must be a positive finite number, got null/,
    ],
    [withFrame({ jitter: [0, 'NaN'] }), /frames\[1\]\.jitter must be two finite numbers/],
    [withFrame({ reset: 1 }), /frames\[1\]\.reset must be true or false/],
    [
      withFrame({ cameraNear: 5, cameraFar: 2 }),
      /frames\[1\]\.cameraFar must be a finite number > cameraNear/,
    ],
    [withFrame({ fovY: 4 }), /frames\[1\]\.fovY must be radians/],
    [withFrame(7), /frames\[1\] must be an object/],
    ['{"version": 1, "frames": [{"exposure": NaN}]}', /^seq\/sequence.json: invalid JSON/],
    [JSON.stringify({ ...good, version: 2 }), /version must be 1, got 2/],
    [
      JSON.stringify({ ...good, renderSize: [4, 0] }),
      /renderSize must be \[width, height\], positive integers/,
    ],
    [JSON.stringify({ ...good, displaySize: [8.5, 6] }), /displaySize must be/],
    [JSON.stringify({ ...good, depthInverted: 'yes' }), /depthInverted must be true or false/],
    [JSON.stringify({ ...good, colorSpace: 'rec709' }), /colorSpace must be "linear" or "srgb"/],
    [JSON.stringify({ ...good, frames: [] }), /frames must be a non-empty array/],
    [
      JSON.stringify({ ...good, displaySize: [3, 6] }),
      /displaySize 3x6 is smaller than renderSize 4x3/,
    ],
    ['[]', /must hold a JSON object/],
  ];
  for (const [text, pattern] of cases) {
    assert.throws(() => parseSequenceJson(text, file), rejectsWith(pattern), text);
  }

  const dir = await tempDir();
  await writeAnalytic(dir);
  const json = JSON.parse(readFileSync(join(dir, 'sequence.json'), 'utf8'));
  json.frames[2].exposure = 'bright';
  writeFileSync(join(dir, 'sequence.json'), JSON.stringify(json));
  await assert.rejects(openSequence(dir), rejectsWith(/sequence.json: frames\[2\]\.exposure/));
});

test('writeOutputFrame: linear EXR (half or float) and 8-bit sRGB PNG, 4+ digit names', async () => {
  const dir = join(await tempDir(), 'out');
  const image = createImage(5, 4, 3);
  for (let i = 0; i < image.data.length; i++) image.data[i] = (i % 7) / 4; // includes values > 1
  writeOutputFrame(dir, 7, image, 'exr', { pixelType: 'float' });
  assert.deepEqual((await readExr(join(dir, '0007.exr'))).image.data, image.data);
  writeOutputFrame(dir, 12345, image, 'png');
  const png = (await readPng(join(dir, '12345.png'))).image;
  for (let i = 0; i < image.data.length; i++) {
    assert.ok(Math.abs(png.data[i]! - Math.round(linearToSrgb(image.data[i]!) * 255) / 255) < 1e-6);
  }
  assert.throws(() => writeOutputFrame(dir, -1, image, 'exr'), RangeError);
});

test('role readers: gray color expands to RGB, reactive from EXR, channel choices', async () => {
  const dir = await tempDir();
  const header: SequenceHeader = {
    renderSize: [3, 2],
    displaySize: [6, 4],
    depthInverted: false,
    colorSpace: 'srgb',
  };
  const gray = createImage(3, 2, 2);
  gray.data.set([0.5, 1, 1, 0.25, 0, 1, 0.5, 1, 1, 1, 0, 0]);
  writePng(join(dir, 'gray.png'), gray, { bits: 16 });
  const color = await readColor(join(dir, 'gray.png'), header);
  assert.equal(color.channels, 4);
  const g = srgbToLinear(Math.round(0.5 * 65535) / 65535);
  assert.deepEqual([...color.data.subarray(0, 4)], [g, g, g, 1].map(Math.fround));
  await assert.rejects(
    readReference(join(dir, 'gray.png'), header),
    rejectsWith(/expected displaySize 6x4/),
  );

  const reactive = createImage(3, 2, 1);
  reactive.data.fill(0.75);
  writeExr(join(dir, 'reactive.exr'), reactive, { channelNames: ['mask'] });
  assert.deepEqual(
    [...(await readReactive(join(dir, 'reactive.exr'), header)).data],
    Array(6).fill(0.75),
  );
  writeExr(join(dir, 'depth.exr'), createImage(3, 2, 4), { channelNames: ['R', 'G', 'B', 'Z'] });
  assert.equal((await readDepth(join(dir, 'depth.exr'), header)).channels, 1);
  await assert.rejects(
    readDepth(join(dir, 'gray.png'), header),
    rejectsWith(/depth must be an EXR file/),
  );
  // An RGBZ render output: motion takes R, G.
  assert.equal((await readMotion(join(dir, 'depth.exr'), header)).channels, 2);
});
