/**
 * The `uplift` command. Each subcommand lives in its own file and exports `register(program)`.
 * Errors about the user's input print one clear line and exit 1, and so do file system refusals
 * of a path (a file where a directory should be, no permission, a full disk: Node's message
 * names the path and the code); anything else is a bug and prints its stack.
 */
import { Command, CommanderError } from 'commander';
import { GpuRefusedError, InputError } from '../core/errors.ts';
import { NoGpuError } from '../gpu/device.ts';

/** At most this many characters of an error reach the terminal (a value echoed can be huge). */
const MAX_MESSAGE = 600;

/** A Node file system error about a path (ENOENT, ENOTDIR, EACCES, ELOOP, ENOSPC…). */
function isPathError(err: unknown): err is NodeJS.ErrnoException {
  const e = err as NodeJS.ErrnoException;
  return err instanceof Error && typeof e.code === 'string' && typeof e.path === 'string';
}

function shortened(message: string): string {
  if (message.length <= MAX_MESSAGE) return message;
  return `${message.slice(0, MAX_MESSAGE)}… (${message.length - MAX_MESSAGE} more characters)`;
}

const program = new Command();
program
  .name('uplift')
  .description('Uplift: temporal upscaling for real-time rendering, on WebGPU')
  .showHelpAfterError('(run with --help for usage)');

// Subcommand modules, in the order --help lists them.
const modules: Array<{ register(program: Command): void }> = [
  await import('./demo.ts'),
  await import('./upscale.ts'),
  await import('./interpolate.ts'),
  await import('./eval.ts'),
  await import('./info.ts'),
  await import('./check.ts'),
  await import('./render.ts'),
  await import('./train.ts'),
  await import('./train-framegen.ts'),
  await import('./export-weights.ts'),
  await import('./quantize.ts'),
  await import('./export-onnx.ts'),
  await import('./import-onnx.ts'),
  await import('./dataset.ts'),
];
for (const m of modules) m.register(program);

try {
  await program.parseAsync(process.argv);
  process.exit(process.exitCode ?? 0);
} catch (err) {
  if (
    err instanceof InputError ||
    err instanceof NoGpuError ||
    err instanceof GpuRefusedError ||
    err instanceof RangeError ||
    isPathError(err)
  ) {
    console.error(`uplift: ${shortened(err.message)}`);
    process.exit(1);
  }
  if (err instanceof CommanderError) process.exit(err.exitCode);
  console.error(err);
  process.exit(1);
}
