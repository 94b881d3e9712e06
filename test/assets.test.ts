// The repository is self-contained: every file a split entry names is in it (with the buffers and
// images each glTF references), every asset file is used by the split, and every one is credited
// in assets/README.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  entryScene,
  findRepositoryRoot,
  REPOSITORY_ROOT,
  TRAIN,
  VALIDATION,
  VALIDATION_GLTF_FILES,
} from '../src/train/splits.ts';

const root = fileURLToPath(new URL('..', import.meta.url)).replace(/[\\/]$/, '');
const assets = join(root, 'assets');

/** A repository-relative path with forward slashes. */
const repoPath = (file: string) => relative(root, file).split(sep).join('/');

/** The JSON of a .gltf file, or the JSON chunk of a .glb file. */
function gltfJson(file: string): { buffers?: { uri?: string }[]; images?: { uri?: string }[] } {
  const bytes = readFileSync(file);
  if (!file.toLowerCase().endsWith('.glb')) return JSON.parse(bytes.toString('utf8'));
  assert.equal(bytes.toString('latin1', 0, 4), 'glTF', `${file}: not a GLB file`);
  assert.equal(bytes.readUInt32LE(16), 0x4e4f534a, `${file}: the first chunk is not JSON`);
  return JSON.parse(bytes.toString('utf8', 20, 20 + bytes.readUInt32LE(12)));
}

/** The glTF files the splits name, as absolute paths. */
const splitFiles = [...TRAIN, ...VALIDATION]
  .map(entryScene)
  .filter((scene) => /\.(gltf|glb)$/i.test(scene));

/** Each split file and the external files (buffers, images) it references, absolute. */
function referencedFiles(): Map<string, string[]> {
  const references = new Map<string, string[]>();
  for (const file of new Set(splitFiles)) {
    const json = gltfJson(file);
    const uris = [...(json.buffers ?? []), ...(json.images ?? [])]
      .map((item) => item.uri)
      .filter((uri): uri is string => uri !== undefined && !uri.startsWith('data:'));
    references.set(
      file,
      uris.map((uri) => join(dirname(file), decodeURIComponent(uri))),
    );
  }
  return references;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

test('split assets resolve inside the repository, from the sources and from a bundle', () => {
  assert.equal(REPOSITORY_ROOT.replace(/[\\/]$/, ''), root);
  // A bundle one level below the root (.device/main.mjs on the GPU machine) finds the same root.
  assert.equal(findRepositoryRoot(join(root, '.device')), root);
  assert.equal(findRepositoryRoot(join(root, 'src', 'train')), root);
  // Nothing above holds assets/gltf: two levels up, so a missing file names its expected path.
  const outside = mkdtempSync(join(tmpdir(), 'uplift-no-assets-'));
  try {
    assert.equal(findRepositoryRoot(join(outside, 'a', 'b')), outside);
  } finally {
    rmSync(outside, { recursive: true, force: true });
  }
});

test('every file the splits name is in the repository, with the files each glTF references', () => {
  assert.equal(splitFiles.length, VALIDATION_GLTF_FILES.length);
  for (const scene of VALIDATION_GLTF_FILES) {
    assert.ok(
      !scene.startsWith('/') && !scene.split('/').includes('..'),
      `${scene} leaves the repository`,
    );
    assert.ok(scene.startsWith('assets/gltf/'), `${scene} is not under assets/gltf/`);
  }
  const references = referencedFiles();
  const files = [...references.keys(), ...[...references.values()].flat()];
  for (const file of files) {
    assert.ok(
      repoPath(file).startsWith('assets/gltf/'),
      `${repoPath(file)} is outside assets/gltf/`,
    );
    assert.ok(existsSync(file) && statSync(file).size > 0, `${repoPath(file)} is missing`);
  }
  // The glTF files reference their buffers and textures (what a copy must not drop).
  assert.ok(files.some((f) => f.endsWith('.bin')) && files.some((f) => f.endsWith('.png')));
  // Committed, not just present in this working copy (where the repository is a git checkout).
  const top = spawnSync('git', ['rev-parse', '--show-toplevel'], { cwd: root, encoding: 'utf8' });
  if (top.status === 0 && top.stdout.trim() === root) {
    const git = spawnSync('git', ['ls-files', '-z', '--', 'assets'], {
      cwd: root,
      encoding: 'utf8',
    });
    const tracked = new Set(git.stdout.split('\0'));
    for (const file of files) {
      assert.ok(tracked.has(repoPath(file)), `${repoPath(file)} is not committed`);
    }
  }
});

test('assets/gltf holds only what the splits use', () => {
  const used = new Set([...referencedFiles()].flatMap(([file, refs]) => [file, ...refs]));
  for (const file of listFiles(join(assets, 'gltf'))) {
    assert.ok(used.has(file), `${repoPath(file)} is used by no split entry`);
  }
});

test('every asset is credited in assets/README.md, with its license', () => {
  const readme = readFileSync(join(assets, 'README.md'), 'utf8');
  const rows = readme.split('\n').filter((line) => line.startsWith('| `gltf/'));
  for (const file of splitFiles) {
    const path = relative(assets, file).split(sep).join('/');
    const row = rows.find((r) => {
      const named = /^\| `([^`]+)`/.exec(r)![1]!;
      return named.endsWith('/') ? path.startsWith(named) : path === named;
    });
    assert.ok(row, `${path} has no row in assets/README.md`);
    const cells = row.split(' | ');
    assert.ok(cells.length >= 5, `${path}: path, what, author, license, source`);
    assert.match(row, /CC0 1\.0|CC BY 4\.0|MIT/, `${path}: no license`);
    assert.match(row, /https:\/\//, `${path}: no source`);
  }
  // Licenses that require their text or a link carry it.
  for (const link of readme.matchAll(/\]\((licenses\/[^)]+)\)/g)) {
    assert.ok(existsSync(join(assets, link[1]!)), `${link[1]} is missing`);
  }
  assert.match(readFileSync(join(assets, 'licenses', 'bevy-MIT.txt'), 'utf8'), /^MIT License/);
  assert.match(readme, /creativecommons\.org\/licenses\/by\/4\.0/);
});
