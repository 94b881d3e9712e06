/**
 * The evaluation report as one self-contained HTML page (report.html beside report.md): per
 * sequence the metric table, per-frame curves, the showcase frame of any two methods under an A/B
 * slider (the `img-comparison-slider` web component, inlined) and zoomed crops of every method,
 * each picture labelled with its method inside it. Pictures are PNG data URLs: the file can be
 * mailed or opened from disk, nothing is fetched.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Image } from '../core/image.ts';
import { encodePng } from '../io/index.ts';
import { errorHeatmap, zoomedCrops, type CropRect } from './compose.ts';

/** A column of a report's table: the key of its values, its title, its digits. */
export interface ReportColumn {
  key: string;
  /** Ends in ↓ where lower is better. */
  title: string;
  digits: number;
  /** Whether the best value is set in bold. Default true. */
  best?: boolean;
}

/** A table of methods (rows) by metrics (columns). */
export interface ReportTable {
  columns: readonly ReportColumn[];
  rows: readonly { name: string; values: Readonly<Record<string, number | undefined>> }[];
}

/** One sequence of a report, as the Markdown and the HTML page both show it. */
export interface ReportSection {
  title: string;
  /** One line under the title in report.md. */
  description: string;
  /** The same in report.html (it may say more about the table). */
  htmlDescription: string;
  table: ReportTable;
  /** Per-frame curves (SVG documents). */
  plots: readonly string[];
  /** The heading of the A/B comparison, e.g. "Frame 23". */
  showcaseTitle: string;
  /** The truth and each method's showcase frame (linear RGB), the truth first, with their names. */
  names: readonly string[];
  frames: readonly Image[];
  /** The crop rectangle of the showcase frame. */
  crop: CropRect;
}

