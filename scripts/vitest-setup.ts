// Decorators used by inversify need the Reflect metadata polyfill before any class is declared.
import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
// Child processes that tests start under `node --import tsx` (the CLI, compare and queue workers) resolve
// `@sparse-learning/*` to the sources through the root tsconfig's `paths`, whatever their working directory.
process.env.TSX_TSCONFIG_PATH ??= fileURLToPath(new URL('../tsconfig.json', import.meta.url));
