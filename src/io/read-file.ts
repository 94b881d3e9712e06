/** File access with user-facing errors: a missing or unreadable input is an `InputError`. */
import { readFile } from 'node:fs/promises';
import { InputError } from '../core/errors.ts';

/** The bytes of `path`; ENOENT, EISDIR, EACCES… become an `InputError` naming the file. */
export async function readInputFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EISDIR'
          ? 'is a directory, expected a file'
          : `cannot read (${(error as Error).message})`;
    throw new InputError(`${path}: ${problem}`);
  }
}
