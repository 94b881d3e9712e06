/**
 * A per-node benchmark case as issue 13 asks to see it (bench/kernel-table.ts): per kernel of the
 * INT8 network, the median time, the multiply-accumulates and least bytes it must move at the
 * case's size, and the rates achieved against measured peaks (defaults: NVIDIA H100, Dawn/Vulkan:
 * dot4I8Packed fed from workgroup memory 36.4 T MAC/s, bench `peak`, 2026-12-06; a device copy
 * ~3.0 TB/s, DESIGN §11). The case is looked up in a bench.json, or in a JSON of docs/bench that
 * nests bench reports (`--path "call 2/bundles/inl"`).
 *
 *   npx tsx scripts/kernel-table.ts <json> --case 'network v2 int8 1920x1080 per-node' \
 *     --network v2 --display 1920x1080 [--path a/b] [--peak-tmacs 36.4] [--peak-tbs 3.0]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { architectureCost } from '../src/nn/networks.ts';
import { kernelTable, kernelTableMarkdown } from '../bench/kernel-table.ts';
import type { BenchReport } from '../bench/all.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    case: { type: 'string' },
    network: { type: 'string' },
    display: { type: 'string', default: '1920x1080' },
    path: { type: 'string' },
    'peak-tmacs': { type: 'string', default: '36.4' },
    'peak-tbs': { type: 'string', default: '3.0' },
  },
});
if (positionals.length !== 1 || !values.case || !values.network) {
  throw new Error(
    'usage: kernel-table.ts <json> --case <per-node case name> --network <v2|v3a|…> [--display WxH] [--path a/b]',
  );
}
let report: unknown = JSON.parse(readFileSync(positionals[0]!, 'utf8'));
for (const key of values.path ? values.path.split('/') : []) {
  report = (report as Record<string, unknown>)[key];
  if (report === undefined) throw new Error(`--path: no "${key}" in ${positionals[0]}`);
}
const found = (report as BenchReport).results
  ?.flatMap((r) => r.cases)
  .find((c) => c.name === values.case);
if (!found)
  throw new Error(
    `no case "${values.case}" in ${positionals[0]}${values.path ? ` at ${values.path}` : ''}`,
  );
const [w, h] = values.display.split('x').map(Number);
const plan = architectureCost(values.network, [w!, h!]).plan;
const table = kernelTable(found.gpuMs, plan, {
  teraMacs: Number(values['peak-tmacs']),
  terabytes: Number(values['peak-tbs']),
});
console.log(kernelTableMarkdown(table));
