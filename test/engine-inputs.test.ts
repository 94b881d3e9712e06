// Engine-like inputs: the 8-bit depth and sRGB grids (CPU), the GPU pass against them bit for bit,
// and `uplift render --no-jitter --depth-bits 8 --color-format srgb8` end to end through `upscale`
// and `eval` with TAAU and the neural method.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { code8, DEPTH8_GRID, quantize8, SRGB8_GRID } from '../src/core/engine-inputs.ts';
import { createImage } from '../src/core/image.ts';
import { linearToSrgb, srgbToLinear } from '../src/core/tonemap.ts';
import { readGpuImage, uploadGpuImage } from '../src/gpu/gpu-image.ts';
import { openSequence } from '../src/io/sequence.ts';
import { encodeEngineQuantize } from '../src/scene/engine-inputs.ts';
import { createSceneRenderer } from '../src/scene/renderer.ts';
import { rng, testGpu } from './helpers/gpu.ts';

const uplift = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
  });

/** True when depth `d` is exactly f32(k / 255) for an integer k. */
const onDepthGrid = (d: number) => Math.fround(Math.round(d * 255) / 255) === d;
/** True when linear `c` is exactly what some 8-bit sRGB code decodes to. */
const onSrgbGrid = (c: number) =>
  Math.fround(srgbToLinear(Math.round(linearToSrgb(c) * 255) / 255)) === c;

test('8-bit grids: depth round(d·255)/255, color through sRGB encode, round, decode', () => {
  const random = rng(3);
  for (let i = 0; i < 20000; i++) {
    const v = Math.fround(random() * 1.2 - 0.1);
    const d = quantize8(DEPTH8_GRID, v);
    const k = Math.round(Math.min(Math.max(v, 0), 1) * 255);
    assert.equal(d, Math.fround(k / 255), `depth ${v}`);
    const c = quantize8(SRGB8_GRID, v);
    const encoded = linearToSrgb(v) * 255; // clamps to [0, 1] first
    // Away from a rounding tie the code is the rounded encoded value, and decodes exactly.
    if (Math.abs(encoded - Math.floor(encoded) - 0.5) > 1e-4) {
      assert.equal(code8(SRGB8_GRID, v), Math.round(encoded), `code of ${v}`);
    }
    assert.ok(onSrgbGrid(c) && onDepthGrid(d), `${v} → ${c}, ${d}`);
  }
  // Ends, HDR and NaN: an 8-bit target saturates.
  assert.equal(quantize8(SRGB8_GRID, 7.5), 1);
  assert.equal(quantize8(SRGB8_GRID, -2), 0);
  assert.equal(quantize8(SRGB8_GRID, NaN), 0);
  assert.equal(quantize8(DEPTH8_GRID, 1), 1);
  // Grid values are fixed points, and every level is reached.
  for (let k = 0; k < 256; k++) {
    assert.equal(code8(SRGB8_GRID, SRGB8_GRID.levels[k]!), k);
    assert.equal(code8(DEPTH8_GRID, DEPTH8_GRID.levels[k]!), k);
  }
});

test('the GPU pass quantizes color and depth in place, bit for bit as the CPU grids', async () => {
  const { device } = await testGpu();
  const [w, h] = [37, 11];
  const random = rng(9);
  const color = createImage(w, h, 4);
  const depth = createImage(w, h, 1);
  color.data.forEach((_, i) => {
    // HDR, negatives, exact thresholds and levels, and alpha that must stay as it is.
    const pick = random();
    color.data[i] =
      i % 4 === 3
        ? 0.25
        : pick < 0.1
          ? SRGB8_GRID.thresholds[Math.floor(random() * 255)]!
          : pick < 0.2
            ? SRGB8_GRID.levels[Math.floor(random() * 256)]!
            : random() * 3 - 0.5;
  });
  depth.data.forEach((_, i) => {
    depth.data[i] = i % 7 === 0 ? DEPTH8_GRID.thresholds[i % 255]! : random();
  });
  const images = {
    color: uploadGpuImage(device, color),
    depth: uploadGpuImage(device, depth),
  };
  const run = async (options: { depth8: boolean; srgb8: boolean }) => {
    const encoder = device.createCommandEncoder();
    encodeEngineQuantize(device, encoder, images, options);
    device.queue.submit([encoder.finish()]);
    return {
      color: await readGpuImage(device, images.color, 4),
      depth: await readGpuImage(device, images.depth, 4),
    };
  };
  // Depth only: color untouched.
  const depthOnly = await run({ depth8: true, srgb8: false });
  assert.deepEqual(depthOnly.color.data, color.data);
  for (let i = 0; i < w * h; i++) {
    assert.equal(depthOnly.depth.data[i * 4], quantize8(DEPTH8_GRID, depth.data[i]!), `depth ${i}`);
  }
  // Color only: depth keeps what the first run wrote.
  const colorOnly = await run({ depth8: false, srgb8: true });
  assert.deepEqual(colorOnly.depth.data, depthOnly.depth.data);
  for (let i = 0; i < color.data.length; i++) {
    const want = i % 4 === 3 ? 0.25 : quantize8(SRGB8_GRID, color.data[i]!);
    assert.equal(colorOnly.color.data[i], want, `color ${i} of ${color.data[i]}`);
  }
  for (const image of Object.values(images)) image.buffer.destroy();
});

