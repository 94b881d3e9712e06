// The per-kernel table of a per-node benchmark case (bench/kernel-table.ts): the rates from the
// plan's work and traffic over the measured times, their shares of the peaks, the sum, and a
// kernel of the plan the case did not time named in the error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelTable, kernelTableMarkdown } from '../bench/kernel-table.ts';
import type { PlanDescription } from '../src/nn/describe-int8-plan.ts';
import { architectureCost } from '../src/nn/networks.ts';
import { fusedLabel, producersInConsumers } from '../src/nn/int8-network.ts';

const summary = (median: number) => ({
  median,
  p10: median,
  p90: median,
  min: median,
  max: median,
  n: 5,
});

const plan: PlanDescription = {
  displaySize: [64, 64],
  inputSize: [64, 64],
  kernels: [
    { name: 'a', op: 'conv3x3', dataflow: 'x → y', macs: 1e9, bytesRead: 1e6, bytesWritten: 1e6 },
    { name: 'b', op: 'down2x2', dataflow: 'y → z', macs: 2e8, bytesRead: 3e6, bytesWritten: 1e6 },
  ],
  macs: 1.2e9,
  bytesRead: 4e6,
  bytesWritten: 2e6,
  text: '',
};

test('kernelTable: rates and shares of the peaks per kernel and for the sum', () => {
  const { rows, total } = kernelTable(
    { frame: summary(1), a: summary(0.05), b: summary(0.02) },
    plan,
    {
      teraMacs: 40,
      terabytes: 2,
    },
  );
  assert.deepEqual(
    rows.map((r) => r.kernel),
    ['a', 'b'],
  );
  const [a, b] = rows;
  assert.ok(Math.abs(a!.microseconds - 50) < 1e-9);
  assert.ok(Math.abs(a!.teraMacs - 20) < 1e-9); // 1e9 MAC in 50 µs
  assert.ok(Math.abs(a!.macShare - 0.5) < 1e-9);
  assert.ok(Math.abs(a!.terabytes - 0.04) < 1e-9); // 2 MB in 50 µs
  assert.ok(Math.abs(b!.teraMacs - 10) < 1e-9 && Math.abs(b!.byteShare - 0.1) < 1e-9);
  assert.ok(Math.abs(total.microseconds - 70) < 1e-9);
  assert.ok(Math.abs(total.teraMacs - 1.2e9 / 70e-6 / 1e12) < 1e-9);
  const markdown = kernelTableMarkdown({ rows, total });
  assert.match(markdown, /^\| kernel \| µs \|/);
  assert.match(markdown, /\| a \| 50\.0 \| 1000 \| 2\.0 \| 20\.0 \| 50 % \| 0\.04 \| 2 % \|/);
  assert.match(markdown, /\| \*\*all kernels\*\* \| \*\*70\.0\*\* \|/);
});

test('kernelTable: a kernel of the plan the case did not time is an error naming it', () => {
  assert.throws(
    () => kernelTable({ a: summary(0.05) }, plan, { teraMacs: 40, terabytes: 2 }),
    /kernel "b" of the plan is not among the case's timed parts \(a\)/,
  );
});

test("kernelTable: a network's plan names its kernels as the runner labels its passes", () => {
  // A per-node case times each kernel under its dispatch's label: `quantize <tensors>` and
  // fusedLabel (src/nn/int8-network.ts); the table finds them by the plan's names.
  for (const network of ['v2', 'v3a', 'v3f']) {
    const { int8Plan, plan } = architectureCost(network, [1920, 1080]);
    const producers = producersInConsumers(int8Plan, 'dot4');
    const computed = new Set(producers.values());
    const labels = [
      // The input's copies in one pass (src/nn/ops/int8/quantize-copies.ts).
      `quantize ${int8Plan.quantizes.map((q) => q.output).join(' + ')}`,
      ...int8Plan.steps.flatMap((_, i) =>
        computed.has(i) ? [] : [fusedLabel(int8Plan, producers, i)],
      ),
    ];
    assert.deepEqual(
      plan.kernels.map((k) => k.name),
      labels,
      network,
    );
    const timed = Object.fromEntries(labels.map((l) => [l, summary(0.03)]));
    const { rows, total } = kernelTable(timed, plan, { teraMacs: 36.4, terabytes: 3 });
    assert.equal(rows.length, labels.length, network);
    assert.ok(Math.abs(total.mmac * 1e6 - plan.macs) < 1, network);
  }
});

test('kernelTable: the one-pass quantization read from runs that timed its copies apart', () => {
  const { plan: v2 } = architectureCost('v2', [1920, 1080]);
  const name = 'quantize q(features) + q(join)';
  assert.equal(v2.kernels[0]!.name, name);
  const others = Object.fromEntries(v2.kernels.slice(1).map((k) => [k.name, summary(0.03)]));
  const old = kernelTable(
    { ...others, 'quantize q(features)': summary(0.12), 'quantize q(join)': summary(0.118) },
    v2,
    { teraMacs: 36.4, terabytes: 3 },
  );
  assert.ok(Math.abs(old.rows[0]!.microseconds - 238) < 1e-9, `${old.rows[0]!.microseconds}`);
  const now = kernelTable({ ...others, [name]: summary(0.05) }, v2, {
    teraMacs: 36.4,
    terabytes: 3,
  });
  assert.ok(Math.abs(now.rows[0]!.microseconds - 50) < 1e-9);
  // One copy's pass missing is still an error naming the kernel.
  assert.throws(
    () =>
      kernelTable({ ...others, 'quantize q(join)': summary(0.1) }, v2, {
        teraMacs: 36.4,
        terabytes: 3,
      }),
    /kernel "quantize q\(features\) \+ q\(join\)" of the plan is not among/,
  );
});
