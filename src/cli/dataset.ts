/**
 * `uplift dataset`: renders every entry of a split (src/train/splits.ts) to `<out>/<name>/` as a
 * sequence directory, so `uplift eval <out>/*` measures methods on the held-out set. Entries that
 * already exist complete with the same settings are skipped, so an interrupted run resumes.
 *
 * Outputs follow the policy of output-dir.ts (real paths, not inside an input scene file, no
 * file / symlink loop / procfs path taken for a directory). An entry's sequence.json is its
 * completion marker: removed before the entry is (re)written, written after its last frame, and
 * never after a frame the GPU refused. --overwrite re-renders complete entries, removing their old
 * frames first, so a shorter run leaves none stale.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../core/errors.ts';
import { withGpuErrorScope } from '../gpu/error-scope.ts';
import { parseQuality, parseSize, renderSizeFor, type Size } from '../core/quality.ts';
import { createSequenceWriter, openSequence } from '../io/sequence.ts';
import { loadScene } from '../scene/load.ts';
import { createSceneRenderer, sceneFrameSource } from '../scene/renderer.ts';
import { entryScene, splitEntries, type SplitEntry, type SplitName } from '../train/splits.ts';
import { cliGpu } from './gpu-arg.ts';
import { parseInteger } from './flags.ts';
import { prepareOutputDirectory } from './output-dir.ts';
import { createProgress, type Progress } from './progress.ts';

interface DatasetCliOptions {
  split: string;
  out?: string;
  display?: string;
  quality?: string;
  frames?: string;
  samples: string;
  only?: string;
  list?: boolean;
  overwrite?: boolean;
  quiet?: boolean;
}

/** How an entry is rendered (the split's values with the command-line overrides applied). */
export interface DatasetSettings {
  displaySize?: Size;
  ratio?: number;
  frames?: number;
  /** Reference samples per display pixel. */
  samples: number;
}

/** The entries of a split kept by `--only` (comma-separated words, each matching inside a name). */
export function selectEntries(entries: readonly SplitEntry[], only?: string): SplitEntry[] {
  if (only === undefined) return [...entries];
  const words = only
    .split(',')
    .map((w) => w.trim())
    .filter((w) => w.length > 0);
  const kept = entries.filter((e) => words.some((w) => e.name.includes(w)));
  if (kept.length === 0) throw new InputError(`--only "${only}" matches no entry of the split`);
  return kept;
}

/** An entry with the overrides applied. */
function applySettings(entry: SplitEntry, settings: DatasetSettings): SplitEntry {
  return {
    ...entry,
    displaySize: settings.displaySize ?? entry.displaySize,
    ratio: settings.ratio ?? entry.ratio,
    frames: settings.frames ?? entry.frames,
  };
}

/**
 * Whether `dir` already holds this entry complete. A directory without sequence.json (an
 * interrupted write) is not complete; a complete one made with other settings is an error unless
 * `overwrite`.
 */
async function isComplete(
  dir: string,
  entry: SplitEntry,
  samples: number,
  overwrite: boolean,
): Promise<boolean> {
  if (overwrite || !existsSync(join(dir, 'sequence.json'))) return false;
  const existing = await openSequence(dir);
  const source = existing.header.source ?? {};
  const same =
    existing.frameCount === entry.frames &&
    existing.header.displaySize.join('x') === entry.displaySize.join('x') &&
    existing.header.renderSize.join('x') ===
      renderSizeFor(entry.displaySize, entry.ratio).join('x') &&
    source['seed'] === entry.seed &&
    source['path'] === entry.path &&
    source['samples'] === samples;
  if (!same) {
    throw new InputError(
      `${dir}: holds a sequence made with other settings than ${entry.name} now asks for; use --overwrite or another --out`,
    );
  }
  return true;
}

/** Renders one entry to `dir` (a sequence directory), ticking `progress` once per frame. */
async function renderEntry(
  device: GPUDevice,
  entry: SplitEntry,
  dir: string,
  samples: number,
  progress: Progress,
): Promise<void> {
  const scene = await loadScene(entryScene(entry), entry.seed);
  const renderer = createSceneRenderer(device, {
    scene,
    path: entry.path,
    seed: entry.seed,
    frames: entry.frames,
    displaySize: entry.displaySize,
    ratio: entry.ratio,
    samples,
  });
  try {
    // Keep the split's name for the scene (glTF scenes are named after their file's root node).
    const header = { ...renderer.header, source: { ...renderer.header.source, entry: entry.name } };
    const writer = await createSequenceWriter(dir, header, { overwrite: true });
    const source = sceneFrameSource(renderer);
    for (let i = 0; i < entry.frames; i++) {
      // A frame the GPU refused is an error before sequence.json (written last) exists.
      const images = await withGpuErrorScope(
        device,
        `dataset: ${entry.name} frame ${i} (sequence.json not written)`,
        () => source.readFrame(i),
      );
      await writer.writeFrame(i, source.frameParams(i), images);
      progress.tick(`${entry.name} ${i}`);
    }
    await writer.finish();
  } finally {
    renderer.destroy();
  }
}

