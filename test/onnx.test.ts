// ONNX interchange: the shipped networks exported and run by onnxruntime-web (wasm, in Node)
// against the CPU reference, round trips .uplift → ONNX → .uplift, import's errors, and the
// export-onnx / import-onnx commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import * as ort from 'onnxruntime-web';
import { InputError } from '../src/core/errors.ts';
import { mulberry32 } from '../src/core/random.ts';
import type { Tensor } from '../src/core/tensor.ts';
import { decodeWeights, encodeWeights, sameGraph, type NetworkWeights } from '../src/nn/weights.ts';
import { exportOnnx } from '../src/onnx/export.ts';
import { importOnnx } from '../src/onnx/import.ts';
import { int8Weight, weightFromInt8 } from '../src/onnx/convention.ts';
import {
  decodeModel,
  encodeModel,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from '../src/onnx/proto.ts';
import { floatTensor, int8Tensor } from '../src/onnx/tensors.ts';
import { runNetworkCpu } from '../src/reference/nn/network.ts';
import { quantizeWeightCpu } from '../src/reference/nn/ops.ts';

ort.env.wasm.numThreads = 1;

const F32_FILE = 'weights/uplift-v2.uplift';
const INT8_FILE = 'weights/uplift-v2-int8.uplift';
const f32Bytes = readFileSync(F32_FILE);
const int8Bytes = readFileSync(INT8_FILE);
const f32 = decodeWeights(f32Bytes, { name: F32_FILE });
const int8 = decodeWeights(int8Bytes, { name: INT8_FILE });

/** A random features tensor (values in [−1, 1)), 12 channels, 32 wide, 24 high. */
function features(seed: number): Tensor {
  const next = mulberry32(seed);
  const [channels, height, width] = [12, 24, 32];
  const data = Float32Array.from({ length: channels * height * width }, () => next() * 2 - 1);
  return { channels, height, width, data };
}

async function runOrt(
  onnx: Uint8Array,
  input: Tensor,
  graphOptimizationLevel: 'disabled' | 'all' = 'all',
): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(onnx, {
    executionProviders: ['wasm'],
    graphOptimizationLevel,
  });
  const dims = [1, input.channels, input.height, input.width];
  const out = await session.run({ features: new ort.Tensor('float32', input.data, dims) });
  await session.release();
  return out.raw!.data as Float32Array;
}

interface Agreement {
  maxAbs: number;
  /** Largest |ort − ref| / max(|ref|, 1). */
  maxRel: number;
  meanAbs: number;
  meanRef: number;
}

function agreement(got: Float32Array, ref: Float32Array): Agreement {
  assert.equal(got.length, ref.length);
  let maxAbs = 0;
  let maxRel = 0;
  let sumAbs = 0;
  let sumRef = 0;
  for (let i = 0; i < ref.length; i++) {
    assert.ok(Number.isFinite(got[i]), `output ${i} is ${got[i]}`);
    const d = Math.abs(got[i]! - ref[i]!);
    maxAbs = Math.max(maxAbs, d);
    maxRel = Math.max(maxRel, d / Math.max(1, Math.abs(ref[i]!)));
    sumAbs += d;
    sumRef += Math.abs(ref[i]!);
  }
  return { maxAbs, maxRel, meanAbs: sumAbs / ref.length, meanRef: sumRef / ref.length };
}

const opTypes = (model: ModelProto) => (model.graph!.node ?? []).map((n) => n.opType);
const count = <T>(list: T[], v: T) => list.filter((x) => x === v).length;

