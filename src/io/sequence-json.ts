/**
 * sequence.json (DESIGN §4): strict validation on read — every problem is an `InputError` naming
 * the file, the frame index and the field — and serialization on write. Missing optional frame
 * fields take `defaultFrameParams()`; numbers must be finite (JSON has no NaN or Infinity, and
 * strings or null in their place are rejected, except `"cameraFar": null`, an infinite far plane)
 * and in range (sizes at most 16384 per side, jitter in [−0.5, 0.5]); unknown keys are rejected (a misspelt "exposre" is an error, not a default);
 * nesting is limited before parsing (src/core/strict-json.ts).
 */
import { InputError } from '../core/errors.ts';
import { defaultFrameParams, type FrameParams, type SequenceHeader } from '../core/frame.ts';
import type { Size } from '../core/quality.ts';
import {
  checkFreeForm,
  isRecord,
  parseJsonDocument,
  rejectUnknownKeys,
  showValue as show,
} from '../core/strict-json.ts';

/** Keys of sequence.json's top level and of each frame record. */
const SEQUENCE_KEYS = [
  'version',
  'renderSize',
  'displaySize',
  'depthInverted',
  'colorSpace',
  'frames',
  'source',
] as const;
const FRAME_KEYS = [
  'jitter',
  'reset',
  'exposure',
  'cameraNear',
  'cameraFar',
  'fovY',
  'motionScale',
  'frameTimeDelta',
] as const;

/** Largest width or height in sequence.json (as the upscaler's own size check). */
const MAX_SIZE = 16384;

export interface SequenceDescription {
  header: SequenceHeader;
  frames: FrameParams[];
}

/** Checks one frame record (as parsed from JSON, or given to a writer); `where` names it. */
export function validateFrameParams(value: unknown, where: string): FrameParams {
  if (!isRecord(value)) throw new InputError(`${where} must be an object, got ${show(value)}`);
  rejectUnknownKeys(value, FRAME_KEYS, where);
  const params = defaultFrameParams();
  const number = (
    field: string,
    check: (v: number) => boolean,
    rule: string,
  ): number | undefined => {
    const v = value[field];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) {
      throw new InputError(`${where}.${field} must be ${rule}, got ${show(v)}`);
    }
    return v;
  };
  const pair = (field: string, limit = Infinity): [number, number] | undefined => {
    const v = value[field];
    if (v === undefined) return undefined;
    if (
      !Array.isArray(v) ||
      v.length !== 2 ||
      !v.every((x) => typeof x === 'number' && Number.isFinite(x) && Math.abs(x) <= limit)
    ) {
      const range = limit === Infinity ? '' : ` in [−${limit}, ${limit}]`;
      throw new InputError(
        `${where}.${field} must be two finite numbers [x, y]${range}, got ${show(v)}`,
      );
    }
    return [v[0], v[1]];
  };
  params.jitter = pair('jitter', 0.5) ?? params.jitter;
  params.motionScale = pair('motionScale') ?? params.motionScale;
  if (value.reset !== undefined) {
    if (typeof value.reset !== 'boolean') {
      throw new InputError(`${where}.reset must be true or false, got ${show(value.reset)}`);
    }
    params.reset = value.reset;
  }
  const positive = (v: number) => v > 0;
  params.exposure = number('exposure', positive, 'a positive finite number') ?? params.exposure;
  params.cameraNear =
    number('cameraNear', positive, 'a positive finite number') ?? params.cameraNear;
  // null (JSON has no Infinity; Infinity when writing): an infinite far plane, as reversed-Z
  // engines project.
  params.cameraFar =
    value.cameraFar === null || value.cameraFar === Infinity
      ? Infinity
      : (number(
          'cameraFar',
          (v) => v > params.cameraNear,
          `a finite number > cameraNear (${params.cameraNear}), or null for an infinite far plane`,
        ) ?? params.cameraFar);
  if (params.cameraFar <= params.cameraNear) {
    throw new InputError(
      `${where}.cameraNear (${params.cameraNear}) must be below cameraFar (${params.cameraFar})`,
    );
  }
  params.fovY = number('fovY', (v) => v > 0 && v < Math.PI, 'radians in (0, π)') ?? params.fovY;
  const dt = number('frameTimeDelta', positive, 'a positive finite number (seconds)');
  if (dt !== undefined) params.frameTimeDelta = dt;
  return params;
}

