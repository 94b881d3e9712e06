/**
 * Resolves a sequence argument of the CLI: a sequence directory (DESIGN §4) or a built-in
 * generated sequence, `builtin:analytic[:seed]` (no files needed).
 */
import { existsSync } from 'node:fs';
import { InputError } from '../core/errors.ts';
import { parseQuality, type Size } from '../core/quality.ts';
import { analyticSequence, analyticSource } from '../scene/analytic.ts';
import type { FrameSource } from '../core/frame.ts';
import { openSequence } from '../io/index.ts';

export interface BuiltinOptions {
  displaySize?: Size;
  quality?: string;
  frames?: number;
}

/** The built-in sequences a user can name instead of a directory. */
export const BUILTIN_SEQUENCES = ['builtin:analytic'] as const;

export async function openSequenceArg(
  arg: string,
  builtin: BuiltinOptions = {},
): Promise<FrameSource> {
  if (arg.startsWith('builtin:')) {
    const [, name, seedText] = arg.split(':');
    if (name !== 'analytic') {
      throw new InputError(
        `unknown built-in sequence "${arg}" (known: ${BUILTIN_SEQUENCES.join(', ')})`,
      );
    }
    const seed = seedText === undefined ? 1 : Number(seedText);
    if (!Number.isInteger(seed)) throw new InputError(`${arg}: seed must be an integer`);
    const sequence = analyticSequence({
      displaySize: builtin.displaySize,
      ratio: builtin.quality ? parseQuality(builtin.quality) : undefined,
      frames: builtin.frames,
      seed,
    });
    return analyticSource(sequence, seedText === undefined ? 'analytic' : `analytic-${seed}`);
  }
  if (!existsSync(arg)) {
    throw new InputError(
      `${arg}: no such sequence directory (or name a built-in: ${BUILTIN_SEQUENCES.join(', ')})`,
    );
  }
  return openSequence(arg);
}
