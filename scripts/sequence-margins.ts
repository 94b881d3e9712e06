/**
 * The margins of every method over a baseline (default TAAU) on full sequences, from `uplift eval`
 * reports (report.json files, or directories searched for them, e.g. what
 * scripts/device/sequences.sh returns): per sequence the baseline's steady PSNR and each method's
 * difference, then the mean difference and how many sequences are below the baseline (issue 14's
 * bars: +2.0 dB mean, none below), and the same for tPSNR; where the reports have ꟻLIP (eval without
 * --no-flip), each method's mean ꟻLIP beside the baseline's and on how many sequences it is lower.
 *
 *   npx tsx scripts/sequence-margins.ts <report.json or dir>... [--baseline taau] [--json out.json]
 *     [--alias name=other ...]
 *
 * A sequence scored in several reports gathers their methods (a method scored twice keeps its
 * first score); methods are named as the reports name them (neural:<file name>), or by the name
 * an `--alias` gives (the same weights scored under two file names).
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

interface MethodReport {
  readonly method: string;
  readonly steady: { readonly psnr: number; readonly tpsnr?: number; readonly flip?: number };
}
interface Report {
  readonly sequences: { readonly sequence: string; readonly methods: MethodReport[] }[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    baseline: { type: 'string', default: 'taau' },
    json: { type: 'string' },
    alias: { type: 'string', multiple: true, default: [] },
  },
});
if (positionals.length === 0) {
  throw new Error(
    'usage: sequence-margins.ts <report.json or dir>... [--baseline taau] [--json out.json] [--alias a=b]',
  );
}

/** report.json files under `path` (itself if it is one). */
function reports(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => {
      const child = join(path, name);
      if (statSync(child).isDirectory()) return reports(child);
      return name === 'report.json' ? [child] : [];
    });
}

const aliases = new Map(
  values.alias.map((a) => {
    const at = a.indexOf('=');
    if (at < 1) throw new Error(`--alias wants name=other, got "${a}"`);
    return [a.slice(0, at), a.slice(at + 1)];
  }),
);
const scores = new Map<string, Map<string, MethodReport['steady']>>();
for (const file of positionals.flatMap(reports)) {
  const report = JSON.parse(readFileSync(file, 'utf8')) as Report;
  for (const s of report.sequences) {
    const byMethod = scores.get(s.sequence) ?? new Map<string, MethodReport['steady']>();
    for (const m of s.methods) {
      const name = aliases.get(m.method) ?? m.method;
      if (!byMethod.has(name)) byMethod.set(name, m.steady);
    }
    scores.set(s.sequence, byMethod);
  }
}
const baseline = values.baseline;
const methods = [...new Set([...scores.values()].flatMap((m) => [...m.keys()]))].filter(
  (m) => m !== baseline,
);
const signed = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(2)}`;
const margins: Record<
  string,
  Record<string, { psnr: number; tpsnr?: number; flip?: number; baselineFlip?: number }>
> = {};
const rows = [
  `| sequence | ${baseline} dB | ${methods.join(' | ')} |`,
  `| --- | ---: | ${methods.map(() => '---:').join(' | ')} |`,
];
for (const [sequence, byMethod] of [...scores].sort(([a], [b]) => a.localeCompare(b))) {
  const base = byMethod.get(baseline);
  if (!base) throw new Error(`${sequence}: no ${baseline} in its report`);
  margins[sequence] = {};
  const cells = methods.map((m) => {
    const s = byMethod.get(m);
    if (!s) return '–';
    const tpsnr =
      s.tpsnr !== undefined && base.tpsnr !== undefined ? s.tpsnr - base.tpsnr : undefined;
    const flip = s.flip !== undefined && base.flip !== undefined ? s.flip : undefined;
    margins[sequence][m] = {
      psnr: s.psnr - base.psnr,
      tpsnr,
      ...(flip !== undefined ? { flip, baselineFlip: base.flip } : {}),
    };
    return signed(s.psnr - base.psnr);
  });
  rows.push(`| ${sequence} | ${base.psnr.toFixed(2)} | ${cells.join(' | ')} |`);
}
const summary = (key: 'psnr' | 'tpsnr', label: string) => {
  const cells = methods.map((m) => {
    const v = Object.values(margins)
      .map((s) => s[m]?.[key])
      .filter((x): x is number => x !== undefined);
    if (v.length === 0) return '–';
    const below = v.filter((x) => x < 0).length;
    return `${signed(v.reduce((a, b) => a + b, 0) / v.length)} (${below}/${v.length} below)`;
  });
  rows.push(`| **${label}** | | ${cells.join(' | ')} |`);
};
summary('psnr', 'mean PSNR margin');
summary('tpsnr', 'mean tPSNR margin');
// Mean ꟻLIP over the sequences both have it on, the baseline's over the same ones.
const flipCells = methods.map((m) => {
  const pairs = Object.values(margins)
    .map((s) => s[m])
    .filter((x) => x?.flip !== undefined) as { flip: number; baselineFlip: number }[];
  if (pairs.length === 0) return undefined;
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const lower = pairs.filter((x) => x.flip < x.baselineFlip).length;
  const [own, base] = [mean(pairs.map((x) => x.flip)), mean(pairs.map((x) => x.baselineFlip))];
  return `${own.toFixed(4)} against ${base.toFixed(4)} (lower on ${lower}/${pairs.length})`;
});
if (flipCells.some((c) => c !== undefined)) {
  rows.push(`| **mean ꟻLIP** | | ${flipCells.map((c) => c ?? '–').join(' | ')} |`);
}
console.log(rows.join('\n'));
if (values.json) {
  writeFileSync(values.json, `${JSON.stringify({ baseline, methods, margins }, null, 2)}\n`);
  console.log(`wrote ${values.json}`);
}
