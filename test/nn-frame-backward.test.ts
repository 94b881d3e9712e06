// Finite-difference checks (float64, CPU) of every backward of the neural frame: features,
// activations + KPN filter, blend, the reprojection of history and state, and the whole frame
// around network v1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkGradient,
  describeGradCheck,
  dot,
  randomReal,
  type GradCheckOptions,
} from '../src/train/grad-check.ts';
import type { Size } from '../src/core/quality.ts';
import { createImage } from '../src/core/image.ts';
import { reprojectCpu } from '../src/reference/reproject.ts';
import { rescaleTonemapped, rescaleTonemappedBackward } from '../src/reference/exposure.ts';
import { NETWORK_V2 } from '../src/nn/network-v2.ts';
import { initWeights } from '../src/nn/weights.ts';
import {
  assembleFeaturesCpu,
  blendCpu,
  historyGuard,
  historyValid,
  kpnFilterCpu,
  neuralFrameCpu,
  rectify,
  type FeatureInputs,
  type Vec4Image,
} from '../src/reference/nn/frame.ts';
import {
  assembleFeaturesBackwardCpu,
  blendBackwardCpu,
  kpnFilterBackwardCpu,
  neuralFrameBackwardCpu,
  reprojectBackwardCpu,
} from '../src/reference/nn/frame-backward.ts';
import { paddedSize, FEATURE_CHANNELS, RAW_CHANNELS } from '../src/core/neural-frame.ts';

const DISPLAY: Size = [10, 7];
const RENDER: Size = [5, 4];
const JITTER = [0.27, -0.36] as const;

function image([width, height]: Size, data: Float64Array): Vec4Image<Float64Array> {
  return { width, height, data };
}

/** Random frame inputs in float64: colors in [0, 1), a = luma, history a 0/1, state in [−1, 1). */
function randomInputs(seed: number): FeatureInputs<Float64Array> {
  const color = randomReal(RENDER[0] * RENDER[1] * 4, seed, 0, 1);
  for (let i = 0; i < color.length; i += 4) {
    color[i + 3] = 0.2126 * color[i]! + 0.7152 * color[i + 1]! + 0.0722 * color[i + 2]!;
  }
  const history = randomReal(DISPLAY[0] * DISPLAY[1] * 4, seed + 1, 0, 1);
  for (let i = 3; i < history.length; i += 4) history[i] = history[i]! < 0.7 ? 1 : 0;
  return {
    color: image(RENDER, color),
    motion: image(RENDER, randomReal(RENDER[0] * RENDER[1] * 4, seed + 2, 0, 1)),
    history: image(DISPLAY, history),
    state: image(DISPLAY, randomReal(DISPLAY[0] * DISPLAY[1] * 4, seed + 3)),
  };
}

function assertGradient(
  what: string,
  f: (x: Float64Array) => number,
  x: Float64Array,
  analytic: ArrayLike<number>,
  tolerance = 1e-5,
  options: GradCheckOptions = {},
): void {
  const result = checkGradient(f, x, analytic, options);
  assert.ok(result.checked > 0);
  assert.ok(result.maxRelativeError < tolerance, describeGradCheck(what, result));
}

for (const reset of [false, true]) {
  test(`features backward: finite differences w.r.t. reprojected history and state (reset ${reset})`, () => {
    const inputs = randomInputs(1);
    const params = { jitter: JITTER, reset };
    const [pw, ph] = paddedSize(DISPLAY);
    const g = randomReal(FEATURE_CHANNELS * pw * ph, 9);
    const grads = assembleFeaturesBackwardCpu(inputs, params, g);
    const f = (history: Float64Array, state: Float64Array) =>
      dot(
        g,
        assembleFeaturesCpu(
          { ...inputs, history: image(DISPLAY, history), state: image(DISPLAY, state) },
          params,
        ).data,
      );
    const history = inputs.history.data;
    const state = inputs.state.data;
    // Floor: a few gradients are ~1e-5, where the float64 difference quotient has ~1e-9 noise.
    assertGradient('d/dhistory', (x) => f(x, state), history, grads.history, 1e-5, {
      floor: 1e-4,
    });
    assertGradient('d/dstate', (x) => f(history, x), state, grads.state);
    const nonZero = grads.state.some((v) => v !== 0) && grads.history.some((v) => v !== 0);
    assert.equal(nonZero, !reset);
  });
}