export interface HtmlReportContext {
  /** The page's title, e.g. "Uplift evaluation report". */
  title: string;
  /** The paragraph under it after device, command and date. */
  intro: string;
  device: string;
  command: string;
  generated: string;
  zoom: number;
  /** Linear RGB → sRGB display values (what the Markdown pictures show too). */
  toDisplay(image: Image): Image;
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const pngUrl = (image: Image) =>
  `data:image/png;base64,${Buffer.from(encodePng(image, { bits: 8 })).toString('base64')}`;

function fmt(v: number | undefined, digits: number): string {
  if (v === undefined || Number.isNaN(v)) return '–';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  return v.toFixed(digits);
}

/** The slider component's script (MIT, from its npm package), inlined so the page works offline. */
function sliderScript(): string {
  const require = createRequire(import.meta.url);
  return readFileSync(require.resolve('img-comparison-slider'), 'utf8');
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1400px; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.best { font-weight: 700; }
.plots { display: flex; flex-wrap: wrap; gap: 12px; }
.compare { display: inline-block; }
.compare select { margin: 0 8px 6px 0; }
figure { position: relative; margin: 0; line-height: 0; }
figure img { image-rendering: pixelated; }
.label { position: absolute; top: 6px; padding: 2px 6px; font: 600 13px/1.3 system-ui, sans-serif;
  color: #fff; background: rgba(0, 0, 0, 0.65); border-radius: 3px; pointer-events: none; }
.left .label { left: 6px; }
.right .label { right: 6px; }
.crops { display: flex; flex-wrap: wrap; gap: 6px; }
.crops .label { left: 4px; top: 4px; }
img-comparison-slider { --divider-width: 2px; --default-handle-opacity: 0.8; }
`;

/** The comparison of two methods' showcase frames under a slider, with pickers for both sides. */
function comparison(id: string, names: readonly string[], urls: readonly string[], width: number) {
  const pick = (side: string, chosen: number) =>
    `<select data-side="${side}" data-for="${id}">${names
      .map(
        (n, i) =>
          `<option value="${i}"${i === chosen ? ' selected' : ''}>${escapeHtml(n)}</option>`,
      )
      .join('')}</select>`;
  // Default: TAAU against the network when both ran, else the first method against the reference.
  const left = names.indexOf('taau') >= 0 ? names.indexOf('taau') : 1;
  const right = names.indexOf('neural') >= 0 ? names.indexOf('neural') : 0;
  const side = (cls: string, slot: string, i: number) =>
    `<figure class="${cls}" slot="${slot}"><img src="${urls[i]}" width="${width}" alt=""><span class="label">${escapeHtml(names[i]!)}</span></figure>`;
  return [
    `<div class="compare" id="${id}">`,
    `<div>left ${pick('left', left)} right ${pick('right', right)}</div>`,
    `<img-comparison-slider>${side('left', 'first', left)}${side('right', 'second', right)}</img-comparison-slider>`,
    `<script type="application/json">${JSON.stringify({ names, urls }).replace(/</g, '\\u003c')}</script>`,
    '</div>',
  ].join('\n');
}

/** The page's own script: the pickers swap the picture and label of their side. */
const PICKERS = `
for (const select of document.querySelectorAll('select[data-side]')) {
  select.addEventListener('change', () => {
    const box = document.getElementById(select.dataset.for);
    const { names, urls } = JSON.parse(box.querySelector('script').textContent);
    const figure = box.querySelector('figure.' + select.dataset.side);
    figure.querySelector('img').src = urls[select.value];
    figure.querySelector('.label').textContent = names[select.value];
  });
}
`;

function metricTable({ columns, rows }: ReportTable): string {
  // Higher is better for every metric but those whose titles end in ↓ (ꟻLIP, flicker).
  const best = columns.map(({ key, title }) => {
    const values = rows.map((r) => r.values[key] ?? NaN);
    const sign = title.endsWith('↓') ? -1 : 1;
    return Math.max(...values.map((v) => (Number.isFinite(v) ? sign * v : -Infinity))) * sign;
  });
  const body = rows.map((row) => {
    const cells = columns.map(({ key, digits, best: bold }, k) => {
      const v = row.values[key];
      return `<td${bold !== false && v === best[k] ? ' class="best"' : ''}>${fmt(v, digits)}</td>`;
    });
    return `<tr><td>${escapeHtml(row.name)}</td>${cells.join('')}</tr>`;
  });
  const head = columns.map(({ title }) => `<th>${escapeHtml(title)}</th>`).join('');
  return `<table><tr><th>method</th>${head}</tr>\n${body.join('\n')}</table>`;
}

function section(s: ReportSection, index: number, context: HtmlReportContext): string {
  const { names, frames } = s;
  const truth = frames[0]!;
  const urls = frames.map((f) => pngUrl(context.toDisplay(f)));
  // The whole frame shown at least 640 pixels wide (pixels stay square: CSS pixelated).
  const scale = Math.max(1, Math.ceil(640 / truth.width));
  const crops = zoomedCrops(frames.map(context.toDisplay), s.crop, context.zoom);
  const heat = zoomedCrops(
    frames.map((f) => errorHeatmap(f, truth, 0.2)),
    s.crop,
    context.zoom,
  );
  const cropFigures = names.map(
    (n, i) =>
      `<div><figure><img src="${pngUrl(crops[i]!)}" alt=""><span class="label">${escapeHtml(n)}</span></figure>` +
      `<figure style="margin-top:4px"><img src="${pngUrl(heat[i]!)}" alt=""><span class="label">${escapeHtml(n)} error</span></figure></div>`,
  );
  return [
    `<h2>${escapeHtml(s.title)}</h2>`,
    `<p>${escapeHtml(s.htmlDescription)}</p>`,
    metricTable(s.table),
    `<div class="plots">${s.plots.join('\n')}</div>`,
    `<h3>${escapeHtml(s.showcaseTitle)}: drag the divider</h3>`,
    comparison(`compare-${index}`, names, urls, truth.width * scale),
    `<h3>Crop at (${s.crop.x}, ${s.crop.y}) ${s.crop.width}×${s.crop.height}, zoomed ×${context.zoom}; ` +
      'below, error heat maps (tonemapped luma difference, white = 0.2 or more)</h3>',
    `<div class="crops">${cropFigures.join('\n')}</div>`,
  ].join('\n');
}

/** The report page (a complete HTML document). */
export function htmlReport(sections: readonly ReportSection[], context: HtmlReportContext): string {
  return [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(context.title)}</title>`,
    `<style>${STYLE}</style>`,
    `<script>${sliderScript().replace(/<\/script/gi, '<\\/script')}</script>`,
    '</head><body>',
    `<h1>${escapeHtml(context.title)}</h1>`,
    `<p>Device: ${escapeHtml(context.device)}. Command: <code>${escapeHtml(context.command)}</code>. ` +
      `Generated ${escapeHtml(context.generated)}. ${escapeHtml(context.intro)}</p>`,
    ...sections.map((s, i) => section(s, i, context)),
    `<script>${PICKERS}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
