/**
 * The single benchmark entry (bundled for the GPU machine by ../shared/device/pack.sh):
 *
 *   npx tsx bench/all.ts --out DIR [--quick] [--only upscaler,network] [--frames N] [--warmup N]
 *   node .device/all.mjs --out $OUT                          # on the GPU machine
 *
 * Runs every benchmark, each failure caught and recorded so the others' results survive; writes
 * DIR/bench.json after each benchmark ({ device, date, node, settings, results }) and prints a
 * short table last. Exit status 1 if any benchmark or case failed. GPU times come from timestamp
 * queries with Dawn's quantization off (DESIGN §11).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { requestGpu, type GpuContext, type GpuFeatures } from '../src/gpu/device.ts';
import { benchCandidates } from './candidates.ts';
import { benchConv } from './conv.ts';
import { benchDispatchCost } from './dispatch-cost.ts';
import { benchFrameGeneration } from './frame-generation.ts';
import { benchInt8Exact } from './int8-exact.ts';
import { benchNetwork } from './network.ts';
import { benchPeak } from './peak.ts';
import { benchRender } from './render.ts';
import { benchUpscaler } from './upscaler.ts';
import {
  errorMessage,
  type BenchCase,
  type BenchResult,
  type BenchSettings,
  type Summary,
} from './stats.ts';

/** A benchmark: measures its cases on the given GPU. */
export type Benchmark = (gpu: GpuContext, settings: BenchSettings) => Promise<BenchCase[]>;

/** Every benchmark, in run order. */
export const BENCHMARKS: Readonly<Record<string, Benchmark>> = {
  'int8-exact': (gpu, settings) => benchInt8Exact(gpu.device, settings),
  upscaler: (gpu, settings) => benchUpscaler(gpu.device, settings),
  'frame-generation': (gpu, settings) => benchFrameGeneration(gpu.device, settings),
  network: (gpu, settings) => benchNetwork(gpu.device, settings),
  render: (gpu, settings) => benchRender(gpu.device, settings),
  conv: (gpu, settings) => benchConv(gpu.device, settings),
  candidates: (gpu, settings) => benchCandidates(gpu.device, settings),
  peak: (gpu, settings) => benchPeak(gpu.device, settings),
  'dispatch-cost': (gpu, settings) => benchDispatchCost(gpu.device, settings),
};

/** Limits recorded in bench.json (large inputs fail on a small storage binding size). */
const REPORTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupsPerDimension',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
] as const;

/** What bench.json holds. */
export interface BenchReport {
  device: {
    adapter: string;
    runtime: GpuContext['runtime'];
    features: GpuFeatures;
    /** Every feature the device was created with. */
    deviceFeatures: string[];
    /** The device limits that decide which sizes run at all. */
    limits: Record<(typeof REPORTED_LIMITS)[number], number>;
  };
  date: string;
  node: string;
  platform: string;
  settings: {
    quick: boolean;
    frames: number;
    warmup: number;
    caseSeconds: number;
    gpuLoadMs: number;
    budgetSeconds: number;
    only: string[];
    cases?: string;
  };
  results: BenchResult[];
}

/** Options of `runBenchmarks`; defaults: 100 frames after 20 warm-up (5 after 2 with quick). */
export interface BenchRunOptions {
  quick?: boolean;
  frames?: number;
  warmup?: number;
  /** Benchmark names to run (default all). */
  only?: string[];
  /** Per-case time limit in seconds (default 40). */
  caseSeconds?: number;
  /** Whole-run time limit in seconds: later cases are skipped (default 420, with quick 600). */
  budgetSeconds?: number;
  /** Only the cases whose name matches this regular expression (default all). */
  cases?: string;
  /** GPU load before each frame in ms (bench/gpu-load.ts; default 2, with quick 0). */
  gpuLoadMs?: number;
  log?: (line: string) => void;
  /** Called with the report so far after each benchmark (to write partial results). */
  onProgress?: (report: BenchReport) => void;
}

/** GPU load before each measured frame, in ms: frames are timed at a loaded GPU's clocks. */
const DEFAULT_GPU_LOAD_MS = 2;

