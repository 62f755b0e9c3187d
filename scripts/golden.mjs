#!/usr/bin/env node
// Runs the golden reference checks (mask update, optimizer, schedules) on every case file of a directory with
// the layout of `../shared/golden` (`mask-update/`, `optimizer/`, `schedule/`), one line per case, and prints
// `N passed, M failed` as its LAST line; exits non-zero if any case failed or none was found.
//
//   npm run golden                      # packages/golden/cases, the vendored copy of shared/golden (or $SPARSE_LEARNING_GOLDEN_DIR)
//   npm run golden -- --dir <path>      # any directory with the same layout
//   npm run golden -- --dir <path> --verbose   # every mismatch, not only the first three
//
// No build step: the script re-runs itself under `node --import tsx`, so every `@sparse-learning/*` import
// resolves to the package's `src/index.ts` (the `paths` of the root tsconfig.json, which tsx applies) and
// TypeScript runs directly.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHILD_FLAG = 'SPARSE_LEARNING_GOLDEN_CHILD';

function usage() {
  return 'usage: npm run golden -- [--dir <path>] [--verbose]';
}

function parseArgs(argv) {
  const args = { dir: undefined, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--dir') {
      args.dir = argv[++i];
      if (args.dir === undefined) throw new Error(`--dir needs a path; ${usage()}`);
    } else if (arg.startsWith('--dir=')) {
      args.dir = arg.slice('--dir='.length);
    } else if (arg === '--verbose' || arg === '-v') {
      args.verbose = true;
    } else if (arg === '--help' || arg === '-h') {
      args.help = true;
    } else {
      throw new Error(`unknown argument '${arg}'; ${usage()}`);
    }
  }
  return args;
}

if (!process.env[CHILD_FLAG]) {
  // Parent: resolve --dir against the caller's directory (npm sets INIT_CWD), then re-run under tsx.
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(error.message);
    console.log('0 passed, 1 failed');
    process.exit(2);
  }
  if (args.help) {
    console.log(usage());
    process.exit(0);
  }
  const callerCwd = process.env.INIT_CWD ?? process.cwd();
  const dir = args.dir !== undefined
    ? path.resolve(callerCwd, args.dir)
    : path.resolve(process.env.SPARSE_LEARNING_GOLDEN_DIR ?? path.resolve(root, 'packages/golden/cases'));
  const childArgs = ['--dir', dir, ...(args.verbose ? ['--verbose'] : [])];
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), ...childArgs],
    { cwd: root, stdio: 'inherit', env: { ...process.env, TSX_TSCONFIG_PATH: path.join(root, 'tsconfig.json'), [CHILD_FLAG]: '1' } },
  );
  if (run.status === null) {
    console.error(`golden runner did not finish (${run.error?.message ?? `signal ${run.signal}`})`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  process.exit(run.status);
}

// Child: runs under tsx with the `source` condition.
let passed = 0;
let failed = 0;
try {
  const { dir, verbose } = parseArgs(process.argv.slice(2));
  if (!existsSync(dir)) throw new Error(`golden directory ${dir} does not exist`);
  const golden = await import(pathToFileURL(path.join(root, 'packages/golden/src/index.ts')).href);
  const files = golden.listGoldenFiles(dir);
  if (files.length === 0) {
    throw new Error(`no case files in ${dir} (expected *.json under ${golden.GOLDEN_SUBDIRECTORIES.join('/, ')}/)`);
  }
  const { ensureTfBackend } = await import(pathToFileURL(path.join(root, 'packages/testing/src/conformance/tf-env.ts')).href);
  await ensureTfBackend();
  for (const file of files) {
    const result = golden.runGoldenFile(file);
    const label = path.relative(dir, file);
    if (result.passed) {
      passed++;
      console.log(`PASS ${label}`);
    } else {
      failed++;
      const shown = verbose ? result.mismatches : result.mismatches.slice(0, 3);
      const more = result.mismatches.length - shown.length;
      console.log(`FAIL ${label}: ${shown.join('; ')}${more > 0 ? `; ... ${more} more (--verbose)` : ''}`);
    }
  }
} catch (error) {
  console.error(`golden runner error: ${error instanceof Error ? error.message : String(error)}`);
  failed = Math.max(failed, 1);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
