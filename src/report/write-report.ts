/**
 * Writes an evaluation report: report.json (every number), report.md (tables, curves, crops),
 * per-sequence SVG curves and PNG crop strips, and report.html (the same with A/B sliders:
 * write-html.ts). Pictures are in the display domain: linear color
 * clamped to [0, 1] and sRGB-encoded; error maps as heat maps of the tonemapped luma difference.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createImage, type Image } from '../core/image.ts';
import { linearToSrgb } from '../core/tonemap.ts';
import { writePng } from '../io/index.ts';
import type { SequenceResult } from '../eval/evaluate.ts';
import { busiestCrop, errorHeatmap, hstack, vstack, zoomedCrops } from './compose.ts';
import { linePlotSvg } from './line-plot.ts';
import { htmlReport, type ReportColumn, type ReportSection } from './write-html.ts';

export interface ReportContext {
  /** Adapter name, e.g. "llvmpipe (LLVM 19.1.7, 256 bits)". */
  device: string;
  /** The command line that produced the report. */
  command: string;
  /** Crop size in display pixels before zoom. Default 40. */
  cropSize?: number;
  /** Zoom factor of crops. Default 4. */
  zoom?: number;
}

/** Linear RGB → sRGB-encoded display values in [0, 1]. */
export function toDisplay(image: Image): Image {
  const out = createImage(image.width, image.height, 3);
  const c = image.channels;
  for (let i = 0; i < image.width * image.height; i++) {
    for (let k = 0; k < 3; k++) {
      const v = image.data[i * c + k]!;
      out.data[i * 3 + k] = Number.isFinite(v) ? linearToSrgb(Math.min(1, Math.max(0, v))) : 0;
    }
  }
  return out;
}

/** The upscaling report's metric columns (the frame-generation report relabels the temporal ones). */
export const METRICS: readonly ReportColumn[] = [
  { key: 'psnr', title: 'PSNR dB ↑', digits: 2 },
  { key: 'ssim', title: 'SSIM ↑', digits: 4 },
  { key: 'flip', title: 'ꟻLIP ↓', digits: 4 },
  { key: 'tpsnr', title: 'tPSNR dB ↑', digits: 2 },
  { key: 'flicker', title: 'flicker ↓', digits: 5 },
];

const slug = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');

function fmt(v: number | undefined, digits: number): string {
  if (v === undefined || Number.isNaN(v)) return '–';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  return v.toFixed(digits);
}

/** Writes the crop strip of a section: each frame's crop (truth first) above its heat map. */
function writeCrops(dir: string, section: ReportSection, file: string, zoom: number): void {
  const [truth] = section.frames;
  const crops = zoomedCrops(section.frames.map(toDisplay), section.crop, zoom);
  const heat = zoomedCrops(
    section.frames.map((o) => errorHeatmap(o, truth!, 0.2)),
    section.crop,
    zoom,
  );
  writePng(join(dir, file), vstack([hstack(crops), hstack(heat)]), { bits: 8 });
}

/**
 * File names of the sections: sequences whose names slug alike (x1/same and x2/same) get -2, -3…
 * so that no section's pictures overwrite another's.
 */
function uniqueNames(slugs: readonly string[]): string[] {
  const seen = new Map<string, number>();
  const taken = new Set(slugs);
  return slugs.map((base) => {
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    if (count === 1) return base;
    let k = count;
    while (taken.has(`${base}-${k}`)) k++;
    taken.add(`${base}-${k}`);
    return `${base}-${k}`;
  });
}

/** What a report says besides its sections. */
export interface ReportPage {
  /** The heading, e.g. "Uplift evaluation report". */
  title: string;
  /** Lines of report.md under the heading's line of device and command. */
  intro: readonly string[];
  /** Every number, written as report.json (with its `generated` date). */
  json: { generated: string } & Record<string, unknown>;
  /** Caption of the first curve in report.md, e.g. "PSNR per frame". */
  plotCaption: string;
}

/**
 * Writes report.json, report.md (per section: table, first curve, crop strip), report.html and
 * the pictures into `dir` (created if needed). The upscaling and frame-generation reports share it.
 */
