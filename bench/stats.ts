/**
 * What every benchmark shares: sample summaries (median, p10, p90), the result shapes written to
 * bench.json, and a guard so a stuck GPU wait fails one case instead of hanging the whole run.
 */

/** Summary of repeated measurements, in the unit of the samples (milliseconds here). */
export interface Summary {
  median: number;
  p10: number;
  p90: number;
  min: number;
  max: number;
  /** Number of samples. */
  n: number;
}

/** The value at quantile `q` (0..1) of sorted `values`, linear between neighbours. */
function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}

/** Median, 10th and 90th percentile, min and max of `samples` (at least one). */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new RangeError('summarize: no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    median: quantile(sorted, 0.5),
    p10: quantile(sorted, 0.1),
    p90: quantile(sorted, 0.9),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    n: sorted.length,
  };
}

/** Samples per label, in arrival order. */
export class SampleSet {
  readonly samples = new Map<string, number[]>();

  add(label: string, value: number): void {
    const list = this.samples.get(label);
    if (list) list.push(value);
    else this.samples.set(label, [value]);
  }

  addAll(values: ReadonlyMap<string, number>): void {
    for (const [label, value] of values) this.add(label, value);
  }

  summaries(): Record<string, Summary> {
    const out: Record<string, Summary> = {};
    for (const [label, values] of this.samples) out[label] = summarize(values);
    return out;
  }
}

/** One measured configuration of a benchmark. */
export interface BenchCase {
  /** Short unique name, e.g. "taau+rcas 1920x1080 performance". */
  name: string;
  /** What was measured: method, sizes, quality, … */
  params: Record<string, string | number | boolean>;
  /** Measured frames (after warm-up). */
  frames: number;
  /** GPU times from timestamp queries in ms, by stage; "frame" is the whole frame. */
  gpuMs: Record<string, Summary>;
  /** CPU wall time per frame in ms: encode + submit + wait for the queue. */
  wallMs?: Summary;
  /** CPU time per frame in ms spent recording the commands (part of wallMs). */
  encodeMs?: Summary;
  /** Wall ms per frame with the frames submitted back to back and one wait at the end. */
  pipelinedMs?: number;
  /** Derived numbers (throughput, counts), named with their unit. */
  derived?: Record<string, number>;
  /** Set when this case failed; the other cases still ran. */
  error?: string;
}

/** One benchmark's outcome in bench.json. */
export interface BenchResult {
  name: string;
  /** Wall seconds the benchmark took. */
  seconds: number;
  cases: BenchCase[];
  /** Set when the benchmark failed as a whole (cases measured before the failure are kept). */
  error?: string;
}

/** Settings every benchmark takes from bench/all.ts. */
export interface BenchSettings {
  /** Tiny sizes and few frames: the CPU smoke test. */
  quick: boolean;
  /** Measured frames per case. */
  frames: number;
  /** Unmeasured frames first (pipeline creation, first memory touches, clocks). */
  warmup: number;
  /** A case stops measuring after this many seconds (it reports the frames it has). */
  caseSeconds: number;
  /**
   * Milliseconds of a busy kernel run before each frame (bench/gpu-load.ts), so frames are timed
   * at a loaded GPU's clocks; 0: none (the frames then run on an otherwise idle GPU).
   */
  gpuLoadMs: number;
  /**
   * performance.now() after which no case starts and running ones stop measuring: the whole run
   * must fit one GPU-machine call.
   */
  deadline: number;
  /** Only cases whose name this matches run (`--cases`); the others are left out of the report. */
  cases?: RegExp;
  /** Progress lines (stderr). */
  log(line: string): void;
}

/**
 * Measures every case in turn; a failing case is recorded with its error (and logged) and the
 * others still run.
 */
export async function runCases<C>(
  benchmark: string,
  cases: readonly C[],
  nameOf: (c: C) => string,
  settings: BenchSettings,
  measure: (c: C) => Promise<BenchCase>,
): Promise<BenchCase[]> {
  const results: BenchCase[] = [];
  for (const c of cases) {
    const name = nameOf(c);
    if (settings.cases && !settings.cases.test(name)) continue;
    if (performance.now() > settings.deadline) {
      settings.log(`${benchmark}: ${name} skipped (time budget spent)`);
      results.push({ name, params: {}, frames: 0, gpuMs: {}, error: 'skipped: time budget spent' });
      continue;
    }
    settings.log(`${benchmark}: ${name}`);
    try {
      results.push(await measure(c));
    } catch (error) {
      settings.log(`  failed: ${errorMessage(error)}`);
      results.push({ name, params: {}, frames: 0, gpuMs: {}, error: errorMessage(error) });
    }
  }
  return results;
}

/** `promise`, or a rejection naming `what` after `seconds`: a lost device must not hang the run. */
export function withTimeout<T>(promise: Promise<T>, seconds: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: no answer in ${seconds} s`)),
      seconds * 1e3,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The message of anything thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
