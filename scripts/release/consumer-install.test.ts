/**
 * The packages as a user gets them from a registry: every publishable package is built, packed with
 * `npm pack`, and only those tarballs are installed into a fresh project outside the workspace (third-party
 * dependencies such as @tensorflow/tfjs-core come from the npm registry). There the core README's quick start
 * runs as an ES module and as CommonJS (the very files the README shows, see readme-snippets.test.ts) and the
 * CLI runs through `npx sparse-learning`, as the runner README tells an installed user to.
 *
 * Cost: a turbo build (cached when nothing changed), one `npm pack`, one `npm install` (from the npm cache
 * when warm), two 200-step quick starts and a 10-batch CLI run; the seconds of each step are printed.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installArguments, publishablePackages, repoRoot } from './release-helpers.js';

const packages = publishablePackages();
const coreReadme = join(repoRoot, 'packages/core/README.md');

/** Environment of the child commands: without the npm_* variables `npm test` sets for its own run. */
const childEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')));

interface Ran {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number | null;
  readonly seconds: number;
}

function run(command: string, args: readonly string[], options: SpawnSyncOptions & { cwd: string }): Ran {
  const started = performance.now();
  const result = spawnSync(command, args, { encoding: 'utf8', env: childEnv, maxBuffer: 1 << 26, ...options });
  const seconds = (performance.now() - started) / 1000;
  const ran = { stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''), status: result.status, seconds };
  console.log(`[consumer-install] ${command} ${args.join(' ')}: exit ${result.status} in ${seconds.toFixed(1)} s`);
  return ran;
}

function mustRun(command: string, args: readonly string[], options: SpawnSyncOptions & { cwd: string }): Ran {
  const ran = run(command, args, options);
  if (ran.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${ran.status}\n${ran.stdout}\n${ran.stderr}`);
  return ran;
}

interface PackResult {
  readonly name: string;
  readonly version: string;
  readonly filename: string;
  readonly files: { path: string }[];
}

/**
 * Runs `fn` holding a lock directory, so that two test runs in one checkout do not rebuild `dist/` (tsup
 * empties it first) while the other packs it. A lock older than 20 minutes is stale (its holder died).
 */
function withBuildLock<T>(fn: () => T): T {
  const lock = join(repoRoot, 'node_modules', '.cache', 'sparse-learning-pack.lock');
  mkdirSync(join(lock, '..'), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 20 * 60_000) rmSync(lock, { recursive: true, force: true });
      else spawnSync('sleep', ['2']);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

let work = '';
let project = '';
let packed: PackResult[] = [];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'sl-consumer-'));
  project = join(work, 'project');
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  mkdirSync(project);
  const pack = withBuildLock(() => {
    mustRun('npx', ['turbo', 'run', 'build', ...packages.map((p) => `--filter=${p.manifest.name}`)], { cwd: repoRoot });
    return mustRun(
      'npm',
      ['pack', '--json', '--pack-destination', tarballs, ...packages.flatMap((p) => ['-w', `packages/${p.dir}`])],
      { cwd: repoRoot },
    );
  });
  packed = JSON.parse(pack.stdout) as PackResult[];

  // A fresh project: the core README's install command, with our packages replaced by their tarballs, plus
  // every other tarball (the runner and what it depends on) so that nothing of ours comes from a registry.
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }, null, 2));
  const tarballOf = (name: string) => {
    const hit = packed.find((p) => p.name === name.replace(/@[^@/]*$/, ''));
    return hit ? join(tarballs, hit.filename) : null;
  };
  const readmeArgs = installArguments(coreReadme).map((arg) => tarballOf(arg) ?? arg);
  const allTarballs = packed.map((p) => join(tarballs, p.filename)).filter((t) => !readmeArgs.includes(t));
  mustRun('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...readmeArgs, ...allTarballs], { cwd: project });
  for (const file of ['quick-start.mjs', 'quick-start.cjs']) {
    copyFileSync(join(repoRoot, 'examples/quick-start', file), join(project, file));
  }
}, 900_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('packed tarballs', () => {
  it('one per publishable package, each with LICENSE, README and every file its manifest points at', () => {
    expect(packed.map((p) => p.name).sort()).toEqual(packages.map((p) => p.manifest.name).sort());
    for (const pkg of packages) {
      const tarball = packed.find((p) => p.name === pkg.manifest.name)!;
      const files = new Set(tarball.files.map((f) => f.path));
      for (const required of ['LICENSE', 'README.md', 'package.json']) expect(files, `${pkg.dir}: ${required}`).toContain(required);
      const targets = [pkg.manifest.main, pkg.manifest.module, pkg.manifest.types, ...Object.values(pkg.manifest.bin ?? {})];
      const collect = (value: unknown): void => {
        if (typeof value === 'string') targets.push(value);
        else if (value && typeof value === 'object') Object.values(value).forEach(collect);
      };
      collect(pkg.manifest.exports);
      for (const target of targets) expect(files, `${pkg.dir}: ${target}`).toContain(String(target).replace(/^\.\//, ''));
    }
  });
});

describe('installed from the tarballs into a fresh project', () => {
  let esmOutput = '';

  it('the core README quick start runs as an ES module and learns', () => {
    const ran = mustRun('node', ['quick-start.mjs'], { cwd: project });
    esmOutput = ran.stdout.trim();
    const accuracy = Number(/test accuracy ([\d.]+) %/.exec(ran.stdout)?.[1]);
    expect(accuracy).toBeGreaterThan(70); // chance is 10 %; 200 steps reach ~85 %
    expect(ran.stdout).toMatch(/at density 0\.05\d*/);
  });

  it('the core README quick start runs as CommonJS and computes the same run', () => {
    const cjs = mustRun('node', ['quick-start.cjs'], { cwd: project }).stdout.trim();
    expect(cjs).toMatch(/test accuracy [\d.]+ %/);
    expect(cjs).toBe(esmOutput); // same seeds, same backend: the same accuracy to the last digit
  });

  it('npx sparse-learning trains with a tiny budget and writes its run directory', () => {
    const version = mustRun('npx', ['--no-install', 'sparse-learning', '--version'], { cwd: project });
    expect(version.stdout.trim()).toBe(packed.find((p) => p.name === '@sparse-learning/runner')!.version);
    const ran = mustRun('npx', ['--no-install', 'sparse-learning', 'train', '--epochs', '1', '--max-batches', '10', '--out', 'run-1'], {
      cwd: project,
    });
    expect(ran.stdout).toMatch(/test error [\d.]+ %/);
    const results = JSON.parse(readFileSync(join(project, 'run-1', 'results.json'), 'utf8'));
    expect(results.steps).toBe(10);
    expect(existsSync(join(project, 'run-1', 'metrics.jsonl'))).toBe(true);
  });

  it('the native build command of the backend hint is linked and runs outside the monorepo', () => {
    // An unknown --blas value exits right after start-up ("skipped: unknown --blas"), so nothing is compiled.
    const ran = mustRun('npx', ['--no-install', 'sparse-learning-build-native', '--blas=none'], { cwd: project });
    expect(ran.stdout).toContain('native addon build skipped: unknown --blas=none');
  });
});
