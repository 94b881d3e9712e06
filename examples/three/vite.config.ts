// Builds the three.js example from the repository's sources: `uplift/three` resolves to
// src/integrations/three (an app would install the package instead).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: './',
  resolve: {
    alias: { 'uplift/three': here('../../src/integrations/three/index.ts') },
  },
  build: {
    outDir: here('../../out/examples/three'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
  },
  logLevel: 'warn',
});
