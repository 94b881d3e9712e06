/**
 * The network v3 search's quality/cost picture: validation PSNR over TAAU (training clips) against
 * the measured INT8 frame time at 1920×1080, one marker series per network (a point per training
 * run), from a results file such as docs/eval/2026-12-05-v3-search.json.
 *
 *   node --import tsx scripts/v3-quality-cost-plot.ts docs/eval/2026-12-05-v3-search.json docs/images/v3-quality-cost.svg
 *
 * Diverged networks are left off the chart (their PSNR would flatten the others' spread); the
 * script names them on its output so the caption can say so.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { linePlotSvg, type PlotSeries } from '../src/report/line-plot.ts';

interface SearchRun {
  run: number;
  bestPsnr: number;
}
interface SearchNetwork {
  name: string;
  diverged?: boolean;
  runs: SearchRun[];
  frameMs: Record<string, number>;
}
interface SearchResults {
  taauPsnr: number;
  taauFrameMs: Record<string, number>;
  networks: SearchNetwork[];
}

const [input, output, display = '1920x1080'] = process.argv.slice(2);
if (!input || !output) {
  console.error(
    'usage: v3-quality-cost-plot.ts <results.json> <out.svg> [display, default 1920x1080]',
  );
  process.exit(2);
}
const results = JSON.parse(readFileSync(input, 'utf8')) as SearchResults;
if (!Number.isFinite(results.taauPsnr) || !Array.isArray(results.networks)) {
  throw new Error(`${input}: expected taauPsnr and networks[]`);
}

const frameMs = (where: Record<string, number>, label: string): number => {
  const ms = where[display];
  if (!Number.isFinite(ms)) throw new Error(`${input}: ${label} has no frame time at ${display}`);
  return ms!;
};

const series: PlotSeries[] = [
  // TAAU is the zero line: its own frame time at PSNR gain 0.
  { name: 'TAAU', values: [0], x: [frameMs(results.taauFrameMs, 'TAAU')], markers: true },
];
const leftOff: string[] = [];
for (const network of results.networks) {
  if (network.diverged) {
    leftOff.push(network.name);
    continue;
  }
  const ms = frameMs(network.frameMs, network.name);
  series.push({
    name: `${network.name} (${network.runs.length} run${network.runs.length > 1 ? 's' : ''})`,
    values: network.runs.map((r) => r.bestPsnr - results.taauPsnr),
    x: network.runs.map(() => ms),
    markers: true,
  });
}

writeFileSync(
  output,
  linePlotSvg(series, {
    title: `Network v3 search: quality vs INT8 frame time (${display}, H200)`,
    xLabel: `whole INT8 neural frame, GPU ms at ${display} (Performance)`,
    yLabel: 'validation PSNR over TAAU, dB',
    width: 760,
    height: 420,
  }),
);
console.log(
  `wrote ${output}${leftOff.length ? `; left off (diverged): ${leftOff.join(', ')}` : ''}`,
);
