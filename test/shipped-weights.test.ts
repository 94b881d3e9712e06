// The shipped weights: the default (weights/uplift-v3-int8.uplift, network v3a's INT8 twin) is
// what the neural method and the demo use, and on the built-in analytic sequence (never trained
// on) it and v2 (weights/uplift-v2.uplift, by name) stay far above bilinear and close to TAAU — a
// broken or mismatched file fails here. The INT8-ready v2 (weights/uplift-v2-int8.uplift,
// quantization-aware fine-tuned) loads as v2 quantized 8/8 and stays close to the f32 weights;
// network v3's pair (weights/uplift-v3.uplift and its post-training quantized twin) likewise.
import { test } from 'node:test';
import { resolve } from 'node:path';
import assert from 'node:assert/strict';
import { testGpu } from './helpers/gpu.ts';
import { loadWeights } from '../src/nn/weights.ts';
import { NETWORK_V2 } from '../src/nn/network-v2.ts';
import { NETWORK_V3A } from '../src/nn/network-v3.ts';
import { baseGraph, graphQuantization, weightedInputs } from '../src/nn/quantize.ts';
import { shippedWeightsPath, shippedWeights } from '../src/eval/shipped-weights.ts';
import { parseMethod, parseMethods } from '../src/eval/run-method.ts';
import { evaluateSource } from '../src/eval/evaluate.ts';
import { openSequenceArg } from '../src/cli/sequence-arg.ts';

const SHIPPED_WEIGHTS = shippedWeightsPath();

const V2_WEIGHTS = shippedWeightsPath('uplift-v2.uplift');
const INT8_WEIGHTS = shippedWeightsPath('uplift-v2-int8.uplift');
const V3_WEIGHTS = shippedWeightsPath('uplift-v3.uplift');
const V3_INT8_WEIGHTS = shippedWeightsPath('uplift-v3-int8.uplift');

/** The methods the tests below score, each once: the default (`neural`) is v3's INT8 twin. */
const ANALYTIC_METHODS = {
  bilinear: 'bilinear',
  taau: 'taau',
  neural: 'neural',
  v2: `neural:${V2_WEIGHTS}`,
  v2Simulated: `neural:${INT8_WEIGHTS}@f32`,
  v2Int8: `neural:${INT8_WEIGHTS}@int8`,
  v3: `neural:${V3_WEIGHTS}`,
  v3Simulated: `neural:${V3_INT8_WEIGHTS}@f32`,
};
type AnalyticPsnr = Record<keyof typeof ANALYTIC_METHODS, number>;
let analytic: Promise<AnalyticPsnr> | undefined;

/** The shipped network: v3a, trained (runs S1 to G4) with the coverage blend at k = 0.5 (docs/QUALITY.md §4). */
const SHIPPED_GRAPH = { ...NETWORK_V3A, coverageBlend: 0.5 };

/** Steady PSNR of every method above on 14 frames of the analytic sequence at 96×64 (once). */
function analyticPsnr(): Promise<AnalyticPsnr> {
  analytic ??= (async () => {
    const { device } = await testGpu();
    const source = await openSequenceArg('builtin:analytic:3', {
      displaySize: [96, 64],
      quality: 'performance',
      frames: 14,
    });
    const methods = parseMethods(Object.values(ANALYTIC_METHODS).join(','));
    const result = await evaluateSource(device, source, methods, { flip: false });
    const psnr = result.methods.map((m) => m.summary.steady.psnr);
    return Object.fromEntries(
      Object.keys(ANALYTIC_METHODS).map((key, i) => [key, psnr[i]!]),
    ) as AnalyticPsnr;
  })();
  return analytic;
}

test('shipped weights: the neural default is network v3a INT8-ready, v2 by name, finite, trained (metadata)', async () => {
  assert.equal(shippedWeights(), SHIPPED_WEIGHTS);
  assert.equal(
    SHIPPED_WEIGHTS,
    resolve('weights/uplift-v3-int8.uplift'),
    'found in the repository',
  );
  assert.equal(V2_WEIGHTS, resolve('weights/uplift-v2.uplift'));
  const shipped = await loadWeights(SHIPPED_WEIGHTS);
  assert.deepEqual(baseGraph(shipped.graph), SHIPPED_GRAPH);
  const v2 = await loadWeights(V2_WEIGHTS);
  assert.deepEqual(v2.graph, NETWORK_V2);
  for (const weights of [shipped, v2]) {
    for (const [name, values] of weights.parameters) {
      assert.ok(values.every(Number.isFinite), `${name} is finite`);
    }
    assert.ok(Number(weights.metadata?.step) > 0, 'the file records its training step');
  }
  assert.equal(parseMethod('neural').model, SHIPPED_WEIGHTS);
  assert.equal(parseMethod('neural', 'other.uplift').model, 'other.uplift');
});

