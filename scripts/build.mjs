// Builds the package: dist/ mirrors src/ as ESM JavaScript with .d.ts beside each file (tsc with
// tsconfig.build.json; relative imports rewritten from .ts to .js, in declarations too).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const out = 'dist';
rmSync(out, { recursive: true, force: true });
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
  stdio: 'inherit',
});

// tsc rewrites the JavaScript's specifiers but keeps `.ts` in declaration files.
function declarations(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return declarations(path);
    return name.endsWith('.d.ts') ? [path] : [];
  });
}
const specifier = /((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]+)\.ts(['"])/g;
let files = 0;
for (const file of declarations(out)) {
  const text = readFileSync(file, 'utf8');
  const rewritten = text.replace(specifier, '$1$2.js$3');
  if (rewritten !== text) {
    writeFileSync(file, rewritten);
    files++;
  }
}
console.log(`built ${out}/ (${declarations(out).length} declaration files, ${files} rewritten)`);
