/**
 * `bin/sparse-learning.js`, the committed launcher npm links as the `sparse-learning` command: it runs the
 * built CLI with the user's arguments, and before the first build it says how to build instead of failing
 * (or letting `npx` look for a package of that name on the public registry).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const launcher = resolve(__dirname, '../../bin/sparse-learning.js');
const dirs: string[] = [];

/** A package directory with the launcher in `bin/` and, optionally, `src/cli.ts` and a `dist/cli.js`. */
function fakePackage(options: { source: boolean; dist?: string }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sl-bin-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fake-runner', type: 'module' }));
  mkdirSync(join(dir, 'bin'));
  copyFileSync(launcher, join(dir, 'bin', 'sparse-learning.js'));
  if (options.source) {
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'cli.ts'), '');
  }
  if (options.dist !== undefined) {
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'dist', 'cli.js'), options.dist);
  }
  return dir;
}

const runLauncher = (dir: string, ...args: string[]) =>
  spawnSync(process.execPath, [join(dir, 'bin', 'sparse-learning.js'), ...args], { encoding: 'utf8' });

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the sparse-learning launcher', () => {
  it('runs dist/cli.js with the arguments it was given', () => {
    const dir = fakePackage({ source: true, dist: 'console.log(JSON.stringify(process.argv.slice(2)));\n' });
    const out = runLauncher(dir, 'train', '--epochs', '2');
    expect(out.status).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual(['train', '--epochs', '2']);
  });

  it('in a clone before the first build: exit 1 and the build command, run from the repository root', () => {
    const out = runLauncher(fakePackage({ source: true }), 'train');
    expect(out.status).toBe(1);
    expect(out.stderr).toContain('sparse-learning is not built yet');
    expect(out.stderr).toContain('npm run build');
  });

  it('in an installed package without dist/: exit 1 and the reinstall command', () => {
    const out = runLauncher(fakePackage({ source: false }), 'train');
    expect(out.status).toBe(1);
    expect(out.stderr).toContain('npm install @sparse-learning/runner');
  });
});