test('onnx: the shipped f32 network in onnxruntime-web equals the CPU reference (f32 tolerance)', async (t) => {
  const onnx = exportOnnx(f32);
  const model = decodeModel(onnx, F32_FILE);
  assert.deepEqual(
    model.opsetImport?.map((o) => o.version),
    [13],
  );
  const ops = opTypes(model);
  const weighted = f32.graph.nodes.filter((n) => n.outChannels !== undefined);
  assert.equal(count(ops, 'Conv') + count(ops, 'ConvTranspose'), weighted.length);
  assert.equal(
    count(ops, 'ConvTranspose'),
    count(
      weighted.map((n) => n.op),
      'up2x2',
    ),
  );
  assert.equal(count(ops, 'QuantizeLinear') + count(ops, 'DequantizeLinear'), 0);
  const input = features(7);
  const ref = runNetworkCpu(f32.graph, f32.parameters, input).output.data;
  const a = agreement(await runOrt(onnx, input), ref);
  t.diagnostic(`f32: ${JSON.stringify(a)}`);
  // Sums in f32 (onnxruntime) against f64 (reference): |d| ≤ 1e-5 · max(|ref|, 1) and 2e-5.
  assert.ok(a.maxRel <= 1e-5 && a.maxAbs <= 2e-5, JSON.stringify(a));
});

test('onnx: the shipped INT8 network exports as QDQ and runs in onnxruntime-web like its fakequant simulation', async (t) => {
  const onnx = exportOnnx(int8);
  const model = decodeModel(onnx, INT8_FILE);
  const ops = opTypes(model);
  const fakequants = int8.graph.nodes.filter((n) => n.op === 'fakequant').length;
  const weighted = int8.graph.nodes.filter((n) => n.weightBits === 8).length;
  assert.equal(count(ops, 'QuantizeLinear'), fakequants);
  assert.equal(count(ops, 'DequantizeLinear'), fakequants + weighted);
  const int8Initializers = model.graph!.initializer!.filter((i) => i.dataType === 3);
  assert.equal(int8Initializers.length, weighted + 1, 'int8 weights and the zero point');
  const input = features(7);
  const ref = runNetworkCpu(int8.graph, int8.parameters, input).output.data;
  // Without graph optimizations onnxruntime evaluates each Q/DQ as written: the same grid points
  // as the simulation for this input (no value lands on the other side of a rounding boundary).
  const literal = agreement(await runOrt(onnx, input, 'disabled'), ref);
  t.diagnostic(`int8 QDQ, optimizations off: ${JSON.stringify(literal)}`);
  assert.ok(literal.maxRel <= 1e-5 && literal.maxAbs <= 2e-5, JSON.stringify(literal));
  // With them (the default) onnxruntime rewrites the QDQ graph; its convolution results differ by
  // ~1e-5 before requantization, a few values round to the neighbouring grid point and the step
  // spreads downstream: measured mean |d| 0.6 % of mean |output|, max 0.27 (outputs up to 13).
  const optimized = agreement(await runOrt(onnx, input, 'all'), ref);
  t.diagnostic(`int8 QDQ, optimizations on: ${JSON.stringify(optimized)}`);
  assert.ok(optimized.meanAbs <= 0.02 * optimized.meanRef, JSON.stringify(optimized));
  assert.ok(optimized.maxAbs <= 1, JSON.stringify(optimized));
});

test('onnx: round trips — f32 .uplift → ONNX → .uplift byte for byte; ONNX → .uplift → ONNX byte for byte', () => {
  const back = encodeWeights(importOnnx(exportOnnx(f32), 'f32.onnx'));
  assert.ok(Buffer.from(back).equals(f32Bytes), 'f32 .uplift round trip');
  for (const weights of [f32, int8]) {
    const onnx = exportOnnx(weights);
    const first = importOnnx(onnx, 'a.onnx');
    const onnxAgain = exportOnnx(first);
    assert.ok(Buffer.from(onnxAgain).equals(Buffer.from(onnx)), `${weights.graph.name} ONNX`);
    const second = importOnnx(onnxAgain, 'b.onnx');
    assert.ok(Buffer.from(encodeWeights(second)).equals(Buffer.from(encodeWeights(first))));
  }
  // A model's history guard (the frame's, not an op) travels in metadata_props.
  const guarded = { ...f32, graph: { ...f32.graph, historyGuard: 1 } };
  const guardedBytes = encodeWeights(guarded);
  const guardedBack = importOnnx(exportOnnx(guarded), 'guarded.onnx');
  assert.equal(guardedBack.graph.historyGuard, 1);
  assert.ok(Buffer.from(encodeWeights(guardedBack)).equals(Buffer.from(guardedBytes)));
  // So does its coverage blend.
  const covered = { ...f32, graph: { ...f32.graph, coverageBlend: 0.5 } };
  const coveredBack = importOnnx(exportOnnx(covered), 'covered.onnx');
  assert.equal(coveredBack.graph.coverageBlend, 0.5);
  assert.ok(Buffer.from(encodeWeights(coveredBack)).equals(Buffer.from(encodeWeights(covered))));
});

