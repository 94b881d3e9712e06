/**
 * Progress for long CLI work: a bar with ETA on a terminal, a line every few seconds otherwise
 * (CI logs, pipes), nothing with --quiet. Always writes to stderr so stdout stays clean for JSON.
 */
import { SingleBar, Presets } from 'cli-progress';

export interface Progress {
  /** Advances by one step, with an optional short status (e.g. "taau frame 12"). */
  tick(status?: string): void;
  stop(): void;
}

export function createProgress(label: string, total: number, quiet = false): Progress {
  if (quiet) return { tick() {}, stop() {} };
  if (process.stderr.isTTY) {
    const bar = new SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} {percentage}% ETA {eta_formatted} {status}`,
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: false,
      },
      Presets.shades_classic,
    );
    bar.start(total, 0, { status: '' });
    return {
      tick: (status = '') => bar.increment(1, { status }),
      stop: () => bar.stop(),
    };
  }
  let done = 0;
  let last = 0;
  const start = Date.now();
  return {
    tick(status = '') {
      done++;
      const now = Date.now();
      if (now - last > 5000 || done === total) {
        last = now;
        const eta = done > 0 ? ((now - start) / done) * (total - done) : 0;
        process.stderr.write(
          `${label}: ${done}/${total} (${Math.round((100 * done) / total)}%) ETA ${(eta / 1000).toFixed(0)} s ${status}\n`,
        );
      }
    },
    stop() {},
  };
}
