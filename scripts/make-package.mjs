// One-off scaffolding helper: writes packages/<name>/{package.json,tsconfig.json,tsup.config.ts}.
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
const [, , dir, name, description, depsJson = '{}', peerJson = '{}', extraJson = '{}'] = process.argv;
mkdirSync(`${dir}/src`, { recursive: true });
const extra = JSON.parse(extraJson);
const pkg = {
  name,
  version: '0.1.0',
  description,
  license: 'MIT',
  type: 'module',
  main: './dist/index.cjs',
  module: './dist/index.js',
  types: './dist/index.d.ts',
  exports: {
    '.': {
      import: { types: './dist/index.d.ts', default: './dist/index.js' },
      require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
    },
    './package.json': './package.json',
  },
  files: ['dist', 'README.md', 'ARCHITECTURE.md', 'LICENSE'],
  sideEffects: true,
  scripts: {
    build: 'tsup',
    typecheck: 'tsc -p tsconfig.json --noEmit',
    lint: 'tsc -p tsconfig.json --noEmit',
    test: `vitest run --root ../.. ${dir}`,
  },
  dependencies: JSON.parse(depsJson),
  peerDependencies: JSON.parse(peerJson),
  ...extra,
};
if (!existsSync(`${dir}/package.json`)) writeFileSync(`${dir}/package.json`, JSON.stringify(pkg, null, 2) + '\n');
writeFileSync(`${dir}/tsconfig.json`, JSON.stringify({
  extends: '../../tsconfig.json',
  compilerOptions: { noEmit: true, baseUrl: '../..' },
  include: ['src/**/*.ts'],
}, null, 2) + '\n');
writeFileSync(`${dir}/tsconfig.build.json`, JSON.stringify({
  extends: '../../tsconfig.base.json',
  compilerOptions: { rootDir: 'src', outDir: 'dist' },
  include: ['src/**/*.ts'],
  exclude: ['src/**/*.test.ts'],
}, null, 2) + '\n');
writeFileSync(`${dir}/tsup.config.ts`, `import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { composite: false } },
  tsconfig: 'tsconfig.build.json',
  sourcemap: true,
  clean: true,
  target: 'node20',
});
`);
