/**
 * A small SVG line chart (per-frame metric curves, training curves): one series per method,
 * axes with ticks, a legend. Plain SVG text, readable in any browser and on GitHub.
 */

export interface PlotSeries {
  name: string;
  /** y values by x index; null/NaN/±Infinity points are skipped (a gap in the line). */
  values: ReadonlyArray<number | null | undefined>;
  /** x values (default 0, 1, 2, ...). */
  x?: ReadonlyArray<number>;
  /** Draw each point as a dot instead of joining them (a scatter plot). */
  markers?: boolean;
  /** Points (by index) drawn as a small dot on the line, e.g. the generated frames of a stream. */
  marked?: ReadonlyArray<boolean>;
}

export interface LinePlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Shade x < warmup as the warm-up region. */
  warmup?: number;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2'];

function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) ticks.push(v);
  return ticks;
}

const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function formatTick(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0)
    ? v.toExponential(1)
    : String(Number(v.toPrecision(4)));
}

/** Renders the chart as an SVG document. */
export function linePlotSvg(series: readonly PlotSeries[], options: LinePlotOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 320;
  const m = { left: 64, right: 150, top: 32, bottom: 44 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const points = series.map((s) =>
    s.values.map((v, i) => [s.x?.[i] ?? i, v] as const).filter(([, v]) => Number.isFinite(v)),
  ) as Array<Array<readonly [number, number]>>;
  const all = points.flat();
  let [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (all.length === 0) [x0, x1, y0, y1] = [0, 1, 0, 1];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => m.top + (1 - (y - y0) / (y1 - y0)) * ph;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${m.left + pw / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(options.title)}</text>`,
  );
  if (options.warmup && options.warmup > x0) {
    const wx = sx(Math.min(options.warmup - 0.5, x1));
    out.push(
      `<rect x="${m.left}" y="${m.top}" width="${Math.max(0, wx - m.left)}" height="${ph}" fill="#eee"/>`,
      `<text x="${m.left + 4}" y="${m.top + 14}" fill="#888">warm-up</text>`,
    );
  }
  for (const t of niceTicks(y0, y1, 5)) {
    out.push(
      `<line x1="${m.left}" x2="${m.left + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#ddd"/>`,
      `<text x="${m.left - 6}" y="${sy(t) + 4}" text-anchor="end">${formatTick(t)}</text>`,
    );
  }
  for (const t of niceTicks(x0, x1, 8)) {
    out.push(
      `<line x1="${sx(t)}" x2="${sx(t)}" y1="${m.top + ph}" y2="${m.top + ph + 4}" stroke="#333"/>`,
      `<text x="${sx(t)}" y="${m.top + ph + 18}" text-anchor="middle">${formatTick(t)}</text>`,
    );
  }
  out.push(
    `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`,
    `<text x="${m.left + pw / 2}" y="${height - 8}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  );
  series.forEach((s, k) => {
    const color = PALETTE[k % PALETTE.length]!;
    // Break the line where values are missing.
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (!Number.isFinite(v)) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${sx(s.x?.[i] ?? i).toFixed(1)} ${sy(v as number).toFixed(1)}`;
      pen = true;
    });
    if (s.markers) {
      s.values.forEach((v, i) => {
        if (!Number.isFinite(v)) return;
        const [cx, cy] = [sx(s.x?.[i] ?? i).toFixed(1), sy(v as number).toFixed(1)];
        out.push(`<circle cx="${cx}" cy="${cy}" r="3.5" fill="${color}" fill-opacity="0.8"/>`);
      });
    } else out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.8"/>`);
    s.values.forEach((v, i) => {
      if (!s.marked?.[i] || !Number.isFinite(v)) return;
      const [cx, cy] = [sx(s.x?.[i] ?? i).toFixed(1), sy(v as number).toFixed(1)];
      out.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${color}"/>`);
    });
    const ly = m.top + 10 + k * 18;
    out.push(
      `<line x1="${m.left + pw + 12}" x2="${m.left + pw + 32}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2.5"/>`,
      `<text x="${m.left + pw + 38}" y="${ly + 4}">${escapeXml(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
