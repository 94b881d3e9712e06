// Benchmarks smoke test: the whole bench/all.ts run in quick mode on this machine's GPU, checking
// the bench.json shape and that every time is a positive finite number; plus the statistics and
// the rule that one failing case does not lose the others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gpuLoad } from '../bench/gpu-load.ts';
import { testGpu } from './helpers/gpu.ts';
import { BENCHMARKS, allPassed, formatTable, runBenchmarks } from '../bench/all.ts';
import { runCases, summarize, type BenchSettings, type Summary } from '../bench/stats.ts';

/** Checks a summary; `allowZero` for single tiny passes, which a coarse GPU clock can read as 0. */
function assertSummary(
  summary: Summary | undefined,
  frames: number,
  what: string,
  allowZero = false,
): void {
  assert.ok(summary, `${what} is missing`);
  for (const key of ['median', 'p10', 'p90', 'min', 'max'] as const) {
    const v = summary[key];
    assert.ok(Number.isFinite(v) && (v > 0 || (allowZero && v === 0)), `${what}.${key} = ${v}`);
  }
  assert.ok(summary.min <= summary.p10 && summary.p10 <= summary.median, `${what} order`);
  assert.ok(summary.median <= summary.p90 && summary.p90 <= summary.max, `${what} order`);
  assert.equal(summary.n, frames, `${what}.n`);
}

test('summarize: median and percentiles interpolate between sorted samples', () => {
  const s = summarize([11, 1, 10, 2, 9, 3, 8, 4, 7, 5, 6]);
  assert.deepEqual(s, { median: 6, p10: 2, p90: 10, min: 1, max: 11, n: 11 });
  assert.equal(summarize([1, 2]).median, 1.5);
  assert.throws(() => summarize([]), RangeError);
});

test('runCases: a failing case is recorded with its error and the next case still runs', async () => {
  const lines: string[] = [];
  const settings: BenchSettings = {
    quick: true,
    frames: 1,
    warmup: 0,
    caseSeconds: 1,
    gpuLoadMs: 0,
    deadline: Infinity,
    log: (line) => lines.push(line),
  };
  const cases = await runCases(
    'demo',
    [1, 2],
    (c) => `case ${c}`,
    settings,
    async (c) => {
      if (c === 1) throw new Error('broken on purpose');
      return { name: `case ${c}`, params: {}, frames: 1, gpuMs: {} };
    },
  );
  assert.equal(cases.length, 2);
  assert.equal(cases[0]!.error, 'broken on purpose');
  assert.equal(cases[1]!.error, undefined);
  assert.ok(lines.some((l) => l.includes('broken on purpose')));
});

test('runCases: once the run deadline has passed, cases are skipped and say so', async () => {
  let measured = 0;
  const settings: BenchSettings = {
    quick: true,
    frames: 1,
    warmup: 0,
    caseSeconds: 1,
    gpuLoadMs: 0,
    deadline: performance.now() - 1,
    log: () => {},
  };
  const cases = await runCases(
    'demo',
    [1, 2],
    (c) => `case ${c}`,
    settings,
    async (c) => {
      measured++;
      return { name: `case ${c}`, params: {}, frames: 1, gpuMs: {} };
    },
  );
  assert.equal(measured, 0);
  assert.deepEqual(
    cases.map((c) => [c.name, c.error]),
    [
      ['case 1', 'skipped: time budget spent'],
      ['case 2', 'skipped: time budget spent'],
    ],
  );
});

