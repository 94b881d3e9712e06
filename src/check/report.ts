/**
 * The check's report: report.json (every finding and number), report.html (the findings, the fix,
 * its verification and the pictures, with how to read each) and the pictures themselves:
 * motion field as a color wheel, warp-error heat maps as given and with the fix, where the vectors
 * disagree, jitter scatter, residual curves of the motion fit, depth histogram and depth.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createImage, type Image } from '../core/image.ts';
import { inverseTonemapPixel } from '../core/tonemap.ts';
import { writePng } from '../io/png.ts';
import { errorHeatmap, hstack, vstack, zoomNearest } from '../report/compose.ts';
import { linePlotSvg } from '../report/line-plot.ts';
import { toDisplay } from '../report/write-report.ts';
import type { Analysis } from './analyze.ts';
import type { CheckResult } from './check.ts';
import { depthPicture, HISTOGRAM_BINS, plausibleInversion } from './depth.ts';
import { checkJsonReplacer, fixJson } from './frames.ts';
import { lumaOf, warpPrevious } from './warp.ts';
import { convolveSeparable, gaussianKernel } from '../metrics/filter.ts';

/** Pictures are zoomed (nearest) to at least this width. */
const MIN_PICTURE_WIDTH = 384;

const zoomFor = (width: number) => Math.max(1, Math.ceil(MIN_PICTURE_WIDTH / width));

/** HSV (h in turns) → RGB. */
function hsv(h: number, s: number, v: number): [number, number, number] {
  const f = (n: number) => {
    const k = (n + h * 6) % 6;
    return v - v * s * Math.max(0, Math.min(k, 4 - k, 1));
  };
  return [f(5), f(3), f(1)];
}

/**
 * Motion as a color wheel: hue = direction of prevUV − uv (right red, down yellow-green, left
 * cyan, up blue-purple), brightness = length up to the 99th percentile (black = still).
 */
export function motionWheel(motion: Image, scale: readonly [number, number]): Image {
  const { width, height } = motion;
  const out = createImage(width, height, 3);
  const lengths: number[] = [];
  const vec = (i: number) => [
    motion.data[i * motion.channels]! * scale[0] * width,
    motion.data[i * motion.channels + 1]! * scale[1] * height,
  ];
  for (let i = 0; i < width * height; i++) lengths.push(Math.hypot(...vec(i)));
  const sorted = [...lengths].sort((a, b) => a - b);
  const top = Math.max(1e-6, sorted[Math.floor(0.99 * (sorted.length - 1))]!);
  for (let i = 0; i < width * height; i++) {
    const [x, y] = vec(i);
    const h = (Math.atan2(y!, x!) / (2 * Math.PI) + 1) % 1;
    out.data.set(hsv(h, 1, Math.min(1, lengths[i]! / top)), i * 3);
  }
  return out;
}

/** The wheel's key: a disc whose colors are the directions. */
function wheelKey(size: number): Image {
  const out = createImage(size, size, 3);
  out.data.fill(1);
  const c = (size - 1) / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const r = Math.hypot(x - c, y - c) / c;
      if (r > 1) continue;
      out.data.set(
        hsv((Math.atan2(y - c, x - c) / (2 * Math.PI) + 1) % 1, 1, r),
        (y * size + x) * 3,
      );
    }
  }
  return out;
}

/** Linear gray of a tonemapped luma plane (what the heat map compares the warp against). */
function grayOf(lumas: Float32Array, width: number, height: number): Image {
  const out = createImage(width, height, 3);
  lumas.forEach((l, i) => out.data.set(inverseTonemapPixel(l, l, l), i * 3));
  return out;
}

/** A luma plane blurred by a 1-pixel Gaussian (the aliasing of jittered samples fades). */
function blurred(lumas: Float32Array, width: number, height: number): Float32Array {
  const k = gaussianKernel(1, 2);
  return convolveSeparable(lumas, width, height, k, k, new Float32Array(lumas.length));
}

/**
 * Frame t, then heat maps of |frame t − warped frame t − 1| (both blurred) with the settings as
 * given and, when there is a fix, with it (the fixed analysis's pairs carry the fixed motionScale
 * and jitter).
 */
function warpPictures(frame: number, given: Analysis, fixed?: Analysis): Image {
  const heat = (a: Analysis) => {
    const p = a.pairs.find((q) => q.frame === frame)!;
    const { width, height } = p.previous;
    const warped = lumaOf(warpPrevious(p, [1, 1], p.jitterDelta));
    const current = grayOf(blurred(p.currentLuma, width, height), width, height);
    const test = grayOf(blurred(warped, width, height), width, height);
    return {
      current: grayOf(p.currentLuma, width, height),
      heat: errorHeatmap(test, current, 0.05),
    };
  };
  const first = heat(given);
  const images = [toDisplay(first.current), first.heat];
  if (fixed) images.push(heat(fixed).heat);
  const zoom = zoomFor(first.current.width);
  return hstack(images.map((im) => zoomNearest(im, zoom)));
}

