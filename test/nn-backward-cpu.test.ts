// Finite-difference checks (float64) of the CPU backward of every network op, with every fused
// activation: gradients wrt input, weight and bias of Σ g·op(x) for a random g. Tolerance 1e-6
// relative (central differences in float64 agree to ~1e-9 away from activation kinks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGradient, describeGradCheck, dot, randomReal } from '../src/train/grad-check.ts';
import {
  addCpu,
  concatCpu,
  conv1x1Cpu,
  conv3x3Cpu,
  down2x2Cpu,
  up2x2Cpu,
} from '../src/reference/nn/ops.ts';
import { ACTIVATIONS, type Activation, parameterSpecs } from '../src/core/graph.ts';
import {
  activationBackwardCpu,
  addBackwardCpu,
  concatBackwardCpu,
  conv1x1BackwardCpu,
  conv3x3BackwardCpu,
  down2x2BackwardCpu,
  networkBackwardCpu,
  up2x2BackwardCpu,
  type LinearGrads,
  type Plane,
} from '../src/reference/nn/backward.ts';
import type { Tensor } from '../src/core/tensor.ts';
import { runNetworkCpu } from '../src/reference/nn/network.ts';
import { TINY_NETWORK } from '../src/train/tiny-network.ts';

type Forward = (
  x: Tensor<Float64Array>,
  w: Float64Array,
  b: Float64Array,
  a: Activation,
) => Tensor<Float64Array>;
type Backward = (
  input: Float64Array,
  inChannels: number,
  plane: Plane,
  weight: Float64Array,
  outChannels: number,
  dZ: Float64Array,
) => LinearGrads;

const ops: { name: string; forward: Forward; backward: Backward; weights: number }[] = [
  { name: 'conv3x3', forward: conv3x3Cpu, backward: conv3x3BackwardCpu, weights: 9 },
  { name: 'conv1x1', forward: conv1x1Cpu, backward: conv1x1BackwardCpu, weights: 1 },
  { name: 'down2x2', forward: down2x2Cpu, backward: down2x2BackwardCpu, weights: 4 },
  { name: 'up2x2', forward: up2x2Cpu, backward: up2x2BackwardCpu, weights: 4 },
];

const TOLERANCE = 1e-6;

function expectGood(
  what: string,
  r: ReturnType<typeof checkGradient>,
  tolerance = TOLERANCE,
): void {
  assert.ok(r.maxRelativeError < tolerance, describeGradCheck(what, r));
}

for (const op of ops) {
  test(`${op.name} backward matches finite differences (every activation)`, () => {
    const [cin, cout, H, W] = [2, 3, 4, 6];
    const plane = { height: H, width: W };
    let seed = 1;
    for (const activation of ACTIVATIONS) {
      const x = randomReal(cin * H * W, seed++);
      const w = randomReal(cin * cout * op.weights, seed++);
      const b = randomReal(cout, seed++);
      const run = (xv: Float64Array, wv: Float64Array, bv: Float64Array) =>
        op.forward({ channels: cin, height: H, width: W, data: xv }, wv, bv, activation);
      const y = run(x, w, b);
      const g = randomReal(y.data.length, seed++);
      const dZ = activationBackwardCpu(activation, y.data, g);
      const grads = op.backward(x, cin, plane, w, cout, dZ);
      const tag = `${op.name} ${activation}`;
      expectGood(
        `${tag} d/dx`,
        checkGradient((v) => dot(g, run(v, w, b).data), x, grads.dInput),
      );
      expectGood(
        `${tag} d/dw`,
        checkGradient((v) => dot(g, run(x, v, b).data), w, grads.dWeight),
      );
      expectGood(
        `${tag} d/db`,
        checkGradient((v) => dot(g, run(x, w, v).data), b, grads.dBias),
      );
    }
  });
}

test('add and concat backward match finite differences (every activation)', () => {
  const shape = { height: 3, width: 5 };
  const n = shape.height * shape.width;
  let seed = 100;
  for (const activation of ACTIVATIONS) {
    const a = randomReal(2 * n, seed++);
    const b = randomReal(2 * n, seed++);
    const c = randomReal(3 * n, seed++);
    const t = (channels: number, data: Float64Array) => ({ channels, ...shape, data });
    // add
    const sum = addCpu(t(2, a), t(2, b), activation);
    const gAdd = randomReal(sum.data.length, seed++);
    const { dA, dB } = addBackwardCpu(activation, sum.data, gAdd);
    expectGood(
      `add ${activation} d/da`,
      checkGradient((v) => dot(gAdd, addCpu(t(2, v), t(2, b), activation).data), a, dA),
    );
    expectGood(
      `add ${activation} d/db`,
      checkGradient((v) => dot(gAdd, addCpu(t(2, a), t(2, v), activation).data), b, dB),
    );
    // concat of three inputs
    const cat = concatCpu([t(2, a), t(2, b), t(3, c)], activation);
    const gCat = randomReal(cat.data.length, seed++);
    const d = concatBackwardCpu(activation, cat.data, gCat, [2, 2, 3], shape);
    assert.equal(d.length, 3);
    const f = (i: number) => (v: Float64Array) => {
      const parts = [t(2, a), t(2, b), t(3, c)];
      parts[i] = t(parts[i]!.channels, v);
      return dot(gCat, concatCpu(parts, activation).data);
    };
    [a, b, c].forEach((x, i) =>
      expectGood(`concat ${activation} d/d${i}`, checkGradient(f(i), x, d[i]!)),
    );
  }
});

test('whole-network backward matches finite differences (tiny network with every op)', () => {
  const [H, W] = [4, 6];
  const C = TINY_NETWORK.inputs[0]!.channels;
  const params = new Map<string, Float64Array>();
  parameterSpecs(TINY_NETWORK).forEach((p, i) =>
    params.set(p.name, randomReal(p.length, 300 + i, -0.6, 0.6)),
  );
  const x = { channels: C, height: H, width: W, data: randomReal(C * H * W, 299) };
  const forward = (ps: ReadonlyMap<string, Float64Array>, input = x) =>
    runNetworkCpu(TINY_NETWORK, ps, input).tensors;
  const activations = forward(params);
  const g = randomReal(activations.get('raw')!.data.length, 298);
  const grads = networkBackwardCpu(TINY_NETWORK, params, activations, new Map([['raw', g]]));
  const byInput = checkGradient(
    (v) => dot(g, forward(params, { ...x, data: v }).get('raw')!.data),
    x.data,
    grads.inputs.get('features')!,
  );
  // Deeper chains and O(10) sums: central differences carry ~1e-8 absolute roundoff.
  expectGood('network d/dx', byInput, 1e-5);
  for (const [name, p] of params) {
    const r = checkGradient(
      (v) => dot(g, forward(new Map([...params, [name, v]])).get('raw')!.data),
      p,
      grads.params.get(name)!,
      { maxChecks: 40 },
    );
    expectGood(`network d/d${name}`, r, 1e-5);
  }
  assert.equal(grads.params.size, params.size);
});
