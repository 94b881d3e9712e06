/**
 * Benchmark runs side by side (docs/PERFORMANCE.md's before/after tables): for every case the
 * runs share, the median GPU ms of the frame in each run and the change against the first run;
 * with `--parts`, the timed parts too (a frame's passes, a per-node case's nodes). Runs are
 * bench.json files (or the directories holding them) written by `bench/all.ts`, each labelled
 * `label=path` or by its directory's name.
 *
 *   npx tsx scripts/compare-bench.ts base=r/base stores=r/stores ... [--cases regex] [--parts]
 *
 * Prints a Markdown table; a case missing from a run shows "–".
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchReport } from '../bench/all.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { cases: { type: 'string' }, parts: { type: 'boolean', default: false } },
});
if (positionals.length < 2) {
  throw new Error('usage: compare-bench.ts <[label=]bench.json or dir> <…> [--cases re] [--parts]');
}

interface Run {
  readonly label: string;
  /** Case name → timed part ("frame", a pass or a node) → median GPU ms. */
  readonly medians: Map<string, Map<string, number>>;
}

function readRun(argument: string): Run {
  const at = argument.indexOf('=');
  const path = at > 0 ? argument.slice(at + 1) : argument;
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'bench.json') : path;
  const report = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
  const medians = new Map<string, Map<string, number>>();
  for (const benchmark of report.results) {
    for (const c of benchmark.cases) {
      const parts = new Map<string, number>();
      for (const [part, summary] of Object.entries(c.gpuMs ?? {})) {
        parts.set(part, summary.median);
      }
      medians.set(`${benchmark.name}: ${c.name}`, parts);
    }
  }
  return { label: at > 0 ? argument.slice(0, at) : basename(path), medians };
}

const runs = positionals.map(readRun);
const filter = values.cases === undefined ? undefined : new RegExp(values.cases);
const caseNames = [...new Set(runs.flatMap((r) => [...r.medians.keys()]))].filter(
  (name) => !filter || filter.test(name),
);
const ms = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(3));
const change = (v: number | undefined, first: number | undefined) =>
  v === undefined || first === undefined ? '–' : `${((v / first - 1) * 100).toFixed(1)} %`;

const header = [
  'case, part',
  ...runs.map((r) => r.label),
  ...runs.slice(1).map((r) => `${r.label} vs ${runs[0]!.label}`),
];
const lines = [
  `| ${header.join(' | ')} |`,
  `| --- | ${header
    .slice(1)
    .map(() => '---:')
    .join(' | ')} |`,
];
for (const name of caseNames) {
  const parts = [...new Set(runs.flatMap((r) => [...(r.medians.get(name)?.keys() ?? [])]))];
  for (const part of values.parts ? parts : parts.filter((p) => p === 'frame')) {
    const v = runs.map((r) => r.medians.get(name)?.get(part));
    const row = [
      part === 'frame' ? name : `${name} · ${part}`,
      ...v.map(ms),
      ...v.slice(1).map((x) => change(x, v[0])),
    ];
    lines.push(`| ${row.join(' | ')} |`);
  }
}
console.log(lines.join('\n'));
