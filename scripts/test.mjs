// Runs the test suite: every test/**/*.test.ts file through Node's test runner with tsx.
// Usage: node scripts/test.mjs [filter substring ...]
import { readdirSync, statSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out.sort();
}

const filters = process.argv.slice(2);
const files = findTests('test').filter(
  (f) => filters.length === 0 || filters.some((s) => f.includes(s)),
);
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
// Dawn/Mesa want a private runtime dir; without one they print a warning on every start.
const xdg = process.env.XDG_RUNTIME_DIR ?? join(tmpdir(), `uplift-xdg-${process.getuid?.() ?? 0}`);
mkdirSync(xdg, { recursive: true, mode: 0o700 });
// The tests' temporary directories (mkdtemp in tmpdir()) go into one of this run's, removed
// afterwards, so a run leaves nothing behind (runs had left hundreds of them, ~300 MB).
const scratch = mkdtempSync(join(tmpdir(), 'uplift-tests-'));
let result;
try {
  result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=2', ...files],
    { stdio: 'inherit', env: { ...process.env, XDG_RUNTIME_DIR: xdg, TMPDIR: scratch } },
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(result?.status ?? 1);
