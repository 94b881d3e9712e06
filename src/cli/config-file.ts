/** The `--config` file of `uplift train` and `uplift train-framegen`. */
import { readFile } from 'node:fs/promises';
import { InputError } from '../core/errors.ts';
import { parseTrainConfigText } from '../train/config.ts';

/** The training config file at `path` as a JSON object; errors name the file. */
export async function readTrainConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read config ${path}: ${(e as Error).message}`);
  }
  return parseTrainConfigText(text, path);
}
