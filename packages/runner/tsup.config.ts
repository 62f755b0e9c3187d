import { defineConfig } from 'tsup';

// Four entries: the library (`index`), the `sparse-learning` executable (`cli`), the `compare` worker
// process (`worker`, forked by the CLI) and the process a queue worker trains one job in (`queue/job-process`).
// The shebang banner is harmless in the library files (Node strips a leading hashbang in ESM and CJS) and
// lets `dist/cli.js` run as the package `bin`.
export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts', 'src/worker.ts', 'src/queue/job-process.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: 'src/index.ts', compilerOptions: { composite: false } },
  tsconfig: 'tsconfig.build.json',
  sourcemap: true,
  clean: true,
  target: 'node20',
  shims: true,
  banner: { js: '#!/usr/bin/env node' },
});