function size(value: unknown, file: string, field: string): Size {
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    !value.every((v) => typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= MAX_SIZE)
  ) {
    throw new InputError(
      `${file}: ${field} must be [width, height], positive integers up to ${MAX_SIZE}, got ${show(value)}`,
    );
  }
  return [value[0], value[1]];
}

/**
 * Checks the sequence-level fields of sequence.json (or a header given to a writer); `file` starts
 * every error message. Missing depthInverted / colorSpace default to false / "linear".
 */
export function validateSequenceHeader(value: unknown, file: string): SequenceHeader {
  if (!isRecord(value)) throw new InputError(`${file}: must hold a JSON object`);
  rejectUnknownKeys(value, SEQUENCE_KEYS, file);
  const renderSize = size(value.renderSize, file, 'renderSize');
  const displaySize = size(value.displaySize, file, 'displaySize');
  if (displaySize[0] < renderSize[0] || displaySize[1] < renderSize[1]) {
    throw new InputError(
      `${file}: displaySize ${displaySize.join('x')} is smaller than renderSize ${renderSize.join('x')}`,
    );
  }
  const depthInverted = value.depthInverted ?? false;
  if (typeof depthInverted !== 'boolean') {
    throw new InputError(
      `${file}: depthInverted must be true or false, got ${show(depthInverted)}`,
    );
  }
  const colorSpace = value.colorSpace ?? 'linear';
  if (colorSpace !== 'linear' && colorSpace !== 'srgb') {
    throw new InputError(`${file}: colorSpace must be "linear" or "srgb", got ${show(colorSpace)}`);
  }
  if (value.source !== undefined && !isRecord(value.source)) {
    throw new InputError(`${file}: source must be an object, got ${show(value.source)}`);
  }
  if (value.source !== undefined) checkFreeForm(value.source, `${file}: source`);
  const header: SequenceHeader = { renderSize, displaySize, depthInverted, colorSpace };
  if (value.source !== undefined) header.source = value.source;
  return header;
}

/** Parses and validates the text of a sequence.json; `file` starts every error message. */
export function parseSequenceJson(text: string, file: string): SequenceDescription {
  const root = parseJsonDocument(text, file);
  if (!isRecord(root)) throw new InputError(`${file}: must hold a JSON object`);
  if (root.version !== 1) {
    throw new InputError(`${file}: version must be 1, got ${show(root.version)}`);
  }
  const header = validateSequenceHeader(root, file);
  if (!Array.isArray(root.frames) || root.frames.length === 0) {
    throw new InputError(`${file}: frames must be a non-empty array, got ${show(root.frames)}`);
  }
  const frames = root.frames.map((f, i) => validateFrameParams(f, `${file}: frames[${i}]`));
  return { header, frames };
}

/** The sequence.json text of a header and frames (validated: non-finite numbers are refused). */
export function formatSequenceJson(description: SequenceDescription, file: string): string {
  const frames = description.frames.map((f, i) => validateFrameParams(f, `${file}: frames[${i}]`));
  const { header } = description;
  const fields: [string, unknown][] = [
    ['version', 1],
    ['renderSize', header.renderSize],
    ['displaySize', header.displaySize],
    ['depthInverted', header.depthInverted],
    ['colorSpace', header.colorSpace],
  ];
  if (header.source) fields.push(['source', header.source]);
  // One line per field and per frame: readable, and diffs well for long sequences.
  const lines = fields.map(([key, value]) => `  ${JSON.stringify(key)}: ${JSON.stringify(value)},`);
  const frameLines = frames.map((f) => `    ${JSON.stringify(f)}`).join(',\n');
  const text = `{\n${lines.join('\n')}\n  "frames": [\n${frameLines}\n  ]\n}\n`;
  // Round-trip through the validator so that what we write is always what we can read.
  parseSequenceJson(text, file);
  return text;
}
