#!/usr/bin/env node
// The `uplift` command: the built CLI (dist/, what the package ships), or in a checkout without a
// build, the TypeScript sources through tsx (a development dependency).
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