test('features backward: non-finite history/state values get no gradient', () => {
  const inputs = randomInputs(2);
  inputs.history.data[0] = NaN;
  inputs.state.data[5] = Infinity;
  const [pw, ph] = paddedSize(DISPLAY);
  const grads = assembleFeaturesBackwardCpu(
    inputs,
    { jitter: JITTER, reset: false },
    randomReal(FEATURE_CHANNELS * pw * ph, 3),
  );
  assert.equal(grads.history[0], 0);
  assert.equal(grads.state[5], 0);
  assert.ok(grads.history.every(Number.isFinite) && grads.state.every(Number.isFinite));
});

for (const [name, display, render, coverage] of [
  ['ratio 2', DISPLAY, RENDER, 0],
  ['ratio 1.5', [9, 6], [6, 4], 0],
  ['ratio 2, coverage blend 0.8', DISPLAY, RENDER, 0.8],
] as const) {
  test(`KPN filter backward: finite differences w.r.t. raw channels 0–7 (${name})`, () => {
    const color = randomReal(render[0] * render[1] * 4, 4, 0, 1);
    const colorImage = image(render, color);
    const [pw, ph] = paddedSize(display);
    // σ from ~0.35 to ~2.4 display pixels, any angle.
    const raw = {
      channels: RAW_CHANNELS,
      height: ph,
      width: pw,
      data: randomReal(RAW_CHANNELS * pw * ph, 5, -2, 2),
    };
    const gFiltered = randomReal(display[0] * display[1] * 4, 6);
    const gState = randomReal(display[0] * display[1] * 4, 7);
    const analytic = kpnFilterBackwardCpu(
      raw,
      colorImage,
      display,
      JITTER,
      gFiltered,
      gState,
      undefined,
      coverage,
    );
    const f = (x: Float64Array) => {
      const out = kpnFilterCpu({ ...raw, data: x }, colorImage, display, JITTER, coverage);
      return dot(gFiltered, out.filtered.data) + dot(gState, out.state.data);
    };
    assertGradient('d/draw', f, raw.data, analytic, 1e-5, { floor: 1e-4 });
    // σ and θ receive gradient (not only α and the state).
    const plane = pw * ph;
    for (let k = 0; k < 3; k++) {
      assert.ok(analytic.subarray(k * plane, (k + 1) * plane).some((v) => Math.abs(v) > 1e-6));
    }
  });
}

for (const [reset, historyGuard] of [
  [false, 0],
  [true, 0],
  [false, 1],
] as const) {
  test(`blend backward: finite differences w.r.t. filtered rgb, α and history (reset ${reset}, history guard ${historyGuard})`, () => {
    const n = DISPLAY[0] * DISPLAY[1] * 4;
    const filtered = randomReal(n, 10, 0, 1);
    const inputs = randomInputs(11);
    const history = inputs.history.data;
    const g = randomReal(n, 12);
    const [pw, ph] = paddedSize(DISPLAY);
    const raw = {
      channels: RAW_CHANNELS,
      height: ph,
      width: pw,
      data: randomReal(RAW_CHANNELS * pw * ph, 13, -2, 2),
    };
    const blend = (fx: Float64Array, hx: Float64Array, rx: Float64Array) =>
      blendCpu(image(DISPLAY, fx), image(DISPLAY, hx), {
        color: inputs.color,
        raw: { ...raw, data: rx },
        reset,
        historyGuard,
      }).data;
    const grads = blendBackwardCpu(
      image(DISPLAY, filtered),
      image(DISPLAY, history),
      { color: inputs.color, raw, reset, historyGuard },
      g,
    );
    const f = (fx: Float64Array, hx: Float64Array, rx = raw.data) => dot(g, blend(fx, hx, rx));
    assertGradient('d/dfiltered', (x) => f(x, history), filtered, grads.filtered);
    // The history's a only selects (validity): perturbing it by 1e-6 changes nothing.
    assertGradient('d/dhistory', (x) => f(filtered, x), history, grads.history);
    // dLoss/d raw: only channel 8 (β) is read by the blend.
    const dRaw = new Float64Array(raw.data.length);
    const plane = pw * ph;
    for (let y = 0; y < DISPLAY[1]; y++) {
      for (let x = 0; x < DISPLAY[0]; x++) {
        dRaw[8 * plane + y * pw + x] = grads.betaRaw[y * DISPLAY[0] + x]!;
      }
    }
    assertGradient('d/draw', (x) => f(filtered, history, x), raw.data, dRaw);
    if (!reset) {
      // Part of the history is clamped (outside the neighbourhood box), so β matters.
      assert.ok(grads.betaRaw.some((v) => Math.abs(v) > 1e-6));
    }
    if (historyGuard > 0) {
      // Some history is partly guarded (0 < g < 1): the guard's slope is in the checked gradient.
      const context = { color: inputs.color, raw, reset, historyGuard };
      const guards = Array.from({ length: DISPLAY[0] * DISPLAY[1] }, (_, i) =>
        historyValid(image(DISPLAY, history), i, false)
          ? rectify(image(DISPLAY, history), context, i % DISPLAY[0], Math.floor(i / DISPLAY[0]))
              .guard
          : 1,
      );
      assert.ok(guards.filter((v) => v > 0 && v < 1).length >= 3, `guards ${guards.join(' ')}`);
    }
  });
}