/** Frame t in gray with the pixels where the vectors disagree in red. */
function mismatchPicture(a: Analysis): Image | undefined {
  const mm = a.motion?.mismatch;
  if (!mm) return undefined;
  const p = a.pairs.find((q) => q.frame === mm.frame)!;
  const out = createImage(mm.width, mm.height, 3);
  p.currentLuma.forEach((l, i) => {
    const g = 0.25 + 0.5 * l;
    out.data.set(mm.mask[i] ? [1, 0.1, 0.1] : [g, g, g], i * 3);
  });
  return zoomNearest(out, zoomFor(mm.width));
}

/** Residual of the motion fit against the scale factor, one curve per axis. */
function residualSvg(a: Analysis): string | undefined {
  const fit = a.motion?.fit;
  if (!fit) return undefined;
  return linePlotSvg(
    [
      { name: 'x scale', values: fit.curves[0].residual, x: fit.curves[0].k },
      { name: 'y scale', values: fit.curves[1].residual, x: fit.curves[1].k },
    ],
    {
      title: `Warp error vs motion scale (unit: ${fit.unitName}; 1 = as given)`,
      xLabel: `factor on the vectors (× ${fit.unitName === 'UV' ? '1' : fit.unitName})`,
      yLabel: 'mean warp error',
    },
  );
}

/** Stored jitter offsets, and measured against stored frame-to-frame differences. */
function jitterSvgs(a: Analysis): [string, string] {
  const stored = a.params.map((p) => p.jitter);
  const series = [
    {
      name: 'stored offsets',
      x: stored.map((j) => j[0]),
      values: stored.map((j) => j[1]),
      markers: true,
    },
  ];
  const points = a.jitter.alignment?.points ?? [];
  const diffs = [
    {
      name: 'Δx measured',
      x: points.map((p) => p.stored[0]),
      values: points.map((p) => p.measured[0]),
      markers: true,
    },
    {
      name: 'Δy measured',
      x: points.map((p) => p.stored[1]),
      values: points.map((p) => p.measured[1]),
      markers: true,
    },
    { name: 'agreement', x: [-1, 1], values: [-1, 1] },
  ];
  const options = { width: 420, height: 320, xLabel: '', yLabel: '' };
  const left = linePlotSvg(series, {
    ...options,
    title: 'Stored jitter (render px)',
    xLabel: 'x',
    yLabel: 'y',
  });
  const right = linePlotSvg(points.length ? diffs : series, {
    ...options,
    title: 'Content vs stored jitter difference',
    xLabel: 'stored j_t − j_t−1 (px)',
    yLabel: 'measured (px)',
  });
  return [left, right];
}

/** Residual of the camera-motion fit against the fovY factor and against the far-plane factor. */
function cameraSvgs(a: Analysis): [string, string] | undefined {
  const camera = a.depth.camera;
  if (!camera) return undefined;
  const finite = camera.farCurve.filter(
    (c) => Number.isFinite(c.farScale) && Number.isFinite(c.residual),
  );
  const options = { width: 420, height: 320, yLabel: 'residual (render px)' };
  const fov = linePlotSvg(
    [
      {
        name: 'residual',
        x: camera.fovCurve.map((c) => Math.log2(c.fovYScale)),
        values: camera.fovCurve.map((c) => c.residual),
        markers: true,
      },
    ],
    {
      ...options,
      title: 'Camera fit vs fovY',
      xLabel: 'log2 of the factor on fovY (0 = as stated)',
    },
  );
  const far = linePlotSvg(
    [
      {
        name: 'residual',
        x: finite.map((c) => Math.log10(c.farScale)),
        values: finite.map((c) => c.residual),
        markers: true,
      },
    ],
    {
      ...options,
      title: 'Camera fit vs far plane',
      xLabel: 'log10 of the factor on far (0 = as stated)',
    },
  );
  return [fov, far];
}

