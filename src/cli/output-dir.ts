/**
 * Where a command writes frames: one policy. The output directory is compared with the inputs by
 * real path (symlinks resolved), and may be neither an input nor inside one; it must be a
 * directory (or not exist yet: it is made, without Node's recursive mkdir when the parent exists,
 * which spins on procfs); frames already there are refused, or with `overwrite` removed first, so
 * a shorter run leaves no stale frames. Errors are InputErrors naming the path.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
} from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { InputError } from '../core/errors.ts';

/** A frame file a command writes: NNNN.ext (four or more digits). */
export const FRAME_FILE = /^\d{4,}\.(exr|png)$/;

function realOrResolved(path: string): string {
  try {
    return realpathSync(path);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ELOOP') throw new InputError(`${path}: a symlink loop`);
    // Not there yet: the real path of its nearest existing parent, plus the rest.
    const parent = dirname(resolve(path));
    if (parent === resolve(path)) return resolve(path);
    return resolve(realOrResolved(parent), relative(parent, resolve(path)));
  }
}

const inside = (child: string, parent: string) =>
  child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);

/**
 * Checks and prepares `output` for frames: not one of `inputs` nor inside one, a directory, and
 * without frames unless `overwrite` (which removes them). Returns its real path.
 */
export function prepareOutputDirectory(
  output: string,
  options: {
    inputs: readonly string[];
    overwrite: boolean;
    flag?: string;
    /** The command writes NNNN.ext frames here (default true); false leaves files alone. */
    frames?: boolean;
  },
): string {
  const flag = options.flag ?? '--output';
  const real = realOrResolved(output);
  for (const input of options.inputs) {
    if (input.startsWith('builtin:')) continue;
    const source = realOrResolved(input);
    if (inside(real, source)) {
      throw new InputError(
        `${flag} ${output} is ${real === source ? 'the input' : 'inside the input'} ${input}: write elsewhere, so the input stays as it was`,
      );
    }
  }
  if (existsSync(real)) {
    if (!statSync(real).isDirectory()) {
      throw new InputError(`${flag} ${output} is a file, not a directory`);
    }
    const frames =
      options.frames === false ? [] : readdirSync(real).filter((f) => FRAME_FILE.test(f));
    if (frames.length > 0) {
      if (!options.overwrite) {
        throw new InputError(
          `${output} already holds frames (${frames[0]}); pass --overwrite to replace them`,
        );
      }
      for (const f of frames) rmSync(resolve(real, f));
    }
    return real;
  }
  const parent = dirname(real);
  try {
    if (existsSync(parent)) {
      if (!lstatSync(parent).isDirectory() && !statSync(parent).isDirectory()) {
        throw new InputError(`${flag} ${output}: ${parent} is not a directory`);
      }
      mkdirSync(real);
    } else {
      mkdirSync(real, { recursive: true });
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    const code = (error as { code?: string }).code ?? (error as Error).message;
    throw new InputError(`${flag} ${output}: cannot create the directory (${code})`);
  }
  return real;
}
