/**
 * Sequence directories (DESIGN §4): `openSequence` validates sequence.json and the frame files up
 * front and reads frames lazily; `createSequenceWriter` writes frames, then sequence.json last, so
 * a directory without sequence.json is never taken for a complete sequence.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { InputError } from '../core/errors.ts';
import type { FrameImages, FrameParams, SequenceHeader, FrameSource } from '../core/frame.ts';
import type { Image } from '../core/image.ts';
import type { Size } from '../core/quality.ts';
import { linearToSrgb } from '../core/tonemap.ts';
import { writeExr } from './exr/file.ts';
import { readColor, readDepth, readMotion, readReactive, readReference } from './frame-files.ts';
import { writePng } from './png.ts';
import {
  formatSequenceJson,
  parseSequenceJson,
  validateFrameParams,
  validateSequenceHeader,
} from './sequence-json.ts';

/** The per-frame file kinds, each in its own subdirectory. */
export const FRAME_ROLES = ['color', 'depth', 'motion', 'reactive', 'reference'] as const;
export type FrameRole = (typeof FRAME_ROLES)[number];

const REQUIRED_ROLES: FrameRole[] = ['color', 'depth', 'motion'];

/** Extensions each role may use. */
const ROLE_EXTENSIONS: Record<FrameRole, string[]> = {
  color: ['exr', 'png'],
  depth: ['exr'],
  motion: ['exr'],
  reactive: ['png', 'exr'],
  reference: ['exr', 'png'],
};

/** A frame file name: the frame number, 4 digits or more, and an extension. */
const FRAME_FILE = /^(\d{4,})\.([a-z]+)$/i;

/** Zero-padded frame file name. */
export function frameFileName(number: number, extension: string, digits = 4): string {
  if (!Number.isInteger(number) || number < 0) {
    throw new RangeError(`frame number must be a non-negative integer, got ${number}`);
  }
  return `${String(number).padStart(digits, '0')}.${extension}`;
}

interface RoleFiles {
  /** Frame number → file name. */
  files: Map<number, string>;
  /** Digits and extension of the file names (for naming a missing file). */
  digits: number;
  extension: string;
}

/** The frame files of one role directory (undefined if the directory does not exist). */
function listRole(dir: string, role: FrameRole): RoleFiles | undefined {
  const roleDir = join(dir, role);
  if (!existsSync(roleDir)) return undefined;
  if (!statSync(roleDir).isDirectory()) throw new InputError(`${roleDir}: not a directory`);
  const files = new Map<number, string>();
  let digits = 4;
  let extension = ROLE_EXTENSIONS[role][0]!;
  for (const name of readdirSync(roleDir).sort()) {
    const match = FRAME_FILE.exec(name);
    if (!match || !ROLE_EXTENSIONS[role].includes(match[2]!.toLowerCase())) continue;
    const number = Number(match[1]);
    const other = files.get(number);
    if (other) {
      throw new InputError(
        `${join(roleDir, name)}: frame ${number} also has ${other}; keep one of them`,
      );
    }
    files.set(number, name);
    digits = match[1]!.length;
    extension = match[2]!;
  }
  return { files, digits, extension };
}

/**
 * The frame numbers of a sequence: the numbers present in the required roles. With fewer numbers
 * than frames, numbering is assumed to run on from the first one, and the first absent number is
 * reported as missing.
 */
function frameNumbers(dir: string, frameCount: number, roles: Map<FrameRole, RoleFiles>): number[] {
  const all = new Set<number>();
  for (const role of REQUIRED_ROLES) for (const n of roles.get(role)!.files.keys()) all.add(n);
  const numbers = [...all].sort((a, b) => a - b);
  const color = roles.get('color')!;
  if (numbers.length === 0) {
    throw new InputError(
      `${join(dir, 'color')}: no frame files (names are frame numbers of 4+ digits: 0000.exr, 0001.exr…)`,
    );
  }
  if (numbers.length < frameCount) {
    const first = numbers[0]!;
    let missing = first;
    while (all.has(missing)) missing++;
    throw new InputError(
      `${join(dir, 'color', frameFileName(missing, color.extension, color.digits))}: missing (sequence.json lists ${frameCount} frames, found files for ${numbers.length})`,
    );
  }
  if (numbers.length > frameCount) {
    const extra = numbers[frameCount]!;
    throw new InputError(
      `${join(dir, 'sequence.json')}: lists ${frameCount} frames but color/depth/motion hold ${numbers.length} frame numbers (first extra: ${extra})`,
    );
  }
  return numbers;
}