/** Runs the chosen benchmarks on `gpu`; never throws for a failing benchmark. */
export async function runBenchmarks(
  gpu: GpuContext,
  options: BenchRunOptions = {},
): Promise<BenchReport> {
  const quick = options.quick ?? false;
  const only = options.only ?? Object.keys(BENCHMARKS);
  const unknown = only.filter((name) => !(name in BENCHMARKS));
  if (unknown.length > 0) {
    throw new RangeError(
      `unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}`,
    );
  }
  const budgetSeconds = options.budgetSeconds ?? (quick ? 600 : 420);
  let cases: RegExp | undefined;
  try {
    cases = options.cases === undefined ? undefined : new RegExp(options.cases);
  } catch (error) {
    throw new RangeError(`--cases: not a regular expression: ${errorMessage(error)}`);
  }
  const settings: BenchSettings = {
    quick,
    frames: options.frames ?? (quick ? 5 : 100),
    warmup: options.warmup ?? (quick ? 2 : 20),
    caseSeconds: options.caseSeconds ?? 40,
    gpuLoadMs: options.gpuLoadMs ?? (quick ? 0 : DEFAULT_GPU_LOAD_MS),
    deadline: performance.now() + budgetSeconds * 1e3,
    ...(cases ? { cases } : {}),
    log: options.log ?? (() => {}),
  };
  const report: BenchReport = {
    device: {
      adapter: gpu.adapterName,
      runtime: gpu.runtime,
      features: gpu.features,
      deviceFeatures: [...gpu.device.features].sort(),
      limits: Object.fromEntries(
        REPORTED_LIMITS.map((name) => [name, gpu.device.limits[name]]),
      ) as BenchReport['device']['limits'],
    },
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    settings: {
      quick,
      frames: settings.frames,
      warmup: settings.warmup,
      caseSeconds: settings.caseSeconds,
      gpuLoadMs: settings.gpuLoadMs,
      budgetSeconds,
      only,
      ...(options.cases !== undefined ? { cases: options.cases } : {}),
    },
    results: [],
  };
  for (const name of only) {
    const started = performance.now();
    const result: BenchResult = { name, seconds: 0, cases: [] };
    try {
      result.cases = await BENCHMARKS[name]!(gpu, settings);
    } catch (error) {
      result.error = errorMessage(error);
      settings.log(`${name} failed: ${result.error}`);
    }
    result.seconds = (performance.now() - started) / 1e3;
    report.results.push(result);
    options.onProgress?.(report);
  }
  return report;
}

/** True when no benchmark and no case failed. */
export function allPassed(report: BenchReport): boolean {
  return report.results.every((r) => !r.error && r.cases.every((c) => !c.error));
}

function ms(summary: Summary | undefined): string {
  if (!summary) return '-';
  return `${summary.median.toFixed(3)} [${summary.p10.toFixed(3)}–${summary.p90.toFixed(3)}]`;
}

/** The slowest few stages of a case (medians), "name 0.123". */
function stages(c: BenchCase, count = 4): string {
  return Object.entries(c.gpuMs)
    .filter(([label]) => label !== 'frame')
    .sort((a, b) => b[1].median - a[1].median)
    .slice(0, count)
    .map(([label, s]) => `${label} ${s.median.toFixed(3)}`)
    .join(', ');
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]!;
}

/** A short plain-text table of the report (medians in ms, [p10–p90]). */
export function formatTable(report: BenchReport): string {
  const header = [
    'benchmark',
    'case',
    'frames',
    'GPU frame ms',
    'wall ms',
    'encode ms',
    'pipelined ms',
    'stages ms',
  ];
  const rows = [header];
  const failed = (name: string, what: string, error: string) => {
    // WebGPU messages run over several lines: the table shows the first, bench.json all.
    const row = [name, what, 'FAILED', firstLine(error)];
    rows.push(row.concat(Array<string>(header.length - row.length).fill('')));
  };
  for (const result of report.results) {
    if (result.error) failed(result.name, '(whole benchmark)', result.error);
    for (const c of result.cases) {
      if (c.error) failed(result.name, c.name, c.error);
      else {
        const encode = c.encodeMs?.median.toFixed(3) ?? '-';
        const pipelined = c.pipelinedMs?.toFixed(3) ?? '-';
        const row = [result.name, c.name, `${c.frames}`, ms(c.gpuMs['frame']), ms(c.wallMs)];
        rows.push(row.concat(encode, pipelined, stages(c)));
      }
    }
  }
  const widths = rows[0]!.map((_, k) => Math.max(...rows.map((r) => r[k]!.length)));
  const lines = rows.map((r) =>
    r
      .map((cell, k) => cell.padEnd(widths[k]!))
      .join('  ')
      .trimEnd(),
  );
  return [`${report.device.adapter} — ${report.date}`, ...lines].join('\n');
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError('must be a number ≥ 0');
  }
  return n;
}

