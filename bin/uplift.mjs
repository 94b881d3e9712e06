#!/usr/bin/env node
// The `uplift` command. In a checkout (src/ present) it runs the TypeScript sources through tsx (a
// development dependency), so a stale dist/ never answers; an installed package has only the
// built dist/.
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else {
  await import(new URL('../dist/cli/main.js', import.meta.url).href);
}
