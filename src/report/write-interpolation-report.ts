/**
 * The frame-generation report of `uplift eval --higher-rate` (report.json, report.md,
 * report.html and pictures, as the upscaling report): per sequence the table of every method
 * (generated frames within shots; the whole stream's tPSNR and flicker; the frames across cuts),
 * curves of the generated frames' PSNR and the stream's tPSNR (generated frames dotted), and crops of one
 * generated frame for every method and the truth, with error heat maps.
 */
import type { InterpolationSequenceResult } from '../eval/evaluate-interpolation.ts';
import { largestErrorCrop } from './compose.ts';
import { linePlotSvg } from './line-plot.ts';
import type { ReportColumn, ReportSection } from './write-html.ts';
import { METRICS, writeReportFiles, type ReportContext } from './write-report.ts';

/** Generated frames' PSNR, SSIM and ꟻLIP; the stream's tPSNR and flicker; cuts and warm-up apart. */
const COLUMNS: readonly ReportColumn[] = [
  ...METRICS.map((c) =>
    c.key === 'tpsnr' || c.key === 'flicker' ? { ...c, title: `stream ${c.title}` } : c,
  ),
  { key: 'cuts', title: 'PSNR dB at cuts ↑', digits: 2 },
  { key: 'warmup', title: 'warm-up PSNR dB', digits: 2, best: false },
];

function section(r: InterpolationSequenceResult, cropSize: number): ReportSection {
  const first = r.methods[0]!;
  // PSNR of the generated frames only (the displayed ones are the same for every method, and
  // perfect with --upscale reference); tPSNR over the whole stream, generated frames dotted.
  const curve = (key: 'psnr' | 'tpsnr', label: string, generatedOnly: boolean) =>
    linePlotSvg(
      r.methods.map((m) => {
        const frames = generatedOnly ? m.frames.filter((f) => f.generated) : m.frames;
        return {
          name: m.method,
          values: frames.map((f) => f[key]),
          x: frames.map((f) => f.frame),
          marked: frames.map((f) => f.generated),
        };
      }),
      {
        title: `${r.sequence} ×${r.factor}: ${label} per ${generatedOnly ? 'generated frame' : 'frame (dots: generated)'}`,
        xLabel: 'frame of the higher rate',
        yLabel: `${label} dB`,
        warmup: r.warmupFrames * r.factor,
      },
    );
  const generated = first.frames.filter((f) => f.generated);
  const cuts = generated.filter((f) => f.cut).length;
  const t = generated.find((f) => f.frame === r.showcaseFrame)!.t!;
  const description =
    `${r.renderSize[0]}×${r.renderSize[1]} → ${r.displaySize[0]}×${r.displaySize[1]}, ` +
    `${r.frameCount} frames ×${r.factor} against ${r.higherRate}: ${first.frames.length} frames, ` +
    `${generated.length} generated (${cuts} across cuts); displayed frames from --upscale ` +
    `${r.upscale} (${r.displayedPsnr.toFixed(2)} dB); warm-up ${r.warmupFrames} input frames`;
  return {
    title: r.sequence,
    description: `${description}.`,
    htmlDescription:
      `${description}. PSNR, SSIM and ꟻLIP over the generated frames within shots after the ` +
      'warm-up; tPSNR and flicker over the whole stream; best of each column in bold.',
    table: {
      columns: COLUMNS,
      rows: r.methods.map((m) => ({
        name: m.method,
        values: {
          ...m.summary.steady,
          ...m.stream,
          cuts: m.summary.cuts.psnr,
          warmup: m.summary.warmup.psnr,
        },
      })),
    },
    plots: [curve('psnr', 'PSNR', true), curve('tpsnr', 'tPSNR', false)],
    showcaseTitle: `Generated frame ${r.showcaseFrame} (t = ${Number(t.toFixed(3))}, where ${first.method} is worst)`,
    names: ['truth', ...r.methods.map((m) => m.method)],
    frames: [r.reference, ...r.methods.map((m) => m.showcase)],
    crop: largestErrorCrop(first.showcase, r.reference, cropSize, cropSize),
  };
}

/** Writes the frame-generation report into `dir` (created if needed). */
export function writeInterpolationReport(
  dir: string,
  results: readonly InterpolationSequenceResult[],
  context: ReportContext,
): void {
  const json = {
    generated: new Date().toISOString(),
    device: context.device,
    command: context.command,
    kind: 'frame-generation',
    sequences: results.map(({ reference: _, methods, ...r }) => ({
      ...r,
      methods: methods.map((m) => ({
        method: m.method,
        ...m.summary,
        stream: m.stream,
        frames: m.frames,
      })),
    })),
  };
  writeReportFiles(
    dir,
    {
      title: 'Uplift frame-generation report',
      intro: [
        'Metrics in the tonemapped display domain (c / (1 + max c)) against the sequence rendered at',
        'the higher rate. PSNR, SSIM and ꟻLIP: the generated frames within shots after the warm-up',
        '(PSNR: the mean of MSEs, then dB); the frames whose pair spans a camera cut apart. tPSNR and',
        'flicker: the whole higher-rate stream (displayed and generated frames in order) against the',
        "truth's frame-to-frame changes.",
      ],
      json,
      plotCaption: 'PSNR per generated frame',
    },
    results.map((r) => section(r, context.cropSize ?? 40)),
    context,
  );
}
