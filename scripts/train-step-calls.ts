/**
 * What the JS thread of a training step spends in WebGPU calls: runs a few steps of a training
 * config (v3a's by default) with the device's and queue's methods wrapped in timers, and prints,
 * per method (submit also per calling function), the calls and milliseconds per step and the
 * median and 90th percentile of one call. Made for the GPU machine, where a CPU profile of
 * training put a quarter of the thread in `queue.submit` and a fifth in `createBuffer`.
 *
 *   npx tsx scripts/train-step-calls.ts [--config <train.json>] [--size 256] [--steps 20]
 *                                       [--warmup 3] [--echo 1] [--callers 1] [--no-wrap] [--json <out.json>]
 *
 * `--callers n` names n calling functions in the submit and createBuffer labels; `--no-wrap`
 * measures the same steps without the timers (what they add to a step).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseInteger } from '../src/cli/flags.ts';
import { requestGpu } from '../src/gpu/device.ts';
import { initWeights } from '../src/nn/weights.ts';
import { NETWORKS, resolveTrainConfig } from '../src/train/config.ts';
import { framesTask } from '../src/train/tasks.ts';
import { createTrainableNetwork } from '../src/train/trainable.ts';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'weights/v3-search/v3a.train.json' },
    size: { type: 'string', default: '256' },
    steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    echo: { type: 'string', default: '1' },
    'no-wrap': { type: 'boolean', default: false },
    callers: { type: 'string', default: '1' },
    json: { type: 'string' },
  },
});
const positive = (name: string, text: string) => parseInteger(text, `--${name}`, 1);
const size = positive('size', values.size);
const steps = positive('steps', values.steps);
const warmup = positive('warmup', values.warmup);

/** Milliseconds of each call, by label. */
const calls = new Map<string, number[]>();
let recording = false;
const record = (label: string, ms: number): void => {
  if (!recording) return;
  const list = calls.get(label) ?? [];
  list.push(ms);
  calls.set(label, list);
};
const callerDepth = positive('callers', values.callers);
/** The functions that called the wrapped method (below this, the label function and the wrapper). */
const caller = (): string =>
  (new Error().stack?.split('\n').slice(4, 4 + callerDepth) ?? [])
    .map((line) => /at (?:async )?([\w.$<>]+)/.exec(line)?.[1] ?? '?')
    .join(' ← ');
type Method = (...args: unknown[]) => unknown;
const wrap = (proto: object, name: string, label: (args: unknown[]) => string): void => {
  const target = proto as Record<string, Method>;
  const original = target[name]!;
  target[name] = function (this: unknown, ...args: unknown[]) {
    const t = performance.now();
    const result = original.apply(this, args);
    record(label(args), performance.now() - t);
    return result;
  };
};

const { device } = await requestGpu();
if (!values['no-wrap']) {
  const deviceProto = Object.getPrototypeOf(device) as object;
  const queueProto = Object.getPrototypeOf(device.queue) as object;
  const encoderProto = Object.getPrototypeOf(device.createCommandEncoder()) as object;
  wrap(queueProto, 'submit', () => `queue.submit ← ${caller()}`);
  wrap(queueProto, 'writeBuffer', () => 'queue.writeBuffer');
  wrap(deviceProto, 'createBuffer', (a) => {
    const d = a[0] as GPUBufferDescriptor;
    return `createBuffer${d.mappedAtCreation ? ' mappedAtCreation' : ''} ← ${caller()}`;
  });
  wrap(deviceProto, 'createBindGroup', () => 'createBindGroup');
  wrap(deviceProto, 'createTexture', () => 'createTexture');
  wrap(deviceProto, 'createCommandEncoder', () => 'createCommandEncoder');
  wrap(encoderProto, 'finish', () => 'encoder.finish');
  wrap(encoderProto, 'beginRenderPass', () => 'encoder.beginRenderPass');
  wrap(encoderProto, 'beginComputePass', () => 'encoder.beginComputePass');
}

const base = JSON.parse(readFileSync(values.config, 'utf8')) as Record<string, unknown>;
const config = resolveTrainConfig({
  ...base,
  size: [size, size],
  validationClips: 0,
  data: { ...(base.data as object), echo: positive('echo', values.echo) },
});
const graph = NETWORKS[config.network]!;
const trainable = createTrainableNetwork(device, graph, initWeights(graph, 1), config.adam);
const task = framesTask(device, config, trainable);
const schedule = { peak: 2e-4, warmupSteps: 1, totalSteps: 10_000, finalRatio: 0.05 };
await task.runSteps(0, warmup, schedule);
recording = true;
const t0 = performance.now();
await task.runSteps(warmup, steps, schedule);
const wallMs = performance.now() - t0;
recording = false;
task.destroy();

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const rows = [...calls]
  .map(([label, list]) => {
    const sorted = [...list].sort((a, b) => a - b);
    const total = list.reduce((s, v) => s + v, 0);
    return {
      label,
      callsPerStep: list.length / steps,
      msPerStep: total / steps,
      medianMs: quantile(sorted, 0.5),
      p90Ms: quantile(sorted, 0.9),
    };
  })
  .sort((a, b) => b.msPerStep - a.msPerStep);
const adapter = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
const result = {
  date: new Date().toISOString(),
  adapter: adapter ? `${adapter.vendor} ${adapter.device} ${adapter.description}` : 'unknown',
  config: values.config,
  size,
  steps,
  wrapped: !values['no-wrap'],
  msPerStep: wallMs / steps,
  stepsPerSecond: (1000 * steps) / wallMs,
  calls: rows,
};
console.log(
  `${result.adapter}: ${result.msPerStep.toFixed(1)} ms a step (${result.stepsPerSecond.toFixed(2)} steps/s), ${size}×${size}, wrapped ${result.wrapped}`,
);
for (const r of rows) {
  console.log(
    `${r.label.padEnd(64)} ${r.callsPerStep.toFixed(1).padStart(8)} calls ${r.msPerStep.toFixed(1).padStart(8)} ms/step  median ${r.medianMs.toFixed(3)} p90 ${r.p90Ms.toFixed(3)} ms`,
  );
}
if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 2) + '\n');
process.exit(0);
