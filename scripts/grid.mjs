#!/usr/bin/env node
// Runs the pre-registered grid (results/grid-plan.json) one run at a time, resumably across sessions:
// a finished run is skipped, a stopped one is continued with `train --resume`, a new one is started. Each
// finished run's small files (config.json, results.json, metrics.jsonl; never checkpoints) are copied to
// results/<model>/<label>/d<density>/s<seed>/ together with grid-run.json (the engine commit that ran it).
//
//   node scripts/grid.mjs [--cli packages/runner/dist/cli.js] [--runs runs/grid] [--only selector,...] [--dry-run]
//
// A selector is a label (`set`), or any run path prefix or suffix (`lenet300-100/sparse-momentum/d0.05`,
// `sparse-momentum/d0.05/s18`). Several drivers may run at once: each claims a run with `<run dir>.claim`
// (its pid) before starting it and skips a run claimed by another live driver.
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, copyFileSync, writeFileSync, renameSync, rmSync } from 'node:fs';
import { resolve, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const cli = resolve(flag('--cli', join(root, 'packages/runner/dist/cli.js')));
const runsRoot = resolve(flag('--runs', join(root, 'runs/grid')));
const runsLabel = flag('--runs', 'runs/grid');
const only = flag('--only', '')?.split(',').filter(Boolean) ?? [];
const dryRun = argv.includes('--dry-run');
const plan = JSON.parse(readFileSync(join(root, 'results/grid-plan.json'), 'utf8'));
const cliRoot = resolve(dirname(cli), '../../..');
const commit = (() => {
  try {
    return execFileSync('git', ['-C', cliRoot, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
const presets = new Set(
  JSON.parse(execFileSync(process.execPath, [cli, 'presets', '--json'], { encoding: 'utf8' })).map((p) => p.id),
);

/** Every run of the plan, in the pre-registered order (group, then seed round, then cell; see the plan). */
function orderedRuns() {
  const runs = [];
  plan.cells.forEach((cell, index) =>
    cell.seeds.forEach((seed, round) => {
      for (const density of cell.densities) runs.push({ cell, density, seed, key: [cell.group, round, index] });
    }),
  );
  const compare = (a, b) => a.key.findIndex((v, i) => v !== b.key[i]);
  return runs.sort((a, b) => {
    const i = compare(a, b);
    return i < 0 ? 0 : a.key[i] - b.key[i];
  });
}

const densityDir = (d) => `d${d}`;
const selected = (rel) => only.length === 0 || only.some((s) => `/${rel}/`.includes(`/${s}/`));
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
};
/** Claims a run for this driver; false when another live driver holds it. */
function claim(path) {
  mkdirSync(dirname(path), { recursive: true });
  try {
    writeFileSync(path, String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    const holder = Number(readFileSync(path, 'utf8'));
    if (holder !== process.pid && alive(holder)) return false;
    writeFileSync(path, String(process.pid));
    return true;
  }
}
for (const { cell, density, seed } of orderedRuns()) {
  const rel = join(cell.model, cell.label, densityDir(density), `s${seed}`);
  if (!selected(rel)) continue;
  const runDir = join(runsRoot, rel);
  const resultDir = join(root, 'results', rel);
  const preset = cell.args[cell.args.indexOf('--preset') + 1];
  if (existsSync(join(resultDir, 'results.json'))) continue;
  if (!presets.has(preset)) {
    console.log(`[grid] pending ${rel}: preset '${preset}' is not in this build (${cli})`);
    continue;
  }
  let args;
  if (existsSync(join(runDir, 'results.json'))) args = null;
  else if (existsSync(join(runDir, 'latest.json'))) args = ['train', '--resume', runDir];
  else {
    args = ['train', '--model', cell.model, ...cell.args, '--seed', String(seed), '--epochs', String(plan.epochs), '--out', runDir];
    if (preset !== 'dense') args.push('--density', String(density));
  }
  if (args) {
    console.log(`[grid] ${new Date().toISOString()} ${rel}: node ${args.join(' ')}`);
    if (dryRun) continue;
    const claimFile = `${runDir}.claim`;
    if (!claim(claimFile)) {
      console.log(`[grid] skipping ${rel}: another driver runs it (${claimFile})`);
      continue;
    }
    const run = spawnSync(process.execPath, [cli, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
    rmSync(claimFile, { force: true });
    if (run.status !== 0) {
      console.log(`[grid] ${rel} exited ${run.status ?? run.signal}; stopping (resume by running this script again)`);
      process.exit(1);
    }
  }
  mkdirSync(resultDir, { recursive: true });
  for (const file of ['config.json', 'metrics.jsonl']) copyFileSync(join(runDir, file), join(resultDir, file));
  writeFileSync(join(resultDir, 'grid-run.json'), `${JSON.stringify({ commit, runDir: join(runsLabel, rel) }, null, 2)}\n`);
  // results.json last and by rename: its presence marks the run as copied completely.
  copyFileSync(join(runDir, 'results.json'), join(resultDir, 'results.json.tmp'));
  renameSync(join(resultDir, 'results.json.tmp'), join(resultDir, 'results.json'));
  console.log(`[grid] done ${rel}`);
}