test('a renderer frame without jitter: params (0, 0) and other samples than the jittered frame', async () => {
  const { device } = await testGpu();
  const renderer = createSceneRenderer(device, {
    scene: 'fence',
    displaySize: [32, 24],
    samples: 0,
    frames: 3,
  });
  const jittered = await renderer.renderFrame(1);
  assert.notDeepEqual(jittered.params.jitter, [0, 0]);
  const jitteredColor = await readGpuImage(device, jittered.gpu.color, 3);
  const still = await renderer.renderFrame(1, { noJitter: true });
  assert.deepEqual(still.params.jitter, [0, 0]);
  assert.notDeepEqual((await readGpuImage(device, still.gpu.color, 3)).data, jitteredColor.data);
  // The override is per frame: the renderer's own frames keep their jitter.
  assert.deepEqual((await renderer.renderFrame(1)).params.jitter, jittered.params.jitter);
  assert.equal(renderer.header.source?.engineInputs, undefined);
  renderer.destroy();
});

test('uplift render with engine-like inputs, then upscale and eval with TAAU and neural', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'uplift-engine-'));
  try {
    const seq = join(dir, 'seq');
    const render = uplift([
      ...['render', '--scene', 'fence', '--frames', '4', '--display', '32x24', '--samples', '4'],
      ...['--no-jitter', '--depth-bits', '8', '--color-format', 'srgb8', '-q', '-o', seq],
    ]);
    assert.equal(render.status, 0, render.stderr);
    const source = await openSequence(seq);
    assert.deepEqual(source.header.source?.engineInputs, {
      noJitter: true,
      depth8: true,
      srgb8: true,
    });
    let offGridReference = 0;
    for (let i = 0; i < source.frameCount; i++) {
      assert.deepEqual(source.frameParams(i).jitter, [0, 0], `frame ${i} jitter`);
      const frame = await source.readFrame(i);
      const depths = new Set(frame.depth.data);
      assert.ok(depths.size > 3, 'depth still varies');
      for (const d of depths) assert.ok(onDepthGrid(d), `frame ${i}: depth ${d} is not k/255`);
      for (let k = 0; k < frame.color.data.length; k++) {
        const c = frame.color.data[k]!;
        if (frame.color.channels === 4 && k % 4 === 3) continue;
        assert.ok(onSrgbGrid(c), `frame ${i}: color ${c} is not on the 8-bit sRGB grid`);
      }
      // The reference stays full precision.
      offGridReference += frame.reference!.data.filter((c) => !onSrgbGrid(c)).length;
    }
    assert.ok(offGridReference > 100, `${offGridReference} reference values off the grid`);

    for (const method of ['taau', 'neural']) {
      const out = join(dir, method);
      const result = uplift(['upscale', seq, '-o', out, '--method', method, '-q']);
      assert.equal(result.status, 0, `${method}: ${result.stderr}`);
      assert.ok(existsSync(join(out, '0003.exr')), `${method} wrote every frame`);
    }
    const report = join(dir, 'report');
    const ev = uplift([
      ...['eval', seq, '--methods', 'taau,neural', '--no-flip', '--warmup', '1'],
      ...['--report', report],
    ]);
    assert.equal(ev.status, 0, ev.stderr);
    const json = JSON.parse(readFileSync(join(report, 'report.json'), 'utf8'));
    const methods = json.sequences[0].methods as Array<{
      method: string;
      steady: { psnr: number };
    }>;
    assert.deepEqual(
      methods.map((m) => m.method),
      ['taau', 'neural'],
    );
    for (const m of methods) assert.ok(m.steady.psnr > 10 && m.steady.psnr < 60, m.method);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('uplift render: a bad engine-input flag is one line naming it', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--depth-bits', '16'], /--depth-bits must be 8/],
    [['--color-format', 'rgba8'], /--color-format must be srgb8/],
  ];
  for (const [args, message] of cases) {
    const out = join(tmpdir(), 'uplift-engine-never-written');
    const result = uplift(['render', ...args, '-o', out]);
    assert.equal(result.status, 1, args.join(' '));
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.ok(!existsSync(out));
  }
});
