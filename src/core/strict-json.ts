/**
 * Strict reading of JSON documents that users hand us (sequence.json, `.uplift` headers): nesting
 * depth limited before parsing (a document nested 50,000 deep is an InputError, not a stack
 * overflow in whatever walks it later), unknown keys rejected, numbers finite (JSON's 1e999 parses
 * as Infinity) and in range, and values in messages shown short. Every error is an `InputError`
 * whose message names the document and the key path, e.g. `seq/sequence.json: frames[3].exposure`.
 */
import { InputError } from './errors.ts';

/** Deepest nesting of objects and arrays accepted by `parseJsonDocument` by default. */
export const MAX_JSON_DEPTH = 64;

/** Longest rendering of a value in a message. */
const SHOWN_CHARACTERS = 60;

/** A value as the user wrote it, shortened: NaN and Infinity by name, long values cut with "…". */
export function showValue(value: unknown): string {
  let text: string;
  if (typeof value === 'number' || typeof value === 'bigint') text = String(value);
  else if (typeof value === 'string') text = JSON.stringify(value.slice(0, SHOWN_CHARACTERS + 1));
  else if (typeof value !== 'object' || value === null) text = String(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Array.isArray(value) ? '[…]' : '{…}';
    }
  }
  return text.length > SHOWN_CHARACTERS ? `${text.slice(0, SHOWN_CHARACTERS)}…` : text;
}

/** True for a plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The deepest nesting of `[` / `{` in JSON text, outside strings (a linear scan, no recursion). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/**
 * Parses JSON text whose nesting is at most `maxDepth`; `where` (the file) starts every message.
 * Syntax errors and deeper nesting are InputErrors.
 */
export function parseJsonDocument(
  text: string,
  where: string,
  maxDepth: number = MAX_JSON_DEPTH,
): unknown {
  const depth = jsonDepth(text);
  if (depth > maxDepth) {
    throw new InputError(`${where}: JSON nested ${depth} levels deep, more than ${maxDepth}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(`${where}: invalid JSON (${(error as Error).message})`);
  }
}

/** Throws an InputError naming `path` for the first key of `value` not in `allowed`. */
export function rejectUnknownKeys(
  value: Record<string, unknown>,
  allowed: readonly string[],
  path: string,
): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new InputError(
        `${path}: unknown key ${showValue(key)} (allowed: ${allowed.join(', ')})`,
      );
    }
  }
}

/** The path of `key` below `path` ("a.b", or "a" alone when `path` ends with ": "). */
export function keyPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path.endsWith(': ') ? `${path}${key}` : `${path}.${key}`;
}

export interface NumberRule {
  /** Smallest allowed value (inclusive unless `exclusiveMin`). */
  readonly min?: number;
  readonly exclusiveMin?: boolean;
  /** Largest allowed value (inclusive). */
  readonly max?: number;
  /** Whole numbers only. */
  readonly integer?: boolean;
}

/** Describes a rule for messages: "an integer in [1, 4096]", "a finite number > 0". */
export function describeRule(rule: NumberRule): string {
  const kind = rule.integer ? 'an integer' : 'a finite number';
  const low = rule.min === undefined ? undefined : `${rule.exclusiveMin ? '>' : '≥'} ${rule.min}`;
  const high = rule.max === undefined ? undefined : `≤ ${rule.max}`;
  const bounds = [low, high].filter(Boolean).join(' and ');
  return bounds ? `${kind} ${bounds}` : kind;
}

/** `value` as a number obeying `rule`, or an InputError naming `path`. */
export function checkedNumber(value: unknown, path: string, rule: NumberRule = {}): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!rule.integer || Number.isInteger(value)) &&
    (rule.min === undefined || (rule.exclusiveMin ? value > rule.min : value >= rule.min)) &&
    (rule.max === undefined || value <= rule.max);
  if (!ok) throw new InputError(`${path} must be ${describeRule(rule)}, got ${showValue(value)}`);
  return value as number;
}

/**
 * Checks a free-form JSON value (metadata, a sequence's "source"): every number finite, nesting at
 * most `maxDepth` (for values that did not come through `parseJsonDocument`), nothing but JSON
 * values (undefined members are allowed: JSON.stringify leaves them out).
 */
export function checkFreeForm(value: unknown, path: string, maxDepth = MAX_JSON_DEPTH): void {
  // An explicit stack: no recursion, whatever the depth of `value`.
  const stack: [unknown, string, number][] = [[value, path, 0]];
  while (stack.length > 0) {
    const [v, p, depth] = stack.pop()!;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new InputError(`${p} must be finite, got ${v}`);
    } else if (typeof v === 'object' && v !== null) {
      if (depth >= maxDepth) throw new InputError(`${p}: nested more than ${maxDepth} levels`);
      if (Array.isArray(v)) v.forEach((x, i) => stack.push([x, keyPath(p, i), depth + 1]));
      else for (const [k, x] of Object.entries(v)) stack.push([x, keyPath(p, k), depth + 1]);
    } else if (!['string', 'boolean', 'undefined'].includes(typeof v) && v !== null) {
      throw new InputError(`${p} is not a JSON value (${typeof v})`);
    }
  }
}