async function main(): Promise<void> {
  const program = new Command('bench')
    .description('Uplift benchmarks: JSON to <out>/bench.json, a table on stdout')
    .option('--out <dir>', 'directory for bench.json')
    .option('--quick', 'tiny sizes and few frames (smoke test)', false)
    .option(
      '--dawn-toggles <list>',
      'Dawn toggles to enable besides allow_unsafe_apis, comma-separated (e.g. vulkan_use_cooperative_matrix_robust_access)',
    )
    .option('--only <names>', `comma-separated subset of ${Object.keys(BENCHMARKS).join(',')}`)
    .option('--frames <n>', 'measured frames per case', positiveInteger)
    .option('--warmup <n>', 'warm-up frames per case', positiveInteger)
    .option('--case-seconds <s>', 'time limit per case', positiveInteger)
    .option(
      '--budget-seconds <s>',
      'time limit of the whole run (later cases skipped)',
      positiveInteger,
    )
    .option(
      '--gpu-load-ms <ms>',
      "busy GPU work before each frame, so frames run at a loaded GPU's clocks (0: none; default 2, --quick 0)",
      nonNegativeNumber,
    )
    .option(
      '--cases <regex>',
      'only the cases whose name matches, e.g. "int8" or "^neural-int8.* 1920x1080"',
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  npx tsx bench/all.ts --quick --out /tmp/bench\n' +
        '  node .device/all.mjs --out $OUT/n --only network --cases int8 --frames 30 --warmup 5\n',
    )
    .parse();
  const opts = program.opts<{
    out?: string;
    quick: boolean;
    only?: string;
    frames?: number;
    warmup?: number;
    caseSeconds?: number;
    budgetSeconds?: number;
    cases?: string;
    gpuLoadMs?: number;
    dawnToggles?: string;
  }>();
  const write = (report: BenchReport) => {
    if (!opts.out) return;
    mkdirSync(opts.out, { recursive: true });
    const toggled = opts.dawnToggles ? { ...report, dawnToggles: opts.dawnToggles } : report;
    writeFileSync(join(opts.out, 'bench.json'), JSON.stringify(toggled, null, 2) + '\n');
  };
  const log = (line: string) =>
    console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
  const toggles = opts.dawnToggles ? [`enable-dawn-features=${opts.dawnToggles}`] : [];
  const gpu = await requestGpu({
    dawnFlags: ['disable-dawn-features=timestamp_quantization', ...toggles],
  });
  log(`adapter: ${gpu.adapterName}${toggles.length ? ` (${toggles[0]})` : ''}`);
  gpu.device.lost.then((info) => log(`device lost: ${info.reason} ${info.message}`));
  const report = await runBenchmarks(gpu, {
    quick: opts.quick,
    frames: opts.frames,
    warmup: opts.warmup,
    caseSeconds: opts.caseSeconds,
    budgetSeconds: opts.budgetSeconds,
    cases: opts.cases,
    gpuLoadMs: opts.gpuLoadMs,
    only: opts.only?.split(',').map((s) => s.trim()),
    log,
    onProgress: write,
  });
  write(report);
  console.log(formatTable(report));
  if (opts.out) console.log(`wrote ${join(opts.out, 'bench.json')}`);
  gpu.device.destroy();
  // Dawn keeps the event loop alive; leave explicitly.
  process.exit(allPassed(report) ? 0 : 1);
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((error) => {
    console.error(`bench: ${errorMessage(error)}`);
    process.exit(1);
  });
}