test('onnx: the INT8 .uplift comes back with its graph and the weight grid values it runs with', () => {
  const back: NetworkWeights = importOnnx(exportOnnx(int8), 'int8.onnx');
  assert.ok(sameGraph(back.graph, int8.graph));
  assert.deepEqual(back.metadata, int8.metadata);
  for (const [name, original] of int8.parameters) {
    const imported = back.parameters.get(name)!;
    if (name.endsWith('.bias')) {
      assert.deepEqual(imported, original, name);
      continue;
    }
    // The weight that runs is the stored one rounded onto its grid: the same either side.
    const want = quantizeWeightCpu(original, 8).values;
    const got = quantizeWeightCpu(imported, 8).values;
    for (let i = 0; i < want.length; i++) {
      assert.ok(Math.abs(got[i]! - want[i]!) <= 2 ** -22 * Math.abs(want[i]!), `${name}[${i}]`);
    }
  }
});

test('onnx: an int8 weight grid read back from ONNX exports to the same values (scale within 1 ulp)', () => {
  const next = mulberry32(3);
  let moved = 0;
  for (let k = 0; k < 2000; k++) {
    const scale = Math.fround(10 ** (-4 + 3 * next()));
    const q = Int8Array.from({ length: 17 }, () => Math.round((next() * 2 - 1) * 127));
    q[k % 17] = next() < 0.5 ? 127 : -127;
    const weight = weightFromInt8(q, scale)!;
    const again = int8Weight(weight);
    assert.deepEqual(again.q, q);
    assert.ok(Math.abs(again.scale - scale) <= 2 ** -23 * scale, `scale ${scale}`);
    if (again.scale !== scale) moved++;
    // The weight a second import makes is the first one, bit for bit.
    assert.deepEqual(weightFromInt8(again.q, again.scale), weight);
    // A scale that export wrote (max|w| / 127 of a stored weight) comes back unchanged.
    const exported = int8Weight(Float32Array.from(q, (v) => v * 0.37 * scale));
    assert.equal(int8Weight(weightFromInt8(exported.q, exported.scale)!).scale, exported.scale);
  }
  assert.ok(moved < 60, `${moved} of 2000 scales moved`);
  assert.equal(weightFromInt8([3, -5], 0.1), undefined, 'a grid without ±127');
});

/** A one-input model around `nodes` (input "x" of 4 channels, output "y"). */
function tinyModel(
  nodes: NodeProto[],
  initializers: TensorProto[] = [floatTensor('w', [4, 4, 3, 3], new Float32Array(144))],
) {
  const value = (name: string) => ({
    name,
    type: {
      tensorType: {
        elemType: 1,
        shape: { dim: [{ dimParam: 'n' }, { dimValue: 4 }, { dimParam: 'h' }, { dimParam: 'w' }] },
      },
    },
  });
  return encodeModel({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'tiny',
      node: nodes,
      initializer: initializers,
      input: [value('x')],
      output: [value('y')],
    },
  });
}

const ints = (name: string, v: number[]) => ({ name, type: 7, ints: v });

