/**
 * The validation margins of training runs by entry (docs/QUALITY.md §4's tables): for every
 * checkpoint a run validated with `--validation-entries each`, the mean margin over TAAU, how
 * many entries are below it, the worst entry and the margins of the entries named (default: the
 * ones still below TAAU in December: fence and foliage flythrough, Fox, herd orbit), then the
 * entry's training rate and how long its validation took (logged since 2026-12-06). An entry's
 * margin is the mean over its clips (clip i shows validation entry i mod the split's size), as
 * `--best-by worst` compares them.
 *
 *   npx tsx scripts/validation-entries.ts <run dir or log.jsonl>... [--entries a,b,...] [--json out.json]
 *
 * Prints a Markdown table; `--json` also writes every entry's margin per run and step.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { LogEntry } from '../src/train/run-directory.ts';
import { entryMargins } from '../src/train/run-directory.ts';
import { VALIDATION } from '../src/train/splits.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    entries: {
      type: 'string',
      default: 'fence-flythrough-1005,foliage-flythrough-1007,Fox-orbit-1019,herd-orbit-1040',
    },
    json: { type: 'string' },
  },
});
if (positionals.length === 0) {
  throw new Error(
    'usage: validation-entries.ts <run dir or log.jsonl>... [--entries a,b] [--json f]',
  );
}
/** Entry names as the tables print them: scene file name without its folder, path, seed. */
const names = VALIDATION.map(
  (e) => `${e.scene.replace(/^.*\//, '').replace(/\.\w+$/, '')}-${e.path}-${e.seed}`,
);
const shown = values.entries.split(',').filter(Boolean);
for (const name of shown) {
  if (!names.includes(name))
    throw new Error(`no validation entry ${name} (have ${names.join(', ')})`);
}

const signed = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(2)}`;
const rows: string[] = [];
const report: Record<string, Record<number, Record<string, number>>> = {};
let skipped = 0;
for (const run of positionals) {
  const file = existsSync(run) && statSync(run).isDirectory() ? join(run, 'log.jsonl') : run;
  const log = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as LogEntry);
  for (const entry of log) {
    const margins = entryMargins(entry, VALIDATION.length);
    if (!margins) continue;
    if (margins.length !== VALIDATION.length) {
      // Validated otherwise (grouped clips, or the split before it grew): not comparable here.
      skipped++;
      continue;
    }
    const mean = margins.reduce((a, b) => a + b, 0) / margins.length;
    const worst = Math.min(...margins);
    const byName = Object.fromEntries(names.map((n, i) => [n, Number(margins[i]!.toFixed(4))]));
    (report[run] ??= {})[entry.step] = byName;
    rows.push(
      `| ${run}, ${entry.step}${entry.best ? ' (best)' : ''} | ${signed(mean)} | ${margins.filter((m) => m < 0).length} | ${signed(worst)} ${names[margins.indexOf(worst)]} | ${shown.map((n) => signed(byName[n]!)).join(' | ')} | ${entry.stepsPerSecond} | ${entry.validationSeconds ?? '–'} |`,
    );
  }
}
console.log(`| run, step | mean | below | worst | ${shown.join(' | ')} | steps/s | validation s |`);
console.log(`| --- | ---: | ---: | --- | ${shown.map(() => '---:').join(' | ')} | ---: | ---: |`);
for (const row of rows) console.log(row);
if (skipped > 0) {
  console.log(
    `(${skipped} checkpoints validated on other clips than one or more of each of the ${VALIDATION.length} entries left out)`,
  );
}
if (values.json) {
  writeFileSync(values.json, JSON.stringify({ entries: names, margins: report }, null, 1) + '\n');
  console.log(`wrote ${values.json}`);
}