/**
 * Opens a sequence directory: validates sequence.json and checks that every frame has its color,
 * depth and motion files (and reactive/reference files, for all frames or none). Pixel files are
 * read and checked (size, channels, corruption) when `readFrame` asks for them.
 */
export async function openSequence(dir: string): Promise<FrameSource> {
  const jsonPath = join(dir, 'sequence.json');
  if (!existsSync(dir)) throw new InputError(`${dir}: directory not found`);
  if (!existsSync(jsonPath)) {
    throw new InputError(`${jsonPath}: not found (a sequence directory needs sequence.json)`);
  }
  const { header, frames } = parseSequenceJson(await readFile(jsonPath, 'utf8'), jsonPath);
  const roles = new Map<FrameRole, RoleFiles>();
  for (const role of FRAME_ROLES) {
    const listed = listRole(dir, role);
    if (listed && (listed.files.size > 0 || REQUIRED_ROLES.includes(role))) roles.set(role, listed);
    else if (REQUIRED_ROLES.includes(role)) {
      throw new InputError(
        `${join(dir, role)}: directory not found (every sequence needs ${role} frames)`,
      );
    }
  }
  const numbers = frameNumbers(dir, frames.length, roles);
  const paths = numbers.map((number) => {
    const frame = new Map<FrameRole, string>();
    for (const [role, { files, digits, extension }] of roles) {
      const name = files.get(number);
      if (!name) {
        throw new InputError(
          `${join(dir, role, frameFileName(number, extension, digits))}: missing`,
        );
      }
      frame.set(role, join(dir, role, name));
    }
    return frame;
  });
  const checkIndex = (index: number) => {
    if (!Number.isInteger(index) || index < 0 || index >= frames.length) {
      throw new RangeError(`frame index ${index} out of range 0..${frames.length - 1}`);
    }
  };
  return {
    name: basename(resolve(dir)),
    header,
    frameCount: frames.length,
    frameParams(index) {
      checkIndex(index);
      const p = frames[index]!;
      return { ...p, jitter: [...p.jitter], motionScale: [...p.motionScale] };
    },
    frameNumber(index) {
      checkIndex(index);
      return numbers[index]!;
    },
    async readFrame(index) {
      checkIndex(index);
      const files = paths[index]!;
      const reactive = files.get('reactive');
      const reference = files.get('reference');
      const [color, depth, motion, reactiveImage, referenceImage] = await Promise.all([
        readColor(files.get('color')!, header),
        readDepth(files.get('depth')!, header),
        readMotion(files.get('motion')!, header),
        reactive ? readReactive(reactive, header) : undefined,
        reference ? readReference(reference, header) : undefined,
      ]);
      const images: FrameImages = { color, depth, motion };
      if (reactiveImage) images.reactive = reactiveImage;
      if (referenceImage) images.reference = referenceImage;
      return images;
    },
  };
}

export interface SequenceWriterOptions {
  /** Replace an existing sequence (its sequence.json and frame files) instead of refusing. */
  overwrite?: boolean;
  /** EXR sample type of color and reference (default 'half'); depth and motion are always float. */
  colorPixelType?: 'half' | 'float';
}

export interface SequenceWriter {
  readonly dir: string;
  /** Writes the files of frame `index` (0, 1, 2… ; the file number is the index). */
  writeFrame(index: number, params: FrameParams, images: FrameImages): Promise<void>;
  /** Checks that frames 0..n-1 were all written, then writes sequence.json (last). */
  finish(): Promise<void>;
}

/** An 8-bit sRGB image from a linear one (color channels converted and clamped, alpha kept). */
function toSrgb(image: Image): Image {
  const out = { ...image, data: new Float32Array(image.data) };
  const colorChannels = image.channels >= 3 ? 3 : 1;
  for (let i = 0; i < image.width * image.height; i++) {
    for (let c = 0; c < colorChannels; c++) {
      const k = i * image.channels + c;
      out.data[k] = linearToSrgb(out.data[k]!);
    }
  }
  return out;
}

function checkImage(image: Image, role: FrameRole, size: Size, channels: number[], index: number) {
  if (image.width !== size[0] || image.height !== size[1] || !channels.includes(image.channels)) {
    throw new RangeError(
      `frame ${index} ${role}: ${image.width}x${image.height}x${image.channels}, expected ${size[0]}x${size[1]} with ${channels.join(' or ')} channels`,
    );
  }
}

/** Removes the frame files of every role directory (for overwrite). */
function removeFrameFiles(dir: string): void {
  for (const role of FRAME_ROLES) {
    const roleDir = join(dir, role);
    if (!existsSync(roleDir)) continue;
    for (const name of readdirSync(roleDir)) {
      if (FRAME_FILE.test(name)) rmSync(join(roleDir, name));
    }
  }
}