test('shipped weights on the analytic sequence: the default and v2 ≥ 2 dB over bilinear, within 1 dB of TAAU', async () => {
  const { bilinear, taau, neural, v2 } = await analyticPsnr();
  const psnr = JSON.stringify({ bilinear, taau, neural, v2 });
  for (const network of [neural, v2]) {
    assert.ok(network > bilinear + 2, psnr);
    assert.ok(network > taau - 1, psnr);
  }
});

test('INT8-ready weights: network v2 quantized 8/8 with calibrated scales, within 0.3 dB of f32 here, and the INT8 runner within 0.1 dB of the simulation', async () => {
  const weights = await loadWeights(INT8_WEIGHTS);
  assert.deepEqual(baseGraph(weights.graph), NETWORK_V2);
  const q = graphQuantization(weights.graph)!;
  assert.equal(q.weightBits, 8);
  assert.equal(q.activationBits, 8);
  assert.deepEqual([...q.activationScales!.keys()].sort(), weightedInputs(NETWORK_V2).sort());
  for (const s of q.activationScales!.values()) assert.ok(s > 0 && Number.isFinite(s));
  const spec = parseMethod(`neural:${INT8_WEIGHTS}`);
  assert.equal(spec.name, 'neural:uplift-v2-int8');
  assert.equal(spec.model, INT8_WEIGHTS);
  assert.throws(() => parseMethod('neural:'), /needs a weights file/);
  const int8Spec = parseMethod(`neural:${INT8_WEIGHTS}@int8`);
  assert.deepEqual(
    [int8Spec.name, int8Spec.model, int8Spec.precision],
    ['neural:uplift-v2-int8@int8', INT8_WEIGHTS, 'int8'],
  );
  assert.throws(() => parseMethod('neural@f64'), /precision must be one of auto, f32, f16, int8/);

  // Without a suffix an INT8-ready model runs INT8 ('auto'); @f32 runs its f32 simulation.
  const { v2: f32, v2Simulated: simulated, v2Int8: int8 } = await analyticPsnr();
  assert.ok(Math.abs(simulated - f32) < 0.3, `f32 ${f32} dB, simulated INT8 ${simulated} dB`);
  assert.notEqual(simulated, f32, 'the quantized graph ran (identical PSNR would mean it did not)');
  // The INT8 runner computes the simulated graph up to its roundings.
  assert.ok(Math.abs(int8 - simulated) < 0.1, `simulated ${simulated} dB, INT8 ${int8} dB`);
  assert.notEqual(int8, simulated, 'the INT8 runner ran');
});

test('network v3 weights: v3a with the coverage blend, trained, and its INT8 twin 8/8 within 0.3 dB of them, the INT8 runner within 0.1 dB of the simulation', async () => {
  const f32 = await loadWeights(V3_WEIGHTS);
  assert.deepEqual(f32.graph, SHIPPED_GRAPH);
  for (const [name, values] of f32.parameters) {
    assert.ok(values.every(Number.isFinite), `${name} is finite`);
  }
  assert.equal(f32.metadata?.step, 1200, 'the file records its training step (run G4)');
  // Run G4's recipe: the image-gradient term at 1, the signs scene at a quarter of the clips.
  assert.equal(
    (f32.metadata?.loss as { gradient?: number } | undefined)?.gradient,
    1,
    'the file records its loss',
  );
  const int8 = await loadWeights(V3_INT8_WEIGHTS);
  assert.deepEqual(baseGraph(int8.graph), SHIPPED_GRAPH);
  const q = graphQuantization(int8.graph)!;
  assert.deepEqual([q.weightBits, q.activationBits], [8, 8]);
  assert.deepEqual([...q.activationScales!.keys()].sort(), weightedInputs(NETWORK_V3A).sort());

  // The default (`neural`, test 1: this INT8 twin) runs on the INT8 runner.
  const { bilinear, v3, v3Simulated: simulated, neural: runner } = await analyticPsnr();
  assert.ok(v3 > bilinear + 2, `bilinear ${bilinear} dB, v3 ${v3} dB`);
  assert.ok(Math.abs(simulated - v3) < 0.3, `f32 ${v3} dB, simulated INT8 ${simulated} dB`);
  assert.notEqual(simulated, v3, 'the quantized graph ran');
  assert.ok(Math.abs(runner - simulated) < 0.1, `simulated ${simulated} dB, INT8 ${runner} dB`);
  assert.notEqual(runner, simulated, 'the INT8 runner ran');
});
