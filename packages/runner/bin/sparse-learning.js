#!/usr/bin/env node
// The `sparse-learning` command (the package `bin`). It is a committed file, not a build output, so that
// `npm install` links the command even in a fresh clone where `dist/` does not exist yet (npm skips a bin
// whose target is missing, and `npx sparse-learning` would then ask the public registry for a package of
// that name). It runs the built CLI, or says how to build it.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(packageDir, 'dist', 'cli.js');

if (!existsSync(cli)) {
  const inClone = existsSync(join(packageDir, 'src', 'cli.ts'));
  process.stderr.write(
    `sparse-learning is not built yet: ${cli} is missing.\n` +
      (inClone
        ? 'Build it once from the repository root with: npm run build   (then run npx sparse-learning again)\n'
        : 'This installation of @sparse-learning/runner is incomplete; reinstall it: npm install @sparse-learning/runner\n'),
  );
  process.exit(1);
}

await import(pathToFileURL(cli).href);