test('bench/all quick run: JSON shape, positive finite times, every stage inside the frame', async () => {
  const gpu = await testGpu();
  const frames = 5; // the --quick default: enough frames to overflow a timer that is never read
  const progress: number[] = [];
  const report = await runBenchmarks(gpu, {
    quick: true,
    onProgress: (r) => progress.push(r.results.length),
  });
  assert.deepEqual(
    progress,
    Object.keys(BENCHMARKS).map((_, k) => k + 1),
  );
  assert.equal(report.device.adapter, gpu.adapterName);
  assert.equal(
    report.device.limits.maxStorageBufferBindingSize,
    gpu.device.limits.maxStorageBufferBindingSize,
  );
  assert.ok(!Number.isNaN(Date.parse(report.date)));
  assert.equal(report.node, process.version);
  assert.equal(report.settings.gpuLoadMs, 0, '--quick runs no load');
  assert.deepEqual(
    report.results.map((r) => r.name),
    Object.keys(BENCHMARKS),
  );
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report, 'bench.json round trip');
  assert.ok(allPassed(report), JSON.stringify(report.results.map((r) => [r.error, r.cases])));
  const timestamps = gpu.device.features.has('timestamp-query');
  for (const result of report.results) {
    assert.ok(result.seconds > 0);
    assert.ok(result.cases.length > 0, `${result.name} measured no case`);
    for (const c of result.cases) {
      const what = `${result.name} / ${c.name}`;
      // Not a timing: the INT8 kernels against the CPU reference.
      if (result.name === 'int8-exact') {
        if (c.name === 'binary16 widening') {
          assert.deepEqual(c.derived, { mismatchedPatterns: 0 }, what);
        } else if (c.name === 'features + first layer') {
          assert.deepEqual(c.derived, { wordsDiffering: 0 }, what);
        } else if (c.name === 'reproject in the features pass') {
          assert.deepEqual(c.derived, { valuesDiffering: 0 }, what);
        } else {
          assert.equal(c.params['opCases'], 13, what);
          assert.deepEqual(
            c.derived,
            { mismatchedOpCases: 0, networkValuesDiffering: 0, v3aValuesDiffering: 0 },
            what,
          );
        }
        continue;
      }
      // The data engine measures fewer frames (a 64 spp frame is ~64 renders).
      if (result.name === 'render') assert.ok(c.frames >= 1 && c.frames <= frames, what);
      else assert.equal(c.frames, frames, what);
      assertSummary(c.wallMs, c.frames, `${what} wallMs`);
      if (result.name !== 'render') {
        assertSummary(c.encodeMs, frames, `${what} encodeMs`);
        assert.ok(c.encodeMs!.min <= c.wallMs!.max, `${what}: encoding outside the frame`);
        assert.ok(c.pipelinedMs! > 0 && Number.isFinite(c.pipelinedMs), `${what} pipelinedMs`);
      }
      // The data engine submits its own passes: wall time only.
      if (!timestamps || result.name === 'render') continue;
      // A dispatch-cost frame is a pass of tiny dispatches: a coarse GPU clock can read it as 0.
      const tinyFrame = result.name === 'dispatch-cost';
      assertSummary(c.gpuMs['frame'], frames, `${what} gpuMs.frame`, tinyFrame);
      for (const [label, summary] of Object.entries(c.gpuMs)) {
        assertSummary(summary, frames, `${what} gpuMs.${label}`, label !== 'frame' || tinyFrame);
        assert.ok(summary.min <= c.gpuMs['frame']!.max, `${what}: ${label} outside the frame`);
      }
      for (const [label, value] of Object.entries(c.derived ?? {})) {
        assert.ok(Number.isFinite(value) && value > 0, `${what} derived.${label} = ${value}`);
      }
    }
  }
  if (timestamps) {
    const upscaler = report.results.find((r) => r.name === 'upscaler')!;
    for (const c of upscaler.cases) {
      const temporal = c.params['method'] === 'taau' || c.params['method'] === 'neural';
      // Temporal methods without sharpening write the output in the resolve: no output stage.
      const outputPass = !temporal || c.params['rcas'] === true || c.params['foldOutput'] === false;
      // The neural resolve times its own passes inside 'resolve'; on the INT8 network the last
      // layer runs the filter + blend unless the case says not (LAST_LAYER_FILTER_BLEND_BY_DEFAULT)
      // or runs it on other kernels than dot4I8Packed (the matrix ones refuse it).
      const lastLayer =
        c.params['precision'] === 'int8' &&
        ((c.params['lastLayerFilterBlend'] as boolean | undefined) ?? true) &&
        (c.params['int8Kernels'] ?? 'dot4') === 'dot4';
      // The neural resolve reprojects in its features pass unless the case asks for the pass.
      const neuralReprojects =
        c.params['method'] === 'neural' && c.params['reprojectInFeatures'] !== false;
      const parts = [
        neuralReprojects ? 'nn reproject + features' : 'nn features',
        'nn network',
        lastLayer ? 'nn last layer + filter + blend' : 'nn filter + blend',
      ];
      const expected = ['frame', 'prepare', ...(outputPass ? ['output'] : [])].concat(
        temporal ? [...(neuralReprojects ? [] : ['reproject']), 'resolve'] : ['upscale'],
        c.params['method'] === 'neural' ? parts : [],
      );
      assert.deepEqual(Object.keys(c.gpuMs).sort(), expected.sort(), c.name);
      if (c.params['method'] === 'neural') {
        const sum = parts.reduce((t, label) => t + c.gpuMs[label]!.median, 0);
        assert.ok(sum <= c.gpuMs['resolve']!.max * 1.05, `${c.name}: resolve parts exceed it`);
      }
    }
  }
  // Both ways of writing the output are measured, so the next GPU run shows what folding saves.
  const names = report.results.find((r) => r.name === 'upscaler')!.cases.map((c) => c.name);
  for (const folded of ['taau 48x32 performance', 'neural-int8 48x32 performance']) {
    assert.ok(names.includes(folded), folded);
    assert.ok(names.includes(folded.replace(' ', '+output-pass ')), `${folded} + output pass`);
  }
  if (timestamps) {
    // The frame generator times its stages: heuristic motion, compose; neural motion, features,
    // network (without its head), head + blend, or with separate head passes (and INT8) network,
    // blend (the inputs are read in place: no load stage).
    const generation = report.results.find((r) => r.name === 'frame-generation')!;
    for (const c of generation.cases) {
      const fused = c.params['fuseHead'] && !c.params['int8'];
      const neural = fused
        ? ['motion', 'features', 'network', 'head + blend']
        : ['motion', 'features', 'network', 'blend'];
      const stages = c.params['method'] === 'neural' ? neural : ['motion', 'compose'];
      assert.deepEqual(Object.keys(c.gpuMs).sort(), ['frame', ...stages].sort(), c.name);
    }
  }
  const table = formatTable(report);
  for (const result of report.results) {
    for (const c of result.cases) assert.ok(table.includes(c.name), `table lacks ${c.name}`);
  }
});

test('bench/all --cases: only the cases whose name matches run; a bad pattern is an error naming the option', async () => {
  const gpu = await testGpu();
  const report = await runBenchmarks(gpu, {
    quick: true,
    only: ['upscaler'],
    cases: '^taau 48x32',
    gpuLoadMs: 0.5, // the busy kernel before each frame runs too
  });
  const names = report.results[0]!.cases.map((c) => c.name);
  assert.ok(names.length > 0, 'some case ran');
  for (const name of names) assert.match(name, /^taau 48x32/);
  assert.ok(allPassed(report));
  assert.equal(report.settings.cases, '^taau 48x32');
  assert.equal(report.settings.gpuLoadMs, 0.5);
  const load = await gpuLoad(gpu.device);
  assert.ok(load.iterationsPerMs > 0 && Number.isFinite(load.iterationsPerMs));
  assert.equal(await gpuLoad(gpu.device), load, 'calibrated once per device');
  await assert.rejects(runBenchmarks(gpu, { quick: true, cases: '(' }), /--cases: not a regular/);
});