test('history guard: history far outside the box is clamped whatever β, just outside it kept as asked', () => {
  const lo = [0.4, 0.3, 0.2];
  const hi = [0.5, 0.35, 0.3]; // largest range 0.1: the guard fades over 0.1 + 0.02 outside
  const at = (h: number[], ranges = 1) => {
    const clamped = h.map((v, c) => Math.min(Math.max(v, lo[c]!), hi[c]!));
    return historyGuard(h, clamped, lo, hi, ranges);
  };
  // A model without a guard (ranges 0) keeps what its β asks, however far.
  assert.deepEqual(at([1, 1, 1], 0), { guard: 1, slope: [0, 0, 0] });
  assert.deepEqual(at([0.45, 0.32, 0.25]), { guard: 1, slope: [0, 0, 0] }, 'inside');
  // A stale white where the box is a dark brown: clamped (g = 0), no slope.
  assert.deepEqual(at([1, 1, 1]), { guard: 0, slope: [0, 0, 0] });
  // 0.06 above the green channel's top: g = 1 − 0.06 / 0.12; only that channel moves it.
  const part = at([0.45, 0.41, 0.25]);
  assert.ok(Math.abs(part.guard - 0.5) < 1e-12, `${part.guard}`);
  assert.deepEqual(part.slope, [0, -1 / 0.12, 0]);
  // Below the box the slope changes sign.
  assert.deepEqual(at([0.34, 0.32, 0.25]).slope, [1 / 0.12, 0, 0]);
});

// historyScale ≠ 1: an exposure change, the history rescaled after sampling (nonlinear).
for (const historyScale of [1, 2.5, 0.4]) {
  test(`reproject backward: finite differences of the reprojection w.r.t. previous history and state (history scale ${historyScale})`, () => {
    const [w, h] = DISPLAY;
    const random = randomReal(RENDER[0] * RENDER[1] * 4, 20, -0.15, 0.15);
    const motion = createImage(RENDER[0], RENDER[1], 4);
    motion.data.set(random);
    const history = createImage(w, h, 4);
    // Tonemapped colors; below 0.85 so that 1 / (1 − max) (the rescale's slope) stays moderate.
    history.data.set(randomReal(w * h * 4, 21, 0, 0.85));
    const state = createImage(w, h, 4);
    state.data.set(randomReal(w * h * 4, 22));
    const gHistory = randomReal(w * h * 4, 23);
    for (let i = 3; i < gHistory.length; i += 4) gHistory[i] = 0; // a is validity, not a value
    const gState = randomReal(w * h * 4, 24);
    const grads = reprojectBackwardCpu(motion, history, false, gHistory, gState, historyScale);
    // The reprojection is the float32 reference: piecewise smooth in the previous images, so a
    // large step (1e-3) keeps f32 rounding out of the differences.
    const f = (hx: Float64Array, sx: Float64Array) => {
      const out = reprojectCpu(
        motion,
        { ...history, data: Float32Array.from(hx) },
        { ...state, data: Float32Array.from(sx) },
        false,
        historyScale,
      );
      return dot(gHistory, out.history.data) + dot(gState, out.state.data);
    };
    const hx = Float64Array.from(history.data);
    const sx = Float64Array.from(state.data);
    const options = { step: 1e-3, floor: 1e-1 };
    assertGradient('d/dprevious history', (x) => f(x, sx), hx, grads.history, 2e-3, options);
    assertGradient('d/dprevious state', (x) => f(hx, x), sx, grads.state, 2e-3, options);
    assert.ok(grads.history.some((v) => v !== 0) && grads.state.some((v) => v !== 0));
    if (historyScale !== 1) {
      // The rescale changes the gradient: the unscaled one is measurably different.
      const plain = reprojectBackwardCpu(motion, history, false, gHistory, gState);
      const diff = plain.history.reduce(
        (m, v, i) => Math.max(m, Math.abs(v - grads.history[i]!)),
        0,
      );
      assert.ok(diff > 0.1, `history scale ${historyScale} changes the gradient by only ${diff}`);
    }
    const none = reprojectBackwardCpu(motion, history, true, gHistory, gState, historyScale);
    assert.ok(none.history.every((v) => v === 0) && none.state.every((v) => v === 0));
  });
}

