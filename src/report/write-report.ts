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
import {
  busiestCrop,
  errorHeatmap,
  hstack,
  vstack,
  zoomedCrops,
  type CropRect,
} from './compose.ts';
import { linePlotSvg } from './line-plot.ts';
import { htmlReport, type HtmlSection } from './write-html.ts';

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

const METRICS = [
  ['psnr', 'PSNR dB ↑', 2],
  ['ssim', 'SSIM ↑', 4],
  ['flip', 'ꟻLIP ↓', 4],
  ['tpsnr', 'tPSNR dB ↑', 2],
  ['flicker', 'flicker ↓', 5],
] as const;

const slug = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');

function fmt(v: number | undefined, digits: number): string {
  if (v === undefined || Number.isNaN(v)) return '–';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  return v.toFixed(digits);
}

/** Writes the crop strip of one sequence: reference then each method, crops above heat maps. */
function writeCrops(
  dir: string,
  result: SequenceResult,
  name: string,
  rect: CropRect,
  zoom: number,
): string {
  const outputs = result.methods.map((m) => m.showcase);
  const crops = zoomedCrops([result.reference, ...outputs].map(toDisplay), rect, zoom);
  const heat = zoomedCrops(
    [result.reference, ...outputs].map((o) => errorHeatmap(o, result.reference, 0.2)),
    rect,
    zoom,
  );
  const file = `${name}-crops.png`;
  writePng(join(dir, file), vstack([hstack(crops), hstack(heat)]), { bits: 8 });
  return file;
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

/** Writes report.json, report.md, report.html and the pictures into `dir` (created if needed). */
export function writeReport(
  dir: string,
  results: readonly SequenceResult[],
  context: ReportContext,
): void {
  mkdirSync(dir, { recursive: true });
  const cropSize = context.cropSize ?? 40;
  const zoom = context.zoom ?? 4;
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
  writeFileSync(join(dir, 'report.json'), JSON.stringify(json, null, 1) + '\n');

  const md: string[] = [
    '# Uplift evaluation report',
    '',
    `Device: ${context.device}. Command: \`${context.command}\`. Generated ${json.generated}.`,
    '',
    'Metrics in the tonemapped display domain (c / (1 + max c)); means over the frames after the',
    'warm-up ("steady"); warm-up frames are reported apart. tPSNR and flicker compare frame-to-frame',
    "changes with the reference's.",
    '',
  ];
  const names = uniqueNames(results.map((r) => slug(r.sequence)));
  const sections: HtmlSection[] = [];
  for (const [i, r] of results.entries()) {
    const name = names[i]!;
    md.push(
      `## ${r.sequence}`,
      '',
      `${r.renderSize[0]}×${r.renderSize[1]} → ${r.displaySize[0]}×${r.displaySize[1]} ` +
        `(×${(r.displaySize[0] / r.renderSize[0]).toFixed(2)}), ${r.frameCount} frames, ` +
        `warm-up ${r.warmupFrames}.`,
      '',
      `| method | ${METRICS.map((m) => m[1]).join(' | ')} | warm-up PSNR dB |`,
      `|---|${METRICS.map(() => '---:').join('|')}|---:|`,
    );
    for (const m of r.methods) {
      const s = m.summary.steady as unknown as Record<string, number | undefined>;
      const w = m.summary.warmup as unknown as Record<string, number | undefined>;
      md.push(
        `| ${m.method} | ${METRICS.map(([k, , d]) => fmt(s[k], d)).join(' | ')} | ${fmt(w.psnr, 2)} |`,
      );
    }
    const svg = `${name}-psnr.svg`;
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
    const psnrPlot = curve('psnr', 'PSNR');
    writeFileSync(join(dir, svg), psnrPlot);
    const rect = busiestCrop(r.reference, cropSize, cropSize);
    sections.push({ result: r, plots: [psnrPlot, curve('tpsnr', 'tPSNR')], crop: rect });
    const crops = writeCrops(dir, r, name, rect, zoom);
    md.push(
      '',
      `![PSNR per frame](${svg})`,
      '',
      `Frame ${r.showcaseFrame}, crop at (${rect.x}, ${rect.y}) ${rect.width}×${rect.height} zoomed ` +
        `×${zoom}. Left to right: reference, ${r.methods.map((m) => m.method).join(', ')}. ` +
        'Bottom row: error heat maps (tonemapped luma difference, white = 0.2 or more).',
      '',
      `![crops](${crops})`,
      '',
    );
  }
  writeFileSync(join(dir, 'report.md'), md.join('\n'));
  const page = htmlReport(sections, {
    device: context.device,
    command: context.command,
    generated: json.generated,
    zoom,
    metrics: METRICS,
    toDisplay,
  });
  writeFileSync(join(dir, 'report.html'), page);
}