test('onnx: import takes equivalent forms (auto_pad, no bias, Constant weights, LeakyRelu)', () => {
  const net = importOnnx(
    tinyModel([
      {
        name: 'c',
        opType: 'Constant',
        output: ['w2'],
        attribute: [
          {
            name: 'value',
            type: 4,
            t: floatTensor('', [4, 4, 1, 1], new Float32Array(16).fill(0.5)),
          },
        ],
      },
      {
        name: 'a',
        opType: 'Conv',
        input: ['x', 'w'],
        output: ['t'],
        attribute: [{ name: 'auto_pad', type: 3, s: new TextEncoder().encode('SAME_UPPER') }],
      },
      { name: 'b', opType: 'Conv', input: ['t', 'w2'], output: ['u'] },
      {
        name: 'act',
        opType: 'LeakyRelu',
        input: ['u'],
        output: ['y'],
        attribute: [{ name: 'alpha', type: 1, f: 0.1 }],
      },
    ]),
    'tiny.onnx',
  );
  assert.deepEqual(
    net.graph.nodes.map((n) => [n.op, n.name, n.output, n.activation ?? 'none']),
    [
      ['conv3x3', 'a', 't', 'none'],
      ['conv1x1', 'b', 'y', 'leaky'],
    ],
  );
  assert.deepEqual([...net.parameters.get('a.bias')!], [0, 0, 0, 0]);
  assert.deepEqual([...net.parameters.get('b.weight')!], new Array(16).fill(0.5));
});

test('onnx: import refuses what it cannot represent, naming the node, its op and what is supported', () => {
  const refuse = (bytes: Uint8Array, pattern: RegExp) =>
    assert.throws(
      () => importOnnx(bytes, 'bad.onnx'),
      (e: Error) => e instanceof InputError && pattern.test(e.message),
    );
  refuse(new TextEncoder().encode('definitely not a protobuf'), /bad\.onnx: not an ONNX model/);
  refuse(
    tinyModel([{ name: 's', opType: 'Sigmoid', input: ['x'], output: ['y'] }]),
    /node "s" \(Sigmoid\): op type not supported; supported: Conv .*QuantizeLinear/,
  );
  refuse(
    tinyModel([
      {
        name: 'c5',
        opType: 'Conv',
        input: ['x', 'w'],
        output: ['y'],
        attribute: [ints('pads', [2, 2, 2, 2])],
      },
    ]),
    /node "c5" \(Conv\): Conv 3×3 stride 1 pads 2 is none of/,
  );
  refuse(
    tinyModel([{ name: 'r', opType: 'Relu', input: ['x'], output: ['y'] }]),
    /node "r" \(Relu\): an activation must follow/,
  );
  refuse(
    tinyModel(
      [
        { name: 'q', opType: 'QuantizeLinear', input: ['x', 's'], output: ['xq'] },
        { name: 'dq', opType: 'DequantizeLinear', input: ['xq', 's'], output: ['y'] },
      ],
      [floatTensor('s', [], [0.1])],
    ),
    /node "q" \(QuantizeLinear\): no zero point/,
  );
  refuse(
    tinyModel(
      [
        { name: 'q', opType: 'QuantizeLinear', input: ['x', 's', 'z'], output: ['xq'] },
        { name: 'dq', opType: 'DequantizeLinear', input: ['xq', 's', 'z'], output: ['y'] },
      ],
      [floatTensor('s', [], [0.1]), int8Tensor('z', [], [3])],
    ),
    /zero point must be a int8 0 initializer, got int8 \[3\]/,
  );
});

test('onnx: uplift export-onnx and import-onnx restore the .uplift file, with clear errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'uplift-onnx-'));
  const uplift = (...args: string[]) =>
    spawnSync(process.execPath, ['bin/uplift.mjs', ...args], { encoding: 'utf8' });
  const onnx = join(dir, 'v2.onnx');
  const back = join(dir, 'v2.uplift');
  let r = uplift('export-onnx', F32_FILE, onnx);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).opset, 13);
  r = uplift('import-onnx', onnx, back);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(readFileSync(back).equals(f32Bytes));
  r = uplift('import-onnx', onnx, back);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /exists: pass --force/);
  r = uplift('export-onnx', join(dir, 'missing.uplift'), join(dir, 'x.onnx'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /missing\.uplift: file not found/);
  r = uplift('export-onnx', onnx, join(dir, 'x.onnx'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /v2\.onnx: not an \.uplift file/);
  const corrupt = join(dir, 'corrupt.onnx');
  writeFileSync(corrupt, readFileSync(onnx).subarray(0, 1000));
  r = uplift('import-onnx', corrupt, join(dir, 'c.uplift'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /corrupt\.onnx: not an ONNX model/);
});