function hasFrameFiles(dir: string): boolean {
  return FRAME_ROLES.some((role) => {
    const roleDir = join(dir, role);
    return existsSync(roleDir) && readdirSync(roleDir).some((name) => FRAME_FILE.test(name));
  });
}

/**
 * Starts writing a sequence directory. Refuses (InputError) a directory that already holds a
 * sequence.json or frame files unless `overwrite`; with it, those are removed first.
 */
export async function createSequenceWriter(
  dir: string,
  header: SequenceHeader,
  options: SequenceWriterOptions = {},
): Promise<SequenceWriter> {
  const jsonPath = join(dir, 'sequence.json');
  validateSequenceHeader(header, `${jsonPath} (header)`);
  if (existsSync(jsonPath) || hasFrameFiles(dir)) {
    if (!options.overwrite) {
      throw new InputError(
        `${dir}: already holds a sequence; refusing to overwrite it (use overwrite)`,
      );
    }
    rmSync(jsonPath, { force: true }); // first, so a crash below never leaves a stale sequence.json
    removeFrameFiles(dir);
  }
  mkdirSync(dir, { recursive: true });
  const frames: FrameParams[] = [];
  const optionalRoles = { reactive: new Set<number>(), reference: new Set<number>() };
  const colorFormat = header.colorSpace === 'srgb' ? 'png' : 'exr';
  const pixelType = options.colorPixelType ?? 'half';
  let finished = false;

  const writeColor = (role: 'color' | 'reference', index: number, image: Image) => {
    const path = join(dir, role, frameFileName(index, colorFormat));
    if (colorFormat === 'png') writePng(path, toSrgb(image), { bits: 8 });
    else writeExr(path, image, { pixelType });
  };

  return {
    dir,
    async writeFrame(index, params, images) {
      if (finished) throw new Error(`sequence ${dir} is finished; no more frames can be written`);
      if (!Number.isInteger(index) || index < 0) {
        throw new RangeError(`frame index must be a non-negative integer, got ${index}`);
      }
      const checked = validateFrameParams(params, `frame ${index} params`);
      const { renderSize, displaySize } = header;
      checkImage(images.color, 'color', renderSize, [3, 4], index);
      checkImage(images.depth, 'depth', renderSize, [1], index);
      checkImage(images.motion, 'motion', renderSize, [2], index);
      if (images.reactive) checkImage(images.reactive, 'reactive', renderSize, [1], index);
      if (images.reference) checkImage(images.reference, 'reference', displaySize, [3, 4], index);
      writeColor('color', index, images.color);
      writeExr(join(dir, 'depth', frameFileName(index, 'exr')), images.depth, {
        pixelType: 'float',
        channelNames: ['Z'],
      });
      writeExr(join(dir, 'motion', frameFileName(index, 'exr')), images.motion, {
        pixelType: 'float',
      });
      if (images.reactive) {
        writePng(join(dir, 'reactive', frameFileName(index, 'png')), images.reactive, { bits: 8 });
        optionalRoles.reactive.add(index);
      }
      if (images.reference) {
        writeColor('reference', index, images.reference);
        optionalRoles.reference.add(index);
      }
      frames[index] = checked;
    },
    async finish() {
      if (finished) return;
      const missing = Array.from(frames, (f, i) => (f ? -1 : i)).find((i) => i >= 0);
      if (frames.length === 0 || missing !== undefined) {
        throw new Error(
          `sequence ${dir}: frame ${missing ?? 0} was never written; sequence.json not written`,
        );
      }
      for (const [role, written] of Object.entries(optionalRoles)) {
        if (written.size > 0 && written.size < frames.length) {
          throw new Error(
            `sequence ${dir}: ${role} given for some frames only; sequence.json not written`,
          );
        }
      }
      const text = formatSequenceJson({ header, frames }, jsonPath);
      const temporary = `${jsonPath}.partial`;
      writeFileSync(temporary, text);
      renameSync(temporary, jsonPath);
      finished = true;
    },
  };
}

/**
 * Writes one upscaled output frame as `<dir>/<number, 4+ digits>.<exr|png>` (directory created):
 * EXR linear (ZIP, half unless `pixelType: 'float'`), or PNG 8-bit sRGB from linear, clamped.
 */
export function writeOutputFrame(
  dir: string,
  number: number,
  image: Image,
  format: 'exr' | 'png',
  options: { pixelType?: 'half' | 'float' } = {},
): void {
  const path = join(dir, frameFileName(number, format));
  if (format === 'png') writePng(path, toSrgb(image), { bits: 8 });
  else writeExr(path, image, { pixelType: options.pixelType ?? 'half' });
}
