#!/usr/bin/env node
// `npm test`: runs the whole vitest suite once and prints `N passed, M failed, K skipped` as the very last
// line (CI reads it). Every skipped test is listed above that line with its reason, so a missing native addon
// or browser shows up as skipped tests instead of vanishing from the count.
//
// A test that skips itself for a missing prerequisite says why through vitest's test/suite option
// `meta: { skipReason: '...' }` (inherited by the tests of a suite); a test without one is listed as
// "no reason recorded".
//
// SPARSE_LEARNING_NO_SKIPS=1 (set by .ci/run, which installs everything the suite needs) makes any skipped
// test fail the run: in CI nothing may be skipped.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = resolve(root, '.test-results');
// One report file per run: several runs in one checkout (or worktrees sharing it) must not read each other's.
const outFile = resolve(outDir, `vitest-${process.pid}.json`);
mkdirSync(outDir, { recursive: true });
if (existsSync(outFile)) rmSync(outFile);

const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${outFile}`, ...process.argv.slice(2)];
const run = spawnSync('npx', args, { cwd: root, stdio: 'inherit', env: { ...process.env, FORCE_COLOR: process.env.CI ? '0' : process.env.FORCE_COLOR } });

const SKIPPED = new Set(['skipped', 'pending', 'todo', 'disabled']);
let passed = 0;
let failed = 0;
const skipped = [];
if (existsSync(outFile)) {
  const report = JSON.parse(readFileSync(outFile, 'utf8'));
  for (const file of report.testResults ?? []) {
    const tests = file.assertionResults ?? [];
    // A suite that fails to load (syntax error, missing import) has no tests: count it as a failure.
    if (file.status === 'failed' && tests.length === 0) failed += 1;
    for (const test of tests) {
      if (test.status === 'passed') passed += 1;
      else if (test.status === 'failed') failed += 1;
      else if (SKIPPED.has(test.status)) {
        skipped.push({
          file: relative(root, file.name),
          name: test.fullName,
          reason: test.meta?.skipReason ?? (test.status === 'todo' ? 'todo' : 'no reason recorded'),
        });
      }
    }
  }
  renameSync(outFile, resolve(outDir, 'vitest.json')); // the latest finished run's report, for a closer look
} else {
  failed += 1;
}
if (run.status !== 0 && failed === 0) failed = 1;

if (skipped.length > 0) {
  // One line per reason with the tests it covers: the same missing prerequisite usually skips many tests.
  const byReason = new Map();
  for (const test of skipped) {
    const list = byReason.get(test.reason) ?? [];
    list.push(test);
    byReason.set(test.reason, list);
  }
  console.log(`\nSkipped tests (${skipped.length}):`);
  for (const [reason, tests] of byReason) {
    console.log(`  ${tests.length} skipped: ${reason}`);
    for (const test of tests) console.log(`    - ${test.file} > ${test.name}`);
  }
  console.log('');
}
const noSkips = process.env.SPARSE_LEARNING_NO_SKIPS === '1';
if (noSkips && skipped.length > 0) {
  console.log(`SPARSE_LEARNING_NO_SKIPS=1: ${skipped.length} skipped test${skipped.length === 1 ? '' : 's'} fail this run (install what they need)`);
}
console.log(`${passed} passed, ${failed} failed, ${skipped.length} skipped`);
process.exit(failed > 0 || (noSkips && skipped.length > 0) ? 1 : 0);