function depthHistogramSvg(a: Analysis): string {
  const h = a.depth.stats.histogram;
  const total = Math.max(
    1,
    h.reduce((s, v) => s + v, 0),
  );
  return linePlotSvg(
    [
      {
        name: 'pixels',
        values: h.map((v) => (100 * v) / total),
        x: h.map((_, i) => (i + 0.5) / HISTOGRAM_BINS),
      },
    ],
    { title: 'Device depth histogram', xLabel: 'device depth', yLabel: '% of pixels' },
  );
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The numbers of an analysis for report.json (no images). */
export function analysisSummary(a: Analysis): Record<string, unknown> {
  const motion = a.motion && {
    unit: a.motion.fit.unitName,
    factor: a.motion.fit.k,
    motionScaleFactor: a.motion.fit.scale,
    jitterFactor: a.motion.fit.jitter,
    residual: {
      zeroMotion: a.motion.fit.residualZero,
      asGiven: a.motion.fit.residualGiven,
      fitted: a.motion.fit.residualBest,
    },
    backward: a.motion.backward,
    forward: a.motion.forward,
    medianPixels: a.motion.medianPixels,
    disocclusionShare: a.motion.disocclusionShare,
    mismatch: a.motion.mismatch && {
      frame: a.motion.mismatch.frame,
      share: a.motion.mismatch.share,
      regions: a.motion.mismatch.regions,
    },
    curves: a.motion.fit.curves,
  };
  return {
    pairs: a.pairs.map((p) => p.frame),
    analysisFactor: a.factor,
    motion,
    jitter: a.jitter,
    depth: a.depth,
    color: a.color,
  };
}

export interface CheckReportContext {
  /** The command line, shown in the report. */
  command: string;
}

/** Writes report.json, report.html and the pictures into `dir` (created if needed). */
export function writeCheckReport(
  dir: string,
  result: CheckResult,
  context: CheckReportContext,
): void {
  mkdirSync(dir, { recursive: true });
  const a = result.analysis;
  const v = result.verification;
  const json = {
    generated: new Date().toISOString(),
    command: context.command,
    sequence: a.name,
    renderSize: a.header.renderSize,
    displaySize: a.header.displaySize,
    frameCount: a.params.length,
    clean: result.clean,
    findings: result.findings,
    fix: result.fix,
    verification: v && {
      fix: v.fix,
      resolved: v.resolved,
      findings: v.findings,
      analysis: analysisSummary(v.analysis),
    },
    analysis: analysisSummary(a),
  };
  writeFileSync(join(dir, 'report.json'), JSON.stringify(json, checkJsonReplacer, 1) + '\n');
  const sections: string[] = [];
  const figure = (file: string, caption: string) =>
    sections.push(`<figure><img src="${file}"><figcaption>${caption}</figcaption></figure>`);
  if (a.motion) {
    const p = a.pairs[0]!;
    const wheel = motionWheel(p.motion, [1, 1]);
    const zoom = zoomFor(wheel.width);
    writePng(join(dir, 'motion-field.png'), hstack([zoomNearest(wheel, zoom), wheelKey(96)]), {
      bits: 8,
    });
    figure(
      'motion-field.png',
      `Motion vectors of frame ${p.frame} as given (motionScale applied): hue is the direction of prevUV − uv ` +
        '(key on the right: a surface that was to the right of where it is now is red), brightness the length ' +
        '(black = still). A camera pan is one flat color; a turn or a dolly shows a smooth sweep; an object ' +
        'with its own motion stands out with its own color; a black object on a moving background has no vectors.',
    );
    writePng(join(dir, 'warp-error.png'), vstack([warpPictures(p.frame, a, v?.analysis)]), {
      bits: 8,
    });
    figure(
      'warp-error.png',
      `Frame ${p.frame}, then |frame − previous frame warped by the vectors| (tonemapped luma, both blurred by a 1-pixel Gaussian so that the aliasing of jittered samples fades; white = 0.05 or more) ` +
        (v ? 'as given, then with the suggested fix. ' : 'as given. ') +
        'Right vectors leave only thin edges (aliasing of the jittered samples) and disocclusions; wrong ones ' +
        'double every edge across the image.',
    );
    const svg = residualSvg(a);
    if (svg) {
      writeFileSync(join(dir, 'motion-residual.svg'), svg);
      figure(
        'motion-residual.svg',
        'Mean warp error when the vectors are multiplied by a factor, per axis. Correct vectors have the ' +
          'minimum at 1; at −1 they point the wrong way; at 0.5 or 2 they are twice or half too long. A flat ' +
          'curve means too little motion to tell.',
      );
    }
    const mismatch = mismatchPicture(a);
    if (mismatch) {
      writePng(join(dir, 'mismatch.png'), mismatch, { bits: 8 });
      figure(
        'mismatch.png',
        `Frame ${a.motion.mismatch!.frame}: in red, pixels whose vectors disagree with the image (the warp error is high while a plain shift of the previous frame matches). ` +
          'Disocclusions are left out. A compact red blob is an object with missing or stale vectors; scattered dots are aliasing.',
      );
    }
  }
  const [offsets, alignment] = jitterSvgs(a);
  writeFileSync(join(dir, 'jitter-offsets.svg'), offsets);
  writeFileSync(join(dir, 'jitter-alignment.svg'), alignment);
  sections.push(
    '<figure><div class="row"><img src="jitter-offsets.svg"><img src="jitter-alignment.svg"></div>' +
      '<figcaption>Left: the stored jitter offsets (Halton(2,3) fills the pixel evenly; one dot at (0, 0) means no jitter). ' +
      'Right: per frame pair, the sub-pixel shift that aligns the frames best against the stored jitter difference. ' +
      'Points on the diagonal: the jitter is right; on the other diagonal: its sign is flipped; on the x axis: the stored ' +
      'jitter is not in the frames.</figcaption></figure>',
  );
  writeFileSync(join(dir, 'depth-histogram.svg'), depthHistogramSvg(a));
  figure(
    'depth-histogram.svg',
    'Device depth of the loaded frames. A perspective projection with near = 0 piles almost everything up near 1 ' +
      '(reversed-Z near 0); a flat spread over [0, 1] is linear depth; a few spikes are 8-bit depth.',
  );
  const camera = cameraSvgs(a);
  if (camera) {
    writeFileSync(join(dir, 'camera-fovy.svg'), camera[0]);
    writeFileSync(join(dir, 'camera-far.svg'), camera[1]);
    sections.push(
      '<figure><div class="row"><img src="camera-fovy.svg"><img src="camera-far.svg"></div>' +
        '<figcaption>Depth and lens against the vectors: each pixel is unprojected with its depth and the lens, moved by the ' +
        'camera motion that fits the vectors best, and projected again; the curves show what remains (render pixels, the ' +
        'best-fitting 70 % of pixels) when fovY (left) or the far plane (right) is scaled. Right depth and lens reach ' +
        'about 0 at factor 1 (0 on these axes). A far plane larger than stated often fits as well (every surface is ' +
        'then far nearer than the far plane), and a still or purely rotating camera leaves the far curve flat.</figcaption></figure>',
    );
  }
  const first = [...a.images.values()][0]!;
  const inverted = plausibleInversion(a.depth.stats, a.header);
  writePng(
    join(dir, 'depth.png'),
    zoomNearest(depthPicture(first.depth, inverted), zoomFor(first.depth.width)),
    { bits: 8 },
  );
  figure(
    'depth.png',
    `Depth of frame ${[...a.images.keys()][0]}, near bright (read as depthInverted: ${inverted}).`,
  );
  writeFileSync(join(dir, 'report.html'), html(result, context, sections));
}

function findingRows(findings: readonly CheckResult['findings'][number][]): string {
  if (findings.length === 0) return '<p>No findings.</p>';
  const rows = findings.map(
    (f) =>
      `<tr class="${f.severity}"><td>${f.severity}</td><td>${f.id}</td><td>${f.confidence.toFixed(2)}</td><td>${escapeHtml(f.message)}</td></tr>`,
  );
  return `<table><tr><th>severity</th><th>finding</th><th>confidence</th><th>what and what to do</th></tr>${rows.join('')}</table>`;
}

function html(result: CheckResult, context: CheckReportContext, sections: string[]): string {
  const a = result.analysis;
  const v = result.verification;
  const fix = Object.keys(result.fix).length
    ? `<h2>Suggested fix</h2><pre>${escapeHtml(fixJson(result.fix))}</pre>` +
      `<p>The scales (motionScale, jitterScale, fovYScale, cameraFarScale) multiply what the sequence has now. Checked again with the fix applied: ${
        v?.resolved ? '<b>resolved</b>' : '<b>not fully resolved</b>'
      }.</p>${findingRows(v?.findings ?? [])}`
    : '';
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>uplift check: ${escapeHtml(a.name)}</title>
<style>
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
tr.error td:first-child { color: #b00; font-weight: bold; } tr.warning td:first-child { color: #a60; } tr.info td:first-child { color: #36c; }
figure { margin: 1.5em 0; } figcaption { max-width: 900px; color: #333; } img { image-rendering: pixelated; }
.row { display: flex; gap: 12px; flex-wrap: wrap; }
</style></head><body>
<h1>uplift check: ${escapeHtml(a.name)}</h1>
<p>${a.header.renderSize.join('×')} → ${a.header.displaySize.join('×')}, ${a.params.length} frames; pairs checked: ${a.pairs.map((p) => p.frame).join(', ') || 'none'}.
Command: <code>${escapeHtml(context.command)}</code>. ${result.clean ? '<b>Clean</b> (no errors or warnings).' : ''}</p>
<h2>Findings</h2>
${findingRows(result.findings)}
${fix}
<h2>Pictures</h2>
${sections.join('\n')}
</body></html>
`;
}
