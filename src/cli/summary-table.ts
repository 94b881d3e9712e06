/** Prints the steady-state metrics of an evaluation as a plain text table on stdout. */
import type { SequenceResult } from '../eval/evaluate.ts';

export function printSummaryTable(results: readonly SequenceResult[]): void {
  const rows = [['sequence', 'method', 'PSNR', 'SSIM', 'FLIP', 'tPSNR']];
  for (const r of results) {
    for (const m of r.methods) {
      const s = m.summary.steady;
      rows.push([
        r.sequence,
        m.method,
        s.psnr.toFixed(2),
        s.ssim.toFixed(4),
        s.flip === undefined ? '–' : s.flip.toFixed(4),
        s.tpsnr === undefined ? '–' : s.tpsnr.toFixed(2),
      ]);
    }
  }
  printRows(rows);
}

/** Prints rows of cells (the first the header) as columns padded to their widest cell. */
export function printRows(rows: readonly (readonly string[])[]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log(r.map((v, c) => v.padEnd(widths[c]!)).join('  '));
}
