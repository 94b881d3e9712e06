// The frame API's debug mode: the CPU checks of each dispatch (src/core/debug-checks.ts) warn once
// per finding and stay silent on a correct frame sequence; through createUpscaler they report
// without stopping the frame.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDebugChecker, type DebugWarning } from '../src/core/debug-checks.ts';
import { defaultFrameParams } from '../src/core/frame.ts';
import { jitterOffset } from '../src/core/jitter.ts';
import { createUpscaler } from '../src/upscaler.ts';
import { testGpu } from './helpers/gpu.ts';

const sizes = {
  renderSize: [64, 32] as [number, number],
  displaySize: [128, 64] as [number, number],
};

/** The warnings of `frames` dispatches whose values `frame(i)` gives. */
function warnings(
  frame: (i: number) => Parameters<ReturnType<typeof createDebugChecker>['frame']>[0],
  frames = 40,
) {
  const seen: DebugWarning[] = [];
  const checker = createDebugChecker(
    () => sizes,
    (w) => seen.push(w),
  );
  for (let i = 0; i < frames; i++) checker.frame(frame(i));
  return seen;
}

const good = (i: number) => ({
  jitter: jitterOffset(i, 32),
  motionScale: [1, 1] as readonly [number, number],
  frameTimeDelta: 1 / 60,
  colorFormat: 'rgba16float',
});

test('debugChecks: a correct frame sequence is silent', () => {
  assert.deepEqual(warnings(good), []);
});

test('debugChecks: each mistake is named once, at the frame that shows it', () => {
  const cases: Array<[string, (i: number) => ReturnType<typeof good>, number]> = [
    ['jitter-missing', (i) => ({ ...good(i), jitter: [0, 0] }), 7],
    ['jitter-frozen', (i) => ({ ...good(i), jitter: [0.25, -0.25] }), 7],
    [
      'jitter-units',
      (i) => ({ ...good(i), jitter: jitterOffset(i, 32).map((v) => v / 64) as [number, number] }),
      7,
    ],
    ['jitter-phases', (i) => ({ ...good(i), jitter: jitterOffset(i, 8) }), 8],
    ['motion-units', (i) => ({ ...good(i), motionScale: [64, 32] }), 0],
    ['frame-time-units', (i) => ({ ...good(i), frameTimeDelta: 16.7 }), 0],
    ['color-linear8', (i) => ({ ...good(i), colorFormat: 'rgba8unorm' }), 0],
  ];
  for (const [id, frame, at] of cases) {
    const seen = warnings(frame);
    assert.deepEqual(
      seen.map((w) => [w.id, w.frame]),
      [[id, at]],
      `${id}: ${JSON.stringify(seen)}`,
    );
    assert.ok(seen[0]!.message.length > 20);
  }
  // Pixel vectors with motionScale (1/w, 1/h) are right, and an -srgb color view too.
  assert.deepEqual(
    warnings((i) => ({
      ...good(i),
      motionScale: [1 / 64, -1 / 32],
      colorFormat: 'rgba8unorm-srgb',
    })),
    [],
  );
});

test('debugChecks through createUpscaler: warns without stopping the frame', async () => {
  const { device } = await testGpu();
  const seen: DebugWarning[] = [];
  const up = await createUpscaler(device, {
    displaySize: [32, 16],
    method: 'bilinear',
    debugChecks: (w) => seen.push(w),
  });
  const [w, h] = up.renderSize;
  const texture = (format: GPUTextureFormat, bytes: number) => {
    const t = device.createTexture({
      size: [w, h],
      format,
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
    });
    device.queue.writeTexture(
      { texture: t },
      new Uint8Array(w * h * bytes).fill(60),
      { bytesPerRow: w * bytes },
      [w, h],
    );
    return t;
  };
  const inputs = {
    color: texture('rgba8unorm', 4),
    depth: texture('r32float', 4),
    motion: texture('rg32float', 8),
  };
  for (let i = 0; i < 8; i++) {
    const encoder = device.createCommandEncoder();
    up.dispatch(encoder, { ...defaultFrameParams(), ...inputs, jitter: [0, 0], reset: i === 0 });
    device.queue.submit([encoder.finish()]);
  }
  await device.queue.onSubmittedWorkDone();
  assert.deepEqual(
    seen.map((x) => x.id),
    ['color-linear8', 'jitter-missing'],
  );
  up.destroy();
});
