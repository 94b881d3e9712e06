/**
 * The trained weights that ship with Uplift (weights/, each with its model card) and how a program
 * finds them. Browsers use the URLs below: they are relative to this module, and bundlers for the
 * web (Vite) copy a file named by a literal `new URL(…, import.meta.url)` along. In Node the same
 * URLs hold for the sources (src/nn/) and the built package (dist/nn/), but not for a bundle, where
 * every module shares the bundle's own import.meta.url; `locateShippedWeights` therefore searches.
 */
import { InputError } from '../core/errors.ts';

/**
 * The upscaler's weights: what `method: 'neural'` uses without a `model`. Network v3a's INT8 twin
 * (weights/README.md): ahead of v2 on the validation sequences' mean at a sixth of v2's frame
 * time in f32, run on the INT8 kernels where the adapter passes their self-check, else as its f32
 * simulation. `uplift-v2.uplift` stays loadable by name.
 */
export const SHIPPED_MODEL = new URL('../../weights/uplift-v3-int8.uplift', import.meta.url);
/** SHIPPED_MODEL's name among the shipped files. */
export const SHIPPED_MODEL_FILE = 'uplift-v3-int8.uplift' satisfies ShippedWeightsFile;

/** The frame generator's weights: what `method: 'neural'` uses without `weights`. */
export const SHIPPED_FRAMEGEN_MODEL = new URL('../../weights/framegen-v1.uplift', import.meta.url);

/** A file in weights/ that ships in the package (package.json "files"). */
export type ShippedWeightsFile =
  | 'uplift-v2.uplift'
  | 'uplift-v2-int8.uplift'
  | 'uplift-v3.uplift'
  | 'uplift-v3-int8.uplift'
  | 'framegen-v1.uplift';

/** How `locateShippedWeights` sees the file system (Node's `existsSync` takes file URLs). */
export interface WeightsSearch {
  exists(file: URL): boolean;
  /** The working directory as a file URL ending in '/'. */
  workingDirectory: URL;
  /** Where the search starts; default this module's folder. */
  moduleFolder?: URL;
}

/**
 * The places where weights/`file` may be, in order: in the module's folder and each folder above
 * it (from src/nn/ or dist/nn/ that reaches the package root, from a bundle anywhere inside the
 * repository, such as .device/main.mjs, the repository root), then in the working directory (a
 * bundle elsewhere, run from the repository root).
 */
export function shippedWeightsCandidates(file: ShippedWeightsFile, search: WeightsSearch): URL[] {
  const places: URL[] = [];
  for (let folder = search.moduleFolder ?? new URL('.', import.meta.url); ;) {
    places.push(new URL(`weights/${file}`, folder));
    const parent = new URL('..', folder);
    if (parent.href === folder.href) break;
    folder = parent;
  }
  const fromWorkingDirectory = new URL(`weights/${file}`, search.workingDirectory);
  if (!places.some((p) => p.href === fromWorkingDirectory.href)) places.push(fromWorkingDirectory);
  return places;
}

/** The first place that holds weights/`file`; InputError listing every place tried otherwise. */
export function locateShippedWeights(file: ShippedWeightsFile, search: WeightsSearch): URL {
  const places = shippedWeightsCandidates(file, search);
  const found = places.find((place) => search.exists(place));
  if (found) return found;
  const tried = places.map((p) => decodeURIComponent(p.pathname)).join(', ');
  throw new InputError(
    `the shipped weights ${file} are not here (tried ${tried}); name a weights file instead`,
  );
}

const NODE_FS = 'node:fs';
const NODE_URL = 'node:url';

/** The file name of a shipped-weights URL (SHIPPED_MODEL, SHIPPED_FRAMEGEN_MODEL). */
function shippedWeightsFile(url: URL): ShippedWeightsFile | undefined {
  const name = url.pathname.slice(url.pathname.lastIndexOf('/') + 1);
  return [SHIPPED_MODEL, SHIPPED_FRAMEGEN_MODEL].some((u) => u.href === url.href)
    ? (name as ShippedWeightsFile)
    : undefined;
}

/**
 * Where to read `url` from: in Node, a shipped-weights URL becomes the file `locateShippedWeights`
 * finds (so the default model loads from a bundle too); anything else stays as it is.
 */
export async function resolveWeightsUrl(url: URL): Promise<URL> {
  const file = shippedWeightsFile(url);
  if (!file || typeof process === 'undefined' || !process.versions?.node) return url;
  const fs = (await import(/* @vite-ignore */ NODE_FS)) as typeof import('node:fs');
  const { pathToFileURL } = (await import(
    /* @vite-ignore */ NODE_URL
  )) as typeof import('node:url');
  return locateShippedWeights(file, {
    exists: (place) => fs.existsSync(place),
    workingDirectory: pathToFileURL(`${process.cwd()}/`),
  });
}

/** The bytes at a URL: a file in Node (the shipped weights wherever they are), a fetch in a browser. */
export async function readWeightsUrl(source: URL): Promise<Uint8Array> {
  const url = await resolveWeightsUrl(source);
  try {
    if (url.protocol === 'file:' && typeof process !== 'undefined' && process.versions?.node) {
      const fs = 'node:fs/promises';
      return await (
        (await import(/* @vite-ignore */ fs)) as typeof import('node:fs/promises')
      ).readFile(url);
    }
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  } catch (e) {
    const reason = (e as { code?: string }).code ?? (e as Error).message;
    throw new InputError(`${url.href}: cannot read weights (${reason})`);
  }
}
