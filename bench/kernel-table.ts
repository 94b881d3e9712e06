/**
 * Per kernel of an INT8 network, what a per-node benchmark case measured against what the kernel
 * must do (issue "Speed I": time, bytes moved and the rate achieved against the device's measured
 * peaks): each node's median GPU time joined with its multiply-accumulates and least traffic
 * (`describeInt8Plan`, as `uplift info --plan` prints them), the rates they give, and those rates
 * as shares of a measured multiply-accumulate peak and copy bandwidth.
 */
import type { PlanDescription } from '../src/nn/describe-int8-plan.ts';
import type { Summary } from './stats.ts';

/** The measured ceilings a kernel's rates are set against. */
export interface DevicePeaks {
  /** Multiply-accumulates per second, T (e.g. dot4I8Packed fed from workgroup memory). */
  readonly teraMacs: number;
  /** Bytes per second, TB (e.g. a device-to-device copy). */
  readonly terabytes: number;
}

export interface KernelRow {
  readonly kernel: string;
  readonly microseconds: number;
  readonly mmac: number;
  readonly megabytes: number;
  readonly teraMacs: number;
  readonly terabytes: number;
  /** teraMacs and terabytes as shares of the peaks. */
  readonly macShare: number;
  readonly byteShare: number;
}

/**
 * The rows of `plan`'s kernels that `gpuMs` timed (by kernel name, as a per-node case labels its
 * passes), in the plan's order, and their sum. Throws if a kernel of the plan was not timed.
 */
export function kernelTable(
  gpuMs: Readonly<Record<string, Summary>>,
  plan: PlanDescription,
  peaks: DevicePeaks,
): { rows: KernelRow[]; total: KernelRow } {
  const row = (kernel: string, microseconds: number, macs: number, bytes: number): KernelRow => {
    const seconds = microseconds * 1e-6;
    const teraMacs = macs / seconds / 1e12;
    const terabytes = bytes / seconds / 1e12;
    return {
      kernel,
      microseconds,
      mmac: macs / 1e6,
      megabytes: bytes / 1e6,
      teraMacs,
      terabytes,
      macShare: teraMacs / peaks.teraMacs,
      byteShare: terabytes / peaks.terabytes,
    };
  };
  /**
   * A kernel's median ms; a one-pass quantization (`quantize a + b`) from runs before it (until
   * 2026-12-08) as the sum of its copies' passes (`quantize a`, `quantize b`).
   */
  const timedMs = (k: PlanDescription['kernels'][number]): number | undefined => {
    const timed = gpuMs[k.name];
    if (timed || k.op !== 'quantize') return timed?.median;
    const parts = k.name
      .replace(/^quantize /, '')
      .split(' + ')
      .map((t) => gpuMs[`quantize ${t}`]);
    return parts.every((t) => t) ? parts.reduce((sum, t) => sum + t!.median, 0) : undefined;
  };
  const rows = plan.kernels.map((k) => {
    const timed = timedMs(k);
    if (timed === undefined) {
      throw new Error(
        `kernel "${k.name}" of the plan is not among the case's timed parts (${Object.keys(gpuMs).join(', ')})`,
      );
    }
    return row(k.name, timed * 1000, k.macs, k.bytesRead + k.bytesWritten);
  });
  const sum = (f: (r: KernelRow) => number) => rows.reduce((s, r) => s + f(r), 0);
  return {
    rows,
    total: row(
      'all kernels',
      sum((r) => r.microseconds),
      plan.macs,
      plan.bytesRead + plan.bytesWritten,
    ),
  };
}

/** The table as Markdown (µs, MMAC, MB, T MAC/s and TB/s with their shares of the peaks). */
export function kernelTableMarkdown(table: { rows: KernelRow[]; total: KernelRow }): string {
  const percent = (v: number) => `${Math.round(v * 100)} %`;
  const line = (r: KernelRow, bold = false) => {
    const b = (s: string) => (bold ? `**${s}**` : s);
    return `| ${b(r.kernel)} | ${b(r.microseconds.toFixed(1))} | ${r.mmac.toFixed(0)} | ${r.megabytes.toFixed(1)} | ${r.teraMacs.toFixed(1)} | ${percent(r.macShare)} | ${r.terabytes.toFixed(2)} | ${percent(r.byteShare)} |`;
  };
  return [
    '| kernel | µs | MMAC | MB moved | T MAC/s | of the MAC peak | TB/s | of the copy rate |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...table.rows.map((r) => line(r)),
    line(table.total, true),
  ].join('\n');
}