export function writeReportFiles(
  dir: string,
  page: ReportPage,
  sections: readonly ReportSection[],
  context: ReportContext,
): void {
  mkdirSync(dir, { recursive: true });
  const zoom = context.zoom ?? 4;
  const { json } = page;
  writeFileSync(join(dir, 'report.json'), JSON.stringify(json, null, 1) + '\n');
  const md: string[] = [
    `# ${page.title}`,
    '',
    `Device: ${context.device}. Command: \`${context.command}\`. Generated ${json.generated}.`,
    '',
    ...page.intro,
    '',
  ];
  const names = uniqueNames(sections.map((s) => slug(s.title)));
  for (const [i, s] of sections.entries()) {
    const name = names[i]!;
    const { columns, rows } = s.table;
    md.push(
      `## ${s.title}`,
      '',
      s.description,
      '',
      `| method | ${columns.map((c) => c.title).join(' | ')} |`,
      `|---|${columns.map(() => '---:').join('|')}|`,
      ...rows.map(
        (r) => `| ${r.name} | ${columns.map((c) => fmt(r.values[c.key], c.digits)).join(' | ')} |`,
      ),
    );
    const svg = `${name}-psnr.svg`;
    writeFileSync(join(dir, svg), s.plots[0]!);
    const crops = `${name}-crops.png`;
    writeCrops(dir, s, crops, zoom);
    const { crop } = s;
    md.push(
      '',
      `![${page.plotCaption}](${svg})`,
      '',
      `${s.showcaseTitle}, crop at (${crop.x}, ${crop.y}) ${crop.width}×${crop.height} zoomed ` +
        `×${zoom}. Left to right: ${s.names.join(', ')}. ` +
        'Bottom row: error heat maps (tonemapped luma difference, white = 0.2 or more).',
      '',
      `![crops](${crops})`,
      '',
    );
  }
  writeFileSync(join(dir, 'report.md'), md.join('\n'));
  const html = htmlReport(sections, {
    title: page.title,
    intro: page.intro.join(' '),
    device: context.device,
    command: context.command,
    generated: json.generated,
    zoom,
    toDisplay,
  });
  writeFileSync(join(dir, 'report.html'), html);
}

/** Writes the upscaling report: report.json, report.md, report.html and the pictures. */
export function writeReport(
  dir: string,
  results: readonly SequenceResult[],
  context: ReportContext,
): void {
  const cropSize = context.cropSize ?? 40;
  const json = {
    generated: new Date().toISOString(),
    device: context.device,
    command: context.command,
    sequences: results.map((r) => ({
      sequence: r.sequence,
      renderSize: r.renderSize,
      displaySize: r.displaySize,
      frameCount: r.frameCount,
      warmupFrames: r.warmupFrames,
      methods: r.methods.map((m) => ({ method: m.method, ...m.summary, frames: m.frames })),
    })),
  };
  const sections = results.map((r): ReportSection => {
    const curve = (key: 'psnr' | 'tpsnr', label: string) =>
      linePlotSvg(
        r.methods.map((m) => ({ name: m.method, values: m.frames.map((f) => f[key]) })),
        {
          title: `${r.sequence}: ${label} per frame`,
          xLabel: 'frame',
          yLabel: `${label} dB`,
          warmup: r.warmupFrames,
        },
      );
    const sizes =
      `${r.renderSize[0]}×${r.renderSize[1]} → ${r.displaySize[0]}×${r.displaySize[1]} ` +
      `(×${(r.displaySize[0] / r.renderSize[0]).toFixed(2)}), ${r.frameCount} frames, ` +
      `warm-up ${r.warmupFrames}`;
    return {
      title: r.sequence,
      description: `${sizes}.`,
      htmlDescription: `${sizes}; means over the steady frames, best of each column in bold.`,
      table: {
        columns: [...METRICS, { key: 'warmup', title: 'warm-up PSNR dB', digits: 2, best: false }],
        rows: r.methods.map((m) => ({
          name: m.method,
          values: { ...m.summary.steady, warmup: m.summary.warmup.psnr },
        })),
      },
      plots: [curve('psnr', 'PSNR'), curve('tpsnr', 'tPSNR')],
      showcaseTitle: `Frame ${r.showcaseFrame}`,
      names: ['reference', ...r.methods.map((m) => m.method)],
      frames: [r.reference, ...r.methods.map((m) => m.showcase)],
      crop: busiestCrop(r.reference, cropSize, cropSize),
    };
  });
  writeReportFiles(
    dir,
    {
      title: 'Uplift evaluation report',
      intro: [
        'Metrics in the tonemapped display domain (c / (1 + max c)); means over the frames after the',
        'warm-up ("steady"); warm-up frames are reported apart. tPSNR and flicker compare frame-to-frame',
        "changes with the reference's.",
      ],
      json,
      plotCaption: 'PSNR per frame',
    },
    sections,
    context,
  );
}
