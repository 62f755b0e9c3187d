import { readdirSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// Tests run from sources: every `@sparse-learning/<pkg>` import resolves to `packages/<pkg>/src/index.ts`,
// so no sibling has to be built first.
const packagesDir = resolve(__dirname, 'packages');
const alias = readdirSync(packagesDir)
  .filter((name) => existsSync(resolve(packagesDir, name, 'src/index.ts')))
  .map((name) => ({
    find: new RegExp(`^@sparse-learning/${name}$`),
    replacement: resolve(packagesDir, name, 'src/index.ts'),
  }));

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'examples/*/src/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'scripts/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    setupFiles: [resolve(__dirname, 'scripts/vitest-setup.ts')],
  },
});
