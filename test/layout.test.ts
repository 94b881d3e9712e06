// The layout of src/ (docs/DESIGN.md §3), read from the sources so that it stays true: which room
// may import which, no import cycle, no function too long to read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';

/** Every room below training (and the CLI, which may import training too). */
const TRAIN_IMPORTS = [
  'core',
  'reference',
  'io',
  'metrics',
  'gpu',
  'nn',
  'nn/resolve',
  'nn/backward',
  'scene',
  'upscaler',
  'eval',
  'report',
];
/**
 * Each room of src/ and the rooms it may import (besides itself). A file belongs to the room of
 * its longest matching folder; `upscaler` is the front door, the files at the top of src/.
 */
const ROOMS: Record<string, readonly string[]> = {
  core: [],
  reference: ['core'],
  io: ['core'],
  metrics: ['core'],
  gpu: ['core'],
  nn: ['core', 'reference', 'gpu'],
  'nn/resolve': ['core', 'reference', 'gpu', 'nn'],
  'nn/backward': ['core', 'reference', 'gpu', 'nn', 'nn/resolve'],
  upscaler: ['core', 'gpu', 'nn', 'nn/resolve'],
  scene: ['core', 'io', 'gpu'],
  eval: ['core', 'reference', 'io', 'metrics', 'gpu', 'nn', 'nn/resolve', 'scene', 'upscaler'],
  report: ['core', 'io', 'metrics', 'eval'],
  train: TRAIN_IMPORTS,
  onnx: ['core'],
  check: ['core', 'reference', 'io', 'metrics', 'report'],
  cli: [...TRAIN_IMPORTS, 'train', 'onnx', 'check'],
  integrations: ['core', 'gpu', 'upscaler'],
};

/** Longest function (declaration, method, arrow or closure), in lines. */
const MAX_FUNCTION_LINES = 200;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [normalize(path)] : [];
  });
}

function roomOf(file: string): string {
  const folder = dirname(relative('src', file)).replaceAll('\\', '/');
  if (folder === '.') return 'upscaler';
  const parts = folder.split('/');
  for (let n = parts.length; n > 0; n--) {
    const candidate = parts.slice(0, n).join('/');
    if (candidate in ROOMS) return candidate;
  }
  throw new Error(`${file}: no room in the layout table for its folder`);
}

interface Import {
  readonly from: string;
  readonly to: string;
  readonly line: number;
}

/** Relative imports of a file: static, type-only, re-exports and dynamic import('…'). */
function importsOf(file: string, source: ts.SourceFile): Import[] {
  const found: Import[] = [];
  const add = (specifier: ts.StringLiteralLike) => {
    if (!specifier.text.startsWith('.')) return;
    const line = source.getLineAndCharacterOfPosition(specifier.getStart(source)).line + 1;
    found.push({ from: file, to: normalize(join(dirname(file), specifier.text)), line });
  };
  const visit = (node: ts.Node) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteralLike(node.moduleSpecifier)
    ) {
      add(node.moduleSpecifier);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      add(node.arguments[0]);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const files = sourceFiles('src');
const sources = new Map(
  files.map((f) => [f, ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.Latest)]),
);
const imports = files.flatMap((f) => importsOf(f, sources.get(f)!));

test('layout: every import goes to its own room or one the layout allows', () => {
  const wrong = imports.flatMap(({ from, to, line }) => {
    const [a, b] = [roomOf(from), roomOf(to)];
    return a === b || ROOMS[a]!.includes(b) ? [] : [`${from}:${line} (${a}) imports ${to} (${b})`];
  });
  assert.deepEqual(wrong, []);
  // The table itself must be layered: a room never allows a room that allows it back.
  for (const [room, allowed] of Object.entries(ROOMS)) {
    for (const other of allowed) assert.ok(!ROOMS[other]!.includes(room), `${room} ⇄ ${other}`);
  }
});

test('layout: no import cycle between files (type-only imports included)', () => {
  const graph = new Map<string, string[]>();
  for (const { from, to } of imports) graph.set(from, [...(graph.get(from) ?? []), to]);
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const walk = (file: string, path: string[]) => {
    state.set(file, 'open');
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...path, file, next].join(' → '));
      else if (!state.has(next)) walk(next, [...path, file]);
    }
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) walk(file, []);
  assert.deepEqual(cycles, []);
  // Every relative import names a file that exists (a moved file would otherwise pass unseen).
  const missing = imports.filter(({ to }) => !sources.has(to)).map((i) => `${i.from}:${i.line}`);
  assert.deepEqual(missing, []);
});

test(`layout: no function in src/ is longer than ${MAX_FUNCTION_LINES} lines`, () => {
  const long: string[] = [];
  for (const [file, source] of sources) {
    const visit = (node: ts.Node) => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const end = source.getLineAndCharacterOfPosition(node.end).line;
        if (end - start + 1 > MAX_FUNCTION_LINES)
          long.push(`${file}:${start + 1} (${end - start + 1} lines)`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  assert.deepEqual(long, []);
});