test('exposure rescale backward: finite differences of rescaleTonemapped (float64), channels clamped or not', () => {
  // maxColor 3 makes the clamp fire for the bright colors at scale 4; every case is checked.
  const colors = [
    [0.2, 0.5, 0.35],
    [0.7, 0.1, 0.3],
    [0.32, 0.2, 0.6],
    [0.55, 0.5, 0.1],
    [0.8, 0.79, 0.2],
  ];
  let clampedCases = 0;
  for (const s of [4, 0.3, 1.7]) {
    for (const [k, rgb] of colors.entries()) {
      const g = Array.from(randomReal(3, 40 + k, -1, 1));
      const analytic = rescaleTonemappedBackward(rgb, s, 3, g);
      const f = (x: Float64Array) => dot(g, rescaleTonemapped([...x], s, 3));
      assertGradient(`rescale ${s} of ${rgb.join(',')}`, f, Float64Array.from(rgb), analytic, 1e-6);
      if (rgb.some((c) => (c / (1 - Math.max(...rgb))) * s >= 3)) clampedCases++;
    }
  }
  assert.ok(clampedCases >= 2, `only ${clampedCases} cases reach the clamp`);
});

test('whole neural frame backward (network v1): finite differences w.r.t. reprojected history, state and parameters', () => {
  const display: Size = [8, 8];
  const render: Size = [4, 4];
  const inputs: FeatureInputs<Float64Array> = {
    color: image(render, randomReal(64, 30, 0, 1)),
    motion: image(render, randomReal(64, 35, 0, 1)),
    history: image(
      display,
      randomReal(256, 31, 0, 1).map((v, i) => (i % 4 === 3 ? 1 : v)),
    ),
    state: image(display, randomReal(256, 32)),
  };
  const parameters = new Map<string, Float64Array>(
    [...initWeights(NETWORK_V2, 3)].map(([name, v]) => [name, Float64Array.from(v)]),
  );
  // Non-zero biases so every activation path is exercised.
  for (const [name, v] of parameters) {
    if (name.endsWith('.bias')) v.set(randomReal(v.length, v.length, -0.1, 0.1));
  }
  const model = { graph: NETWORK_V2, parameters };
  const params = { jitter: JITTER, reset: false };
  const gHistory = randomReal(256, 33).map((v, i) => (i % 4 === 3 ? 0 : v));
  const gState = randomReal(256, 34);
  const loss = (frameInputs: FeatureInputs<Float64Array>) => {
    const frame = neuralFrameCpu(model, frameInputs, params);
    return dot(gHistory, frame.history.data) + dot(gState, frame.filter.state.data);
  };
  const frame = neuralFrameCpu(model, inputs, params);
  const grads = neuralFrameBackwardCpu(model, inputs, params, frame, gHistory, gState);
  const options = { maxChecks: 24, floor: 1e-7 };
  assertGradient(
    'd/dreprojected state',
    (x) => loss({ ...inputs, state: image(display, x) }),
    inputs.state.data,
    grads.reprojected.state,
    1e-4,
    options,
  );
  assertGradient(
    'd/dreprojected history',
    (x) => loss({ ...inputs, history: image(display, x) }),
    inputs.history.data,
    grads.reprojected.history,
    1e-4,
    options,
  );
  for (const name of ['down1.weight', 'res3b.weight', 'head.bias']) {
    const values = parameters.get(name)!;
    assertGradient(
      `d/d${name}`,
      () => loss(inputs),
      values,
      grads.parameters.get(name)!,
      1e-4,
      options,
    );
  }
});