/**
 * Renders `entries` under `out` (one sequence directory per entry name), skipping complete ones.
 * Returns the names written and skipped.
 */
export async function writeDataset(
  device: GPUDevice,
  entries: readonly SplitEntry[],
  out: string,
  settings: DatasetSettings,
  options: { overwrite?: boolean; quiet?: boolean; label?: string } = {},
): Promise<{ written: string[]; skipped: string[] }> {
  const planned = entries.map((e) => applySettings(e, settings));
  // The scene files are the inputs: no output may be one of them or lie inside one.
  const inputs = planned.map(entryScene).filter((scene) => /\.(gltf|glb)$/i.test(scene));
  const output = (dir: string) =>
    prepareOutputDirectory(dir, { inputs, overwrite: false, frames: false, flag: '--out' });
  output(out);
  const todo: SplitEntry[] = [];
  const skipped: string[] = [];
  for (const entry of planned) {
    const complete = await isComplete(
      join(out, entry.name),
      entry,
      settings.samples,
      options.overwrite ?? false,
    );
    if (complete) skipped.push(entry.name);
    else todo.push(entry);
  }
  const total = todo.reduce((sum, e) => sum + e.frames, 0);
  const progress = createProgress(options.label ?? 'dataset', Math.max(1, total), options.quiet);
  for (const entry of todo) {
    const dir = join(out, entry.name);
    output(dir);
    await renderEntry(device, entry, dir, settings.samples, progress);
  }
  progress.stop();
  return { written: todo.map((e) => e.name), skipped };
}

function parseCount(text: string | undefined, flag: string, min: number): number | undefined {
  return text === undefined ? undefined : parseInteger(text, flag, min);
}

export function register(program: Command): void {
  program
    .command('dataset')
    .description('render the training or held-out validation split as sequence directories')
    .option('--split <name>', 'validation | train', 'validation')
    .option('-o, --out <dir>', 'output directory (one sequence directory per entry)')
    .option('--display <WxH>', "display (reference) size (default: each entry's)")
    .option(
      '--quality <mode|ratio>',
      "native | quality | balanced | performance | ultra-performance, or a ratio in [1, 3] (default: each entry's)",
    )
    .option('--frames <n>', "frames per sequence (default: each entry's)")
    .option('--samples <n>', 'reference samples per display pixel', '64')
    .option('--only <words>', 'only entries whose name contains one of these comma-separated words')
    .option('--list', 'print the entries of the split (name, scene, path, seed, size) and exit')
    .option('--overwrite', 're-render entries that already exist')
    .option('-q, --quiet', 'no progress output')
    .addHelpText(
      'after',
      '\nThe split (scenes, held-out seeds and combinations, glTF files) is documented in\n' +
        'src/train/splits.ts. Complete entries already under --out are skipped.\n\n' +
        'Examples:\n' +
        '  uplift dataset --split validation --out data/validation\n' +
        '  uplift eval data/validation/*\n' +
        '  uplift dataset --split validation --quality quality --out data/validation-quality\n' +
        '  uplift dataset --split train --only foliage,fence --frames 32 --out data/train\n' +
        '  uplift dataset --split validation --list',
    )
    .action(async (opts: DatasetCliOptions) => {
      if (opts.split !== 'validation' && opts.split !== 'train') {
        throw new InputError(`--split must be validation or train, got "${opts.split}"`);
      }
      const entries = selectEntries(splitEntries(opts.split as SplitName), opts.only);
      if (opts.list) {
        for (const e of entries) {
          console.log(
            `${e.name}\t${e.scene}\t${e.path}\tseed ${e.seed}\t${e.frames} frames\t${e.displaySize.join('x')} / ${e.ratio}`,
          );
        }
        return;
      }
      if (!opts.out) throw new InputError('--out <dir> is required (or --list)');
      const settings: DatasetSettings = { samples: parseCount(opts.samples, '--samples', 1)! };
      if (opts.display) settings.displaySize = parseSize(opts.display, '--display');
      if (opts.quality) settings.ratio = parseQuality(opts.quality);
      const frames = parseCount(opts.frames, '--frames', 1);
      if (frames !== undefined) settings.frames = frames;
      const { device } = await cliGpu(opts.quiet);
      const { written, skipped } = await writeDataset(device, entries, opts.out, settings, {
        overwrite: opts.overwrite ?? false,
        quiet: opts.quiet ?? false,
        label: `dataset ${opts.split}`,
      });
      if (!opts.quiet) {
        console.error(
          `uplift: wrote ${written.length} sequences to ${opts.out}` +
            (skipped.length > 0 ? `, skipped ${skipped.length} already complete` : ''),
        );
      }
    });
}
