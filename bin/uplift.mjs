#!/usr/bin/env node
// Runs the TypeScript CLI through tsx (the package ships its sources; no build step needed).
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
